package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A placeholder or shell variable written the wrong way stays literal text, since no shell runs a
 * command: the loader warns, with where and what to write instead, and still loads the file
 * (tryout30 F2).
 */
class PlaceholderLookalikesTest {

    private static List<String> warnings(RuleSet set) {
        return set.writingWarnings().stream().map(Problem::toString).toList();
    }

    @Test
    void warnsAboutEachLookalikeInACommandWithItsLineAndColumnAndWhatToWrite() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: typos
                    run:
                      command: [/bin/echo, "$build.id", "{build.id}", "$(build.id)", "$BUILDHOOK_BUILD_ID",
                                "v$Build.Idd-x", "$(date +%s)", "{ job.outcome }", "$BUILDHOOK_RULE"]
                """);

        assertThat(set.size()).as("warnings, not mistakes: the file loads").isEqualTo(1);
        assertThat(warnings(set)).containsExactly(
                "rules.yaml:4:28: '$build.id' is not a placeholder: a '$' not followed by '{' is just a '$' and no"
                        + " shell runs the command, so it stays that literal text; write ${build.id}",
                "rules.yaml:4:41: '{build.id}' is not a placeholder (no '$' before its '{'), so it stays that literal"
                        + " text; write ${build.id}",
                "rules.yaml:4:55: '$(build.id)' stays that literal text: no shell runs the command, so nothing runs"
                        + " '$(…)'; write ${build.id}",
                "rules.yaml:4:70: '$BUILDHOOK_BUILD_ID' stays that literal text: no shell expands it; use ${build.id}"
                        + " or read the variable in your script",
                "rules.yaml:5:17: '$Build.Idd-x' is not a placeholder: a '$' not followed by '{' is just a '$' and no"
                        + " shell runs the command, so it stays that literal text; write ${build.id}",
                "rules.yaml:5:34: '$(date +%s)' stays that literal text: no shell runs the command, so nothing runs"
                        + " '$(…)'; for a placeholder write ${name} (e.g. ${build.id}); compute anything else in your"
                        + " script",
                "rules.yaml:5:49: '{ job.outcome }' is not a placeholder (no '$' before its '{'), so it stays that"
                        + " literal text; write ${job.outcome}",
                "rules.yaml:5:68: '$BUILDHOOK_RULE' stays that literal text: no shell expands it; read the variable"
                        + " in your script");
        assertThat(set.match("default", TestEvents.seed()).get(0).argv()).as("still passed on as written")
                .contains("$build.id", "{build.id}", "$BUILDHOOK_BUILD_ID");
    }

    @Test
    void warnsAboutEnvValuesAndFollowUpsToo() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/opt/deploy.sh]
                      env: {ID: "$BUILDHOOK_BUILD_ID"}
                    on-failure:
                      command: [/opt/page.sh, "{job.log_path}"]
                """);

        assertThat(warnings(set)).containsExactly(
                "rules.yaml:5:17: '$BUILDHOOK_BUILD_ID' stays that literal text: no shell expands it; use ${build.id}"
                        + " or read the variable in your script",
                "rules.yaml:7:31: '{job.log_path}' is not a placeholder (no '$' before its '{'), so it stays that"
                        + " literal text; write ${job.log_path}");
    }

    @Test
    void leavesAloneWhatIsRightOrIsNotAPlaceholder() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/bin/echo, "${build.id}", "$${build.id}", "$HOME", "$$", "cost: 5$", "{a.b}",
                                "$x.y", "{\\"build.id\\": 1}", "${ build.id }", "--format={{.ID}}", "$PATH.bak",
                                "/opt/$build", "{build}"]
                      env: {A: "${build.trigger}", B: "$1.50"}
                """);

        assertThat(set.writingWarnings()).isEmpty();
    }

    @Test
    void inAShellScriptItsOwnVariablesAndCommandsAreMeantAndAPlaceholderIsBestReadFromItsVariable() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/bin/sh, -c, "echo \\"$BUILDHOOK_BUILD_ID\\" $(date) {build.trigger} $build.id"]
                """);

        assertThat(warnings(set)).containsExactly(
                "rules.yaml:4:30: '{build.trigger}' is not a placeholder (no '$' before its '{'), so it stays that"
                        + " literal text; write \"$BUILDHOOK_TRIGGER\" (every job has it in its environment)",
                "rules.yaml:4:30: '$build.id' is not a placeholder: the shell reads the variable '$build' followed by"
                        + " '.id'; write \"$BUILDHOOK_BUILD_ID\" (every job has it in its environment)");
    }

    @Test
    void aShellVariableWrittenAsAPlaceholderIsAnErrorThatSaysNoShellExpandsIt() {
        assertThatThrownBy(() -> TestRules.parse("""
                rules:
                  - name: r
                    run: {command: [/bin/echo, "${BUILDHOOK_BUILD_ID}", "${HOME}"]}
                """))
                .isInstanceOf(RuleException.class)
                .hasMessageContaining("rules.yaml:3:32: unknown placeholder '${BUILDHOOK_BUILD_ID}': it is written like"
                        + " a shell variable, but no shell expands it; use ${build.id} or read the variable in your"
                        + " script; placeholders: ${build.id}, ")
                .hasMessageContaining("rules.yaml:3:57: unknown placeholder '${HOME}': it is written like a shell"
                        + " variable, but no shell expands it; read the variable in your script; placeholders: ");
    }

    /**
     * review30 L4: a shell behind a wrapper (env, timeout, flock), with options before its -c (bash -lc, -euo
     * pipefail), su -c and ssh's remote command: the code's own $VAR, $(…), $$ and a regex's $ are meant, no warning.
     */
    @Test
    void theShellsOwnVariablesAndCommandsAreMeantBehindAWrapperAndWithOptionsBeforeItsDashC() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: a
                    run: {command: [env, bash, -c, "echo $(date) $HOME"]}
                  - name: b
                    run: {command: [/usr/bin/env, "ID=${build.id}", bash, -lc, "echo \\"$ID\\" $(uname -r) $BUILDHOOK_RULE"]}
                  - name: c
                    run: {command: [/bin/bash, -euo, pipefail, -c, "git describe | grep -E '^v[0-9]+$'; echo $$ '$HOME'"]}
                  - name: d
                    run: {command: [timeout, 5m, sh, -c, "kill -0 $(cat /run/app.pid)"]}
                  - name: e
                    run: {command: [flock, /run/lock/b1, bash, --noprofile, -c, "echo \\"$BUILDHOOK_BUILD_ID\\" $(id -u)"]}
                  - name: f
                    run: {command: [su, deploy, -c, "echo $(id -u) $HOME"]}
                  - name: g
                    run: {command: [ssh, deploy@lab, "systemctl restart app-$(hostname)"]}
                  - name: h
                    run: {command: [flock, /run/lock/b2, -c, "echo $(id -u) $$"]}
                """);

        assertThat(warnings(set)).isEmpty();
    }

    /**
     * review30 L4: what a wrapper or a shell passes on as written is no shell code: a wrapper's VAR=… , the arguments
     * after a shell's code ($0, $1 …) and a script's own arguments; a look-alike there stays literal text.
     */
    @Test
    void aWrappersAssignmentsAndTheArgumentsAShellPassesOnToItsScriptAreNoShellCode() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: a
                    run: {command: [/usr/bin/env, "ID=$build.id", bash, -c, "echo \\"$ID\\""]}
                  - name: b
                    run: {command: [bash, /opt/deploy.sh, "$(git describe)", "$BUILDHOOK_BUILD_ID"]}
                  - name: c
                    run: {command: [sh, -c, "deploy \\"$1\\"", deploy, "$build.id"]}
                """);

        assertThat(warnings(set)).containsExactly(
                "rules.yaml:3:35: '$build.id' is not a placeholder: a '$' not followed by '{' is just a '$' and no"
                        + " shell runs the command, so it stays that literal text; write ${build.id}",
                "rules.yaml:5:43: '$(git describe)' stays that literal text: the shell passes this argument on to the"
                        + " script as written, not as code, so nothing runs '$(…)'; for a placeholder write ${name}"
                        + " (e.g. ${build.id}); compute anything else in your script",
                "rules.yaml:5:62: '$BUILDHOOK_BUILD_ID' stays that literal text: the shell passes this argument on to"
                        + " the script as written, not as code; use ${build.id} or read the variable in your script",
                "rules.yaml:7:54: '$build.id' is not a placeholder: a '$' not followed by '{' is just a '$' and the"
                        + " shell passes this argument on to the script as written, not as code, so it stays that"
                        + " literal text; write ${build.id}");
    }

    /** The problems of a rules file that does not load, each as {@code file:line:column: message}. */
    private static List<String> mistakes(String yaml) {
        RuleException e = org.assertj.core.api.Assertions.catchThrowableOfType(() -> TestRules.parse(yaml),
                RuleException.class);
        assertThat(e).as("the file is refused").isNotNull();
        return e.problems().stream().map(Problem::toString).toList();
    }

    private static final String KNOWN = "; known: ${build.id}, ${build.status}, ${build.project}, ${build.factory},"
            + " ${build.trigger}, ${build.url}, ${build.web_url}, ${build.name}, ${run.name}, ${run.status}, ${run.host_tag},"
            + " ${run.url}, ${run.log_url}, ${job.id}, ${job.rule}, ${job.outcome}, ${job.exit_code}, ${job.attempts},"
            + " ${job.log_path}, ${job.url}";

    /**
     * tryout40 F3: in shell code a ${…} in the shell's own syntax ({@code ${#VAR}}, {@code ${VAR:-x}},
     * {@code ${VAR%.*}}, {@code ${1}}, {@code ${HOME}}, nested ones) is an unknown placeholder, and the error says to
     * write the shell's {@code ${} as {@code $${}, with that expression's text so written; it named only the
     * placeholders (and of {@code ${HOME}} said that no shell expands it, which a shell does there).
     */
    @Test
    void aShellsOwnExpressionInShellCodeIsAnErrorThatGivesItWrittenWithDollarDollarBrace() {
        assertThat(mistakes("""
                rules:
                  - name: r
                    run:
                      command: [/bin/sh, -c, 'echo "len: ${#FLEET_CONFIG}" ${VAR:-x} ${VAR%.*} ${1} ${HOME} ${A:-${B}}', sh]
                  - name: s
                    run: {command: [bash, -lc, 'echo ${A:-${build.id}} ${build.idd} ${x[0]}']}
                """)).containsExactly(
                "rules.yaml:4:30: unknown placeholder '${#FLEET_CONFIG}': in shell code write $${ for the shell's own"
                        + " ${…} (docs/rules.md#placeholders): $${#FLEET_CONFIG}" + KNOWN,
                "rules.yaml:4:30: unknown placeholder '${VAR:-x}': in shell code write $${ for the shell's own ${…}"
                        + " (docs/rules.md#placeholders): $${VAR:-x}" + KNOWN,
                "rules.yaml:4:30: unknown placeholder '${VAR%.*}': in shell code write $${ for the shell's own ${…}"
                        + " (docs/rules.md#placeholders): $${VAR%.*}" + KNOWN,
                "rules.yaml:4:30: unknown placeholder '${1}': in shell code write $${ for the shell's own ${…}"
                        + " (docs/rules.md#placeholders): $${1}" + KNOWN,
                "rules.yaml:4:30: unknown placeholder '${HOME}': in shell code write $${ for the shell's own ${…}"
                        + " (docs/rules.md#placeholders): $${HOME}" + KNOWN,
                "rules.yaml:4:30: unknown placeholder '${A:-${B}}': in shell code write $${ for the shell's own ${…}"
                        + " (docs/rules.md#placeholders): $${A:-$${B}}" + KNOWN,
                "rules.yaml:6:32: unknown placeholder '${A:-${build.id}}': in shell code write $${ for the shell's own"
                        + " ${…} (docs/rules.md#placeholders): $${A:-${build.id}}" + KNOWN,
                "rules.yaml:6:32: unknown placeholder '${build.idd}' (did you mean 'build.id'?)" + KNOWN,
                "rules.yaml:6:32: unknown placeholder '${x[0]}': in shell code write $${ for the shell's own ${…}"
                        + " (docs/rules.md#placeholders): $${x[0]}" + KNOWN);
    }

    /**
     * tryout40 F3, the same kind outside shell code: in an env value, an argument no shell reads and one a shell
     * passes on to its script, {@code $${} keeps such a text as written; a shell-variable name there keeps its own
     * error (no shell expands it), and written with {@code $${} each reaches the job as the shell needs it.
     */
    @Test
    void aShellExpressionElsewhereIsAnErrorThatGivesItWrittenToPassItOnAsWritten() {
        assertThat(mistakes("""
                rules:
                  - name: r
                    run:
                      command: [/usr/bin/printf, '%s', '${#LIST[@]}', /bin/sh, -c, 'echo "$1"', sh, '${1:-none}']
                      env: {OUT: '${VAR:-x}.tar', N: '${2}'}
                """)).containsExactly(
                "rules.yaml:4:40: unknown placeholder '${#LIST[@]}': no shell runs the command; to pass it on as written"
                        + " write $${ for its ${ (docs/rules.md#placeholders): $${#LIST[@]}" + KNOWN,
                "rules.yaml:4:85: unknown placeholder '${1:-none}': the shell passes this argument on to the script as"
                        + " written, not as code; to pass it on as written write $${ for its ${"
                        + " (docs/rules.md#placeholders): $${1:-none}" + KNOWN,
                "rules.yaml:5:18: unknown placeholder '${VAR:-x}': no shell reads an env value; to pass it on as written"
                        + " write $${ for its ${ (docs/rules.md#placeholders): $${VAR:-x}" + KNOWN,
                "rules.yaml:5:38: unknown placeholder '${2}': no shell reads an env value; to pass it on as written"
                        + " write $${ for its ${ (docs/rules.md#placeholders): $${2}" + KNOWN);

        RuleSet fixed = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/bin/sh, -c, 'echo "len: $${#FLEET_CONFIG}" $${A:-$${B}} $${A:-${build.id}}']
                      env: {OUT: '$${VAR:-x}.tar'}
                """);
        var job = fixed.match("default", TestEvents.seed()).get(0);
        assertThat(job.argv()).last().isEqualTo("echo \"len: ${#FLEET_CONFIG}\" ${A:-${B}} ${A:-"
                + "67}");
        assertThat(job.env()).containsEntry("OUT", "${VAR:-x}.tar");
    }
}
