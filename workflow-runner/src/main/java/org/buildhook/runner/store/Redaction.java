package org.buildhook.runner.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.runner.exec.SecretNames;
import org.buildhook.runner.rules.ShellCode;

/**
 * Hides secret values from what buildhook shows: {@code buildhook test}, {@code job show}, the admin API and the
 * status page. A value is hidden (shown as {@code ***}) when
 * <ul>
 * <li>its environment variable's name looks secret ({@link #SECRET_KEY}); such a value (of at least
 * {@value #SHORTEST_MASKED_VALUE} characters) is then hidden wherever else it appears too, in the command's
 * arguments and in other variables, as GitHub Actions masks a registered secret;</li>
 * <li>or it has the shape of a credential, whatever its name ({@link #credentialIn}): an {@code Authorization}
 * header or {@code Bearer} token, the password of a URL ({@code https://user:PASSWORD@host}), a known token
 * prefix ({@code ghp_}, {@code github_pat_}, {@code glpat-}, {@code xoxb-}, {@code sk_live_} …), a Slack,
 * Discord or Teams webhook URL, a private key, {@code NAME=value} where NAME looks secret
 * ({@code --password=…}, {@code ?access_token=…}), a header {@code NAME: value} whose NAME's last word is secret
 * ({@code X-Api-Key: …}, {@code OSF-TOKEN: …}, {@code Cookie: …}, not {@code keycloak:21.0.1}: the value up to the
 * end of its line or a quote, in shell code up to the end of its command),
 * or a JSON member {@code "NAME": "value"} where NAME looks secret ({@code curl -d '{"password": "…"}'});</li>
 * <li>or it is the command argument after a flag such as {@code --password} or {@code --token}.</li>
 * </ul>
 * Only the secret part is hidden ({@code Authorization: Bearer ***}). The engine runs jobs with the real values,
 * which the database keeps: protect the database like the rules file. A command's arguments stay visible in
 * {@code ps} to every user of the machine while it runs: nothing here can hide them there.
 */
public final class Redaction {

    /** Keys whose values are never shown: {@link SecretNames#PATTERN} (docs/rules.md, "Secrets"). */
    public static final Pattern SECRET_KEY = SecretNames.PATTERN;
    public static final String MASK = "***";
    /** A secret-named variable's value shorter than this is hidden under its name only, not wherever it appears. */
    public static final int SHORTEST_MASKED_VALUE = SecretNames.SHORTEST_MASKED_VALUE;

    /**
     * A flag whose next argument is a secret: {@code --password VALUE}, {@code --token VALUE}, curl's
     * {@code --oauth2-bearer TOKEN} (review36: shown in clear), and a long flag whose last word is {@code pass}
     * ({@code --pass}, {@code --db-pass}, {@code --smtp_pass}: tryout36 F5b), not a word that ends so
     * ({@code --bypass}, {@code --compass}); unless it asks for the secret or says there is none
     * ({@link #NO_SECRET_FLAG}).
     */
    private static final Pattern SECRET_FLAG = Pattern.compile(
            "--?[A-Za-z0-9_-]*(?:password|passwd|passphrase|token|secret|api-?key|access-?key|bearer)|--(?:basic-|proxy-)?auth"
                    + "|--(?:[A-Za-z0-9]++[_-])*+pass",
            Pattern.CASE_INSENSITIVE);
    /**
     * A flag that asks for the secret or says there is none, whose next argument is something else:
     * {@code psql --no-password DBNAME}, {@code ansible-playbook --ask-vault-pass site.yml}, smbclient's
     * {@code --no-pass}.
     */
    private static final Pattern NO_SECRET_FLAG = Pattern.compile("--(?:no|ask)[_-].*", Pattern.CASE_INSENSITIVE);
    /**
     * A {@link #SECRET_FLAG} and its value in shell code ({@code sh -c "deploy --db-pass PASSWORD"}; mask38: shown in
     * clear, only {@code --db-pass=PASSWORD} was hidden there): the flag a word of its own, the value the next word up to
     * a quote, a blank or the end of its command, neither a variable nor another flag ({@code mysql --password -h db}
     * asks for it).
     */
    private static final Pattern SHELL_SECRET_FLAG = Pattern.compile("(?<![^\\s'\"])(?!--(?:no|ask)[_-])(?<flag>"
            + SECRET_FLAG.pattern() + ")[ \\t]+['\"]?(?<s>(?!\\*\\*\\*|\\$|-)[^\\s'\";&|<>]+)", Pattern.CASE_INSENSITIVE);
    /**
     * {@code NAME=value} inside a text: {@code --db-password=x}, {@code ?access_token=x}, {@code TOKEN=x}; NAME in group
     * 1, the value in group 2. NAME begins a run of name characters ({@code [A-Za-z0-9_.-]}) or follows a {@code -} in
     * it, at the run's first letter or {@code _} that does; the match begins with the run, its {@code -}, digits and
     * dots before NAME ({@code --} of {@code --db-password=x}) included, so that each run is tried once: tried after
     * each {@code -} of a long run, each try to the run's end, a text of 64 KiB ({@code =a-a-a-…}) cost 20 s of CPU at
     * each job start and each list that showed the job (review41 F1).
     */
    static final Pattern ASSIGNMENT = Pattern.compile(
            "(?<![A-Za-z0-9_.-])(?:-|[0-9.][A-Za-z0-9_.]*+)*+([A-Za-z_][A-Za-z0-9_.-]*+)=([^\\s&;,\"'#]+)");
    /**
     * A header {@code NAME: value} (as {@code curl -H} takes it) at the start of a text or after a space, quote,
     * bracket or {@code =}, or glued to a {@code -H}: {@code X-Api-Key: k}, {@code OSF-TOKEN: t}, wget's
     * {@code --header=X-Api-Key: k}, curl's {@code -HX-Api-Key: k} (review35: those two were shown in clear). The
     * value runs to the end of its line or a quote (a header's value is the rest of its line:
     * {@code Cookie: a=1; session=s}); unquoted in shell code, to the end of its command ({@link #COMMAND_END}).
     * Its name is secret by its last word ({@link JsonSecrets#isSecretHeaderName}). Not after {@code /} or
     * {@code @}, so {@code https://host:8443} and
     * {@code git@keyserver:repo} are not headers. {@code Authorization} and
     * {@code Proxy-Authorization} have a shape of their own, which keeps the scheme visible ({@code Bearer ***}).
     * The pattern matches the name (group 1), its colon and the blanks after it, up to the value's first character,
     * which it does not read on: {@link #valueEnd} finds where the value ends, for a header whose name is secret only.
     * A value read to its line's end for each header, a one-line text of 64 KiB ({@code a:b a:b … token: t}) cost
     * seconds of CPU at each job start and each list that showed the job (review41 F1).
     */
    static final Pattern HEADER = Pattern.compile(
            "(?:(?<=(?:^|\\s)-H)|(?<![^\\s\"'(\\[{,;=]))(?!(?i:proxy-)?(?i:authorization):)([A-Za-z][A-Za-z0-9_.-]*+):[ \\t]*+(?=[^\\s\"'])");
    /**
     * Where a command ends in shell code: an unquoted header value there stops at it, so the rest of the script stays
     * readable ({@code sh -c "curl -H X-Api-Key:k https://x && ./deploy.sh prod"}: header36). A quoted value ends at
     * its quote, a {@code ;} inside it included.
     */
    private static final Pattern COMMAND_END = Pattern.compile(" && | \\|\\| | \\| |;");
    /**
     * A JSON member {@code "NAME": "value"} (a request body given to {@code curl -d}); its value with JSON's escapes
     * (review35: {@code {"password": "…"}} was shown in clear, being neither {@code NAME=value} nor a header).
     */
    private static final Pattern JSON_MEMBER = Pattern.compile(
            "\"(" + JsonSecrets.NAME + ")\"\\s*:\\s*\"((?:[^\"\\\\]++|\\\\.)*+)\"");
    private static final Pattern SIGNATURE_PARAMETER = Pattern.compile("sig|signature|x-amz-signature",
            Pattern.CASE_INSENSITIVE);

    /**
     * A credential's shape: what it is (for a warning), where its secret part is (group "s"), and the words its
     * pattern cannot match without: {@code pattern} is tried only on a text that holds one of them (ignoring ASCII
     * case), since each pattern costs a scan of the whole text and most texts (a build number, a path, a URL without
     * a password) hold none (lead37: a job start's {@link #hiddenIn} and every job a list shows ran all of them on
     * every value). A word listed must occur in every text the pattern matches.
     */
    record Shape(String what, Pattern pattern, String... needs) {

        /** Whether {@link #pattern} may match {@code lower}, a text in lower case ({@link Locale#ROOT}). */
        boolean mayMatch(String lower) {
            for (String need : needs) {
                if (lower.contains(need)) {
                    return true;
                }
            }
            return false;
        }
    }

    static final List<Shape> SHAPES = List.of(
            new Shape("a private key", Pattern.compile(
                    "-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?<s>[\\s\\S]+?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)"),
                    "private key-----"),
            new Shape("an Authorization header", Pattern.compile(
                    "(?i)\\b(?:proxy-)?authorization:\\s*(?:[A-Za-z]+\\s+)?(?<s>[^\\s\"']+)"), "authorization:"),
            new Shape("a Bearer or Basic credential", Pattern.compile(
                    "(?i)\\b(?:Bearer|Basic)\\s+(?<s>[A-Za-z0-9._~+/=-]{4,})"), "bearer", "basic"),
            new Shape("a password in a URL", Pattern.compile(
                    "://[^/\\s:@\"']*:(?<s>[^/\\s@\"']+)@"), "@"),
            new Shape("a token with a known prefix (ghp_, github_pat_, glpat-, xoxb-, sk_live_ …)", Pattern.compile(
                    "(?<![A-Za-z0-9])(?:gh[pousr]_|github_pat_|glpat-|gldt-|glrt-|xox[abposre]-|xapp-|sk_live_|sk_test_"
                            + "|rk_live_|sk-(?=[A-Za-z0-9_-]{20}))(?<s>[A-Za-z0-9_-]{4,})"
                            + "|(?<![A-Za-z0-9])(?:npm_(?<s2>[A-Za-z0-9]{36})|AKIA(?<s3>[0-9A-Z]{16}))(?![A-Za-z0-9])"),
                    "_", "-", "akia"),
            new Shape("a chat webhook URL (Slack, Discord, Teams)", Pattern.compile(
                    "(?i)(?:hooks\\.slack\\.com/(?:services|workflows|triggers)/|discord(?:app)?\\.com/api/webhooks/"
                            + "|\\.webhook\\.office\\.com/webhookb2/)(?<s>[^\\s\"'?#]+)"), "hook"));

    private static final String[] GROUPS = {"s", "s2", "s3"};
    private static final ObjectMapper JSON = new ObjectMapper();

    private Redaction() {
    }

    /**
     * A job's environment as buildhook shows it: the values of secret-looking names as {@code ***}, and in the
     * other values what {@link #redactText} hides.
     *
     * @param env variable names to values, as the job gets them
     * @return the same names in the same order, values masked
     */
    public static Map<String, String> redact(Map<String, String> env) {
        return redact(env, secretValues(env));
    }

    /** {@link #redact(Map)} with the environment's {@link #secretValues} already worked out ({@link Job#redacted}). */
    static Map<String, String> redact(Map<String, String> env, Set<String> secrets) {
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> out.put(k, SecretNames.looksSecret(k) ? MASK : redactText(v, secrets)));
        return out;
    }

    /**
     * A command as buildhook shows it: in each argument what {@link #redactText} hides (with the secret-named values
     * of {@code env}), and the whole argument after a flag such as {@code --password} or {@code --token}.
     *
     * @param argv the command, the program first
     * @param env  the job's environment, whose secret-named values are hidden wherever they appear in {@code argv}
     * @return a list of the same length
     */
    public static List<String> redactArgv(List<String> argv, Map<String, String> env) {
        return redactArgv(argv, secretValues(env));
    }

    /** {@link #redactArgv(List, Map)} with the environment's {@link #secretValues} already worked out. */
    static List<String> redactArgv(List<String> argv, Set<String> secrets) {
        boolean[] code = ShellCode.in(argv.stream().map(a -> a == null ? "" : a).toList());
        int[] passwords = CommandCredentials.secretParts(argv);
        List<String> out = new ArrayList<>(argv.size());
        for (int i = 0; i < argv.size(); i++) {
            String shown = i > 0 && isSecretFlag(argv.get(i - 1)) && !isLongFlag(argv.get(i)) ? MASK
                    : redactText(argv.get(i), secrets, code[i]);
            out.add(hidePassword(argv.get(i), shown, passwords[i]));
        }
        return out;
    }

    /**
     * {@code shown}, what is shown of a command's argument {@code arg}, with the password a program takes there after
     * its own flag or by position hidden too.
     *
     * @param password where the password starts in {@code arg} ({@link CommandCredentials#secretParts}); -1 for none
     */
    private static String hidePassword(String arg, String shown, int password) {
        if (password >= 0 && !shown.equals(MASK) && !arg.startsWith("$", password) && !arg.startsWith(MASK, password)) {
            return arg.substring(0, password) + MASK;
        }
        return shown;
    }

    /**
     * The values buildhook hides in what it shows of a job ({@link #redactArgv}, {@link #redact}), as the job gets
     * them: the secret-named variables' values, and the secret part of each credential-shaped argument or value (the
     * password of a URL, an {@code Authorization} header's credential, the argument after {@code --password} …).
     * Masked by exact value in the job's log (mask36), which is never searched for shapes itself.
     *
     * @param argv the command, the program first
     * @param env  the job's variables
     * @return the hidden values; empty when nothing is hidden
     */
    public static Set<String> hiddenIn(List<String> argv, Map<String, String> env) {
        Set<String> secrets = secretValues(env);
        List<String> shown = redactArgv(argv, secrets);
        Set<String> out = new TreeSet<>(secrets);
        for (int i = 0; i < argv.size(); i++) {
            hiddenParts(argv.get(i), shown.get(i), out);
        }
        env.forEach((k, v) -> {
            // A secret-looking name that ends in an identifier word (TOKEN_URL) is not masked by its whole value: the
            // credential-shaped parts of its value are (https://user:PASSWORD@host).
            if (v != null && !SecretNames.maskedEverywhere(k)) {
                hiddenParts(v, redactText(v, out), out);
            }
        });
        return out;
    }

    /**
     * Adds to {@code out} the pieces of {@code original} that {@code shown} (the same text, masked) shows as
     * {@code ***}: the text between the masks is found in {@code original} in order. A text it cannot line up (one
     * that held {@code ***} itself) adds what it lined up before.
     */
    static void hiddenParts(String original, String shown, Set<String> out) {
        if (original == null || shown == null || original.equals(shown) || !shown.contains(MASK)) {
            return;
        }
        List<String> between = new ArrayList<>();
        int from = 0;
        for (int at = shown.indexOf(MASK); at >= 0; at = shown.indexOf(MASK, from)) {
            between.add(shown.substring(from, at));
            from = at + MASK.length();
        }
        between.add(shown.substring(from));
        if (!original.startsWith(between.get(0))) {
            return;
        }
        int at = between.get(0).length();
        for (int k = 1; k < between.size(); k++) {
            String next = between.get(k);
            int end;
            if (k == between.size() - 1) {
                end = original.endsWith(next) ? original.length() - next.length() : -1;
            } else {
                end = next.isEmpty() ? -1 : original.indexOf(next, at + 1);
            }
            if (end <= at) {
                return;
            }
            out.add(original.substring(at, end));
            at = end + next.length();
        }
    }

    /**
     * Whether {@code argv.get(i)} is a password a program takes after its own flag ({@code curl -u user:PASSWORD},
     * {@code sshpass -p PASSWORD}, {@code mysql -pPASSWORD}, {@code docker login -p PASSWORD}), for a warning.
     *
     * @return a short description naming the program ("a password on the command line of sqlcmd"), or empty when it
     *         is none
     */
    public static Optional<String> passwordArgument(List<String> argv, int i) {
        int at = CommandCredentials.secretPart(argv, i);
        return at >= 0 && !argv.get(i).startsWith("$", at) && !argv.get(i).startsWith("${", at)
                ? Optional.of("a password on the command line of " + CommandCredentials.programOf(argv, i))
                : Optional.empty();
    }

    /**
     * A text with each of {@code secrets} (longest first) and the secret part of each credential-shaped piece
     * replaced by {@code ***}.
     *
     * @param text    any text; {@code null} is returned as it is
     * @param secrets values to hide wherever they appear (those shorter than {@value #SHORTEST_MASKED_VALUE}
     *                characters are ignored)
     * @return the text, masked
     */
    public static String redactText(String text, Collection<String> secrets) {
        return redactText(text, secrets, false);
    }

    /** {@link #redactText(String, Collection)} of a text a shell reads as code when {@code shellCode}. */
    private static String redactText(String text, Collection<String> secrets, boolean shellCode) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        List<String> longestFirst = new ArrayList<>(secrets);
        longestFirst.sort(Comparator.comparingInt(String::length).reversed());
        for (String secret : longestFirst) {
            if (secret.length() >= SHORTEST_MASKED_VALUE) {
                out = out.replace(secret, MASK);
            }
        }
        String lower = out.toLowerCase(Locale.ROOT);
        for (Shape shape : SHAPES) {
            if (shape.mayMatch(lower)) {
                out = maskGroups(shape.pattern(), out);
            }
        }
        if (CommandCredentials.mayHoldProgram(out)) {
            for (int k = 0; k < CommandCredentials.TEXT.size(); k++) {
                // Each password of a command (ldappasswd -w BIND -a OLD -s NEW, openssl -passin pass:IN -passout
                // pass:OUT; mask38) in one pass (review41 F2); again on its own output while it hides more, which
                // finds none since.
                for (String before = null; !out.equals(before); ) {
                    before = out;
                    CommandCredentials.Matches m = CommandCredentials.passwords(k, out);
                    out = maskGroups(m::find, m::matcher, out);
                }
            }
        }
        if (shellCode && out.indexOf('-') >= 0) {
            out = maskGroups(SHELL_SECRET_FLAG, out);
        }
        out = JsonSecrets.mask(out);
        // Each of the rest is tried only where the character it cannot match without is (lead37).
        if (out.indexOf('=') >= 0) {
            Matcher m = ASSIGNMENT.matcher(out);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                boolean secret = SecretNames.looksSecret(m.group(1))
                        || SIGNATURE_PARAMETER.matcher(m.group(1)).matches();
                m.appendReplacement(b, Matcher.quoteReplacement(secret && !m.group(2).equals(MASK)
                        && !m.group(2).startsWith("$") ? out.substring(m.start(), m.start(1)) + m.group(1) + "=" + MASK
                        : m.group()));
            }
            m.appendTail(b);
            out = b.toString();
        }
        if (out.indexOf(':') < 0) {
            return out;
        }
        out = out.indexOf('"') >= 0 ? maskJsonMembers(out) : out;
        return mayHoldSecretHeader(out) ? maskHeaders(out, shellCode) : out;
    }

    /**
     * Whether {@code text} may hold a {@link #HEADER} whose name is secret: a colon right after a name
     * ({@code [A-Za-z][A-Za-z0-9_.-]*}) that {@link JsonSecrets#isSecretHeaderName} takes, where the name is the whole
     * run of name characters before the colon or, glued to curl's {@code -H}, that run less its {@code -H}. A
     * necessary condition only, tried before the header pattern, which scans the whole text: every URL has a colon
     * ({@code https:}) and none a secret header (lead37).
     */
    static boolean mayHoldSecretHeader(String text) {
        for (int colon = text.indexOf(':'); colon >= 0; colon = text.indexOf(':', colon + 1)) {
            int start = colon;
            while (start > 0 && isNameChar(text.charAt(start - 1))) {
                start--;
            }
            String run = text.substring(start, colon);
            if (JsonSecrets.isSecretHeaderName(run)
                    || run.startsWith("-H") && JsonSecrets.isSecretHeaderName(run.substring(2))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isNameChar(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.'
                || c == '-';
    }

    /** {@code text} with the value of each {@link #JSON_MEMBER} whose name looks secret replaced by {@code ***}. */
    private static String maskJsonMembers(String text) {
        Matcher m = JSON_MEMBER.matcher(text);
        StringBuilder b = new StringBuilder();
        int last = 0;
        while (m.find()) {
            if (isSecretMember(m)) {
                b.append(text, last, m.start(2)).append(MASK);
                last = m.end(2);
            }
        }
        return last == 0 ? text : b.append(text, last, text.length()).toString();
    }

    /** Whether a {@link #JSON_MEMBER} match's name looks secret and its value is neither empty, hidden nor shell code. */
    private static boolean isSecretMember(Matcher m) {
        String value = m.group(2);
        return SecretNames.looksSecret(JsonSecrets.decoded(m.group(1))) && !value.isEmpty() && !value.contains(MASK)
                && !value.startsWith("$");
    }

    /**
     * {@code text} with the value of each {@link #HEADER} whose name looks secret replaced by {@code ***}; in shell
     * code an unquoted value ends at {@link #COMMAND_END}.
     */
    private static String maskHeaders(String text, boolean shellCode) {
        StringBuilder b = new StringBuilder();
        int last = 0;
        Matcher m = HEADER.matcher(text);
        while (findSecretHeader(m, text, last)) {
            char before = m.start(1) > 0 ? text.charAt(m.start(1) - 1) : ' ';
            boolean quoted = before == '"' || before == '\'';
            int value = m.end();
            int end = valueEnd(text, value, shellCode && !quoted);
            b.append(text, last, value).append(MASK).append(trailingBlanks(text.substring(value, end)));
            last = end;
        }
        return last == 0 ? text : b.append(text, last, text.length()).toString();
    }

    /**
     * Where a {@link #HEADER}'s value that begins at {@code from} ends: at its line's end or a quote; with
     * {@code commandEnd} (unquoted, in shell code) also at the end of its command ({@link #COMMAND_END}).
     */
    static int valueEnd(String text, int from, boolean commandEnd) {
        Matcher command = commandEnd ? COMMAND_END.matcher(text) : null;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r' || c == '\n' || c == '"' || c == '\''
                    || command != null && command.region(i, text.length()).lookingAt()) {
                return i;
            }
        }
        return text.length();
    }

    /**
     * Moves {@code m} to the next {@link #HEADER} at or after {@code from} whose name looks secret. After a header
     * whose name does not, it looks on right after that colon, so that such a value (which runs to the end of its
     * line) does not swallow a later header: {@code curl https://x -H X-Api-Key:k}.
     *
     * @param m a matcher of {@link #HEADER} on {@code text}
     * @return whether there is one ({@code m} is then on it)
     */
    private static boolean findSecretHeader(Matcher m, String text, int from) {
        int at = from;
        while (at <= text.length() && m.find(at)) {
            if (isSecretHeader(m, text)) {
                return true;
            }
            at = m.end(1) + 1;
        }
        return false;
    }

    /**
     * Whether a {@link #HEADER} match's name looks secret and its value (which begins where the match ends, with
     * neither a blank nor a quote) is neither hidden yet nor shell code.
     */
    private static boolean isSecretHeader(Matcher m, String text) {
        return JsonSecrets.isSecretHeaderName(m.group(1)) && !text.startsWith(MASK, m.end())
                && !text.startsWith("$", m.end());
    }

    private static String trailingBlanks(String value) {
        return value.substring(value.stripTrailing().length());
    }

    /**
     * What credential {@code text} looks like it holds, for a warning: the first of the shapes
     * {@link #redactText} hides, or a {@code NAME=value} or header {@code NAME: value} whose NAME looks secret.
     *
     * @param text a command argument or a value as written
     * @return a short description ("an Authorization header"), or empty when it looks like none
     */
    public static Optional<String> credentialIn(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        for (Shape shape : SHAPES) {
            if (!shape.mayMatch(lower)) {
                continue;
            }
            Matcher m = shape.pattern().matcher(text);
            while (m.find()) {
                for (String group : GROUPS) {
                    int start = start(m, group);
                    if (start >= 0 && !text.startsWith("$", start)) {
                        return Optional.of(shape.what());
                    }
                }
            }
        }
        if (CommandCredentials.mayHoldProgram(text)) {
            // Each program found, in the order the text names them (tryout39 F4: the same three examples whatever
            // the program, sqlcmd's and ldapsearch's passwords in one script told apart by none).
            java.util.TreeMap<Integer, String> programs = new java.util.TreeMap<>();
            for (int k = 0; k < CommandCredentials.TEXT.size(); k++) {
                CommandCredentials.Matches c = CommandCredentials.matches(k, text);
                while (c.find()) {
                    if (!text.startsWith("$", c.matcher().start("s"))) {
                        int at = c.matcher().start();
                        programs.putIfAbsent(at, CommandCredentials.programAt(text, at));
                    }
                }
            }
            List<String> names = programs.values().stream().distinct().toList();
            if (!names.isEmpty()) {
                return Optional.of(names.size() == 1 ? "a password on the command line of " + names.get(0)
                        : "passwords on the command lines of " + String.join(", ", names.subList(0, names.size() - 1))
                        + " and " + names.get(names.size() - 1));
            }
        }
        String field = JsonSecrets.firstSecretField(text);
        if (field != null) {
            return Optional.of("a secret-named JSON member (\"" + field + "\": …)");
        }
        Matcher m = ASSIGNMENT.matcher(text);
        while (m.find()) {
            if (SecretNames.looksSecret(m.group(1)) && !m.group(2).startsWith("$")) {
                return Optional.of("a secret-named setting (" + m.group(1) + "=…)");
            }
        }
        Matcher j = JSON_MEMBER.matcher(text);
        while (j.find()) {
            if (isSecretMember(j)) {
                return Optional.of("a secret-named JSON member (\"" + JsonSecrets.decoded(j.group(1)) + "\": …)");
            }
        }
        Matcher h = HEADER.matcher(text);
        if (!findSecretHeader(h, text, 0)) {
            return Optional.empty();
        }
        // openssl's password argument (-passin pass:PASSWORD) has a header's shape, and was called one (tryout38 F7).
        return Optional.of(h.group(1).equals("pass") && text.startsWith("pass:", h.start(1))
                && !text.startsWith("pass: ", h.start(1)) ? OPENSSL_PASS
                : "a secret-named header (" + h.group(1) + ": …)");
    }

    /** What {@link #credentialIn} says of openssl's {@code pass:PASSWORD}. */
    static final String OPENSSL_PASS = "openssl's pass:PASSWORD argument, the password itself; openssl reads it from"
            + " a variable with env:NAME, as -passin env:P12_PASSWORD";

    /**
     * The first secret flag whose value {@code shellCode}, a text a shell reads as code, spells out
     * ({@code deploy --db-pass PASSWORD}), which {@link #redactArgv} hides there, for a warning.
     *
     * @return a short description ("the value of '--db-pass'"), or empty when there is none
     */
    public static Optional<String> secretFlagInShellCode(String shellCode) {
        Matcher m = SHELL_SECRET_FLAG.matcher(shellCode);
        while (m.find()) {
            // As short a value as --pass 1 (x264) cannot be masked in the log: not warned of (tryout38 F7).
            if (m.group("s").length() >= SHORTEST_MASKED_VALUE) {
                return Optional.of("the value of '" + m.group("flag") + "' in shell code");
            }
        }
        return Optional.empty();
    }

    /**
     * Whether {@code argument} is a flag whose next argument is a secret ({@code --password}, {@code --token},
     * {@code --api-key} …), which {@link #redactArgv} hides.
     */
    public static boolean isSecretFlag(String argument) {
        return SECRET_FLAG.matcher(argument).matches() && !NO_SECRET_FLAG.matcher(argument).matches();
    }

    /**
     * Whether an argument after a {@link #isSecretFlag secret flag} is another long flag, not that flag's value: a
     * boolean flag whose last word is {@code pass} ({@code HandBrakeCLI --two-pass --turbo}, {@code --multi-pass}) was
     * followed by {@code --turbo} shown as {@code ***} and masked in every line of the job's log (review39 F5). Only
     * {@code --}: a password given as its own argument may begin with one {@code -}, which getopt reads as the value.
     * And only a flag's usual name, lower-case words joined by {@code -} or {@code _}, with or without {@code =VALUE}:
     * a generated password that begins with {@code --} ({@code --password --Xk9pQ2vL}) was shown and printed in clear
     * (review40 F4).
     *
     * @param argument the argument after the flag; {@code null} is none
     * @return true when it is {@code --}, then a lower-case letter or digit, then lower-case letters, digits,
     *         {@code -} and {@code _}, then nothing or {@code =} and anything
     */
    public static boolean isLongFlag(String argument) {
        return argument != null && LONG_FLAG.matcher(argument).matches();
    }

    /** A long flag's usual name ({@link #isLongFlag}). */
    private static final Pattern LONG_FLAG = Pattern.compile("--[a-z0-9][a-z0-9_-]*+(?:=.*)?", Pattern.DOTALL);

    /** {@code text} with the groups s, s2, s3 of each match of {@code pattern} replaced by {@code ***}. */
    private static String maskGroups(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return maskGroups(m::find, () -> m, text);
    }

    /**
     * {@code text} with the groups s, s2, s3 of each match that {@code find} finds replaced: those of the matcher
     * {@code matcher} gives after it. The matches come in the text's order and do not overlap.
     */
    private static String maskGroups(java.util.function.BooleanSupplier find,
            java.util.function.Supplier<Matcher> matcher, String text) {
        StringBuilder b = new StringBuilder();
        int last = 0;
        while (find.getAsBoolean()) {
            Matcher m = matcher.get();
            for (String group : GROUPS) {
                int start = start(m, group);
                if (start >= 0 && !text.startsWith(MASK, start) && !text.startsWith("$", start)) {
                    b.append(text, last, start).append(MASK);
                    last = m.end(group);
                }
            }
        }
        return last == 0 ? text : b.append(text, last, text.length()).toString();
    }

    private static int start(Matcher m, String group) {
        try {
            return m.start(group);
        } catch (IllegalArgumentException noSuchGroup) {
            return -1;
        }
    }

    /**
     * A rule's canonical JSON (a job's {@code ruleSnapshot}, the status page's rules in force, a job's follow-ups)
     * with the values of secret-looking keys of every {@code env} mapping in it replaced by {@code ***} (the rule's
     * own {@code env} and those of its follow-ups, at any depth), the argument after a secret flag of every
     * {@code command}, and in every other text what {@link #redactText} hides, with the secret-named values of all
     * its {@code env} mappings. Text that is not JSON is returned as it is (a snapshot always is JSON).
     *
     * @param snapshot canonical JSON as {@code org.buildhook.runner.rules.Snapshot} writes it
     * @return the same JSON with such values masked, keys and order unchanged
     */
    public static String redactSnapshot(String snapshot) {
        if (snapshot == null || snapshot.isEmpty()) {
            return snapshot;
        }
        try {
            JsonNode tree = JSON.readTree(snapshot);
            Set<String> secrets = new TreeSet<>();
            collectSecrets(tree, secrets);
            JsonNode masked = mask(tree, secrets);
            return JSON.writeValueAsString(masked);
        } catch (JsonProcessingException e) {
            return snapshot;
        }
    }

    private static void collectSecrets(JsonNode node, Set<String> secrets) {
        node.fields().forEachRemaining(field -> {
            if (field.getKey().equals("env") && field.getValue().isObject()) {
                Map<String, String> env = new LinkedHashMap<>();
                field.getValue().fields().forEachRemaining(v -> env.put(v.getKey(), v.getValue().asText()));
                secrets.addAll(secretValues(env));
            } else {
                collectSecrets(field.getValue(), secrets);
            }
        });
        if (node.isArray()) {
            node.forEach(item -> collectSecrets(item, secrets));
        }
    }

    private static JsonNode mask(JsonNode node, Set<String> secrets) {
        if (node.isTextual()) {
            String shown = redactText(node.asText(), secrets);
            return shown.equals(node.asText()) ? node : TextNode.valueOf(shown);
        }
        if (node.isArray()) {
            ArrayNode array = (ArrayNode) node;
            List<String> texts = new ArrayList<>();
            array.forEach(item -> texts.add(item.isTextual() ? item.asText() : ""));
            boolean[] code = ShellCode.in(texts);
            int[] passwords = CommandCredentials.secretParts(texts);
            for (int i = 0; i < array.size(); i++) {
                boolean afterFlag = i > 0 && array.get(i - 1).isTextual() && isSecretFlag(array.get(i - 1).asText())
                        && !(array.get(i).isTextual() && isLongFlag(array.get(i).asText()));
                JsonNode item = array.get(i);
                if (afterFlag && item.isTextual()) {
                    array.set(i, TextNode.valueOf(MASK));
                } else if (item.isTextual()) {
                    // A command's password after a program's own flag, as redactArgv hides it (mask38: the rules in
                    // force and a job's ruleSnapshot showed redis-cli -a PASSWORD, and curl -u user:PASSWORD, in clear).
                    String shown = hidePassword(texts.get(i), redactText(item.asText(), secrets, code[i]), passwords[i]);
                    array.set(i, shown.equals(item.asText()) ? item : TextNode.valueOf(shown));
                } else {
                    array.set(i, mask(item, secrets));
                }
            }
            return array;
        }
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                JsonNode value = object.get(name);
                if (name.equals("env") && value.isObject()) {
                    ObjectNode env = (ObjectNode) value;
                    List<String> keys = new ArrayList<>();
                    env.fieldNames().forEachRemaining(keys::add);
                    for (String key : keys) {
                        env.set(key, SecretNames.looksSecret(key) ? TextNode.valueOf(MASK) : mask(env.get(key), secrets));
                    }
                } else {
                    object.set(name, mask(value, secrets));
                }
            }
        }
        return node;
    }

    /** The values of {@code env}'s secret-named variables, at least {@value #SHORTEST_MASKED_VALUE} characters long. */
    static Set<String> secretValues(Map<String, String> env) {
        // The values the job's log masks too (SecretNames.valuesIn), less a value that is the mask itself.
        Set<String> out = new TreeSet<>(SecretNames.valuesIn(env));
        out.remove(MASK);
        return out;
    }
}
