package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One argv element or env value with its {@code ${…}} placeholders found at load time. Rendering
 * concatenates literal text and values into exactly one string: a value is never split, quoted,
 * or read again for placeholders, whatever characters it holds. {@code $${} writes a literal
 * {@code ${}.
 */
final class Template {

    /** An environment variable's usual spelling: upper case, digits and '_'. */
    private static final java.util.regex.Pattern ENV_NAME = java.util.regex.Pattern.compile("[A-Z_][A-Z0-9_]*");

    private final String written;
    private final List<Object> parts; // String literals and Placeholders, in order
    private final Set<Placeholder> used;

    private Template(String written, List<Object> parts, Set<Placeholder> used) {
        this.written = written;
        this.parts = List.copyOf(parts);
        this.used = used.isEmpty() ? Set.of() : Set.copyOf(used);
    }

    /** Parses {@code text}; each mistake is passed to {@code problems} and leaves it out. */
    static Template parse(String text, Consumer<String> problems) {
        List<Object> parts = new ArrayList<>();
        Set<Placeholder> used = EnumSet.noneOf(Placeholder.class);
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
                    return new Template(text, List.of(text), Set.of());
                }
                String name = text.substring(i + 2, close).trim();
                var placeholder = Placeholder.byName(name);
                if (placeholder.isEmpty() && ENV_NAME.matcher(name).matches()) {
                    // ${BUILDHOOK_BUILD_ID}, ${HOME}: a shell's variable, which nothing expands (tryout30 F2).
                    problems.accept("unknown placeholder '${" + name + "}': it is written like a shell variable, but"
                            + " no shell expands it; " + Lookalikes.variable(name)
                                    .map(p -> "use ${" + p.placeholderName() + "} or read the variable in your script")
                                    .orElse("read the variable in your script")
                            + "; placeholders: " + String.join(", ", sortedNames()));
                } else if (placeholder.isEmpty()) {
                    problems.accept("unknown placeholder '${" + name + "}'"
                            + Suggestions.didYouMean(name, Placeholder.names())
                            + "; known: " + String.join(", ", sortedNames()));
                } else {
                    if (literal.length() > 0) {
                        parts.add(literal.toString());
                        literal.setLength(0);
                    }
                    parts.add(placeholder.get());
                    used.add(placeholder.get());
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
        return new Template(text, parts, used);
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

    Set<Placeholder> placeholders() {
        return used;
    }

    String written() {
        return written;
    }

    private static List<String> sortedNames() {
        List<String> names = new ArrayList<>();
        for (Placeholder p : Placeholder.values()) {
            names.add("${" + p.placeholderName() + "}");
        }
        return names;
    }
}
