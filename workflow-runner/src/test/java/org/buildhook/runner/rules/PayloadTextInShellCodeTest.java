package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
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

    @Test
    void theTryoutsRuleIsRefusedWithTheVariableToReadInstead() {
        assertThatThrownBy(() -> TestRules.parse(rule(
                "[/bin/sh, -c, 'echo \"deploying project ${build.project} trigger ${build.trigger}\"']")))
                .hasMessageContaining("rules.yaml:4:30: placeholder '${build.project}' in shell code: its value is the"
                        + " build's own text, which whoever names a project, trigger or run chooses, and the shell would"
                        + " run it as code; read its variable there instead, in double quotes: \"$BUILDHOOK_PROJECT\"")
                .hasMessageContaining("rules.yaml:4:30: placeholder '${build.trigger}' in shell code")
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

    @Test
    void aRunsValuesInShellCodeAreRefusedToo() {
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: boards\n    runs: {match: each}\n    run:\n"
                + "      command: [/bin/sh, -c, 'test-board ${run.name} ${run.host_tag}']\n"))
                .hasMessageContaining("rules.yaml:5:30: placeholder '${run.name}' in shell code")
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
}
