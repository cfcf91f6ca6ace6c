package org.buildhook.runner.store;

import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Passwords well-known programs take on their command line without a URL or a {@code NAME=} around them
 * (secret34's open item, review36 F6): one table ({@link #PROGRAMS}) of the programs, their password-bearing flags
 * and where the secret sits in the flag's value ({@link Sits}): {@code curl -u deploy:PASSWORD} (or
 * {@code -u :PASSWORD}), {@code mysql -pPASSWORD}, {@code docker login -p PASSWORD}, {@code az login -p PASSWORD},
 * {@code lftp -u deploy,PASSWORD}, {@code smbclient -U deploy%PASSWORD}; and two programs whose password is placed
 * by position: {@code sshpass -p PASSWORD} (before the command it runs) and {@code htpasswd -b FILE USER PASSWORD}
 * ({@code -nb USER PASSWORD}). A bare {@code a:b} is never taken for one: {@code 12:30:45}, {@code host:port},
 * {@code image:tag} and {@code docker run -u 1000:1000} are left alone, since the shape is only trusted right after
 * such a program's own flag. Used by {@link Redaction} on a command as a list of arguments ({@link #secretPart}) and
 * as text, shell code included ({@link #TEXT}). docs/rules.md, "Secrets", lists the programs: keep it in step.
 */
final class CommandCredentials {

    /** Where the secret sits in the value of a program's password-bearing flag. */
    enum Sits {
        /** The whole value, after the flag or glued to it: {@code docker login -p PASSWORD}, {@code -pPASSWORD}. */
        WHOLE,
        /** The whole value, glued to the flag only: {@code mysql -pPASSWORD} ({@code -p NAME} prompts; NAME is a database). */
        GLUED,
        /** After the first {@code :}, the user before it possibly empty: {@code curl -u deploy:PASSWORD}, {@code -u :PASSWORD}. */
        AFTER_COLON,
        /** After the first {@code ,}: {@code lftp -u deploy,PASSWORD}. */
        AFTER_COMMA,
        /** After the first {@code %}: Samba's {@code smbclient -U [DOMAIN\\]deploy%PASSWORD}. */
        AFTER_PERCENT,
        /**
         * The whole next argument only, a one-letter flag neither glued nor ending a group: {@code redis-cli -a
         * PASSWORD} ({@code -aX} is no option of redis-cli), {@code openssl enc -k PASSWORD} (not {@code -kfile FILE}),
         * {@code keytool -storepass PASSWORD} (not {@code -storepass:env VAR}). A longer flag also as {@code -flag=PASSWORD}.
         */
        NEXT,
        /**
         * After a {@code pass:} at the start of the value: openssl's {@code -passin pass:PASSWORD}; its other sources
         * ({@code env:VAR}, {@code file:PATH}, {@code fd:N}, {@code stdin}) only name where the password is.
         */
        AFTER_PASS_PREFIX,
        /**
         * After a {@code key:}, {@code hexkey:}, {@code pass:}, {@code hexpass:}, {@code secret:} or {@code hexsecret:}
         * at the start of the value: openssl's {@code -macopt key:KEY} (dgst, mac), {@code -kdfopt}, {@code -pkeyopt}
         * (mask39); their other parameters ({@code digest:sha256}, {@code rsa_padding_mode:pss}) are no secret.
         */
        AFTER_KEY_PREFIX;

        private static final List<String> KEY_PREFIXES = List.of("key:", "hexkey:", "pass:", "hexpass:", "secret:",
                "hexsecret:");

        /** Where the secret starts in {@code value} from {@code from} on, or -1 when there is none. */
        int in(String value, int from) {
            if (this == AFTER_PASS_PREFIX) {
                return value.startsWith("pass:", from) && from + 5 < value.length() ? from + 5 : -1;
            }
            if (this == AFTER_KEY_PREFIX) {
                for (String prefix : KEY_PREFIXES) {
                    if (value.startsWith(prefix, from) && from + prefix.length() < value.length()) {
                        return from + prefix.length();
                    }
                }
                return -1;
            }
            char separator = switch (this) {
                case WHOLE, GLUED, NEXT, AFTER_PASS_PREFIX, AFTER_KEY_PREFIX -> 0;
                case AFTER_COLON -> ':';
                case AFTER_COMMA -> ',';
                case AFTER_PERCENT -> '%';
            };
            if (separator == 0) {
                return from < value.length() ? from : -1;
            }
            int at = value.indexOf(separator, from);
            return at >= from && at + 1 < value.length() ? at + 1 : -1;
        }
    }

    /** A flag whose value holds a password: {@code -u}, {@code --user} … A one-letter flag may end a group ({@code -fsSLu}). */
    record Flag(String name, Sits sits) {
    }

    /**
     * Programs whose flags take a password. {@code afterLogin}: only in their {@code login} command
     * ({@code docker login}, {@code az acr login}), where {@code -p} is the password and elsewhere it is not.
     * {@code group}: the letters of the program's one-letter options that take no value, which may come before a
     * one-letter password flag in a group, whose value may then be glued to it too ({@code ldapsearch -xwPASSWORD},
     * mask39); {@code null} when any letters may come before it ({@code zip -qrP PASSWORD}) and a value is not read
     * out of a group.
     */
    record Program(Set<String> names, boolean afterLogin, List<Flag> flags, String group) {

        Program(Set<String> names, boolean afterLogin, List<Flag> flags) {
            this(names, afterLogin, flags, null);
        }
    }

    private static final String MYSQL = "mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mysqlpump"
            + "|mariadb|mariadb-dump|mariadb-admin";
    private static final String LOGIN = "docker|podman|buildah|skopeo|helm|oras|az|oc";
    private static final String SAMBA = "smbclient|rpcclient|smbcacls|smbcquotas|smbget|smbtree";
    /** OpenLDAP's clients that bind: {@code -w PASSWORD} (ldappasswd has a row of its own). */
    private static final String LDAP = "ldapsearch|ldapmodify|ldapadd|ldapdelete|ldapmodrdn|ldapcompare|ldapwhoami"
            + "|ldapexop|ldapvc";
    private static final String KEYTOOL = "keytool|jarsigner";
    private static final String MOSQUITTO = "mosquitto_pub|mosquitto_sub|mosquitto_rr";
    /** 7-Zip's programs: {@code -pPASSWORD}, glued only ({@code -p} alone asks). */
    private static final String SEVEN_ZIP = "7z|7za|7zr|7zz";
    /** OpenLDAP's clients' options that take no value, which may come before {@code -w} in a group ({@code -xw}). */
    private static final String LDAP_NO_VALUE_LETTERS = "VnvcutALMxWIQNZS";

    /** Any program's {@code login} command: {@code docker login}, {@code az acr login}, {@code oc login}. */
    private static final Program LOGIN_COMMAND = new Program(Set.of(LOGIN.split("\\|")), true,
            List.of(new Flag("-p", Sits.WHOLE)));

    /** The table: each program, its password-bearing flags, and where the secret sits in their values. */
    static final List<Program> PROGRAMS = List.of(
            new Program(Set.of("curl"), false, List.of(new Flag("-u", Sits.AFTER_COLON), new Flag("--user", Sits.AFTER_COLON),
                    new Flag("-U", Sits.AFTER_COLON), new Flag("--proxy-user", Sits.AFTER_COLON))),
            new Program(Set.of(MYSQL.split("\\|")), false, List.of(new Flag("-p", Sits.GLUED))),
            LOGIN_COMMAND,
            new Program(Set.of("lftp"), false, List.of(new Flag("-u", Sits.AFTER_COMMA))),
            new Program(Set.of(SAMBA.split("\\|")), false, List.of(new Flag("-U", Sits.AFTER_PERCENT),
                    new Flag("--user", Sits.AFTER_PERCENT))),
            // redis-cli(1): -a <password>; its --pass is a secret flag by its name (Redaction).
            new Program(Set.of("redis-cli"), false, List.of(new Flag("-a", Sits.NEXT))),
            // ldapsearch(1) & co: -w passwd (getopt: glued too, or ending a group as -xw); ldappasswd(1) also takes
            // the old password (-a oldPasswd) and the new one (-s newPasswd).
            // A group reads only their no-value letters before the flag: -xwPASSWORD, not -bw (base w) FILTER.
            new Program(Set.of(LDAP.split("\\|")), false, List.of(new Flag("-w", Sits.WHOLE)), LDAP_NO_VALUE_LETTERS),
            new Program(Set.of("ldappasswd"), false, List.of(new Flag("-w", Sits.WHOLE), new Flag("-a", Sits.WHOLE),
                    new Flag("-s", Sits.WHOLE)), LDAP_NO_VALUE_LETTERS),
            // zip(1) and unzip(1): -P password (--password is a secret flag by its name).
            new Program(Set.of("zip", "unzip"), false, List.of(new Flag("-P", Sits.WHOLE))),
            // keytool and jarsigner: -storepass, -keypass (keytool's -src…/-dest… and -new too); -storepass:env VAR
            // and -storepass:file PATH name where the password is.
            new Program(Set.of(KEYTOOL.split("\\|")), false, List.of(new Flag("-storepass", Sits.NEXT),
                    new Flag("-keypass", Sits.NEXT), new Flag("-srcstorepass", Sits.NEXT),
                    new Flag("-deststorepass", Sits.NEXT), new Flag("-srckeypass", Sits.NEXT),
                    new Flag("-destkeypass", Sits.NEXT), new Flag("-new", Sits.NEXT))),
            // openssl-passphrase-options(1): -passin/-passout/-pass/-password pass:PASSWORD; enc's -k PASSWORD.
            // mask39: enc's -K KEY (the key itself, in hex), dgst's -hmac KEY, and the key of -macopt (dgst, mac),
            // -kdfopt (kdf) and -pkeyopt (pkeyutl): key:KEY, hexkey:KEY, pass:, secret: ….
            new Program(Set.of("openssl"), false, List.of(new Flag("-passin", Sits.AFTER_PASS_PREFIX),
                    new Flag("-passout", Sits.AFTER_PASS_PREFIX), new Flag("-pass", Sits.AFTER_PASS_PREFIX),
                    new Flag("-password", Sits.AFTER_PASS_PREFIX), new Flag("-k", Sits.NEXT), new Flag("-K", Sits.NEXT),
                    new Flag("-hmac", Sits.NEXT), new Flag("-macopt", Sits.AFTER_KEY_PREFIX),
                    new Flag("-kdfopt", Sits.AFTER_KEY_PREFIX), new Flag("-pkeyopt", Sits.AFTER_KEY_PREFIX))),
            // mosquitto_pub(1) & co: -P password, --pw password.
            new Program(Set.of(MOSQUITTO.split("\\|")), false, List.of(new Flag("-P", Sits.NEXT),
                    new Flag("--pw", Sits.NEXT))),
            // sqlcmd (mask39): -P PASSWORD or -PPASSWORD, uppercase only (-p prints statistics).
            new Program(Set.of("sqlcmd"), false, List.of(new Flag("-P", Sits.WHOLE))),
            // 7z (mask39): -pPASSWORD, glued only (-p alone asks).
            new Program(Set.of(SEVEN_ZIP.split("\\|")), false, List.of(new Flag("-p", Sits.GLUED))));

    /** Runs of a command line in one piece of text: not across a pipe, a {@code ;}, an {@code &} or a line end. */
    private static final String SAME_COMMAND = "[^\\n|;&]*?\\s";
    /**
     * htpasswd's options before its operands: {@code -C COST} and {@code -r ROUNDS} take the next argument, also
     * at the end of a group ({@code -bC 10}). Taken whole, never given back ({@code *+}): read as a bare option,
     * {@code -C} left its number to be taken for an operand, and {@code htpasswd -b -C 10 f u}, whose password is
     * missing, had {@code u} hidden (mask37's note). The value of {@code -C} or {@code -r} (a number) never holds
     * {@code htpasswd}: each {@code htpasswd} of a text is tried with the options after it, and a text of 64 KiB of
     * {@code htpasswd -C htpasswd -C …} (each name the value of the {@code -C} before it) had each try read on to its
     * end, seconds of CPU at each job start and each list that showed the job (review41 F1).
     */
    private static final String HTPASSWD_OPTIONS = "(?:\\s+(?:" + htpasswdOption() + "))*+";
    /**
     * A pattern that htpasswd's options ({@link #HTPASSWD_OPTIONS}) match when one of them has the letter
     * {@code letter}: those without it, taken whole, then one with it. Possessive, as the options themselves: a lazy
     * or backtracking loop of a group costs Java's matcher a frame of its stack per option, and a few thousand ended
     * in a StackOverflowError on a thread of the usual stack size (review40 F1).
     */
    private static String htpasswdOptionWith(char letter) {
        return "(?:\\s+(?!-[A-Za-z25]*" + letter + ")(?:" + htpasswdOption() + "))*+\\s+-[A-Za-z25]*" + letter;
    }

    /** One of htpasswd's options ({@link #HTPASSWD_OPTIONS}): {@code -C COST}, {@code -r ROUNDS}, or value-less. */
    private static String htpasswdOption() {
        return "-[A-Za-z25]*[Cr]\\s+(?:(?!htpasswd)\\S)++|-[A-Za-z25]+";
    }
    /**
     * A password in shell code, up to a quote, a blank, the end of its command ({@code ;}, {@code &}, {@code |}) or a
     * redirection ({@code <}, {@code >}).
     */
    private static final String UNQUOTED = "[^\\s'\";&|<>]+";
    /** An operand in shell code: not an option, nor the end of its command or a redirection. */
    private static final String OPERAND = "\\s+['\"]?[^\\s'\";&|<>-][^\\s'\";&|<>]*['\"]?";
    /** A program's name in shell code, whole: not {@code gzip}, {@code x.zip}, {@code zip.py}, {@code keytool2}. */
    private static final String START_OF_NAME = "(?<![\\w.-])";
    private static final String END_OF_NAME = "(?![\\w.-])";
    /**
     * A password not hidden yet nor a variable: so that, tried again on its own output ({@code Redaction}), a pattern
     * reaches the next password of the same command ({@code ldappasswd -w BIND -a OLD -s NEW}).
     */
    private static final String FRESH = "(?!\\*\\*\\*|\\$)";
    private static final String LDAP_NO_VALUE = "[" + LDAP_NO_VALUE_LETTERS + "]*";

    /** The same shapes in a text (shell code, a variable's value): the password in group {@code s}. */
    private static final List<Shape> SHAPES = List.of(
            Shape.sameCommand("(?<![\\w-])curl\\b", "(?:-[A-Za-z]*u|-U|--user|--proxy-user)(?:\\s+|=)?"
                    + "['\"]?[^\\s:'\"/]*:(?<s>[^\\s'\"]+)"),
            Shape.of("(?<![\\w-])sshpass(?:\\s+-v)*+\\s+-p\\s*['\"]?(?<s>[^\\s'\"]+)"),
            Shape.sameCommand("(?<![\\w-])(?:" + MYSQL + ")(?![\\w-])", "-p(?<s>[^\\s'\"]+)"),
            Shape.sameCommand("(?<![\\w-])(?:" + LOGIN + ")(?:\\s+(?:registry|acr))?\\s+login\\b",
                    "(?:(?:-p|--password)(?:\\s+|=)['\"]?|-p)(?<s>[^\\s'\"-][^\\s'\"]*)"),
            Shape.sameCommand("(?<![\\w-])lftp\\b", "-u(?:\\s+)?['\"]?[^\\s,'\"]*,(?<s>" + UNQUOTED + ")"),
            Shape.sameCommand("(?<![\\w-])(?:" + SAMBA + ")\\b", "(?:-U|--user)(?:\\s+|=)?"
                    + "['\"]?[^\\s%'\"]*%(?<s>" + UNQUOTED + ")"),
            // htpasswd -b FILE USER PASSWORD, and -nb USER PASSWORD (no file): b and n anywhere among its options.
            Shape.of("(?<![\\w-])htpasswd(?=" + htpasswdOptionWith('b') + ")"
                    + "(?!" + htpasswdOptionWith('n') + ")"
                    + HTPASSWD_OPTIONS + OPERAND + OPERAND + "\\s+['\"]?(?<s>" + UNQUOTED + ")"),
            Shape.of("(?<![\\w-])htpasswd(?=" + htpasswdOptionWith('b') + ")"
                    + "(?=" + htpasswdOptionWith('n') + ")"
                    + HTPASSWD_OPTIONS + OPERAND + "\\s+['\"]?(?<s>" + UNQUOTED + ")"),
            // redis-cli -a PASSWORD (--pass PASSWORD: a secret flag by its name, in shell code here).
            Shape.sameCommand(START_OF_NAME + "redis-cli" + END_OF_NAME, "(?:-a|--pass)\\s+['\"]?(?<s>"
                    + FRESH + UNQUOTED + ")"),
            // ldapsearch & co -w PASSWORD, -wPASSWORD, -xw PASSWORD; ldappasswd's -a OLD and -s NEW too.
            Shape.sameCommand(START_OF_NAME + "(?:" + LDAP + ")" + END_OF_NAME, "-" + LDAP_NO_VALUE
                    + "w\\s*['\"]?(?<s>" + FRESH + UNQUOTED + ")"),
            Shape.sameCommand(START_OF_NAME + "ldappasswd" + END_OF_NAME, "-" + LDAP_NO_VALUE
                    + "[was]\\s*['\"]?(?<s>" + FRESH + UNQUOTED + ")"),
            Shape.sameCommand(START_OF_NAME + "(?:zip|unzip)" + END_OF_NAME, "-[A-Za-z0-9]*P\\s*['\"]?(?<s>"
                    + FRESH + UNQUOTED + ")"),
            Shape.sameCommand(START_OF_NAME + "(?:" + KEYTOOL + ")" + END_OF_NAME,
                    "-(?:(?:src|dest)?(?:store|key)pass|new)\\s+['\"]?(?<s>" + FRESH + UNQUOTED + ")"),
            Shape.sameCommand(START_OF_NAME + "openssl" + END_OF_NAME,
                    "(?:-(?:passin|passout|pass|password)(?:\\s+|=)['\"]?pass:|-(?:k|K|hmac)(?:\\s+|=)['\"]?"
                    + "|-(?:macopt|kdfopt|pkeyopt)(?:\\s+|=)['\"]?(?:hex)?(?:key|pass|secret):)(?<s>" + FRESH
                    + UNQUOTED + ")"),
            Shape.sameCommand(START_OF_NAME + "(?:" + MOSQUITTO + ")" + END_OF_NAME, "(?:-P|--pw)\\s+['\"]?(?<s>"
                    + FRESH + UNQUOTED + ")"),
            Shape.sameCommand(START_OF_NAME + "sqlcmd" + END_OF_NAME, "-P\\s*['\"]?(?<s>" + FRESH
                    + UNQUOTED + ")"),
            Shape.sameCommand(START_OF_NAME + "(?:" + SEVEN_ZIP + ")" + END_OF_NAME, "-p['\"]?(?<s>"
                    + FRESH + UNQUOTED + ")"));

    /** {@link #SHAPES}' patterns, in their order: the password in group {@code s}. */
    static final List<Pattern> TEXT = SHAPES.stream().map(Shape::whole).toList();

    /**
     * A command's password in a text: {@code whole}; for most, {@code start} (the program's name, up to where
     * {@link #SAME_COMMAND} begins), by which {@link Matches} finds them in time linear in the text's length; and for
     * those whose password is {@link #FRESH}, {@code next}: {@link #SAME_COMMAND} and the password's flag, by which
     * {@link #passwords} goes on to the command's next password from where a password ends.
     */
    private record Shape(Pattern start, Pattern whole, Pattern next) {

        /** {@code start}, then the rest of its command up to a blank ({@link #SAME_COMMAND}), then {@code rest}. */
        static Shape sameCommand(String start, String rest) {
            return new Shape(Pattern.compile(start), Pattern.compile(start + SAME_COMMAND + rest),
                    rest.contains(FRESH) ? Pattern.compile(SAME_COMMAND + rest) : null);
        }

        static Shape of(String whole) {
            return new Shape(null, Pattern.compile(whole), null);
        }
    }

    private CommandCredentials() {
    }

    /**
     * The matches of {@link #TEXT}'s pattern {@code k} in {@code text}, one after the other.
     *
     * @param k an index of {@link #TEXT}
     */
    static Matches matches(int k, String text) {
        Shape shape = SHAPES.get(k);
        return new Matches(shape.start() == null ? null : shape.start().matcher(text), shape.whole().matcher(text),
                null, text);
    }

    /**
     * The passwords of {@link #TEXT}'s pattern {@code k} in {@code text} that {@link Redaction} hides: those of
     * {@link #matches}, and for a pattern whose password is {@link #FRESH} each password of the same command after
     * a match too, in the order of the text; the groups {@code s} of {@link Matches#matcher()} after each
     * {@link Matches#find()}. The same passwords as the pattern tried again on its own output while it hides more
     * (mask38) found, once each, in time linear in the text's length: a pass per password, each a scan of the whole
     * text, cost a command of 13,000 passwords ({@code ldappasswd -w x -w x …}, 64 KiB) 16 s of CPU at each job
     * start and each list that showed the job (review41 F2).
     *
     * @param k an index of {@link #TEXT}
     */
    static Matches passwords(int k, String text) {
        Shape shape = SHAPES.get(k);
        return new Matches(shape.start() == null ? null : shape.start().matcher(text), shape.whole().matcher(text),
                shape.next() == null ? null : shape.next().matcher(text), text);
    }

    /**
     * The matches of a {@link #TEXT} pattern in a text, the same as {@link Matcher#find()} gives them one after the
     * other, in time linear in the text's length (review40 F2). {@code find()} tries the pattern again at each
     * occurrence of the program's name, and each try runs to the end of its command ({@link #SAME_COMMAND}): a text
     * of one command with many such words ({@code sqlcmd sqlcmd …}, 56 KB) cost seconds, at each job start and at
     * each list that showed the job. Here, once a try from a name failed, the names after it in the same command are
     * not tried: whatever one of them would match, the first would too ({@code SAME_COMMAND} runs over them).
     */
    static final class Matches {

        private final Matcher start;
        private final Matcher whole;
        /** {@link Shape#next}'s matcher, for {@link #passwords}; else {@code null}. */
        private final Matcher next;
        private final String text;
        /** The matcher of the last match. */
        private Matcher last;
        /** Where the next name is looked for. */
        private int from;
        /** The names that start at or after {@code skipFrom} and end at or before {@code skipTo} are not tried. */
        private int skipFrom = Integer.MAX_VALUE;
        private int skipTo = -1;
        /** Where the last match's password ends, when the next password of its command is looked for there; else -1. */
        private int sameCommandFrom = -1;

        private Matches(Matcher start, Matcher whole, Matcher next, String text) {
            this.start = start;
            this.whole = whole.useTransparentBounds(true).useAnchoringBounds(false);
            this.next = next == null ? null : next.useTransparentBounds(true).useAnchoringBounds(false);
            this.text = text;
            this.last = this.whole;
        }

        /**
         * Finds the next match, as {@link Matcher#find()} does; for {@link #passwords}, first the next password of
         * the last match's command.
         *
         * @return whether there is one; then {@link #matcher()} has its groups
         */
        boolean find() {
            if (sameCommandFrom >= 0) {
                // The pattern tried again once this password is hidden finds the first password after it that is
                // not hidden yet: the command's first one after it, its text unchanged by the hiding before it.
                next.region(sameCommandFrom, text.length());
                if (next.lookingAt()) {
                    return found(next);
                }
                sameCommandFrom = -1;
            }
            if (start == null) {
                last = whole;
                return whole.find();
            }
            while (from <= text.length() && start.find(from)) {
                int at = start.start();
                int nameEnd = start.end();
                from = at + 1;
                if (at >= skipFrom && nameEnd <= skipTo) {
                    continue; // in the command of a name whose try failed
                }
                whole.region(at, text.length());
                if (whole.lookingAt()) {
                    return found(whole);
                }
                skipFrom = nameEnd;
                skipTo = commandEnd(at);
            }
            return false;
        }

        /**
         * Records a match of {@code m}. The command's next password is looked for after this one unless the match
         * holds a line break: {@link #SAME_COMMAND} may end with one (the password's flag begins the next line), and
         * a command does not go on past it. Such a password found after another of its command is no match of the
         * pattern on the text as it was (it is found once that one is hidden), where a name in it begins a command on
         * that line: names are looked for from its start.
         */
        private boolean found(Matcher m) {
            last = m;
            boolean lineBreak = holdsLineBreak(m.start(), m.end());
            from = Math.max(m == next && lineBreak ? m.start("s") : m.end(), from);
            skipFrom = Integer.MAX_VALUE;
            skipTo = -1;
            sameCommandFrom = next != null && !lineBreak ? m.end() : -1;
            return true;
        }

        private boolean holdsLineBreak(int from, int to) {
            for (int i = from; i < to; i++) {
                if (text.charAt(i) == '\n') {
                    return true;
                }
            }
            return false;
        }

        /** The matcher of the last match {@link #find()} found. */
        Matcher matcher() {
            return last;
        }

        /** Where the command that {@code at} is in ends: its first {@code \n}, {@code |}, {@code ;} or {@code &}. */
        private int commandEnd(int at) {
            for (int i = at; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '\n' || c == '|' || c == ';' || c == '&') {
                    return i;
                }
            }
            return text.length();
        }
    }

    /**
     * Where the password is in {@code argv[i]}: the index it starts at, or {@code -1} when the argument is none. The
     * program is the last argument before {@code i} that the table names, or sshpass or htpasswd, so a wrapper in
     * front ({@code sudo}, {@code env A=1}, {@code timeout 60}) changes nothing.
     */
    static int secretPart(List<String> argv, int i) {
        return secretPart(argv, i, owner(argv, i));
    }

    /**
     * {@link #secretPart} of each element of {@code argv}, in time linear in its size: each element's program looked
     * for from the command's first, a command of 26,000 arguments ({@code ldappasswd -w x -w x …}) cost 18 s of CPU at
     * each job start and each list that showed the job (review41 F2).
     *
     * @return one index per element of {@code argv}, -1 for one that is no password
     */
    static int[] secretParts(List<String> argv) {
        int[] out = new int[argv.size()];
        Owners owners = new Owners(argv);
        for (int i = 0; i < argv.size(); i++) {
            out[i] = secretPart(argv, i, owners.owner(i));
            owners.add(i);
        }
        return out;
    }

    /** {@link #secretPart} with {@code argv[i]}'s {@link Owner}. */
    private static int secretPart(List<String> argv, int i, Owner owner) {
        String program = owner.program();
        boolean login = owner.login();
        if (program.equals("sshpass")) {
            return sshpass(argv, i, owner);
        }
        if (program.equals("htpasswd")) {
            return i == owner.htpasswdPassword() ? 0 : -1;
        }
        Program table = program(program);
        if (table == null || table.afterLogin()) {
            // A login command's -p is its password, whatever the program (oc login -u u -p PASSWORD too), as before.
            table = login ? LOGIN_COMMAND : null;
        }
        if (table == null) {
            return -1;
        }
        String arg = argv.get(i);
        String previous = i > 0 ? argv.get(i - 1) : "";
        String group = table.group();
        for (Flag flag : table.flags()) {
            String name = flag.name();
            boolean letter = name.length() == 2;
            boolean next = flag.sits() == Sits.NEXT;
            boolean grouped = letter && !next && (group == null
                    ? previous.matches("-[A-Za-z]*" + Pattern.quote(name.substring(1)))
                    : afterGroup(previous, group, name.charAt(1)) == previous.length());
            if ((previous.equals(name) || grouped) && flag.sits() != Sits.GLUED) {
                return flag.sits().in(arg, 0);
            }
            if (group != null && letter && !next && flag.sits() != Sits.GLUED) {
                int at = afterGroup(arg, group, name.charAt(1)); // -xwPASSWORD (mask39)
                if (at > 2 && at < arg.length()) {
                    return flag.sits().in(arg, at);
                }
            }
            String glued = letter ? name : name + "=";
            if (!(letter && next) && arg.startsWith(glued) && arg.length() > glued.length()) {
                return flag.sits().in(arg, glued.length());
            }
        }
        return -1;
    }

    /**
     * The program whose argument {@code argv[i]} would be: the last argument before {@code i} that the table names,
     * or sshpass or htpasswd ({@code at} its index, {@code program} empty and {@code at} -1 when none), whether a
     * {@code login} comes after it, whether the arguments between it and {@code argv[i - 1]} are all {@code -v}
     * (sshpass's options), and for htpasswd the index of its password operand ({@link #htpasswdPasswords}).
     */
    private record Owner(String program, int at, boolean login, boolean onlyV, int htpasswdPassword) {
    }

    /** The {@link Owner} of each element of a command, the elements added one after the other. */
    private static final class Owners {

        private final List<String> argv;
        private String program = "";
        private int at = -1;
        private boolean login;
        /** The first argument after the program's that is not {@code -v}; {@link Integer#MAX_VALUE} when none. */
        private int notV = Integer.MAX_VALUE;
        /** {@link #htpasswdPasswords} of {@code argv}, once one is htpasswd. */
        private int[] htpasswd;

        Owners(List<String> argv) {
            this.argv = argv;
        }

        /** Reads {@code argv[j]}, the element after those added before ({@code null} as none). */
        void add(int j) {
            String arg = argv.get(j) == null ? "" : argv.get(j);
            String name = baseName(arg);
            if (name.equals("sshpass") || name.equals("htpasswd") || program(name) != null) {
                program = name;
                at = j;
                login = false;
                notV = Integer.MAX_VALUE;
            } else {
                login |= name.equals("login");
                if (notV == Integer.MAX_VALUE && !arg.equals("-v")) {
                    notV = j;
                }
            }
        }

        /** The owner of {@code argv[i]}, the elements before it added. */
        Owner owner(int i) {
            int password = -1;
            if (program.equals("htpasswd")) {
                htpasswd = htpasswd == null ? htpasswdPasswords(argv) : htpasswd;
                password = htpasswd[at];
            }
            return new Owner(program, at, login, notV >= i - 1, password);
        }
    }

    private static Owner owner(List<String> argv, int i) {
        Owners owners = new Owners(argv);
        for (int j = 0; j < i; j++) {
            owners.add(j);
        }
        return owners.owner(i);
    }

    /**
     * The name of the program whose password {@code argv[i]} holds when {@link #secretPart} finds one there, for a
     * warning: {@code sqlcmd}, {@code docker login}, or {@code a login command} for one of a program the table does
     * not name.
     */
    static String programOf(List<String> argv, int i) {
        Owner owner = owner(argv, i);
        Program table = program(owner.program());
        boolean login = owner.login() && (table == null || table.afterLogin());
        return owner.program().isEmpty() ? "a login command" : login ? owner.program() + " login" : owner.program();
    }

    /**
     * The name of the program a match of one of {@link #TEXT} in {@code text} starts with ({@code sqlcmd},
     * {@code docker login}), for a warning.
     */
    static String programAt(String text, int start) {
        // Its first words only: a long text with many passwords is not copied to its end at each (review40 F2).
        String[] words = text.substring(start, Math.min(text.length(), start + 200)).split("\\s+", 4);
        for (int w = 1; w < Math.min(words.length, 3); w++) {
            if (words[w].equals("login")) {
                return String.join(" ", java.util.Arrays.copyOfRange(words, 0, w + 1)); // az acr login
            }
        }
        return words[0];
    }

    /**
     * Where a value glued to {@code letter} starts in {@code arg} when it is {@code -}, letters of {@code group}, then
     * {@code letter} ({@code -xw…}): the index after {@code letter}; else -1.
     */
    private static int afterGroup(String arg, String group, char letter) {
        if (!arg.startsWith("-")) {
            return -1;
        }
        for (int k = 1; k < arg.length(); k++) {
            char c = arg.charAt(k);
            if (c == letter) {
                return k + 1;
            }
            if (group.indexOf(c) < 0) {
                return -1;
            }
        }
        return -1;
    }

    private static Program program(String name) {
        for (Program p : PROGRAMS) {
            if (p.names().contains(name)) {
                return p;
            }
        }
        return null;
    }

    /** sshpass's own {@code -p}, before the command it runs: not ssh's {@code -p PORT} after it. */
    private static int sshpass(List<String> argv, int i, Owner owner) {
        if (!owner.onlyV()) {
            return -1;
        }
        String arg = argv.get(i);
        String previous = argv.get(i - 1);
        if (previous.equals("-p")) {
            return 0;
        }
        return i - 1 == owner.at() || previous.equals("-v") ? (arg.startsWith("-p") && arg.length() > 2 ? 2 : -1) : -1;
    }

    /**
     * For an htpasswd at each index of {@code argv}, the index of its password operand: with {@code -b} (the password
     * on the command line) the third operand ({@code FILE USER PASSWORD}), or the second with {@code -n} too
     * ({@code -nb USER PASSWORD}); -1 without {@code -b}. Its options come before its operands; {@code -C} and
     * {@code -r} take the next argument (a number), also at the end of a group ({@code -bC 10}), where htpasswd reads
     * no letter after them. Worked out from the last argument to the first, in time linear in their number: read for
     * each htpasswd from its options on, the arguments of {@code htpasswd -C htpasswd -C …} (each name the value of
     * the {@code -C} before it) were read again for each.
     */
    private static int[] htpasswdPasswords(List<String> argv) {
        int size = argv.size();
        // From index j on (up to size + 1, after a -C that ends the command): where the options end, and whether
        // their letters hold b and n.
        int[] end = new int[size + 2];
        boolean[] b = new boolean[size + 2];
        boolean[] n = new boolean[size + 2];
        end[size] = size;
        end[size + 1] = size + 1;
        for (int j = size - 1; j >= 0; j--) {
            String option = argv.get(j);
            if (option == null || !option.startsWith("-") || option.length() < 2) {
                end[j] = j;
                continue;
            }
            int valued = indexOfAny(option, "Cr");
            String letters = option.substring(1, valued < 0 ? option.length() : valued);
            int next = j + (valued < 0 ? 1 : 2);
            end[j] = end[next];
            b[j] = letters.indexOf('b') >= 0 || b[next];
            n[j] = letters.indexOf('n') >= 0 || n[next];
        }
        int[] out = new int[size];
        for (int at = 0; at < size; at++) {
            out[at] = b[at + 1] ? end[at + 1] + (n[at + 1] ? 1 : 2) : -1;
        }
        return out;
    }

    private static int indexOfAny(String text, String chars) {
        for (int i = 1; i < text.length(); i++) {
            if (chars.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static String baseName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /**
     * The words one of which every match of {@link #TEXT} holds (each pattern starts with a program's name, or with
     * {@code login}), in the case the patterns match them: {@link #mayHoldProgram} skips the patterns on a text with
     * none. A word may stand for a family: {@code smb} for the Samba programs but {@code rpcclient}, {@code mysql} and
     * {@code mariadb} for theirs, {@code ldap} for the OpenLDAP clients, {@code zip} for {@code unzip} too.
     */
    static final List<String> PROGRAM_WORDS = List.of("curl", "sshpass", "mysql", "mariadb", "login", "lftp", "smb",
            "rpcclient", "htpasswd", "redis-cli", "ldap", "zip", "keytool", "jarsigner", "openssl", "mosquitto",
            "sqlcmd", "7z");

    /**
     * Whether {@link #TEXT} may find a password in {@code text}: whether it holds one of {@link #PROGRAM_WORDS}. A
     * necessary condition only, and a search for a few fixed words: it was a regular expression of their
     * alternatives, tried at every position of every text a job shows or starts with, though most hold none (perf38).
     */
    static boolean mayHoldProgram(String text) {
        for (String word : PROGRAM_WORDS) {
            if (text.contains(word)) {
                return true;
            }
        }
        return false;
    }
}
