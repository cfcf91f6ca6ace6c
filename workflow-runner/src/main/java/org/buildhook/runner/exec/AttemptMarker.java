package org.buildhook.runner.exec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The environment variable that names the attempt a process belongs to:
 * {@code BUILDHOOK_ATTEMPT=<jobId>/<attempt>}. The launcher sets it on every attempt, and every
 * descendant inherits it — also one that left the job's session with {@code setsid} or was
 * re-parented to init — so a process is known to be the attempt's by reading its
 * {@code /proc/<pid>/environ} (the environment it was started with). Job ids are unique, so a
 * marker never names two attempts.
 *
 * <p>What it cannot find: a process that was started with an environment without it
 * ({@code env -i}, an {@code execve} with a fresh environment) <em>and</em> left the job's session;
 * one that left the session and wrote over its environment, which {@code /proc/<pid>/environ} reads from the
 * process's own memory (a program that sets its title over its arguments and the environment after them:
 * {@code nginx}, PostgreSQL, Perl's {@code $0}); or one of another user, whose environment this server may not
 * read. Where the node makes cgroups, such a process is still found by the attempt's cgroup, which it cannot
 * leave ({@link AttemptCgroups}); elsewhere by nothing once its node is gone (escape50 F1).
 *
 * <p>Whose store: two stores can share a history (a restored backup of a SQLite database, a copied file),
 * and then the same job ids and attempt numbers. Each attempt's processes therefore also carry
 * {@code BUILDHOOK_STORE=<identity>} ({@link #STORE_VARIABLE}), the identity of the store whose server
 * started them ({@link #serveStore}); a process that carries another store's identity is never taken
 * for this store's ({@link #isCarriedBy}, {@link #ofAnotherStore}), so a restored copy started beside its
 * original never ends the original's commands, nor the original the copy's (tryout33 F3). A process
 * without {@code BUILDHOOK_STORE} (started by a buildhook from before it was set) is taken as before.
 *
 * <p>Whose server: they also carry {@code BUILDHOOK_SERVER=<pid>:<start ticks>/pid:[<namespace>]}
 * ({@link #SERVER_VARIABLE}), the JVM that started them, so that a copy can tell a live original from a gone one.
 * A process of another identity of the same installation (a backup restored, or a data folder made again, after
 * its server crashed) whose server is gone is a leftover of this store's attempt ({@link Match#COPY_GONE}): nobody
 * else will end it, and left alone it ran beside the job's next attempt (tryout58 F1).
 */
public final class AttemptMarker {

    /** The name of the variable. */
    public static final String VARIABLE = "BUILDHOOK_ATTEMPT";

    /** The name of the variable naming the store whose server started the attempt. */
    public static final String STORE_VARIABLE = "BUILDHOOK_STORE";

    /**
     * The name of the variable naming the server process that started the attempt:
     * {@code <pid>:<start ticks>/pid:[<PID namespace inode>]} ({@link #server}).
     */
    public static final String SERVER_VARIABLE = "BUILDHOOK_SERVER";

    private static final byte[] SERVER_PREFIX = (SERVER_VARIABLE + "=").getBytes(StandardCharsets.UTF_8);

    /** The identity of the store this class loader's server serves, or null before one is set. */
    private static volatile String store;
    private static volatile byte[] storeEntry;
    private static final byte[] STORE_PREFIX = (STORE_VARIABLE + "=").getBytes(StandardCharsets.UTF_8);

    private final String value;
    private final byte[] entry;

    private AttemptMarker(String value) {
        this.value = value;
        this.entry = (VARIABLE + "=" + value).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The marker of attempt {@code attempt} (from 1) of job {@code jobId}.
     *
     * @throws IllegalArgumentException if the job id is blank or holds a NUL, or attempt is below 1
     */
    public static AttemptMarker of(String jobId, int attempt) {
        Objects.requireNonNull(jobId, "jobId");
        if (jobId.isBlank() || jobId.indexOf('\0') >= 0 || attempt < 1) {
            throw new IllegalArgumentException("no marker for job '" + jobId + "' attempt " + attempt);
        }
        return new AttemptMarker(jobId + "/" + attempt);
    }

    /**
     * Sets the identity of the store this server serves (one per server: a web application has a class
     * loader of its own): set on every attempt's processes as {@link #STORE_VARIABLE}, and required of a
     * process marked with a store for {@link #isCarriedBy}. Set before any attempt starts or any sweep.
     *
     * @param identity the store's identity ({@code Store#identity}); null or blank to set none (then every
     *                 process carrying an attempt's marker is taken, whatever its store, as before)
     */
    public static void serveStore(String identity) {
        if (identity == null || identity.isBlank() || identity.indexOf('\0') >= 0) {
            store = null;
            storeEntry = null;
        } else {
            store = identity;
            storeEntry = (STORE_VARIABLE + "=" + identity).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The identity set by {@link #serveStore}, or null. */
    public static String servedStore() {
        return store;
    }

    /**
     * This JVM as the server of the attempts it starts, the value of {@link #SERVER_VARIABLE}: {@code <pid>:<start
     * ticks>/pid:[<inode>]}, its pid, its start time in clock ticks since boot and its PID namespace (a pid means
     * something only there); null when they cannot be read (no {@code /proc}).
     */
    public static String server() {
        return Server.VALUE;
    }

    private static final class Server {
        static final String VALUE = of();

        private static String of() {
            ProcessIdentity self = NodeIdentity.current().process();
            String namespace = NodeIdentity.pidNamespace(NodeIdentity.current().bootId());
            return self.startTicks() < 0 || namespace.isEmpty() ? null
                    : self.pid() + ":" + self.startTicks() + "/" + namespace;
        }
    }

    /**
     * The installation id of a store identity ({@code <installation id>/<where>}, {@code Store#identity}): what every
     * copy of one history shares.
     */
    static String installationOf(String identity) {
        int slash = identity.indexOf('/');
        return slash < 0 ? identity : identity.substring(0, slash);
    }

    /**
     * Whether the server a {@link #SERVER_VARIABLE} value names is surely gone: a pid of this JVM's own PID namespace
     * whose process is gone or a later one (another start time). False when it runs, when the value names none or
     * cannot be read, or names another PID namespace, whose pids cannot be looked for here.
     */
    static boolean serverGone(String server) {
        if (server == null) {
            return false;
        }
        int colon = server.indexOf(':');
        int slash = server.indexOf('/');
        String namespace = NodeIdentity.pidNamespace(NodeIdentity.current().bootId());
        if (colon <= 0 || slash <= colon || namespace.isEmpty() || !server.substring(slash + 1).equals(namespace)) {
            return false;
        }
        long pid;
        long ticks;
        try {
            pid = Long.parseLong(server.substring(0, colon));
            ticks = Long.parseLong(server.substring(colon + 1, slash));
        } catch (NumberFormatException e) {
            return false;
        }
        return pid > 0 && ticks >= 0 && ProcStat.available() && !new ProcessIdentity(pid, -1, ticks).isAlive();
    }

    /** The pid a {@link #SERVER_VARIABLE} value names, or -1. */
    static long serverPid(String server) {
        int colon = server == null ? -1 : server.indexOf(':');
        try {
            return colon > 0 ? Long.parseLong(server.substring(0, colon)) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code <jobId>/<attempt>}: the variable's value. */
    public String value() {
        return value;
    }

    /**
     * Whether process {@code pid} was started with this marker in its environment. False when it
     * is gone or its environment cannot be read (another user's process, no {@code /proc}).
     */
    public boolean isCarriedBy(long pid) {
        // Read into a buffer that fits a usual environment and grows for a larger one: readAllBytes allocated
        // 8 KiB and more, and asked the size and the position first, for every process a look reads
        // (docs/BENCHMARKS.md, "Twenty-sixth pass").
        ProcStat.Whole environ = ProcStat.readWhole("/proc/" + pid + "/environ", ENVIRON_BUFFER);
        return environ != null && contains(environ.bytes(), environ.length(), entry)
                && !anotherStore(environ.bytes(), environ.length(), storeEntry);
    }

    /**
     * Whether process {@code pid} was started by the server of another store than this one's: it carries
     * {@link #STORE_VARIABLE} with another identity than {@link #serveStore}'s. False when no store is set
     * here, when the process carries none, or when its environment cannot be read.
     */
    public static boolean ofAnotherStore(long pid) {
        byte[] mine = storeEntry;
        if (mine == null) {
            return false;
        }
        ProcStat.Whole environ = ProcStat.readWhole("/proc/" + pid + "/environ", ENVIRON_BUFFER);
        return environ != null && anotherStore(environ.bytes(), environ.length(), mine);
    }

    /** The value of {@link #STORE_VARIABLE} process {@code pid} carries, or null (none, or unreadable). */
    public static String storeOf(long pid) {
        ProcStat.Whole environ = ProcStat.readWhole("/proc/" + pid + "/environ", ENVIRON_BUFFER);
        return environ == null ? null : valueOf(environ.bytes(), environ.length(), STORE_PREFIX);
    }

    /** The value of {@link #SERVER_VARIABLE} process {@code pid} carries, or null (none, or unreadable). */
    public static String serverOf(long pid) {
        ProcStat.Whole environ = ProcStat.readWhole("/proc/" + pid + "/environ", ENVIRON_BUFFER);
        return environ == null ? null : valueOf(environ.bytes(), environ.length(), SERVER_PREFIX);
    }

    /** The value of the first entry of {@code environ} beginning with {@code prefix}, or null. */
    private static String valueOf(byte[] environ, int length, byte[] prefix) {
        int[] at = find(environ, length, prefix);
        return at == null ? null : new String(environ, at[0] + prefix.length, at[1] - at[0] - prefix.length,
                StandardCharsets.UTF_8);
    }

    /**
     * Whose process {@code pid} is by its store and server, whatever marker it carries: {@link Match#THIS_STORE}
     * (this store's identity, none, or no store set here), {@link Match#COPY_GONE} or {@link Match#ANOTHER_STORE};
     * {@link Match#NONE} when its environment cannot be read.
     */
    static Match storeMatch(long pid) {
        ProcStat.Whole environ = ProcStat.readWhole("/proc/" + pid + "/environ", ENVIRON_BUFFER);
        return environ == null ? Match.NONE : whose(environ.bytes(), environ.length());
    }

    /** As {@link #storeMatch}, of an environment read. */
    private static Match whose(byte[] environ, int length) {
        String mine = store;
        byte[] entry = storeEntry;
        if (!anotherStore(environ, length, entry) || mine == null) {
            return Match.THIS_STORE;
        }
        String theirs = valueOf(environ, length, STORE_PREFIX);
        if (theirs == null || !installationOf(theirs).equals(installationOf(mine))) {
            return Match.ANOTHER_STORE;
        }
        return serverGone(valueOf(environ, length, SERVER_PREFIX)) ? Match.COPY_GONE : Match.ANOTHER_STORE;
    }

    private static final byte[] PREFIX = (VARIABLE + "=").getBytes(StandardCharsets.UTF_8);

    /**
     * The job id of the attempt's marker process {@code pid} carries ({@code <jobId>} of {@code <jobId>/<attempt>}),
     * or null: none, one of another store's server ({@link #ofAnotherStore}), or its environment cannot be read. One
     * read of its environment.
     */
    static String jobOf(long pid) {
        ProcStat.Whole environ = ProcStat.readWhole("/proc/" + pid + "/environ", ENVIRON_BUFFER);
        if (environ == null || anotherStore(environ.bytes(), environ.length(), storeEntry)) {
            return null;
        }
        int[] at = find(environ.bytes(), environ.length(), PREFIX);
        if (at == null) {
            return null;
        }
        String value = new String(environ.bytes(), at[0] + PREFIX.length, at[1] - at[0] - PREFIX.length,
                StandardCharsets.UTF_8);
        int slash = value.lastIndexOf('/');
        return slash > 0 ? value.substring(0, slash) : null;
    }

    /** Whether {@code environ} holds a {@link #STORE_VARIABLE} entry other than {@code mine} (null: none set here). */
    static boolean anotherStore(byte[] environ, int length, byte[] mine) {
        if (mine == null) {
            return false;
        }
        return find(environ, length, STORE_PREFIX) != null && !contains(environ, length, mine);
    }

    /** The start and end of the first entry of {@code environ} beginning with {@code prefix}, or null. */
    private static int[] find(byte[] environ, int length, byte[] prefix) {
        int start = 0;
        while (start < length) {
            int end = start;
            while (end < length && environ[end] != 0) {
                end++;
            }
            if (end - start >= prefix.length && Arrays.equals(environ, start, start + prefix.length, prefix, 0,
                    prefix.length)) {
                return new int[] {start, end};
            }
            start = end + 1;
        }
        return null;
    }

    /** What a process's environment says of an attempt's marker ({@link #match}). */
    enum Match {
        /** It does not carry the marker (or its environment cannot be read). */
        NONE,
        /** It carries the marker, and this store's identity or none. */
        THIS_STORE,
        /**
         * It carries the marker with another store's identity, and its server runs, or cannot be looked for (another
         * PID namespace), or is not named (a buildhook from before {@link #SERVER_VARIABLE}), or the identity is of
         * another installation: another server may run it, and left alone.
         */
        ANOTHER_STORE,
        /**
         * It carries the marker with another identity of this store's installation (a copy of its history: a restored
         * backup, a data folder made again) and names a server of this PID namespace that is gone: nobody else will
         * end it, and it is this attempt's leftover (tryout58 F1).
         */
        COPY_GONE
    }

    /** As {@link #isCarriedBy}, telling a process of another store's server apart; one read of its environment. */
    Match match(long pid) {
        ProcStat.Whole environ = ProcStat.readWhole("/proc/" + pid + "/environ", ENVIRON_BUFFER);
        if (environ == null || !contains(environ.bytes(), environ.length(), entry)) {
            return Match.NONE;
        }
        return whose(environ.bytes(), environ.length());
    }

    /** The first buffer for a process's environment: a job's is about 1 KiB. */
    static final int ENVIRON_BUFFER = 2048;

    /** Whether {@code environ} (NUL-separated {@code NAME=value} entries) holds exactly {@code entry}. */
    static boolean contains(byte[] environ, byte[] entry) {
        return contains(environ, environ.length, entry);
    }

    /** As {@link #contains(byte[], byte[])}, for the first {@code length} bytes of {@code environ}. */
    static boolean contains(byte[] environ, int length, byte[] entry) {
        int start = 0;
        while (start < length) {
            int end = start;
            while (end < length && environ[end] != 0) {
                end++;
            }
            if (end - start == entry.length && Arrays.equals(environ, start, end, entry, 0, entry.length)) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }

    @Override
    public String toString() {
        return VARIABLE + "=" + value;
    }
}
