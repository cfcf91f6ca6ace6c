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
    /**
     * Programs that read an argument as shell code (after {@code -c}), where $VAR and $(…) are meant: the shells, listed
     * once (tryout42 F1: rbash, csh, tcsh, fish, ksh93 were missing).
     */
    private static final Set<String> SHELLS = Set.of("sh", "bash", "rbash", "dash", "zsh", "ksh", "ksh93", "mksh",
            "pdksh", "oksh", "loksh", "ash", "yash", "posh", "csh", "tcsh", "fish");

    /** Programs that give their arguments to a shell (ssh's remote command): their $VAR and $(…) may be meant. */
    private static final Set<String> REMOTE_SHELLS = Set.of("ssh");
    /**
     * Programs whose every argument may become shell code: tmux reads its arguments as its own commands, whose
     * shell-command (new-session, new-window, split-window, respawn-*, run-shell, if-shell, pipe-pane, display-popup)
     * it gives to {@code sh -c}, whose keys (send-keys) a pane's shell reads, and whose formats run {@code #(…)}
     * through a shell ({@code man tmux}).
     */
    private static final Set<String> SHELL_RUNNERS = Set.of("tmux");
    /**
     * Programs whose {@code -c CMD} (also in a cluster, {@code -lc}) / {@code --command CMD} / {@code
     * --session-command CMD} gives CMD to a shell, with their options that take a value ({@code su(1)},
     * {@code runuser(1)}; options may follow the user's name).
     */
    static final ProgramOptions SU = ProgramOptions.of("c", Set.of("--command", "--session-command"),
            "sgGwu", Set.of("--shell", "--group", "--supp-group", "--whitelist-environment", "--user")).permuted();
    /** flock's options before its file, then its {@code -c CMD} ({@code flock(1)}). */
    private static final ProgramOptions FLOCK = ProgramOptions.of("c", Set.of("--command"), "wE",
            Set.of("--timeout", "--conflict-exit-code"));

    private Lookalikes() {
    }

    /** Whether {@code program} is a shell, by its file name. */
    static boolean isShell(String program) {
        return SHELLS.contains(name(program));
    }

    /** {@code program}'s file name: what follows its last '/'. */
    static String name(String program) {
        return program.substring(program.lastIndexOf('/') + 1);
    }

    /**
     * How the program reads each element of a command (review30 L4): a shell reads only the argument its
     * {@code -c} names as code, so only there its own $VAR and $(…) are meant. The shell may come after a
     * wrapper ({@code env VAR=… bash -c …}, {@code timeout 5m sh -c …}, {@code flock /run/x.lock sh -c …}) and
     * take options before its {@code -c} ({@code bash -lc}, {@code bash -euo pipefail -c}); {@code su},
     * {@code runuser} and {@code flock} with {@code -c CMD} ({@code su -lc CMD}, {@code su --session-command CMD})
     * and {@code sg GROUP [-c] CMD} give CMD to a shell too, and tmux its arguments (tryout42 F1). The wrapper's own arguments
     * ({@code VAR=$build.id}) are {@link Reading#LITERAL}; the arguments after the code ({@code $0}, {@code $1} …)
     * and those of a script a shell runs ({@code bash deploy.sh '$(x)'}) are {@link Reading#SHELL_ARGUMENT}. A program that gives its arguments to a
     * remote shell (ssh), as the command's program or the one a known wrapper runs ({@code timeout 60 ssh …}, {@code
     * sudo -u deploy ssh …}; advice44 A4), has every argument taken as code: fewer warnings rather than false ones.
     *
     * @param argv the command's elements as written, the program first (an element that is not text as "")
     * @return one reading per element of {@code argv}, in order (the program's own is {@link Reading#LITERAL})
     */
    static List<Reading> readings(List<String> argv) {
        return scan(argv).readings();
    }

    /**
     * The program that runs a command's shell code ({@link Reading#SHELL_CODE}) and how that code reads a
     * placeholder's environment variable: a local shell has it, ssh's remote shell does not ({@link
     * VariableAdvice#SSH}), tmux's commands run in its server's environment ({@link VariableAdvice#TMUX}).
     *
     * @param argv the command's elements as written, the program first
     * @return the program's element and its entry; {@code -1} and {@link VariableAdvice#SHELL} when no shell code
     */
    static CodeReader shellCodeReader(List<String> argv) {
        return scan(argv).reader();
    }

    /**
     * The program that runs shell code.
     *
     * @param program its element in the command
     * @param advice  how its code reads a placeholder's variable
     */
    record CodeReader(int program, VariableAdvice advice) {
    }

    private record Scan(List<Reading> readings, CodeReader reader) {
    }

    private static Scan scan(List<String> argv) {
        Reading[] read = new Reading[argv.size()];
        java.util.Arrays.fill(read, Reading.LITERAL);
        List<Optional<String>> wrapped = WrappedPrograms.in(argv);
        for (int at = 0; at < argv.size(); at++) {
            String name = name(argv.get(at));
            if (at > 0 && argv.get(at).startsWith("-")) {
                continue; // a wrapper's option, not a program
            }
            if (REMOTE_SHELLS.contains(name) && (at == 0 || wrapped.get(at).isPresent())) {
                java.util.Arrays.fill(read, at + 1, read.length, Reading.SHELL_CODE);
                return new Scan(List.of(read), new CodeReader(at, VariableAdvice.SSH));
            }
            int code = switch (name) {
                case "su", "runuser" -> SU.read(argv, at).code();
                case "flock" -> FLOCK.read(argv, FLOCK.read(argv, at).operand()).code();
                case "sg" -> sgCommand(argv, at);
                default -> -1;
            };
            if (code > 0) {
                read[code] = Reading.SHELL_CODE;
                return new Scan(List.of(read), new CodeReader(at, VariableAdvice.SHELL));
            }
            if (SHELL_RUNNERS.contains(name)) {
                java.util.Arrays.fill(read, at + 1, read.length, Reading.SHELL_CODE);
                return new Scan(List.of(read), new CodeReader(at, VariableAdvice.TMUX));
            }
            if (isShell(argv.get(at))) {
                int operands = operands(argv, at + 1, name.equals("fish"));
                boolean dashC = operands < 0;
                int first = dashC ? -operands - 1 : operands;
                for (int i = first; i < argv.size(); i++) {
                    // With -c the first operand is the code, else the script: what follows is passed on.
                    read[i] = i == first ? (dashC ? Reading.SHELL_CODE : Reading.LITERAL) : Reading.SHELL_ARGUMENT;
                }
                return new Scan(List.of(read), new CodeReader(dashC ? at : -1, VariableAdvice.SHELL));
            }
        }
        return new Scan(List.of(read), new CodeReader(-1, VariableAdvice.SHELL));
    }

    /**
     * The command {@code sg [-] GROUP [-c] COMMAND} gives to {@code /bin/sh -c} ({@code sg(1)}), or -1.
     */
    private static int sgCommand(List<String> argv, int at) {
        int i = at + 1;
        if (i < argv.size() && argv.get(i).equals("-")) {
            i++;
        }
        i++; // the group
        if (i < argv.size() && argv.get(i).equals("-c")) {
            i++;
        }
        return i < argv.size() ? i : -1;
    }

    /**
     * The index of the shell's first operand after its options from {@code from} on; encoded as
     * {@code -index - 1} when the options hold {@code -c} (that operand is then the code, else a script file).
     */
    private static int operands(List<String> argv, int from, boolean fish) {
        boolean dashC = false;
        int i = from;
        while (i < argv.size()) {
            String arg = argv.get(i);
            if (arg.equals("--")) {
                i++;
                break;
            }
            if (arg.equals("--rcfile") || arg.equals("--init-file")) {
                i += 2;
                continue;
            }
            if (arg.startsWith("--")) {
                i++;
                continue;
            }
            if (arg.length() < 2 || arg.charAt(0) != '-' && arg.charAt(0) != '+') {
                break;
            }
            // A cluster of one-letter options (-lc, -euo pipefail): o and O take the next argument.
            dashC |= arg.charAt(0) == '-' && (arg.indexOf('c') > 0 || fish && arg.indexOf('C') > 0);
            // fish's d, p, f, D take one too (its getopt string, "+hPilNnvc:C:p:d:f:D:o:").
            i += arg.indexOf('o') > 0 || arg.indexOf('O') > 0 || fish && arg.matches("-.*[dpfD].*") ? 2 : 1;
        }
        return dashC ? -Math.min(i, argv.size()) - 1 : Math.min(i, argv.size());
    }

    /** How the program reads one element of a command: what a look-alike in it becomes. */
    enum Reading {
        /** Passed to the program as written; no shell reads it. */
        LITERAL("no shell runs the command"),
        /** Shell code (the argument of {@code -c}): its $VAR and $(…) are the shell's own. */
        SHELL_CODE("the shell reads it as code"),
        /** An argument a shell passes on to its script or code ($0, $1 …) as written, not read as code. */
        SHELL_ARGUMENT("the shell passes this argument on to the script as written, not as code");

        private final String why;

        Reading(String why) {
            this.why = why;
        }
    }

    /**
     * One warning per look-alike in {@code text}, each saying what it stays and what to write instead.
     *
     * @param reading how the program reads the text ({@link #readings}): in shell code $VAR and $(…) are the
     *                shell's own, and a placeholder's value is better read from its variable
     */
    static List<String> in(String text, Reading reading) {
        boolean shell = reading == Reading.SHELL_CODE;
        String why = reading.why;
        List<String> out = new ArrayList<>();
        Matcher m = SHAPES.matcher(text);
        while (m.find()) {
            String written = m.group();
            if (m.group(1) != null && !shell) {
                String inside = m.group(1).trim();
                out.add("'" + written + "' stays that literal text: " + why + ", so nothing runs '$(…)'"
                        + placeholder(inside).map(p -> "; write ${" + p.placeholderName() + "}")
                                .orElse("; for a placeholder write ${name} (e.g. ${build.id}); compute anything else"
                                        + " in your script"));
            } else if (m.group(2) != null && !shell) {
                out.add("'" + written + "' stays that literal text: "
                        + (reading == Reading.LITERAL ? "no shell expands it" : why) + "; "
                        + variable(m.group(2)).map(p -> "use ${" + p.placeholderName() + "} or read the variable in"
                                + " your script").orElse("read the variable in your script"));
            } else if (m.group(3) != null) {
                placeholder(m.group(3)).ifPresent(p -> out.add("'" + written + "' is not a placeholder: "
                        + (shell ? "the shell reads the variable '$" + m.group(3).substring(0, m.group(3).indexOf('.'))
                                + "' followed by '" + m.group(3).substring(m.group(3).indexOf('.')) + "'; write \"$"
                                + p.variable() + "\" (every job has it in its environment)"
                                : "a '$' not followed by '{' is just a '$' and " + why + ", so it stays"
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
