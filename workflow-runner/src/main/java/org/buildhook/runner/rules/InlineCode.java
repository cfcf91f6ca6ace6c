package org.buildhook.runner.rules;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which element of a command another interpreter than a shell runs as its program text (tryout41 F4): {@code python3
 * -c CODE}, {@code perl -e CODE} (also in a cluster, {@code -ne}), {@code ruby -e}, {@code node -e}/{@code --eval}/{@code
 * -p}/{@code --print}, {@code php -r}, {@code lua -e}, {@code Rscript -e}, the program of {@code awk} and {@code sed}
 * (their first operand, or {@code -e}/{@code --source}/{@code --expression}; GNU sed's {@code e} command runs a shell),
 * what {@code env -S} splits into a command, and the command {@code watch} and {@code script -c} give to a shell. The
 * interpreter is found behind a wrapper ({@code [timeout, 5m, python3, -c, …]}, {@code [env, python3, -c, …]}), as
 * {@link Lookalikes#readings} finds a shell. A payload value in such text would be run as code, as in shell code.
 */
final class InlineCode {

    /** Interpreters whose option (one of the set) names the code in the next argument (or the rest of its own). */
    private static final List<Interpreter> BY_OPTION = List.of(
            new Interpreter(Pattern.compile("python[0-9.]*|pypy[0-9.]*"), Set.of("c"), Set.of()),
            new Interpreter(Pattern.compile("perl[0-9.]*"), Set.of("e", "E"), Set.of()),
            new Interpreter(Pattern.compile("ruby[0-9.]*"), Set.of("e"), Set.of()),
            new Interpreter(Pattern.compile("node|nodejs|bun|deno"), Set.of("e", "p"), Set.of("--eval", "--print")),
            new Interpreter(Pattern.compile("php[0-9.]*"), Set.of("r"), Set.of("--run")),
            new Interpreter(Pattern.compile("lua[0-9.]*|luajit"), Set.of("e"), Set.of()),
            new Interpreter(Pattern.compile("Rscript"), Set.of("e"), Set.of()),
            new Interpreter(Pattern.compile("env"), Set.of("S"), Set.of("--split-string")),
            new Interpreter(Pattern.compile("script"), Set.of("c"), Set.of("--command")));
    /** Programs whose program text is their first operand unless an option gives it ({@code -f FILE} a file). */
    private static final Pattern FIRST_OPERAND = Pattern.compile("g?awk|mawk|nawk|busybox-awk|sed|gsed");
    /** awk's options that take the next argument. */
    private static final Set<String> AWK_WITH_VALUE = Set.of("-F", "-v", "-f", "-e", "-i", "-l", "-E", "--source",
            "--file", "--include", "--load", "--assign", "--field-separator");
    /** sed's options that take the next argument ({@code -i}'s suffix is glued to it). */
    private static final Set<String> SED_WITH_VALUE = Set.of("-e", "-f", "-l", "--expression", "--file",
            "--line-length");

    private InlineCode() {
    }

    /**
     * @param argv the command's elements, the program first (an element that is not text as "")
     * @return for each element, the interpreter that runs it as program text ("python3's -c code"), or empty
     */
    static List<Optional<String>> in(List<String> argv) {
        @SuppressWarnings("unchecked")
        Optional<String>[] code = new Optional[argv.size()];
        java.util.Arrays.fill(code, Optional.empty());
        for (int at = 0; at < argv.size(); at++) {
            String name = Lookalikes.name(argv.get(at));
            if (at > 0 && argv.get(at).startsWith("-")) {
                continue; // a wrapper's option, not a program
            }
            if (name.equals("watch")) {
                // watch runs its command through sh -c: the command's words, joined, are shell code.
                for (int i = operand(argv, at + 1, Set.of("-n", "--interval", "-d", "-g", "-q", "-c")); i < argv.size();
                        i++) {
                    code[i] = Optional.of("the code watch gives to sh -c");
                }
                break;
            }
            if (FIRST_OPERAND.matcher(name).matches()) {
                markAwkOrSed(argv, at, name, code);
                break;
            }
            Interpreter found = null;
            for (Interpreter interpreter : BY_OPTION) {
                if (interpreter.name.matcher(name).matches()) {
                    found = interpreter;
                }
            }
            if (found != null && markByOption(argv, at, name, found, code) || Lookalikes.isShell(argv.get(at))) {
                break; // a shell's own code is Lookalikes'
            }
        }
        return List.of(code);
    }

    private static boolean markByOption(List<String> argv, int at, String name, Interpreter interpreter,
            Optional<String>[] code) {
        for (int i = at + 1; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg.equals("--") || !arg.startsWith("-")) {
                return false; // a script file, or the wrapped program's own operand
            }
            for (String option : interpreter.longOptions) {
                if (arg.equals(option) && i + 1 < argv.size()) {
                    code[i + 1] = Optional.of(name + "'s " + option + " code");
                    return true;
                } else if (arg.startsWith(option + "=")) {
                    code[i] = Optional.of(name + "'s " + option + " code");
                    return true;
                }
            }
            if (!arg.startsWith("--")) {
                // A cluster of one-letter options: the first letter that names the code takes the rest, or the next.
                for (int c = 1; c < arg.length(); c++) {
                    String letter = arg.substring(c, c + 1);
                    if (interpreter.letters.contains(letter)) {
                        if (c + 1 < arg.length()) {
                            code[i] = Optional.of(name + "'s -" + letter + " code");
                        } else if (i + 1 < argv.size()) {
                            code[i + 1] = Optional.of(name + "'s -" + letter + " code");
                        }
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void markAwkOrSed(List<String> argv, int at, String name, Optional<String>[] code) {
        boolean given = false;
        int i = at + 1;
        for (; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg.equals("--")) {
                i++;
                break;
            }
            if (!arg.startsWith("-") || arg.equals("-")) {
                break;
            }
            if ((arg.equals("-e") || arg.equals("--source") || arg.equals("--expression")) && i + 1 < argv.size()) {
                code[i + 1] = Optional.of(name + "'s program");
                given = true;
            } else if (arg.startsWith("--source=") || arg.startsWith("--expression=")
                    || arg.startsWith("-e") && arg.length() > 2) {
                code[i] = Optional.of(name + "'s program");
                given = true;
            } else if (arg.equals("-f") || arg.startsWith("--file")) {
                given = true;
            }
            if ((name.contains("sed") ? SED_WITH_VALUE : AWK_WITH_VALUE).contains(arg)) {
                i++;
            }
        }
        if (!given && i < argv.size()) {
            code[i] = Optional.of(name + "'s program");
        }
    }

    /** The index of the first operand after the options from {@code from} on; {@code withValue} take the next. */
    private static int operand(List<String> argv, int from, Set<String> withValue) {
        int i = from;
        while (i < argv.size() && argv.get(i).startsWith("-")) {
            if (argv.get(i).equals("--")) {
                return i + 1;
            }
            i += withValue.contains(argv.get(i)) ? 2 : 1;
        }
        return i;
    }

    private record Interpreter(Pattern name, Set<String> letters, Set<String> longOptions) {
    }
}
