package org.buildhook.runner.store;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Passwords a few well-known programs take on their command line without a URL or a {@code NAME=} around them
 * (secret34's open item): {@code curl -u deploy:PASSWORD}, {@code curl --user deploy:PASSWORD},
 * {@code sshpass -p PASSWORD}, {@code mysql -pPASSWORD}, {@code docker login -p PASSWORD} (or {@code -pPASSWORD}). A
 * bare {@code a:b} is
 * never taken for one: {@code 12:30:45}, {@code host:port}, {@code image:tag} and {@code docker run -u 1000:1000}
 * are left alone, since the shape is only trusted right after such a program's own flag. Used by {@link Redaction}
 * on a command as a list of arguments ({@link #secretPart}) and as text, shell code included ({@link #TEXT}).
 */
final class CommandCredentials {

    /** Runs of a command line in one piece of text: not across a pipe, a {@code ;}, an {@code &} or a line end. */
    private static final String SAME_COMMAND = "[^\\n|;&]*?\\s";
    private static final String MYSQL = "mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mysqlpump"
            + "|mariadb|mariadb-dump|mariadb-admin";
    private static final Set<String> MYSQL_PROGRAMS = Set.of(MYSQL.split("\\|"));
    private static final Set<String> LOGIN_PROGRAMS = Set.of("docker", "podman", "buildah", "skopeo", "helm", "oras");

    /** The same shapes in a text (shell code, a variable's value): the password in group {@code s}. */
    static final List<Pattern> TEXT = List.of(
            Pattern.compile("(?<![\\w-])curl\\b" + SAME_COMMAND + "(?:-[A-Za-z]*u|-U|--user|--proxy-user)(?:\\s+|=)?"
                    + "['\"]?[^\\s:'\"/]+:(?<s>[^\\s'\"]+)"),
            Pattern.compile("(?<![\\w-])sshpass(?:\\s+-v)*\\s+-p\\s*['\"]?(?<s>[^\\s'\"]+)"),
            Pattern.compile("(?<![\\w-])(?:" + MYSQL + ")(?![\\w-])" + SAME_COMMAND + "-p(?<s>[^\\s'\"]+)"),
            Pattern.compile("(?<![\\w-])(?:docker|podman|buildah|skopeo|helm|oras)(?:\\s+registry)?\\s+login\\b"
                    + SAME_COMMAND + "(?:(?:-p|--password)(?:\\s+|=)['\"]?|-p)(?<s>[^\\s'\"-][^\\s'\"]*)"));

    private CommandCredentials() {
    }

    /**
     * Where the password is in {@code argv[i]}: the index it starts at, or {@code -1} when the argument is none. The
     * program is the last argument before {@code i} named curl, sshpass, mysql (…) or docker (…), so a wrapper in
     * front ({@code sudo}, {@code env A=1}, {@code timeout 60}) changes nothing.
     */
    static int secretPart(List<String> argv, int i) {
        String program = "";
        int programAt = -1;
        boolean login = false;
        for (int j = 0; j < i; j++) {
            String name = baseName(argv.get(j));
            if (name.equals("curl") || name.equals("sshpass") || MYSQL_PROGRAMS.contains(name)
                    || LOGIN_PROGRAMS.contains(name)) {
                program = name;
                programAt = j;
                login = false;
            } else if (name.equals("login")) {
                login = true;
            }
        }
        String arg = argv.get(i);
        String previous = i > 0 ? argv.get(i - 1) : "";
        if (program.equals("curl")) {
            if (previous.equals("--user") || previous.equals("--proxy-user") || previous.equals("-U")
                    || previous.matches("-[A-Za-z]*u")) {
                return afterColon(arg, 0);
            }
            for (String flag : new String[] {"--user=", "--proxy-user=", "-u"}) {
                if (arg.startsWith(flag) && arg.length() > flag.length()) {
                    return afterColon(arg, flag.length());
                }
            }
        } else if (program.equals("sshpass")) {
            // Only sshpass's own -p, before the command it runs: not ssh's -p PORT after it.
            for (int j = programAt + 1; j < i - 1; j++) {
                if (!argv.get(j).equals("-v")) {
                    return -1;
                }
            }
            if (previous.equals("-p")) {
                return 0;
            }
            return i - 1 == programAt || previous.equals("-v") ? (arg.startsWith("-p") && arg.length() > 2 ? 2 : -1) : -1;
        } else if (MYSQL_PROGRAMS.contains(program)) {
            return arg.startsWith("-p") && arg.length() > 2 ? 2 : -1;
        } else if (login && previous.equals("-p")) {
            return 0;
        } else if (login && arg.startsWith("-p") && arg.length() > 2) {
            return 2; // -pPASSWORD, glued, as the login commands' flag parsing takes it too (review36)
        }
        return -1;
    }

    private static int afterColon(String arg, int from) {
        int colon = arg.indexOf(':', from);
        return colon > from && colon + 1 < arg.length() ? colon + 1 : -1;
    }

    private static String baseName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The program words {@link #TEXT} looks for, to skip the regular expressions on text that has none. */
    static final Pattern ANY_PROGRAM = Pattern.compile("curl|sshpass|mysql|mariadb|login");
}
