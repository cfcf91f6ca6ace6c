package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds, in a {@code command} argument or an {@code env} value, text that looks like a placeholder or a
 * shell variable written the wrong way: {@code $build.id}, {@code {build.id}}, {@code $(build.id)},
 * {@code $BUILDHOOK_BUILD_ID} (tryout30 F2). No shell runs a command, so each stays literal text and
 * the job gets it as written. Warnings, not mistakes: an argument may mean a literal {@code $}.
 */
final class Lookalikes {

    /** In order: skipped ($${ and whole placeholders), then $(…), $BUILDHOOK_…, $name.name, {name.name}. */
    private static final Pattern SHAPES = Pattern.compile("\\$\\$\\{|\\$\\{[^}]*}"
            + "|\\$\\(([^()\\p{Cc}\\p{Cf}]{0,200})\\)"
            + "|\\$(BUILDHOOK_[A-Za-z0-9_]*)"
            + "|\\$([A-Za-z][A-Za-z0-9_]*(?:\\.[A-Za-z][A-Za-z0-9_-]*)+)"
            + "|\\{\\s*([A-Za-z][A-Za-z0-9_]*(?:\\.[A-Za-z][A-Za-z0-9_-]*)+)\\s*}");
    /** Programs that read an argument as shell code (after {@code -c}), where $VAR and $(…) are meant. */
    private static final Set<String> SHELLS = Set.of("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash");

    private Lookalikes() {
    }

    /** Whether {@code program} (a command's first element) is a shell, by its file name. */
    static boolean isShell(String program) {
        return SHELLS.contains(program.substring(program.lastIndexOf('/') + 1));
    }

    /**
     * One warning per look-alike in {@code text}, each saying what it stays and what to write instead.
     *
     * @param shell whether the text is an argument of a shell ({@link #isShell}): there $VAR and $(…) are
     *              the shell's own, and a placeholder's value is better read from its variable
     */
    static List<String> in(String text, boolean shell) {
        List<String> out = new ArrayList<>();
        Matcher m = SHAPES.matcher(text);
        while (m.find()) {
            String written = m.group();
            if (m.group(1) != null && !shell) {
                String inside = m.group(1).trim();
                out.add("'" + written + "' stays that literal text: no shell runs the command, so nothing runs '$(…)'"
                        + placeholder(inside).map(p -> "; write ${" + p.placeholderName() + "}")
                                .orElse("; for a placeholder write ${name} (e.g. ${build.id}); compute anything else"
                                        + " in your script"));
            } else if (m.group(2) != null && !shell) {
                out.add("'" + written + "' stays that literal text: no shell expands it; "
                        + variable(m.group(2)).map(p -> "use ${" + p.placeholderName() + "} or read the variable in"
                                + " your script").orElse("read the variable in your script"));
            } else if (m.group(3) != null) {
                placeholder(m.group(3)).ifPresent(p -> out.add("'" + written + "' is not a placeholder: "
                        + (shell ? "the shell reads the variable '$" + m.group(3).substring(0, m.group(3).indexOf('.'))
                                + "' followed by '" + m.group(3).substring(m.group(3).indexOf('.')) + "'; write \"$"
                                + p.variable() + "\" (every job has it in its environment)"
                                : "a '$' not followed by '{' is just a '$' and no shell runs the command, so it stays"
                                + " that literal text; write ${" + p.placeholderName() + "}")));
            } else if (m.group(4) != null) {
                placeholder(m.group(4)).ifPresent(p -> out.add("'" + written + "' is not a placeholder (no '$' before"
                        + " its '{'), so it stays that literal text; write "
                        + (shell ? "\"$" + p.variable() + "\" (every job has it in its environment)"
                                : "${" + p.placeholderName() + "}")));
            }
        }
        return out;
    }

    /**
     * The placeholder {@code name} names or is a likely typo of, when its first part is one of theirs
     * ({@code build.}, {@code run.}, {@code job.}): {@code {a.b}} in other text is left alone.
     */
    private static Optional<Placeholder> placeholder(String name) {
        int dot = name.indexOf('.');
        if (dot < 0) {
            return Optional.empty();
        }
        String space = name.substring(0, dot + 1).toLowerCase(Locale.ROOT);
        if (Placeholder.names().stream().noneMatch(n -> n.startsWith(space))) {
            return Optional.empty();
        }
        return Suggestions.closest(name, Placeholder.names()).flatMap(Placeholder::byName);
    }

    /** The placeholder whose environment variable is {@code name} ({@code BUILDHOOK_BUILD_ID}: build.id). */
    static Optional<Placeholder> variable(String name) {
        for (Placeholder p : Placeholder.values()) {
            if (p.variable().equalsIgnoreCase(name)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
