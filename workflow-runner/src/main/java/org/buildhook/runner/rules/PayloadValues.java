package org.buildhook.runner.rules;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.buildhook.core.LogSafe;

/**
 * The check of the build's own text where a rule writes it into a job's command or environment (tryout42 F2, F3): a
 * value of a {@linkplain Placeholder#isPayloadText payload-text placeholder} in a {@code command} argument or an
 * {@code env} value is refused, and its job not started, when a program could read it as more than a name: a path
 * that climbs ({@code ../../dev/stdin} as the script bash runs), an option ({@code --upload-pack=…} to git), or code
 * (a quote, {@code $(…)}, {@code ;} for psql's SQL, make's {@code $(shell …)}, the shell git starts for {@code
 * GIT_SSH_COMMAND}). No list of programs is complete; the values are, so the rule is on the value:
 * <ul>
 *   <li>only Unicode letters, combining marks and digits, and {@code . _ - + / = ~}; a URL placeholder's
 *       value ({@code build.url}, {@code build.web_url}, {@code run.url}, {@code run.log_url}) also {@code : ? # &};</li>
 *   <li>a {@linkplain Placeholder#isName name}'s value ({@code build.trigger}, {@code run.name} …) no {@code /}
 *       (tryout44 F5: {@code https://${build.trigger}.ota.example.com/} with {@code attacker.example/x} chose the
 *       host); {@code build.project} ({@code factory/project}) and the URLs keep theirs;</li>
 *   <li>no {@code ..} path segment;</li>
 *   <li>a value that begins its argument or env value does not begin with {@code -}.</li>
 * </ul>
 * An empty value (an absent optional field) passes, except where it ends a folder path: written after a {@code /}
 * with nothing but {@code /} after it, a value needs a letter or digit (tryout43 F7; tryout44 F1). A rule that writes {@code payload-values: as-sent} under its
 * {@code run} (or a follow-up's action) is not checked. The {@code BUILDHOOK_*} variables always carry the values as
 * sent: no template writes them, and a script must treat them as untrusted (docs/rules.md#placeholders).
 */
public final class PayloadValues {

    /** The key of the opt-out under {@code run} (and a follow-up's action). */
    static final String KEY = "payload-values";
    /** Its default: every value checked. */
    static final String CHECKED = "checked";
    /** Its opt-out: the values written as sent. */
    static final String AS_SENT = "as-sent";

    /**
     * Besides letters, marks and digits. Not {@code @}: curl reads a file for {@code -d @FILE}, {@code -F name=@FILE}
     * and {@code --data-urlencode name@FILE} (its man page, "-d, --data"), javac, gcc and others an {@code @FILE} of
     * arguments (tryout43 F5: a trigger {@code @/path} uploaded the admin token). Not {@code :} in a name: rsync and
     * scp read {@code host:path} as another host's. Not {@code ,}: many programs split an option's value on it (gcc's
     * {@code -Wl,}, {@code -Wa,}, {@code -Wp,}, helm's {@code --set}, QEMU's {@code -drive}, {@code mount -o}), so
     * {@code -Wl,-rpath,/opt/fleet/${build.trigger}/lib} with a trigger {@code stable,-rpath,/tmp} gave the linker an
     * option of the sender's (tryout44 F2); JobServ's names hold none. Not {@code %}: a server that decodes a URL's
     * path before it routes it reads {@code %2e%2e/} as {@code ../} (tryout44 F3), so the '..' rule would not hold for
     * the form the server reads; JobServ's names and URLs hold none.
     */
    private static final String ALLOWED = "._-+/=~";
    /** A URL's own: its scheme's and port's {@code :}, a query's and a fragment's. */
    private static final String URL_ALLOWED = ":?#&";

    private PayloadValues() {
    }

    /**
     * What is wrong with {@code value} as a value of {@code placeholder} written into a command or an environment
     * value, or empty when nothing is: the plain rule, with the value shown escaped ({@link LogSafe}).
     *
     * @param beginsArgument whether the value begins a command argument or an env value (the whole of it, or nothing
     *                       is written before it), where a leading {@code -} reads as an option (tryout44 F11: a
     *                       script's {@code git fetch origin "$REF"} with {@code REF} {@code --upload-pack=…})
     */
    static Optional<String> problem(Placeholder placeholder, String value, boolean beginsArgument) {
        return problem(placeholder, value, beginsArgument, false);
    }

    /**
     * {@link #problem(Placeholder, String, boolean)}, where {@code endsAFolder} says that the text written before the
     * value ends with {@code /} and nothing but {@code /} follows it in its argument or env value: there a value
     * without a letter or digit (empty, {@code /}, {@code .}, {@code ./}) names that folder itself (tryout43 F7:
     * {@code [rm, -rf, "/srv/builds/${build.trigger}"]} with a trigger {@code /}, or none, removed every build). Where
     * the text goes on ({@code …/${build.trigger}/${build.id}}), an empty value leaves {@code //}, which names the
     * same folder as {@code /}: a promoted build has no trigger (tryout44 F1).
     */
    static Optional<String> problem(Placeholder placeholder, String value, boolean beginsArgument, boolean endsAFolder) {
        if (endsAFolder && value.codePoints().noneMatch(Character::isLetterOrDigit)) {
            return Optional.of(value.isEmpty()
                    ? "it is empty (the build has none), and written after a '/' it names the folder before it"
                    : "it has no letter or digit, and written after a '/' it names the folder before it (or its"
                            + " parent)");
        }
        if (value.isEmpty()) {
            return Optional.empty();
        }
        boolean url = isUrl(placeholder);
        for (int i = 0; i < value.length(); ) {
            int c = value.codePointAt(i);
            if (!allowed(c, url)) {
                return Optional.of("it holds " + describe(c) + " at character " + (value.codePointCount(0, i) + 1));
            }
            i += Character.charCount(c);
        }
        if (value.equals("..") || value.startsWith("../") || value.contains("/../") || value.endsWith("/..")) {
            return Optional.of("it holds a '..' path segment, which climbs out of the folder it is written into");
        }
        if (beginsArgument && value.startsWith("-")) {
            return Optional.of("it begins with '-' and begins its argument or env value, where a program (or the"
                    + " program a script hands the env value to) reads it as an option");
        }
        if (beginsArgument && value.startsWith("+")) {
            return Optional.of("it begins with '+' and begins its argument or env value, where a program reads it"
                    + " as a switch or a forced refspec (git push origin +main overwrites the branch; date, tail and"
                    + " set read a leading '+' too)");
        }
        int slash = value.indexOf('/');
        if (slash >= 0 && placeholder.isName()) {
            return Optional.of("it holds '/' at character " + (value.codePointCount(0, slash) + 1) + ", which a"
                    + " name holds none of (only ${build.project} and the URLs do): written into a URL's host"
                    + " (https://${" + placeholder.placeholderName() + "}.example.com/) it would end the host where"
                    + " the sender chose");
        }
        return Optional.empty();
    }

    private static boolean isUrl(Placeholder p) {
        return p == Placeholder.BUILD_URL || p == Placeholder.BUILD_WEB_URL || p == Placeholder.RUN_URL
                || p == Placeholder.RUN_LOG_URL;
    }

    private static boolean allowed(int c, boolean url) {
        if (Character.isLetterOrDigit(c)) {
            return true;
        }
        int type = Character.getType(c);
        if (type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK) {
            return true;
        }
        return c < 0x80 && (ALLOWED.indexOf(c) >= 0 || (url && URL_ALLOWED.indexOf(c) >= 0));
    }

    private static String describe(int c) {
        if (c == ' ') {
            return "a space";
        }
        String shown = LogSafe.escape(new String(Character.toChars(c)));
        return "'" + shown + "'" + (shown.startsWith("\\") ? "" : " (U+" + String.format("%04X", c) + ")");
    }

    /**
     * The refusal of the job {@code action} plans for {@code subject}: the first value written into its {@code command}
     * (in argument order) or {@code env} (in the order written) that {@link #problem} refuses, or empty when none is or
     * the action writes its values as sent.
     */
    static Optional<Refusal> check(Action action, JobSubject subject) {
        if (action.valuesAsSent()) {
            return Optional.empty();
        }
        List<Template> command = action.command();
        for (int i = 1; i < command.size(); i++) {
            Optional<Refusal> r = check(command.get(i), subject, "argument " + i + " of 'command'");
            if (r.isPresent()) {
                return r;
            }
        }
        for (Map.Entry<String, Template> e : action.env().entrySet()) {
            Optional<Refusal> r = check(e.getValue(), subject, "env " + e.getKey());
            if (r.isPresent()) {
                return r;
            }
        }
        return Optional.empty();
    }

    /**
     * Whether a command's arguments (not its program, element 0) or its env values write a payload-text placeholder:
     * what {@link #check(Action, JobSubject)} looks at.
     */
    static boolean writesPayloadText(List<Template> command, java.util.Collection<Template> env) {
        return command.stream().skip(1).anyMatch(PayloadValues::writesPayloadText)
                || env.stream().anyMatch(PayloadValues::writesPayloadText);
    }

    /** Whether {@code template} writes a payload-text placeholder. */
    static boolean writesPayloadText(Template template) {
        return template.placeholders().stream().anyMatch(Placeholder::isPayloadText);
    }

    private static Optional<Refusal> check(Template template, JobSubject subject, String where) {
        if (!writesPayloadText(template)) {
            return Optional.empty();
        }
        String[] problems = problems(template, subject);
        List<Object> parts = template.parts();
        for (int i = 0; i < parts.size(); i++) {
            if (problems[i] != null) {
                Placeholder p = (Placeholder) parts.get(i);
                return Optional.of(new Refusal(p, where, p.valueFor(subject), problems[i]));
            }
        }
        return Optional.empty();
    }

    /**
     * What {@link #problem} finds wrong with each value {@code template} (a command argument or an env value) writes
     * for {@code subject}, by index of {@link Template#parts()}: null for a literal text, a value that is not the
     * build's own text, and a value that passes. A value begins its argument or env value where nothing is written
     * before it, and ends a folder where a {@code /} is written before it and nothing but {@code /} after it.
     */
    static String[] problems(Template template, JobSubject subject) {
        List<Object> parts = template.parts();
        String[] written = new String[parts.size()];
        for (int i = 0; i < written.length; i++) {
            written[i] = parts.get(i) instanceof Placeholder p ? p.valueFor(subject) : (String) parts.get(i);
        }
        String[] problems = new String[written.length];
        StringBuilder before = new StringBuilder();
        for (int i = 0; i < written.length; i++) {
            if (parts.get(i) instanceof Placeholder p && p.isPayloadText()) {
                boolean afterSlash = before.length() > 0 && before.charAt(before.length() - 1) == '/';
                problems[i] = problem(p, written[i], before.length() == 0,
                        afterSlash && onlySlashesAfter(written, i)).orElse(null);
            }
            before.append(written[i]);
        }
        return problems;
    }

    private static boolean onlySlashesAfter(String[] written, int index) {
        for (int i = index + 1; i < written.length; i++) {
            if (!written[i].chars().allMatch(c -> c == '/')) {
                return false;
            }
        }
        return true;
    }

    /**
     * One refused value.
     *
     * @param where {@code argument N of 'command'} (N from 1, the program being 0) or {@code env NAME}
     * @param value the value as sent
     * @param why   what is wrong with it ({@link #problem})
     */
    record Refusal(Placeholder placeholder, String where, String value, String why) {

        /** What the job's record and the server's log say: which rule, placeholder, where, why, and what to do. */
        String message(String rule) {
            return "not started: " + why(rule);
        }

        /** {@link #message} without its {@code not started: }, for a caller that says what the refusal stops. */
        String why(String rule) {
            return "rule '" + rule + "' writes ${" + placeholder.placeholderName() + "} into " + where
                    + ", and its value \"" + LogSafe.of(value) + "\" is refused: " + why + " (docs/rules.md#placeholders)."
                    + " A value written into a command or an env value may hold only letters, digits and"
                    + " . _ - + " + (placeholder.isName() ? "= ~ (no '/' in a name)" : "/ = ~")
                    + (isUrl(placeholder) ? " : ? # &" : "") + ", no '..' segment, no"
                    + " leading '-' or '+' where it begins an argument or an env value, and, written after a '/' with"
                    + " nothing but '/' after it in its argument or env value, a letter or digit (not empty)."
                    + " To take such values, read $"
                    + placeholder.variable()
                    + " in a script of yours that treats it as data, or, if this rule's values legitimately hold such"
                    + " characters and its program reads them only as data, write payload-values: as-sent under its"
                    + " run";
        }
    }
}
