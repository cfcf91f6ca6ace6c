package org.buildhook.runner.rules;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What a load error advises instead of a placeholder of the build's own text in code a program runs: how that
 * program reads the placeholder's environment variable ({@code BUILDHOOK_TRIGGER}, {@link Placeholder#variable()}),
 * one accessor per program (tryout42 F4: every program was given the same list of Python, Perl, node and awk
 * accessors, shell code an ssh note, and sed, which cannot read the environment, advice that still ran the value).
 * The one table of this advice: {@link InlineCode} and the shell code reading ({@link Lookalikes#readings}) name
 * which entry reads the code; the entries that name a program ({@code sudo}, {@code su -l} …) are the programs on the
 * way to the code that leave the job's variable out (advice44 A2: the advised {@code "$BUILDHOOK_TRIGGER"} was empty
 * there), each with its test ({@link ClearedEnvironment}) and how to pass the value through it ({@link #clause}).
 */
enum VariableAdvice {
    /**
     * Shell code a local shell runs ({@code sh -c}, {@code watch}, {@code script -c}, {@code find -exec sh -c} …), with
     * the YAML form that holds the double quotes whatever the string's quoting (tryout49 F6: {@code "$V"} written as
     * it is inside a double-quoted YAML string is a syntax error).
     */
    SHELL(v -> "read its variable there instead, in double quotes: \"$" + v + "\", which a single-quoted YAML string"
            + " holds as written ('… \"$" + v + "\" …'; a double-quoted one needs \\\"$" + v + "\\\")"),
    /**
     * ssh's remote command: ssh sends the remote side no environment unless its {@code SendEnv} and the server's
     * {@code AcceptEnv} allow the name ({@code ssh_config(5)}, {@code sshd_config(5)}), so the variable is not there.
     */
    SSH(v -> "the variable " + v + " is not there on the remote side (ssh sends no environment unless ssh's SendEnv"
            + " and the server's AcceptEnv allow it), so \"$" + v + "\" would be empty there: give the value on ssh's"
            + " standard input, [/bin/sh, -c, 'printf \"%s\\n\" \"$" + v + "\" | ssh HOST /opt/deploy.sh'], for the"
            + " remote script to read (read -r value), or run a local script that quotes it for the remote shell"
            + " (printf %q)"),
    /** awk's program. */
    AWK(v -> "read its variable there instead: ENVIRON[\"" + v + "\"]"),
    /** sed's program: sed cannot read the environment, and GNU sed's {@code e} command runs a shell. */
    SED(v -> "sed cannot read the environment, and a shell variable in its program is still sed code (GNU sed's e"
            + " command runs a shell): pass the value to a program that takes it as data (awk with ENVIRON[\"" + v
            + "\"], envsubst), never into sed's program"),
    /** {@code python -c}. */
    PYTHON(v -> "read its variable there instead: os.environ[\"" + v + "\"]"),
    /** {@code perl -e}. */
    PERL(v -> "read its variable there instead: $ENV{" + v + "}"),
    /** {@code ruby -e}. */
    RUBY(v -> "read its variable there instead: ENV[\"" + v + "\"]"),
    /** {@code node -e}, {@code bun -e}. */
    NODE(v -> "read its variable there instead: process.env." + v),
    /** {@code deno eval}: its environment needs {@code --allow-env}. */
    DENO(v -> "read its variable there instead: Deno.env.get(\"" + v + "\") (with --allow-env)"),
    /** {@code php -r}. */
    PHP(v -> "read its variable there instead: getenv(\"" + v + "\")"),
    /** {@code lua -e}. */
    LUA(v -> "read its variable there instead: os.getenv(\"" + v + "\")"),
    /** {@code expect -c}: Tcl code. */
    TCL(v -> "read its variable there instead: $env(" + v + ")"),
    /** {@code Rscript -e}. */
    R(v -> "read its variable there instead: Sys.getenv(\"" + v + "\")"),
    /**
     * The string {@code env -S} splits: it puts a {@code ${NAME}} variable's value in place itself, unsplit and not
     * read further (only that form; GNU coreutils {@code env(1)}), and leaves single quotes alone.
     */
    ENV_SPLIT(v -> "write $${" + v + "} there instead, which env -S replaces with the variable's value as data,"
            + " unsplit (buildhook's $${ writes env's ${; env -S reads no $" + v + "); in code a shell it starts"
            + " reads (sh -c …), write the shell's \"$" + v + "\" within single quotes, which env leaves alone"),
    /**
     * tmux's shell-commands and keys: they run in the tmux server's environment (its global one, from whoever started
     * the server, and the session's), not the job's, when a server already runs (checked with tmux 3.3a).
     */
    TMUX(v -> "tmux runs it in the tmux server's environment, not the job's (a server already running, started by an"
            + " earlier job or anyone else, has an earlier build's " + v + " or none), so \"$" + v + "\" would be"
            + " empty or stale there: give the value to a new session from a local shell, [/bin/sh, -c, 'tmux"
            + " new-session -d -e \"" + v + "=$" + v + "\" /opt/deploy.sh'], the script reading \"$" + v + "\""),

    // The programs on the way to the code that leave the job's variable out ({@link #clause}).

    /** {@code su -l}, {@code su -}, {@code su --login} (util-linux; checked with su 2.38.1). */
    SU_LOGIN(p -> login("su", p), "su", ClearedEnvironment::login),
    /** {@code runuser -l} (util-linux; checked with runuser 2.38.1). */
    RUNUSER_LOGIN(p -> login("runuser", p), "runuser", ClearedEnvironment::login),
    /** sudo, whose sudoers resets the environment by default ({@code env_reset}). */
    SUDO(p -> "sudo resets the environment (sudoers' env_reset; -i removes every variable), so it would be empty"
            + " there: keep it with sudo --preserve-env=" + p.variable() + " (without -i; sudoers must allow it:"
            + " SETENV, which a command ALL implies, or env_keep), or " + asArgument("sudo, sh", p),
            "sudo", ClearedEnvironment::sudo),
    /** {@code env -i} (also {@code env -}, {@code --ignore-environment}; checked with GNU env 9.1). */
    ENV_EMPTY(p -> "env -i starts it with an empty environment, so it would be empty there: leave out -i, or set the"
            + " variable after it, [env, -i, \"" + p.variable() + "=${" + p.placeholderName() + "}\", sh, -c, …]",
            "env", ClearedEnvironment::env),
    /** doas, which makes a new environment ({@code doas(1)}, {@code doas.conf(5)}). */
    DOAS(p -> "doas makes a new environment (doas(1)), so it would be empty there: keep it with setenv { "
            + p.variable() + " } in the doas.conf rule, or " + asArgument("doas, sh", p), "doas", ClearedEnvironment::doas),
    /** {@code machinectl shell}, whose session inherits no variable ({@code machinectl(1)}). */
    MACHINECTL(p -> "machinectl shell starts a session that inherits no variable of the job (machinectl(1)), so it"
            + " would be empty there: set it with --setenv=" + p.variable() + "=${" + p.placeholderName() + "}, or "
            + asArgument("machinectl, shell, USER@.host, /bin/sh", p),
            "machinectl", ClearedEnvironment::machinectlShell),
    /** systemd-run's service, in the service manager's environment ({@code systemd-run(1)}). */
    SYSTEMD_RUN(p -> "systemd-run runs it as a service, in the service manager's environment, not the job's, so it"
            + " would be empty there: pass it with --setenv=" + p.variable() + " (-E, which takes the job's value),"
            + " or use --scope, which runs it in the job's environment", "systemd-run",
            ClearedEnvironment::systemdRun);

    private final Function<Placeholder, String> advice;
    /** The program that leaves the variable out ({@code sudo}), or null for an entry of code that reads it. */
    private final String program;
    private final ClearedEnvironment.Test test;

    /** An entry of code that reads the variable as {@code advice} says, given the variable's name. */
    VariableAdvice(Function<String, String> advice) {
        this(p -> advice.apply(p.variable()), null, null);
    }

    /** An entry of a program that leaves the variable out when {@code test} says so, with how to pass it through. */
    VariableAdvice(Function<Placeholder, String> advice, String program, ClearedEnvironment.Test test) {
        this.advice = advice;
        this.program = program;
        this.test = test;
    }

    /**
     * @param p the placeholder, whose variable is {@link Placeholder#variable()} ({@code BUILDHOOK_TRIGGER})
     * @return what to write instead, the error's last clause
     */
    String advice(Placeholder p) {
        return advice.apply(p);
    }

    /**
     * The error's last clause for a placeholder in code: how the code reads the variable ({@code reader}), and, for
     * each program on the way to it that leaves the variable out ({@code [sudo, sh, -c, …]}, {@code [su, -l, deploy,
     * -c, …]}; read from the command line alone), that it does and how to pass the value through it. The programs on
     * the way are the command's own, those known wrappers run ({@link WrappedPrograms#in}) and the code's program.
     * ssh's remote shell and tmux's server have an environment of their own whatever runs them: theirs is the whole
     * clause.
     *
     * @param reader  how the code reads the variable ({@link Lookalikes#shellCodeReader}, {@link InlineCode.Code})
     * @param argv    the command's elements, the program first (an element that is not text as "")
     * @param program the element of the program that runs the code ({@code sh} of {@code sh -c}, {@code su})
     * @param code    the element that holds the code
     * @param p       the placeholder written into the code
     */
    static String clause(VariableAdvice reader, List<String> argv, int program, int code, Placeholder p) {
        StringBuilder out = new StringBuilder(reader.advice(p));
        if (reader == SSH || reader == TMUX) {
            return out.toString();
        }
        List<Optional<String>> wrapped = WrappedPrograms.in(argv);
        Set<VariableAdvice> said = EnumSet.noneOf(VariableAdvice.class);
        for (int at = 0; at < code; at++) {
            if (!onTheWay(at, program, wrapped)) {
                continue;
            }
            int end = at + 1;
            while (end < code && !onTheWay(end, program, wrapped)) {
                end++;
            }
            String name = Lookalikes.name(argv.get(at));
            for (VariableAdvice entry : values()) {
                // env -S puts ${NAME} in place before its -i clears the environment: that form still works.
                boolean splitsFirst = entry == ENV_EMPTY && reader == ENV_SPLIT && at == program;
                if (name.equals(entry.program) && !splitsFirst
                        && entry.test.leavesOut(argv, at, end, p.variable()) && said.add(entry)) {
                    out.append(said.size() == 1 ? ", but " : "; and ").append(entry.advice(p));
                }
            }
        }
        return out.toString();
    }

    private static boolean onTheWay(int at, int program, List<Optional<String>> wrapped) {
        return at == 0 || at == program || wrapped.get(at).isPresent();
    }

    /** The advice of a login su or runuser ({@code -l}), which clears the environment ({@code su(1)}). */
    private static String login(String program, Placeholder p) {
        String v = p.variable();
        return "a login " + program + " (-l, -, --login) clears the environment, so it would be empty there: keep it"
                + " with " + program + "'s -w " + v + " (--whitelist-environment), or leave out -l, or give the value"
                + " as an argument after the code, [" + program + ", -l, USER, -c, 'deploy \"$1\"', sh, \"${"
                + p.placeholderName() + "}\"]";
    }

    /**
     * The recipe that passes the value through any program but ssh and tmux: an argument after the code, {@code "$1"}.
     *
     * @param through the command up to the shell ({@code sudo, sh})
     */
    private static String asArgument(String through, Placeholder p) {
        return "give the value as an argument after the code, [" + through + ", -c, 'deploy \"$1\"', sh, \"${"
                + p.placeholderName() + "}\"]";
    }
}
