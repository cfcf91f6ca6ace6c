package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout42 F2, F3: a placeholder of the build's own text where it chooses what runs loaded without a word: the program
 * a wrapper runs ({@code [env, "${build.trigger}"]}, {@code [timeout, 5m, "/opt/ci/${build.trigger}"]}: a trigger
 * {@code reboot}), an environment variable a program runs or loads as code ({@code GIT_SSH_COMMAND}, {@code
 * LD_PRELOAD}, {@code PATH}). Now an error at load, at file:line:column, as a placeholder in the program itself is.
 */
class PayloadTextChoosingWhatRunsTest {

    private static String rule(String command) {
        return "rules:\n  - name: wrapped\n    run:\n      command: " + command + "\n";
    }

    @Test
    void theProgramTimeoutRunsIsRefusedAtItsPlace() {
        assertThatThrownBy(() -> TestRules.parse(rule("[timeout, 5m, \"/opt/ci/${build.trigger}\"]")))
                .hasMessageContaining("rules.yaml:4:30: placeholder '${build.trigger}' in the program timeout runs:"
                        + " its value is the build's own text, which whoever names a project, trigger or run chooses,"
                        + " and it would choose which program runs (a trigger named reboot); name the program in the"
                        + " rule, and match the value in 'when' against fixed values");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[env, \"${build.trigger}\"] | env",
        "[/usr/bin/env, -u, HOME, FOO=1, \"${build.project}\"] | env",
        "[nice, -n, 5, \"${build.trigger}\"] | nice",
        "[nohup, \"/opt/${build.factory}/deploy\"] | nohup",
        "[setsid, -w, \"${build.trigger}\"] | setsid",
        "[stdbuf, -oL, \"${build.trigger}\"] | stdbuf",
        "[ionice, -c, 3, \"${build.trigger}\"] | ionice",
        "[flock, -w, 10, /run/lock/b1, \"${build.trigger}\"] | flock",
        "[sudo, -u, deploy, \"${build.trigger}\"] | sudo",
        "[sudo, -u, deploy, A=1, \"${build.trigger}\"] | sudo",
        "[doas, -u, deploy, \"${build.trigger}\"] | doas",
        "[xargs, -n, 1, \"${build.trigger}\"] | xargs",
        "[chrt, -f, 10, \"${build.trigger}\"] | chrt",
        "[taskset, -c, 0-3, \"${build.trigger}\"] | taskset",
        "[chroot, /srv/root, \"${build.trigger}\"] | chroot",
        "[runuser, -u, deploy, --, \"${build.trigger}\"] | runuser",
        "[systemd-run, --unit, x, \"${build.trigger}\"] | systemd-run",
        "[sudo, -u, deploy, timeout, 5m, \"${build.trigger}\"] | timeout",
        "[nice, env, X=1, \"${build.status}\"] | env",
    })
    void theProgramAnyKnownWrapperRunsIsRefused(String shape) {
        String[] parts = shape.split(" \\| ");
        assertThatThrownBy(() -> TestRules.parse(rule(parts[0])))
                .hasMessageContaining("in the program " + parts[1] + " runs: its value is the build's own text");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[timeout, 5m, /opt/ci/deploy, \"${build.trigger}\"]",
        "[env, \"TRIGGER=${build.trigger}\", /opt/deploy]",
        "[nice, -n, 5, /opt/deploy, \"--tag=${build.trigger}\"]",
        "[sudo, -u, deploy, /opt/deploy, \"${build.trigger}\"]",
        "[env, \"${build.id}\"]",
        "[/opt/deploy, env, \"${build.trigger}\"]",
    })
    void aValueGivenToTheProgramNotNamingItStillLoads(String command) {
        assertThat(TestRules.parse(rule(command)).size()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"GIT_SSH_COMMAND", "GIT_SSH", "GIT_ASKPASS", "SSH_ASKPASS", "EDITOR", "VISUAL", "GIT_EDITOR",
        "PAGER", "GIT_PAGER", "GIT_EXTERNAL_DIFF", "RSYNC_RSH", "BASH_ENV", "ENV", "PROMPT_COMMAND", "LD_PRELOAD",
        "LD_LIBRARY_PATH", "LD_AUDIT", "PYTHONSTARTUP", "PYTHONPATH", "PERL5OPT", "PERL5LIB", "NODE_OPTIONS",
        "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "PATH", "IFS"})
    void aVariableAProgramRunsOrLoadsAsCodeMayNotHoldTheBuildsText(String name) {
        assertThat(WrappedPrograms.CODE_VARIABLES).containsKey(name);
        assertThatThrownBy(() -> TestRules.parse(rule("[/usr/bin/git, fetch]") + "      env: {" + name
                + ": \"x-${build.trigger}\"}\n"))
                .hasMessageContaining("rules.yaml:5:") .hasMessageContaining("placeholder '${build.trigger}' in env "
                        + name + ": its value is the build's own text");
    }

    @Test
    void theTryoutsDeployKeyIsRefusedSayingWhoRunsTheVariable() {
        assertThatThrownBy(() -> TestRules.parse(rule("[/usr/bin/git, fetch, origin]")
                + "      env: {GIT_SSH_COMMAND: \"ssh -i /etc/keys/${build.trigger}.key\"}\n"))
                .hasMessageContaining("rules.yaml:5:30: placeholder '${build.trigger}' in env GIT_SSH_COMMAND: its value"
                        + " is the build's own text, which whoever names a project, trigger or run chooses, and git"
                        + " runs it through sh -c (git(1)), so it would be read as code, an option or where to load"
                        + " code from; write the value out in the rule");
    }

    @Test
    void otherVariablesAndBuildhooksOwnValuesStillLoad() {
        RuleSet rules = TestRules.parse(rule("[/usr/bin/git, fetch, origin]")
                + "      env: {DEPLOY_TAG: \"${build.trigger}\", GIT_SSH_COMMAND: \"ssh -i /k/${build.id}.key\"}\n");

        assertThat(rules.size()).isEqualTo(1);
    }
}
