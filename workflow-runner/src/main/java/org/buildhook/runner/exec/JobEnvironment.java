package org.buildhook.runner.exec;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a job inherits from the server's environment: a short allow-list, plus the variables the
 * operator names, never a variable buildhook reads a secret from.
 *
 * <p>The allow-list is {@link #ALLOWED} and every {@code LC_*} variable: what a program needs to
 * find programs, its home, its temporary folder, its user and its locale. Everything else of the
 * server's environment (tokens, passwords, cloud credentials, {@code JAVA_TOOL_OPTIONS}, the
 * container's own settings) stays with the server unless named; {@link #NEVER} stays even when named. The job's own variables (the
 * rule's {@code env} and the {@code BUILDHOOK_*} ones buildhook sets per job) come on top, in
 * {@link JobRequest#env()}, and are not filtered here.
 */
public final class JobEnvironment {

    /** Inherited by every job, when the server has them (besides every {@code LC_*} variable). */
    public static final List<String> ALLOWED = List.of("PATH", "HOME", "LANG", "TZ", "USER", "LOGNAME",
            "TMPDIR");

    /**
     * Never inherited, even when named in {@code runner.inherit-env}: {@code NOTIFY_SOCKET}, systemd's socket
     * for the service's own notifications ({@code sd_notify(3)}); a job that had it could tell systemd the
     * service is stopping, or ready while it is not.
     */
    public static final Set<String> NEVER = Set.of("NOTIFY_SOCKET");

    /** What a variable name may look like in {@code runner.inherit-env}: a portable shell name. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private JobEnvironment() {
    }

    /**
     * The variables of {@code server} a job inherits.
     *
     * @param server  the server's environment (usually {@code System.getenv()})
     * @param named   further variables the operator wants jobs to inherit; a name the server does
     *                not have is skipped
     * @param secrets the variables buildhook reads a secret from: never inherited, even when allowed
     *                or named; nor is one of {@link #NEVER}
     * @return an unmodifiable copy, sorted by name
     */
    public static Map<String, String> inherited(Map<String, String> server, Collection<String> named,
            Set<String> secrets) {
        Set<String> wanted = Set.copyOf(named);
        Map<String, String> out = new TreeMap<>();
        server.forEach((name, value) -> {
            if ((isAllowed(name) || wanted.contains(name)) && !secrets.contains(name) && !NEVER.contains(name)) {
                out.put(name, value);
            }
        });
        return java.util.Collections.unmodifiableMap(out);
    }

    /** Whether every job inherits the variable without it being named. */
    public static boolean isAllowed(String name) {
        return ALLOWED.contains(name) || name.startsWith("LC_");
    }
}
