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
 * what {@code env -S} splits into a command, and the command {@code watch} (without {@code -x}) and {@code script -c}
 * give to a shell, the command GNU {@code parallel} gives to a shell (up to its {@code :::}), {@code expect -c}'s Tcl
 * code (tryout50 F6); each program's options that take a value are skipped by its table ({@link ProgramOptions}). The
 * interpreter is found behind a wrapper ({@code [timeout, 5m, python3, -c, …]}, {@code [env, python3, -c, …]}), as
 * {@link Lookalikes#readings} finds a shell. A payload value in such text would be run as code, as in shell code.
 */
final class InlineCode {

    /** node's options that take a value, also written as the next argument ({@code node --help}, node 20). */
    private static final Set<String> NODE_WITH_VALUE = Set.of("--require", "--import", "--input-type", "--title",
            "--env-file", "--env-file-if-exists", "--conditions", "--loader", "--experimental-loader",
            "--experimental-default-type", "--experimental-policy", "--policy-integrity", "--experimental-sea-config",
            "--allow-fs-read", "--allow-fs-write", "--build-snapshot-config", "--cpu-prof-dir", "--cpu-prof-interval",
            "--cpu-prof-name", "--diagnostic-dir", "--disable-proto", "--disable-warning", "--dns-result-order",
            "--heap-prof-dir", "--heap-prof-interval", "--heap-prof-name", "--heapsnapshot-near-heap-limit",
            "--heapsnapshot-signal", "--icu-data-dir", "--inspect-publish-uid", "--max-http-header-size",
            "--network-family-autoselection-attempt-timeout", "--openssl-config", "--redirect-warnings",
            "--report-dir", "--report-directory", "--report-filename", "--report-signal", "--secure-heap",
            "--secure-heap-min", "--snapshot-blob", "--test-concurrency", "--test-name-pattern", "--test-reporter",
            "--test-reporter-destination", "--test-shard", "--test-timeout", "--tls-cipher-list", "--tls-keylog",
            "--trace-event-categories", "--trace-event-file-pattern", "--trace-require-module",
            "--unhandled-rejections", "--use-largepages", "--v8-pool-size", "--watch-path", "--run",
            "--localstorage-file", "--experimental-config-file");
    /** watch's options that take a value ({@code watch(1)}, procps-ng): its {@code -x} runs the command without a shell. */
    private static final ProgramOptions WATCH = ProgramOptions.of("", Set.of(), "nq", Set.of("--interval",
            "--equexit"));

    /** node's (bun's, deno's) options: {@code -e}/{@code --eval}, {@code -p}/{@code --print} name the code. */
    private static final ProgramOptions NODE = ProgramOptions.of("ep", Set.of("--eval", "--print"), "rC",
            NODE_WITH_VALUE);

    /**
     * Interpreters whose option names the code in its value, each with the options that take another value (tryout42
     * F1: {@code python3 -W ignore -c}, {@code node -r MOD -e}, {@code perl -I DIR -e}, {@code env -u NAME -S}).
     */
    private static final List<Interpreter> BY_OPTION = List.of(
            new Interpreter(Pattern.compile("python[0-9.]*|pypy[0-9.]*"), VariableAdvice.PYTHON, ProgramOptions.of("c", Set.of(), "WXm",
                    Set.of("--check-hash-based-pycs")).endingAfter("m")),
            new Interpreter(Pattern.compile("perl[0-9.]*"), VariableAdvice.PERL, ProgramOptions.of("eE", Set.of(), "IMm", Set.of())),
            new Interpreter(Pattern.compile("ruby[0-9.]*"), VariableAdvice.RUBY, ProgramOptions.of("e", Set.of(), "ICEr", Set.of())),
            new Interpreter(Pattern.compile("node|nodejs|bun"), VariableAdvice.NODE, NODE),
            new Interpreter(Pattern.compile("deno"), VariableAdvice.DENO, NODE),
            new Interpreter(Pattern.compile("php[0-9.]*"), VariableAdvice.PHP, ProgramOptions.of("rRBE", Set.of("--run", "--process-code",
                    "--process-begin", "--process-end"), "cdfzSt", Set.of("--php-ini", "--define", "--file",
                    "--zend-extension"))),
            new Interpreter(Pattern.compile("lua[0-9.]*|luajit"), VariableAdvice.LUA, ProgramOptions.of("e", Set.of(), "l", Set.of())),
            new Interpreter(Pattern.compile("expect"), VariableAdvice.TCL, ProgramOptions.of("c", Set.of(), "Df",
                    Set.of())),
            new Interpreter(Pattern.compile("Rscript"), VariableAdvice.R, ProgramOptions.of("e", Set.of(), "", Set.of())),
            new Interpreter(Pattern.compile("env"), VariableAdvice.ENV_SPLIT, ProgramOptions.of("S", Set.of("--split-string"), "uC",
                    Set.of("--unset", "--chdir"))),
            new Interpreter(Pattern.compile("script"), VariableAdvice.SHELL, ProgramOptions.of("c", Set.of("--command"), "EIOBTmo",
                    Set.of("--echo", "--log-in", "--log-out", "--log-io", "--log-timing", "--logging-format",
                            "--output-limit")).permuted()));
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
     * @return for each element, the interpreter that runs it as program text ("python3's -c code") and how that code
     *         reads an environment variable, or empty
     */
    static List<Optional<Code>> in(List<String> argv) {
        @SuppressWarnings("unchecked")
        Optional<Code>[] code = new Optional[argv.size()];
        java.util.Arrays.fill(code, Optional.empty());
        for (int at = 0; at < argv.size(); at++) {
            String name = Lookalikes.name(argv.get(at));
            if (at > 0 && argv.get(at).startsWith("-")) {
                continue; // a wrapper's option, not a program
            }
            if (name.equals("watch")) {
                int command = WATCH.read(argv, at).operand();
                if (execs(argv, at, command)) {
                    // watch -x runs its command without a shell (tryout42 F14): a program and its arguments, read
                    // as any wrapper's.
                    at = command - 1;
                    continue;
                }
                // watch runs its command through sh -c: the command's words, joined, are shell code.
                for (int i = command; i < argv.size(); i++) {
                    code[i] = Optional.of(new Code("the code watch gives to sh -c", VariableAdvice.SHELL, at));
                }
                break;
            }
            if (name.equals("parallel")) {
                // GNU parallel joins its command's words and runs them through a shell, as watch does (tryout50 F6),
                // up to the first ::: (its arguments, which it quotes); its options' values are taken as code too.
                for (int i = at + 1; i < argv.size() && !argv.get(i).startsWith(":::"); i++) {
                    code[i] = Optional.of(new Code("the command parallel gives to a shell", VariableAdvice.SHELL, at));
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
            Optional<Code>[] code) {
        ProgramOptions.Found found = interpreter.options.read(argv, at);
        if (found.code() < 0) {
            return false; // a script file, or the wrapped program's own operand
        }
        code[found.code()] = Optional.of(new Code(name + "'s " + found.option() + " code", interpreter.advice, at));
        return true;
    }

    /** Whether watch's options before {@code command} hold {@code -x} / {@code --exec} (also in a cluster, -tx). */
    private static boolean execs(List<String> argv, int at, int command) {
        for (int i = at + 1; i < command && i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg.equals("--exec") || arg.startsWith("-") && !arg.startsWith("--") && exec(arg)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a cluster of watch's one-letter options holds x before a letter that takes the rest as its value. */
    private static boolean exec(String cluster) {
        for (int c = 1; c < cluster.length(); c++) {
            if (cluster.charAt(c) == 'x') {
                return true;
            }
            if (WATCH.value().contains(cluster.charAt(c))) {
                return false;
            }
        }
        return false;
    }

    private static void markAwkOrSed(List<String> argv, int at, String name, Optional<Code>[] code) {
        boolean sed = name.contains("sed");
        Code program = new Code(name + "'s program", sed ? VariableAdvice.SED : VariableAdvice.AWK, at);
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
                code[i + 1] = Optional.of(program);
                given = true;
            } else if (arg.startsWith("--source=") || arg.startsWith("--expression=")
                    || arg.startsWith("-e") && arg.length() > 2) {
                code[i] = Optional.of(program);
                given = true;
            } else if (arg.equals("-f") || arg.startsWith("--file")) {
                given = true;
            }
            if ((sed ? SED_WITH_VALUE : AWK_WITH_VALUE).contains(arg)) {
                i++;
            }
        }
        if (!given && i < argv.size()) {
            code[i] = Optional.of(program);
        }
    }

    private record Interpreter(Pattern name, VariableAdvice advice, ProgramOptions options) {
    }

    /**
     * Program text in one element of a command.
     *
     * @param where   which program runs it, as an error says it ("python3's -c code")
     * @param advice  how that code reads a placeholder's environment variable instead
     * @param program the element of that program in the command ({@link VariableAdvice#clause})
     */
    record Code(String where, VariableAdvice advice, int program) {
    }
}
