package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * One argv element or env value with its {@code ${…}} placeholders found at load time. Rendering
 * concatenates literal text and values into exactly one string: a value is never split, quoted,
 * or read again for placeholders, whatever characters it holds. {@code $${} writes a literal
 * {@code ${}.
 */
final class Template {

    /** An environment variable's usual spelling: upper case, digits and '_'. */
    private static final Pattern ENV_NAME = Pattern.compile("[A-Z_][A-Z0-9_]*");
    /** A shell variable's name, any case. */
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /**
     * What a POSIX shell (and bash) reads between {@code ${} and {@code }}: a parameter (a name, a position
     * {@code 1}, a special {@code @ * # ? $ ! - 0}), after {@code #} (its length) or {@code !} (bash's indirection),
     * with an index {@code [i]} and an operator and its word ({@code :-x}, {@code %.*}, {@code //a/b}, {@code ^^}).
     * A placeholder's name ({@code build.id}) is none: its '.' follows the name.
     */
    private static final Pattern SHELL_PARAMETER = Pattern.compile(
            "[#!]?(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!0-])(?:\\[[^\\]]*])?(?:[-:=?+%#/^,@].*)?", Pattern.DOTALL);

    /**
     * How a template's text is read once filled in, which decides what a {@code ${…}} in the shell's own syntax that
     * is no placeholder ({@code ${#VAR}}, {@code ${VAR:-x}}, {@code ${1}}) is told to become: {@code $${…}}, for the
     * shell's own expression in shell code, and for the text as written elsewhere.
     */
    enum Where {
        /** Shell code (a shell's {@code -c} argument, {@link Lookalikes#readings}). */
        SHELL_CODE("in shell code write $${ for the shell's own ${…}"),
        /** A command's argument that no shell reads as code. */
        ARGUMENT("no shell runs the command; to pass it on as written write $${ for its ${"),
        /** An argument a shell passes on to its script or code ({@code $1} …) as written. */
        SHELL_ARGUMENT("the shell passes this argument on to the script as written, not as code; to pass it on as"
                + " written write $${ for its ${"),
        /** An {@code env} value, which the job gets as written. */
        ENV_VALUE("no shell reads an env value; to pass it on as written write $${ for its ${"),
        /** A rule's {@code supersede} key. */
        SUPERSEDE_KEY("no shell reads a supersede key; to keep it as written write $${ for its ${");

        private final String escape;

        Where(String escape) {
            this.escape = escape;
        }

        /** Where a command's element so read is. */
        static Where of(Lookalikes.Reading reading) {
            return switch (reading) {
                case SHELL_CODE -> SHELL_CODE;
                case SHELL_ARGUMENT -> SHELL_ARGUMENT;
                case LITERAL -> ARGUMENT;
            };
        }
    }

    private final String written;
    private final List<Object> parts; // String literals and Placeholders, in order
    private final Set<Placeholder> used;
    private final Map<Placeholder, int[]> firstAt; // the offset and length of each one's first use in written

    private Template(String written, List<Object> parts, Set<Placeholder> used, Map<Placeholder, int[]> firstAt) {
        this.written = written;
        this.parts = List.copyOf(parts);
        this.used = used.isEmpty() ? Set.of() : Set.copyOf(used);
        this.firstAt = firstAt.isEmpty() ? Map.of() : Map.copyOf(firstAt);
    }

    /**
     * Parses {@code text}; each mistake is passed to {@code problems} and leaves it out.
     *
     * @param where how the text is read once filled in: what a {@code ${…}} that is no placeholder is told to become
     */
    static Template parse(String text, Where where, Consumer<String> problems) {
        List<Object> parts = new ArrayList<>();
        Set<Placeholder> used = EnumSet.noneOf(Placeholder.class);
        Map<Placeholder, int[]> firstAt = new EnumMap<>(Placeholder.class);
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("$${", i)) {
                literal.append("${");
                i += 3;
            } else if (text.startsWith("${", i)) {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    problems.accept("unterminated placeholder in '" + text + "': '${' without '}' (write $${ for a literal ${)");
                    return new Template(text, List.of(text), Set.of(), Map.of());
                }
                String name = text.substring(i + 2, close).trim();
                var placeholder = Placeholder.byName(name);
                if (placeholder.isPresent()) {
                    if (literal.length() > 0) {
                        parts.add(literal.toString());
                        literal.setLength(0);
                    }
                    parts.add(placeholder.get());
                    used.add(placeholder.get());
                    firstAt.putIfAbsent(placeholder.get(), new int[] {i, close + 1 - i});
                } else if (SHELL_PARAMETER.matcher(name).matches()
                        && (where == Where.SHELL_CODE || !IDENTIFIER.matcher(name).matches())) {
                    // ${#VAR}, ${VAR:-x}, ${1}: the shell's own syntax, which buildhook reads first (tryout40 F3).
                    close = shellExpressionEnd(text, i, close);
                    String written = text.substring(i, close + 1);
                    problems.accept("unknown placeholder '" + written + "'"
                            + (ENV_NAME.matcher(name).matches() ? "" : Suggestions.didYouMean(name, Placeholder.names()))
                            + ": " + where.escape + " (docs/rules.md#placeholders): " + escaped(written)
                            + "; known: " + String.join(", ", sortedNames()));
                } else if (ENV_NAME.matcher(name).matches()) {
                    // ${BUILDHOOK_BUILD_ID}, ${HOME}: a shell's variable, which nothing expands (tryout30 F2).
                    problems.accept("unknown placeholder '${" + name + "}': it is written like a shell variable, but"
                            + " no shell expands it; " + Lookalikes.variable(name)
                                    .map(p -> "use ${" + p.placeholderName() + "} or read the variable in your script")
                                    .orElse("read the variable in your script")
                            + "; placeholders: " + String.join(", ", sortedNames()));
                } else {
                    problems.accept("unknown placeholder '${" + name + "}'"
                            + Suggestions.didYouMean(name, Placeholder.names())
                            + "; known: " + String.join(", ", sortedNames()));
                }
                i = close + 1;
            } else {
                literal.append(text.charAt(i));
                i++;
            }
        }
        if (literal.length() > 0 || parts.isEmpty()) {
            parts.add(literal.toString());
        }
        return new Template(text, parts, used, firstAt);
    }

    /**
     * Where the shell's expression that begins with the {@code ${} at {@code start} ends: at the '}' that closes it,
     * past the ones of the expressions inside it ({@code ${A:-${B}}}); {@code close} (the first '}') when none does.
     */
    private static int shellExpressionEnd(String text, int start, int close) {
        int depth = 0;
        for (int i = start; i < text.length(); i++) {
            if (text.startsWith("${", i)) {
                depth++;
                i++;
            } else if (text.charAt(i) == '}' && --depth == 0) {
                return i;
            }
        }
        return close;
    }

    /** {@code written} with each {@code ${} that begins no placeholder written {@code $${}: as the text to write. */
    private static String escaped(String written) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < written.length(); i++) {
            if (written.startsWith("$${", i)) {
                out.append("$${");
                i += 2;
            } else if (written.startsWith("${", i) && !startsPlaceholder(written, i)) {
                out.append("$${");
                i++;
            } else {
                out.append(written.charAt(i));
            }
        }
        return out.toString();
    }

    private static boolean startsPlaceholder(String text, int at) {
        int close = text.indexOf('}', at + 2);
        return close > 0 && Placeholder.byName(text.substring(at + 2, close).trim()).isPresent();
    }

    String render(JobSubject subject) {
        if (parts.size() == 1 && parts.get(0) instanceof String) {
            return (String) parts.get(0);
        }
        StringBuilder out = new StringBuilder();
        for (Object part : parts) {
            out.append(part instanceof Placeholder ? ((Placeholder) part).valueFor(subject) : (String) part);
        }
        return out.toString();
    }

    /**
     * As {@link #render}, but each payload-text value {@link PayloadValues#problems} refuses is left as its placeholder
     * as written ({@code ${build.trigger}}): what a refused job keeps, so that a re-run never runs the value.
     */
    String renderChecked(JobSubject subject) {
        String[] problems = PayloadValues.problems(this, subject);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            if (parts.get(i) instanceof Placeholder p) {
                out.append(problems[i] != null ? "${" + p.placeholderName() + "}" : p.valueFor(subject));
            } else {
                out.append((String) parts.get(i));
            }
        }
        return out.toString();
    }

    /** The literal texts ({@code String}) and {@link Placeholder}s, in order. */
    List<Object> parts() {
        return parts;
    }

    Set<Placeholder> placeholders() {
        return used;
    }

    String written() {
        return written;
    }

    /**
     * Where {@code p} is first written in {@link #written()}: the offset of its {@code $} and its length up to and
     * with its {@code }}, for the line and column of a mistake ({@link YamlNode.Scalar#locationOf}); null when the
     * template does not use it.
     */
    int[] firstUse(Placeholder p) {
        int[] at = firstAt.get(p);
        return at == null ? null : at.clone();
    }

    private static List<String> sortedNames() {
        List<String> names = new ArrayList<>();
        for (Placeholder p : Placeholder.values()) {
            names.add("${" + p.placeholderName() + "}");
        }
        return names;
    }
}
