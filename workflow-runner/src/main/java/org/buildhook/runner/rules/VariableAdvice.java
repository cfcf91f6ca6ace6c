package org.buildhook.runner.rules;

import java.util.function.UnaryOperator;

/**
 * What a load error advises instead of a placeholder of the build's own text in code a program runs: how that
 * program reads the placeholder's environment variable ({@code BUILDHOOK_TRIGGER}, {@link Placeholder#variable()}),
 * one accessor per program (tryout42 F4: every program was given the same list of Python, Perl, node and awk
 * accessors, shell code an ssh note, and sed, which cannot read the environment, advice that still ran the value).
 * The one table of this advice: {@link InlineCode} and the shell code reading ({@link Lookalikes#readings}) name
 * which entry applies.
 */
enum VariableAdvice {
    /** Shell code a local shell runs ({@code sh -c}, {@code watch}, {@code script -c}, {@code find -exec sh -c} …). */
    SHELL(v -> "read its variable there instead, in double quotes: \"$" + v + "\""),
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
    /** {@code Rscript -e}. */
    R(v -> "read its variable there instead: Sys.getenv(\"" + v + "\")"),
    /**
     * The string {@code env -S} splits: it puts a {@code ${NAME}} variable's value in place itself, unsplit and not
     * read further (only that form; GNU coreutils {@code env(1)}), and leaves single quotes alone.
     */
    ENV_SPLIT(v -> "write $${" + v + "} there instead, which env -S replaces with the variable's value as data,"
            + " unsplit (buildhook's $${ writes env's ${; env -S reads no $" + v + "); in code a shell it starts"
            + " reads (sh -c …), write the shell's \"$" + v + "\" within single quotes, which env leaves alone");

    private final UnaryOperator<String> advice;

    VariableAdvice(UnaryOperator<String> advice) {
        this.advice = advice;
    }

    /**
     * @param variable the placeholder's environment variable, {@code BUILDHOOK_TRIGGER}
     * @return what to write instead, the error's last clause
     */
    String advice(String variable) {
        return advice.apply(variable);
    }
}
