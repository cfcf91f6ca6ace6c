package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout41 F4: a placeholder whose value is the build's own text, written into shell code, ran that text as code (a
 * trigger named {@code containers-devel"; touch PWNED; echo "} touched the file), and nothing said so. It is an error
 * when the rules are loaded (check, test, the start, a reload), at the argument's line and column, with the variable
 * to read instead; a value buildhook makes or a number stays allowed, and so does the text where no shell reads it
 * as code.
 */
class PayloadTextInShellCodeTest {

    private static String rule(String command) {
        return "rules:\n  - name: announce\n    run:\n      command: " + command + "\n";
    }

    /**
     * What the shell advice says after {@code "$V"}: the YAML forms that hold it (tryout49 F6: {@code "$V"} written as
     * it is inside a double-quoted YAML string is a syntax error).
     */
    private static String yaml(String variable) {
        return ", which a single-quoted YAML string holds as written ('… \"$" + variable + "\" …'; a double-quoted one"
                + " needs \\\"$" + variable + "\\\")";
    }

    /** tryout49 F6: both forms the advice shows load, in a single-quoted and in a double-quoted YAML string. */
    @Test
    void theFormsTheShellAdviceShowsLoad() {
        assertThat(TestRules.parse(rule("[/bin/sh, -c, 'echo deploying \"$BUILDHOOK_TRIGGER\"']")).ruleNames())
                .containsExactly("announce");
        assertThat(TestRules.parse(rule("[/bin/sh, -c, \"echo deploying \\\"$BUILDHOOK_TRIGGER\\\"\"]")).ruleNames())
                .containsExactly("announce");
    }

    @Test
    void theTryoutsRuleIsRefusedWithTheVariableToReadInstead() {
        assertThatThrownBy(() -> TestRules.parse(rule(
                "[/bin/sh, -c, 'echo \"deploying project ${build.project} trigger ${build.trigger}\"']")))
                .hasMessageContaining("rules.yaml:4:55: placeholder '${build.project}' in shell code: its value is the"
                        + " build's own text, which whoever names a project, trigger or run chooses, and the shell would"
                        + " run it as code; read its variable there instead, in double quotes: \"$BUILDHOOK_PROJECT\""
                                + yaml("BUILDHOOK_PROJECT"))
                .hasMessageContaining("rules.yaml:4:80: placeholder '${build.trigger}' in shell code")
                .hasMessageContaining("\"$BUILDHOOK_TRIGGER\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[/bin/sh, -c, 'deploy ${build.trigger}']",
        "[bash, -euo, pipefail, -c, 'deploy \"${build.url}\"']",
        "[env, bash, -lc, 'notify ${build.status}']",
        "[timeout, 5m, sh, -c, 'echo ${build.factory}']",
        "[flock, /run/lock/b1, sh, -c, 'echo ${build.web_url}']",
        "[su, deploy, -c, 'echo ${build.project}']",
        "[ssh, lab-host, 'flash ${build.trigger}']",
        // tryout41's shapes: ssh joins its arguments into the remote shell's code; su hands -c's to a shell
        "[/usr/bin/ssh, deploy@fleet-gw, /opt/deploy.sh, '${build.id}', '${build.trigger}']",
        "[/bin/su, deploy, -c, '/opt/deploy.sh ${build.trigger}']",
    })
    void payloadTextInAnyShellsCodeIsRefused(String command) {
        assertThatThrownBy(() -> TestRules.parse(rule(command))).hasMessageContaining("in shell code: its value is the"
                + " build's own text");
    }

    /** tryout41 F4 on ddfeec7c: the same value ran through python3 -c; every interpreter's inline code is the same kind. */
    @ParameterizedTest
    @ValueSource(strings = {
        "[python3, -c, 'print(\"${build.trigger}\")'] | python3's -c code",
        "[/usr/bin/python3.11, -u, -c, 'print(\"${build.trigger}\")'] | python3.11's -c code",
        "[timeout, 5m, python3, -c, 'x = \"${build.trigger}\"'] | python3's -c code",
        "[env, PYTHONUNBUFFERED=1, python3, -c, 'x = \"${build.trigger}\"'] | python3's -c code",
        "[perl, -e, 'print \"${build.trigger}\"'] | perl's -e code",
        "[perl, -ne, 'print if /${build.trigger}/', /tmp/x] | perl's -e code",
        "[ruby, -e, 'puts \"${build.trigger}\"'] | ruby's -e code",
        "[node, -e, 'console.log(\"${build.trigger}\")'] | node's -e code",
        "[node, '--eval=console.log(\"${build.trigger}\")'] | node's --eval code",
        "[php, -r, 'echo \"${build.trigger}\";'] | php's -r code",
        "[awk, -F, ':', '/${build.trigger}/ {print $1}', /etc/passwd] | awk's program",
        "[sed, -i, 's/old/${build.trigger}/', /tmp/x] | sed's program",
        "[sed, -e, 's/old/${build.trigger}/', /tmp/x] | sed's program",
        "[env, -S, 'deploy ${build.trigger}'] | env's -S code",
        "[watch, -n, '5', 'deploy ${build.trigger}'] | the code watch gives to sh -c",
        "[script, -qec, 'deploy ${build.trigger}', /dev/null] | script's -c code",
    })
    void payloadTextInAnotherInterpretersCodeIsRefused(String both) {
        assertRefused(both);
    }

    /** {@code both}: the command, " | ", and where the error says the placeholder is ("python3's -c code"). */
    private static void assertRefused(String both) {
        String command = both.substring(0, both.indexOf(" | "));
        String where = both.substring(both.indexOf(" | ") + 3);
        assertThatThrownBy(() -> TestRules.parse(rule(command))).hasMessageContaining("placeholder '${build.trigger}'"
                + " in " + where + ": its value is the build's own text").hasMessageContaining("BUILDHOOK_TRIGGER");
    }

    /**
     * tryout42 F4: every interpreter's error listed the same four accessors ({@code os.environ, $ENV{…}, process.env,
     * ENVIRON[…]}) and every shell's an ssh note; sed, which cannot read the environment, was advised a variable that
     * a shell then wrote into sed's program, and ssh a variable the remote side does not have. Each program family's
     * error now ends with its own advice, the whole of it.
     */
    @ParameterizedTest
    @MethodSource("eachProgramsAdvice")
    void eachProgramFamilyIsToldHowItsCodeReadsTheVariable(String command, String advice) {
        assertThatThrownBy(() -> TestRules.parse(rule(command))).hasMessageContaining("would run it as code; " + advice
                + " (docs/rules.md#placeholders)").hasMessageNotContaining("(through ssh")
                .hasMessageNotContaining("process.env, ENVIRON");
    }

    static Stream<Arguments> eachProgramsAdvice() {
        String shell = "read its variable there instead, in double quotes: \"$BUILDHOOK_TRIGGER\""
                + yaml("BUILDHOOK_TRIGGER");
        return Stream.of(
                Arguments.of("[/bin/sh, -c, 'deploy ${build.trigger}']", shell),
                Arguments.of("[bash, -c, 'deploy ${build.trigger}']", shell),
                Arguments.of("[watch, -n, '5', 'deploy ${build.trigger}']", shell),
                Arguments.of("[script, -qec, 'deploy ${build.trigger}', /dev/null]", shell),
                Arguments.of("[find, /srv, -exec, sh, -c, 'deploy ${build.trigger} \"$1\"', sh, '{}', ';']", shell),
                Arguments.of("[env, -S, 'deploy ${build.trigger}']", "write $${BUILDHOOK_TRIGGER} there instead, which"
                        + " env -S replaces with the variable's value as data, unsplit (buildhook's $${ writes env's ${;"
                        + " env -S reads no $BUILDHOOK_TRIGGER); in code a shell it starts reads (sh -c …), write the"
                        + " shell's \"$BUILDHOOK_TRIGGER\" within single quotes, which env leaves alone"),
                Arguments.of("[awk, '/${build.trigger}/ {print}', /etc/passwd]",
                        "read its variable there instead: ENVIRON[\"BUILDHOOK_TRIGGER\"]"),
                Arguments.of("[/usr/bin/sed, 's/x/${build.trigger}/', /etc/hostname]", "sed cannot read the environment,"
                        + " and a shell variable in its program is still sed code (GNU sed's e command runs a shell):"
                        + " pass the value to a program that takes it as data (awk with"
                        + " ENVIRON[\"BUILDHOOK_TRIGGER\"], envsubst), never into sed's program"),
                Arguments.of("[python3, -c, 'print(\"${build.trigger}\")']",
                        "read its variable there instead: os.environ[\"BUILDHOOK_TRIGGER\"]"),
                Arguments.of("[perl, -e, 'print \"${build.trigger}\"']",
                        "read its variable there instead: $ENV{BUILDHOOK_TRIGGER}"),
                Arguments.of("[ruby, -e, 'puts \"${build.trigger}\"']",
                        "read its variable there instead: ENV[\"BUILDHOOK_TRIGGER\"]"),
                Arguments.of("[node, -e, 'console.log(\"${build.trigger}\")']",
                        "read its variable there instead: process.env.BUILDHOOK_TRIGGER"),
                Arguments.of("[deno, -e, 'console.log(\"${build.trigger}\")']",
                        "read its variable there instead: Deno.env.get(\"BUILDHOOK_TRIGGER\") (with --allow-env)"),
                Arguments.of("[php, -r, 'echo \"${build.trigger}\";']",
                        "read its variable there instead: getenv(\"BUILDHOOK_TRIGGER\")"),
                Arguments.of("[lua, -e, 'print(\"${build.trigger}\")']",
                        "read its variable there instead: os.getenv(\"BUILDHOOK_TRIGGER\")"),
                Arguments.of("[Rscript, -e, 'print(\"${build.trigger}\")']",
                        "read its variable there instead: Sys.getenv(\"BUILDHOOK_TRIGGER\")"),
                Arguments.of("[/usr/bin/ssh, deploy@fleet-gw, /opt/deploy.sh, '${build.trigger}']", "the variable"
                        + " BUILDHOOK_TRIGGER is not there on the remote side (ssh sends no environment unless ssh's"
                        + " SendEnv and the server's AcceptEnv allow it), so \"$BUILDHOOK_TRIGGER\" would be empty"
                        + " there: give the value on ssh's standard input, [/bin/sh, -c, 'printf \"%s\\n\""
                        + " \"$BUILDHOOK_TRIGGER\" | ssh HOST /opt/deploy.sh'], for the remote script to read (read -r"
                        + " value), or run a local script that quotes it for the remote shell (printf %q)"));
    }

    private static final String SHELL = "read its variable there instead, in double quotes: \"$BUILDHOOK_TRIGGER\""
            + yaml("BUILDHOOK_TRIGGER");
    private static final String SSH = "the variable BUILDHOOK_TRIGGER is not there on the remote side (ssh sends no"
            + " environment unless ssh's SendEnv and the server's AcceptEnv allow it), so \"$BUILDHOOK_TRIGGER\" would"
            + " be empty there: give the value on ssh's standard input, [/bin/sh, -c, 'printf \"%s\\n\""
            + " \"$BUILDHOOK_TRIGGER\" | ssh HOST /opt/deploy.sh'], for the remote script to read (read -r value), or"
            + " run a local script that quotes it for the remote shell (printf %q)";
    private static final String TMUX = "tmux runs it in the tmux server's environment, not the job's (a server already"
            + " running, started by an earlier job or anyone else, has an earlier build's BUILDHOOK_TRIGGER or none), so"
            + " \"$BUILDHOOK_TRIGGER\" would be empty or stale there: give the value to a new session from a local"
            + " shell, [/bin/sh, -c, 'tmux new-session -d -e \"BUILDHOOK_TRIGGER=$BUILDHOOK_TRIGGER\" /opt/deploy.sh'],"
            + " the script reading \"$BUILDHOOK_TRIGGER\"";

    private static String login(String program) {
        return ", but a login " + program + " (-l, -, --login) clears the environment, so it would be empty there:"
                + " keep it with " + program + "'s -w BUILDHOOK_TRIGGER (--whitelist-environment), or leave out -l, or"
                + " give the value as an argument after the code, [" + program + ", -l, USER, -c, 'deploy \"$1\"', sh,"
                + " \"${build.trigger}\"]";
    }

    private static final String SUDO = ", but sudo resets the environment (sudoers' env_reset; -i removes every"
            + " variable), so it would be empty there: keep it with sudo --preserve-env=BUILDHOOK_TRIGGER (without -i;"
            + " sudoers must allow it: SETENV, which a command ALL implies, or env_keep), or give the value as an"
            + " argument after the code, [sudo, sh, -c, 'deploy \"$1\"', sh, \"${build.trigger}\"]";

    private static final String ENV_I = ", but env -i starts it with an empty environment, so it would be empty there:"
            + " leave out -i, or set the variable after it, [env, -i, \"BUILDHOOK_TRIGGER=${build.trigger}\", sh, -c,"
            + " …]";
    private static final String SYSTEMD_RUN = ", but systemd-run runs it as a service, in the service manager's"
            + " environment, not the job's, so it would be empty there: pass it with --setenv=BUILDHOOK_TRIGGER (-E,"
            + " which takes the job's value), or use --scope, which runs it in the job's environment";

    /**
     * advice44 A2: su -l, runuser -l, sudo, env -i, doas, machinectl shell and systemd-run leave the job's variable
     * out of the code they run, so the advised {@code "$BUILDHOOK_TRIGGER"} was empty there, silently. The error now
     * says which program leaves it out and how to pass the value through it (the su, runuser, env and argument
     * recipes checked here with util-linux 2.38.1 and GNU env 9.1).
     */
    @ParameterizedTest
    @MethodSource("programsThatLeaveTheVariableOut")
    void aProgramThatLeavesTheVariableOutIsNamedWithHowToPassTheValue(String command, String advice) {
        assertThatThrownBy(() -> TestRules.parse(rule(command))).hasMessageContaining("would run it as code; " + advice
                + " (docs/rules.md#placeholders)");
    }

    static Stream<Arguments> programsThatLeaveTheVariableOut() {
        return Stream.of(
                Arguments.of("[su, -l, deploy, -c, 'deploy ${build.trigger}']", SHELL + login("su")),
                Arguments.of("[su, -, deploy, -c, 'deploy ${build.trigger}']", SHELL + login("su")),
                Arguments.of("[/bin/su, -lc, 'deploy ${build.trigger}', deploy]", SHELL + login("su")),
                Arguments.of("[su, deploy, --login, -c, 'deploy ${build.trigger}']", SHELL + login("su")),
                Arguments.of("[su, -l, -w, BUILDHOOK_PROJECT, deploy, -c, 'deploy ${build.trigger}']",
                        SHELL + login("su")),
                Arguments.of("[runuser, -l, deploy, -c, 'deploy ${build.trigger}']", SHELL + login("runuser")),
                Arguments.of("[sudo, -u, deploy, sh, -c, 'deploy ${build.trigger}']", SHELL + SUDO),
                Arguments.of("[sudo, --preserve-env=BUILDHOOK_PROJECT, sh, -c, 'deploy ${build.trigger}']",
                        SHELL + SUDO),
                Arguments.of("[sudo, -i, -E, sh, -c, 'deploy ${build.trigger}']", SHELL + SUDO),
                Arguments.of("[timeout, 5m, sudo, -u, deploy, sh, -c, 'deploy ${build.trigger}']", SHELL + SUDO),
                Arguments.of("[sudo, find, /srv, -exec, sh, -c, 'deploy ${build.trigger} \"$1\"', sh, '{}', ';']",
                        SHELL + SUDO),
                Arguments.of("[sudo, -u, deploy, python3, -c, 'print(\"${build.trigger}\")']",
                        "read its variable there instead: os.environ[\"BUILDHOOK_TRIGGER\"]" + SUDO),
                Arguments.of("[sudo, -u, deploy, su, -l, ci, -c, 'deploy ${build.trigger}']",
                        SHELL + SUDO + login("su").replace(", but", "; and")),
                Arguments.of("[env, -i, sh, -c, 'deploy ${build.trigger}']", SHELL + ENV_I),
                Arguments.of("[env, -, PATH=/usr/bin, sh, -c, 'deploy ${build.trigger}']", SHELL + ENV_I),
                Arguments.of("[doas, -u, deploy, sh, -c, 'deploy ${build.trigger}']", SHELL + ", but doas makes a new"
                        + " environment (doas(1)), so it would be empty there: keep it with setenv { BUILDHOOK_TRIGGER }"
                        + " in the doas.conf rule, or give the value as an argument after the code, [doas, sh, -c,"
                        + " 'deploy \"$1\"', sh, \"${build.trigger}\"]"),
                Arguments.of("[machinectl, shell, deploy@.host, /bin/sh, -c, 'deploy ${build.trigger}']", SHELL
                        + ", but machinectl shell starts a session that inherits no variable of the job"
                        + " (machinectl(1)), so it would be empty there: set it with"
                        + " --setenv=BUILDHOOK_TRIGGER=${build.trigger}, or give the value as an argument after the"
                        + " code, [machinectl, shell, USER@.host, /bin/sh, -c, 'deploy \"$1\"', sh,"
                        + " \"${build.trigger}\"]"),
                Arguments.of("[systemd-run, --wait, --pipe, -p, User=deploy, sh, -c, 'deploy ${build.trigger}']",
                        SHELL + SYSTEMD_RUN),
                Arguments.of("[systemd-run, -E, BUILDHOOK_PROJECT, sh, -c, 'deploy ${build.trigger}']",
                        SHELL + SYSTEMD_RUN));
    }

    /** advice44 A2: where the program keeps the variable, or the command sets it, the code's own advice is the whole. */
    @ParameterizedTest
    @ValueSource(strings = {
        "[su, deploy, -c, 'deploy ${build.trigger}']",
        "[su, -m, deploy, -c, 'deploy ${build.trigger}']",
        "[su, -l, -w, BUILDHOOK_TRIGGER, deploy, -c, 'deploy ${build.trigger}']",
        "[su, -lw, 'BUILDHOOK_PROJECT,BUILDHOOK_TRIGGER', deploy, -c, 'deploy ${build.trigger}']",
        "[runuser, --login, --whitelist-environment=BUILDHOOK_TRIGGER, deploy, -c, 'deploy ${build.trigger}']",
        "[runuser, -u, deploy, --, sh, -c, 'deploy ${build.trigger}']",
        "[sudo, -E, -u, deploy, sh, -c, 'deploy ${build.trigger}']",
        "[sudo, --preserve-env, sh, -c, 'deploy ${build.trigger}']",
        "[sudo, '--preserve-env=PATH,BUILDHOOK_TRIGGER', sh, -c, 'deploy ${build.trigger}']",
        "[env, -i, BUILDHOOK_TRIGGER=main, sh, -c, 'deploy ${build.trigger}']",
        "[systemd-run, --scope, sh, -c, 'deploy ${build.trigger}']",
        "[systemd-run, -E, BUILDHOOK_TRIGGER, sh, -c, 'deploy ${build.trigger}']",
        "[systemd-run, --setenv=BUILDHOOK_TRIGGER, sh, -c, 'deploy ${build.trigger}']",
        "[machinectl, shell, -E, BUILDHOOK_TRIGGER=main, deploy@.host, /bin/sh, -c, 'deploy ${build.trigger}']",
        "[machinectl, --setenv=BUILDHOOK_TRIGGER=main, shell, .host, /bin/sh, -c, 'deploy ${build.trigger}']",
    })
    void whereTheVariableIsKeptTheCodesAdviceIsTheWhole(String command) {
        assertThatThrownBy(() -> TestRules.parse(rule(command))).hasMessageContaining("would run it as code; " + SHELL
                + " (docs/rules.md#placeholders)");
    }

    /** advice44 A2: env -S puts its ${NAME} in place before -i clears the environment, so env -S's advice stands. */
    @Test
    void envSplitsItsStringBeforeItsDashIClears() {
        assertThatThrownBy(() -> TestRules.parse(rule("[env, -i, -S, 'deploy ${build.trigger}']")))
                .hasMessageContaining("within single quotes, which env leaves alone (docs/rules.md#placeholders)");
    }

    /** advice44 A2: a variable each, so -w keeps one placeholder's and not another's. */
    @Test
    void eachPlaceholderIsToldAboutItsOwnVariable() {
        assertThatThrownBy(() -> TestRules.parse(rule(
                "[su, -l, -w, BUILDHOOK_TRIGGER, deploy, -c, 'deploy ${build.trigger} ${build.project}']")))
                .hasMessageContaining("in double quotes: \"$BUILDHOOK_TRIGGER\""
                        + yaml("BUILDHOOK_TRIGGER") + " (docs/rules.md#placeholders)")
                .hasMessageContaining("in double quotes: \"$BUILDHOOK_PROJECT\""
                        + yaml("BUILDHOOK_PROJECT") + ", but a login su (-l, -, --login)"
                        + " clears the environment, so it would be empty there: keep it with su's -w BUILDHOOK_PROJECT");
    }

    /**
     * advice44 A3: tmux runs its shell-commands and keys in its server's environment (checked with tmux 3.3a: a server
     * started with BUILDHOOK_TRIGGER=old ran a later new-session, new-window, send-keys and run-shell with "old"), so
     * the variable may be empty or an earlier build's; {@code -e} from a local shell passes it. sudo before tmux changes
     * nothing there.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "[tmux, new-session, -d, 'deploy ${build.trigger}']",
        "[/usr/bin/tmux, new-window, -t, ci, 'deploy ${build.trigger}']",
        "[tmux, send-keys, -t, ci, 'deploy ${build.trigger}', Enter]",
        "[sudo, -u, deploy, tmux, run-shell, 'deploy ${build.trigger}']",
    })
    void tmuxIsToldItsServersEnvironmentIsNotTheJobs(String command) {
        assertThatThrownBy(() -> TestRules.parse(rule(command))).hasMessageContaining("and the shell would run it as"
                + " code; " + TMUX + " (docs/rules.md#placeholders)");
    }

    /**
     * advice44 A4: ssh behind a wrapper (timeout, env, nice, sudo, flock) loaded without a word, and its remote shell
     * ran the value as code; it is read as ssh's command, as ssh's own is, with ssh's advice.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "[timeout, '60', ssh, deploy@fleet-gw, 'deploy ${build.trigger}']",
        "[env, X=1, ssh, deploy@fleet-gw, 'deploy ${build.trigger}']",
        "[nice, /usr/bin/ssh, deploy@fleet-gw, /opt/deploy.sh, '${build.trigger}']",
        "[sudo, -u, deploy, ssh, -p, '2222', deploy@fleet-gw, 'deploy ${build.trigger}']",
        "[flock, /tmp/l, ssh, deploy@fleet-gw, 'deploy ${build.trigger}']",
        "[timeout, -k, 5s, 1m, env, X=1, ssh, deploy@fleet-gw, sh, -c, 'deploy ${build.trigger}']",
    })
    void sshBehindAWrapperIsReadAsSshsCode(String command) {
        assertThatThrownBy(() -> TestRules.parse(rule(command))).hasMessageContaining("placeholder '${build.trigger}'"
                + " in shell code: its value is the build's own text, which whoever names a project, trigger or run"
                + " chooses, and the remote shell would run it as code; " + SSH + " (docs/rules.md#placeholders)");
    }

    /** advice44 A4, no guessing: ssh as another program's plain argument is not a program that runs. */
    @Test
    void sshAsAnArgumentIsNotAProgram() {
        assertThat(TestRules.parse(rule("[/usr/bin/grep, -rl, ssh, '/srv/${build.trigger}']"))).isNotNull();
    }

    /** The recipes the advice of advice44 A2/A3 gives load. */
    @Test
    void theRecipesForProgramsThatLeaveTheVariableOutLoad() {
        assertThat(TestRules.parse(rule("[su, -l, deploy, -c, 'deploy \"$1\"', sh, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[su, -l, -w, BUILDHOOK_TRIGGER, deploy, -c, 'deploy \"$BUILDHOOK_TRIGGER\"']")))
                .isNotNull();
        assertThat(TestRules.parse(rule("[sudo, sh, -c, 'deploy \"$1\"', sh, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[env, -i, 'BUILDHOOK_TRIGGER=${build.trigger}', sh, -c,"
                + " 'deploy \"$BUILDHOOK_TRIGGER\"']"))).isNotNull();
        assertThat(TestRules.parse(rule("[machinectl, shell, deploy@.host, /bin/sh, -c, 'deploy \"$1\"', sh,"
                + " '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[machinectl, '--setenv=BUILDHOOK_TRIGGER=${build.trigger}', shell,"
                + " deploy@.host, /bin/sh, -c, 'deploy \"$BUILDHOOK_TRIGGER\"']"))).isNotNull();
        assertThat(TestRules.parse(rule("[systemd-run, --wait, --pipe, --setenv=BUILDHOOK_TRIGGER, sh, -c,"
                + " 'deploy \"$BUILDHOOK_TRIGGER\"']"))).isNotNull();
        assertThat(TestRules.parse(rule("[/bin/sh, -c, 'tmux new-session -d -e \"BUILDHOOK_TRIGGER=$BUILDHOOK_TRIGGER\""
                + " /opt/deploy.sh']"))).isNotNull();
    }

    /** The recipes the errors give load: ssh's standard input, envsubst and awk for sed, env -S's own ${NAME}. */
    @Test
    void theRecipesTheAdviceGivesLoad() {
        assertThat(TestRules.parse(rule("[/bin/sh, -c, 'printf \"%s\\n\" \"$BUILDHOOK_TRIGGER\" | ssh deploy@fleet-gw"
                + " /opt/deploy.sh']"))).isNotNull();
        assertThat(TestRules.parse(rule("[/bin/sh, -c, \"envsubst '$BUILDHOOK_TRIGGER' < /opt/manifest.tmpl\"]")))
                .isNotNull();
        assertThat(TestRules.parse(rule("[awk, 'BEGIN { print \"version: \" ENVIRON[\"BUILDHOOK_TRIGGER\"] }']")))
                .isNotNull();
        assertThat(TestRules.parse(rule("[env, -S, '/opt/deploy.sh $${BUILDHOOK_TRIGGER}']"))).isNotNull();
    }

    /**
     * tryout42 F1: shapes that loaded silently on 49ecade2 and ran a signed delivery's trigger as code. An option that
     * takes a value hid the code option after it ({@code -W ignore}, {@code -r MOD}, {@code -I DIR}, {@code -u NAME}),
     * su's {@code -c} in a cluster was not read, and sg, tmux and several shells were not known.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        // the shapes run through real deliveries
        "[/usr/bin/python3, -W, ignore, -c, 'print(\"deploying ${build.trigger}\")'] | python3's -c code",
        "[/bin/su, -lc, 'echo deploying \"${build.trigger}\"', root] | shell code",
        "[/usr/bin/sg, root, -c, 'echo deploying \"${build.trigger}\"'] | shell code",
        "[/usr/bin/node, -r, /tmp/empty.js, -e, 'console.log(\"${build.trigger}\")'] | node's -e code",
        "[/usr/bin/perl, -I, /tmp, -e, 'print \"${build.trigger}\"'] | perl's -e code",
        "[/usr/bin/tmux, new-session, -d, 'echo deploying \"${build.trigger}\" > /tmp/tmux.txt'] | shell code",
        "[/usr/bin/env, -u, HOME, -S, \"sh -c 'echo deploying ${build.trigger}'\"] | env's -S code",
        "[/usr/bin/env, -C, /tmp, -S, \"sh -c 'echo deploying ${build.trigger}'\"] | env's -S code",
        // the survey's other shapes of the same kinds
        "[python3, -X, dev, -c, 'x = \"${build.trigger}\"'] | python3's -c code",
        "[python3, --check-hash-based-pycs, never, -c, 'x = \"${build.trigger}\"'] | python3's -c code",
        "[python3, -Wdefault::DeprecationWarning, -c, 'x = \"${build.trigger}\"'] | python3's -c code",
        "[node, --input-type, module, -e, 'console.log(\"${build.trigger}\")'] | node's -e code",
        "[node, --title, x, -p, '\"${build.trigger}\"'] | node's -p code",
        "[node, --import, tsx, -e, 'console.log(\"${build.trigger}\")'] | node's -e code",
        "[node, --env-file, .env, -e, 'console.log(\"${build.trigger}\")'] | node's -e code",
        "[perl, -M, strict, -e, 'print \"${build.trigger}\"'] | perl's -e code",
        "[su, -pc, 'echo ${build.trigger}'] | shell code",
        "[su, --session-command, 'echo ${build.trigger}', deploy] | shell code",
        "[su, -s, /bin/bash, deploy, -c, 'echo ${build.trigger}'] | shell code",
        "[sudo, su, -lc, 'echo ${build.trigger}'] | shell code",
        "[runuser, -u, deploy, -lc, 'echo ${build.trigger}'] | shell code",
        "[sg, docker, 'docker compose up ${build.trigger}'] | shell code",
        "[tmux, new-window, 'deploy ${build.trigger}'] | shell code",
        "[tmux, send-keys, -t, deploy, 'deploy ${build.trigger}', Enter] | shell code",
        "[/bin/rbash, -c, 'echo ${build.trigger}'] | shell code",
        "[csh, -c, 'echo ${build.trigger}'] | shell code",
        "[tcsh, -fc, 'echo ${build.trigger}'] | shell code",
        "[fish, -c, 'echo ${build.trigger}'] | shell code",
        "[fish, -C, 'echo ${build.trigger}'] | shell code",
        "[fish, -d, '3', -c, 'echo ${build.trigger}'] | shell code",
        "[fish, -p, /tmp/profile, -c, 'echo ${build.trigger}'] | shell code",
        "[ksh93, -c, 'echo ${build.trigger}'] | shell code",
        "[flock, -w, '10', /run/lock/x, -c, 'echo ${build.trigger}'] | shell code",
        "[watch, -n, '5', -t, 'deploy ${build.trigger}'] | the code watch gives to sh -c",
        "[watch, -x, python3, -W, ignore, -c, 'x = \"${build.trigger}\"'] | python3's -c code",
        "[script, -q, -E, never, -c, 'deploy ${build.trigger}', /dev/null] | script's -c code",
    })
    void tryout42sShapesAreRefused(String both) {
        assertRefused(both);
    }

    /**
     * tryout42 F14: {@code watch -x} ({@code --exec}, also in a cluster, {@code -tx}) runs its command without a
     * shell, so its words are a program and its arguments, each one argument; a shell it runs is read as any wrapper's.
     */
    @Test
    void watchExecRunsAProgramNotShellCode() {
        assertThat(TestRules.parse(rule("[watch, -x, /opt/deploy.sh, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[watch, --exec, /opt/deploy.sh, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[watch, -tx, -n, '5', /opt/deploy.sh, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[watch, -n5, -x, /bin/sh, -c, 'deploy \"$1\"', sh, '${build.trigger}']")))
                .isNotNull();
        assertThatThrownBy(() -> TestRules.parse(rule("[watch, -tx, /bin/sh, -c, 'deploy ${build.trigger}']")))
                .hasMessageContaining("placeholder '${build.trigger}' in shell code");
    }

    /** The option tables skip values, and stop where the program's own options end: its script's stay data. */
    @Test
    void anOptionsValueAndAScriptsOwnOptionsStayAllowed() {
        assertThat(TestRules.parse(rule("[python3, -W, ignore, /opt/deploy.py, -c, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[python3, -m, deploy, -c, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[node, -r, /opt/x.js, /opt/deploy.js, -e, '${build.trigger}']")))
                .isNotNull();
        assertThat(TestRules.parse(rule("[perl, -I, /opt/lib, /opt/deploy.pl, -e, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[env, -u, HOME, /opt/deploy.sh, -S, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[flock, /run/lock/x, /opt/deploy.sh, -c, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[sg, docker, -c, 'deploy \"$BUILDHOOK_TRIGGER\"']"))).isNotNull();
    }

    @Test
    void anInterpretersScriptAndItsArgumentsStayAllowed() {
        assertThat(TestRules.parse(rule("[python3, /opt/deploy.py, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[python3, -c, 'import sys; print(sys.argv[1])', '${build.trigger}']")))
                .isNotNull();
        assertThat(TestRules.parse(rule("[awk, -f, /opt/x.awk, '${build.trigger}']"))).isNotNull();
        assertThat(TestRules.parse(rule("[env, 'TRIGGER=${build.trigger}', /opt/deploy.sh]"))).isNotNull();
        assertThat(TestRules.parse(rule("[python3, -c, 'print(${build.id})']"))).isNotNull();
    }

    @Test
    void aRunsValuesInShellCodeAreRefusedToo() {
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: boards\n    runs: {match: each}\n    run:\n"
                + "      command: [/bin/sh, -c, 'test-board ${run.name} ${run.host_tag}']\n"))
                .hasMessageContaining("rules.yaml:5:42: placeholder '${run.name}' in shell code")
                .hasMessageContaining("\"$BUILDHOOK_RUN_NAME\"")
                .hasMessageContaining("placeholder '${run.host_tag}' in shell code");
    }

    @Test
    void theBuildsIdAndTheTextWhereNoShellReadsItAsCodeStayAllowed() {
        assertThat(TestRules.parse(rule("[/bin/sh, -c, 'deploy --build ${build.id}']"))).isNotNull();
        // After the code: the shell's $0, $1 …, passed on as data.
        assertThat(TestRules.parse(rule("[/bin/sh, -c, 'deploy \"$1\"', deploy, '${build.trigger}']"))).isNotNull();
        // No shell at all: one whole argument.
        assertThat(TestRules.parse(rule("[/opt/deploy.sh, '${build.trigger}', '--url=${build.url}']"))).isNotNull();
        // The variable, read by the shell.
        assertThat(TestRules.parse(rule("[/bin/sh, -c, 'deploy \"$BUILDHOOK_TRIGGER\"']"))).isNotNull();
    }

    @Test
    void aFollowUpsJobValuesAreBuildhooksOwnAndStayAllowedInShellCode() {
        assertThat(TestRules.parse("rules:\n  - name: deploy\n    run:\n      command: [/bin/true]\n"
                + "    on-failure:\n      command: [/bin/sh, -c, 'page \"${job.rule} ${job.outcome} ${job.exit_code}"
                + " ${job.attempts} ${job.id}\" < ${job.log_path}']\n")).isNotNull();
    }

    /**
     * tryout42 F11: in a script written as a block scalar ({@code - |}), the error pointed at the {@code |} line, and
     * two placeholders in one argument both at its start: each is placed at its own line and column (in characters,
     * as YAML counts them: the rocket is one), in a block and in a quoted text over two lines.
     */
    @Test
    void eachPlaceholderInCodeIsPlacedAtItsOwnLineAndColumn() {
        String yaml = """
                rules:
                  - name: workflow
                    run:
                      command:
                        - /bin/bash
                        - -euo
                        - pipefail
                        - -c
                        - |
                          cd /srv/deploy
                          echo "preparing \u00e9t\u00e9"
                          ./deploy.sh \ud83d\ude80 --tag "${build.trigger}" --project "${ build.project }"
                          echo "${build.trigger} again"
                  - name: quoted
                    run:
                      command: [/bin/sh, -c, "echo start;
                        notify ${build.project}"]
                """;
        assertThatThrownBy(() -> TestRules.parse(yaml))
                .hasMessageContaining("rules.yaml:12:32: placeholder '${build.trigger}' in shell code")
                .hasMessageContaining("rules.yaml:12:61: placeholder '${build.project}' in shell code")
                .hasMessageContaining("rules.yaml:17:16: placeholder '${build.project}' in shell code")
                .hasMessageNotContaining("rules.yaml:9:");
    }
}
