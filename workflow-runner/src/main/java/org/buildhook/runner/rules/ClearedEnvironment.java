package org.buildhook.runner.rules;

import java.util.List;
import java.util.Set;

/**
 * Whether a program on the way from the job to the code it runs leaves out the job's variable ({@code
 * BUILDHOOK_TRIGGER}), read from its command line alone (advice44 A2): then code told to read that variable finds it
 * empty. Each test is one entry's of {@link VariableAdvice} (su and runuser with {@code -l}, sudo, env {@code -i},
 * doas, machinectl shell, systemd-run), by the program's manual: {@code su(1)}, {@code runuser(1)} (util-linux),
 * {@code sudo(8)}, {@code sudoers(5)}, {@code env(1)}, {@code doas(1)}, {@code machinectl(1)}, {@code
 * systemd-run(1)}. What a configuration file keeps (sudoers' {@code env_keep}, doas.conf's {@code setenv}) cannot be
 * read here: the advice says to set it.
 */
final class ClearedEnvironment {

    /** machinectl's options that take a value ({@code machinectl(1)}); it reads options up to the machine's name. */
    private static final ProgramOptions MACHINECTL = ProgramOptions.of("", Set.of(), "pPsHMnoE", Set.of("--property",
            "--signal", "--kill-whom", "--kill-who", "--uid", "--setenv", "--host", "--machine", "--lines", "--output",
            "--verify", "--format", "--max-addresses"));

    private ClearedEnvironment() {
    }

    /** One entry's test: whether the program at {@code at} leaves {@code variable} out of what it runs. */
    @FunctionalInterface
    interface Test {
        /**
         * @param argv     the command's elements, the program first
         * @param at       the program's element
         * @param end      where its own options end at the latest (the program it runs, or the code)
         * @param variable the placeholder's variable, {@code BUILDHOOK_TRIGGER}
         */
        boolean leavesOut(List<String> argv, int at, int end, String variable);
    }

    /**
     * su and runuser as a login ({@code -l}, {@code --login}, or {@code -} as the first operand) clear the environment
     * but for TERM and the names {@code -w}/{@code --whitelist-environment} lists; {@code -m} is ignored then. Both
     * read options past their operands ({@code su deploy -l -c …}).
     */
    static boolean login(List<String> argv, int at, int end, String variable) {
        boolean login = false;
        boolean kept = false;
        boolean first = true;
        for (ProgramOptions.Given given : Lookalikes.SU.given(argv, at, argv.size())) {
            if (given.option() == null) {
                login |= first && given.value().equals("-");
                first = false;
            }
            login |= given.is("-l", "--login");
            kept |= given.is("-w", "--whitelist-environment") && given.names(variable);
        }
        return login && !kept;
    }

    /**
     * sudo resets the environment (sudoers' {@code env_reset}, its default) unless {@code -E}, {@code --preserve-env}
     * or {@code --preserve-env=NAME,…} keeps it, or a {@code NAME=value} before the program sets it; {@code -i}
     * ({@code --login}) removes it whatever else is given.
     */
    static boolean sudo(List<String> argv, int at, int end, String variable) {
        ProgramOptions options = WrappedPrograms.options("sudo");
        boolean kept = false;
        for (ProgramOptions.Given given : options.given(argv, at, end)) {
            if (given.is("-i", "--login")) {
                return true;
            }
            kept |= given.is("-E", "--preserve-env") && (given.value() == null || given.names(variable));
        }
        return !kept && !assigned(argv, options.read(argv, at).operand(), end, variable);
    }

    /** env with {@code -i} ({@code --ignore-environment}, or {@code -} as the first operand) unless it sets it. */
    static boolean env(List<String> argv, int at, int end, String variable) {
        ProgramOptions options = WrappedPrograms.options("env");
        boolean cleared = options.given(argv, at, end).stream().anyMatch(g -> g.is("-i", "--ignore-environment"));
        int operand = options.read(argv, at).operand();
        if (operand < argv.size() && argv.get(operand).equals("-")) {
            cleared = true;
            operand++;
        }
        return cleared && !assigned(argv, operand, end, variable);
    }

    /** doas makes a new environment; only doas.conf's {@code keepenv} or {@code setenv} keeps a variable. */
    static boolean doas(List<String> argv, int at, int end, String variable) {
        return true;
    }

    /**
     * systemd-run runs the command as a service, in the service manager's environment, unless {@code --scope} (run by
     * systemd-run itself, in its caller's) or {@code -E}/{@code --setenv} names the variable.
     */
    static boolean systemdRun(List<String> argv, int at, int end, String variable) {
        boolean kept = false;
        for (ProgramOptions.Given given : WrappedPrograms.options("systemd-run").given(argv, at, end)) {
            kept |= given.is(null, "--scope") || given.is("-E", "--setenv") && given.names(variable);
        }
        return !kept;
    }

    /**
     * machinectl shell starts a session that inherits no variable but those {@code -E}/{@code --setenv} sets; its
     * options may come before and after {@code shell}, up to the machine's name.
     */
    static boolean machinectlShell(List<String> argv, int at, int end, String variable) {
        int verb = MACHINECTL.read(argv, at).operand();
        if (verb >= argv.size() || !argv.get(verb).equals("shell")) {
            return false;
        }
        List<ProgramOptions.Given> given = new java.util.ArrayList<>(MACHINECTL.given(argv, at, verb));
        given.addAll(MACHINECTL.given(argv, verb, end));
        return given.stream().noneMatch(g -> g.is("-E", "--setenv") && g.names(variable));
    }

    /** Whether the {@code NAME=value} operands from {@code from} on, before the program, set {@code variable}. */
    private static boolean assigned(List<String> argv, int from, int end, String variable) {
        for (int i = from; i < Math.min(end, argv.size()) && argv.get(i).indexOf('=') > 0
                && !argv.get(i).startsWith("-"); i++) {
            if (argv.get(i).startsWith(variable + "=")) {
                return true;
            }
        }
        return false;
    }
}
