package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout50 F6: the option spellings of the refused variables, and the programs whose options take a program or code,
 * loaded without a word, and on a real server a trigger named {@code uname} chose the program run: {@code [git, -c,
 * "core.sshCommand=${build.trigger}", ls-remote, …]} is {@code GIT_SSH_COMMAND}, {@code [rsync, -e, …]} is {@code
 * RSYNC_RSH}, {@code [tar, "--checkpoint-action=exec=${build.trigger}", …]} runs a command, GNU {@code parallel} gives
 * its command to a shell, {@code expect -c} runs Tcl code. Now an error at load, at file:line:column, as {@link
 * PayloadTextChoosingWhatRunsTest}'s forms are.
 */
class PayloadTextInARunningOptionTest {

    private static String rule(String command) {
        return "rules:\n  - name: opts\n    run:\n      command: " + command + "\n";
    }

    @Test
    void theTryoutsGitSshCommandIsRefusedAtItsPlaceSayingWhatToDo() {
        assertThatThrownBy(() -> TestRules.parse(rule("[/usr/bin/git, -c, \"core.sshCommand=${build.trigger}\","
                + " ls-remote, \"ssh://git@example.invalid/fleet.git\"]")))
                .hasMessageContaining("rules.yaml:4:35: placeholder '${build.trigger}' in the value of git's -c"
                        + " core.sshCommand: its value is the build's own text, which whoever names a project, trigger"
                        + " or run chooses, and that option names the program or code it runs, so it would choose what"
                        + " runs (a trigger named reboot); write the value out in the rule (a script of yours may read"
                        + " the build's value from its environment variable, $BUILDHOOK_TRIGGER, as data), and match"
                        + " the value in 'when' against fixed values (one rule per value if need be)"
                        + " (docs/rules.md#placeholders)");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[git, -c, \"core.sshCommand=${build.trigger}\", fetch] | git's -c core.sshCommand",
        "[git, -c, \"core.pager=${build.trigger}\", log] | git's -c core.pager",
        "[git, -c, \"core.editor=${build.trigger}\", commit] | git's -c core.editor",
        "[git, -c, \"core.fsmonitor=${build.trigger}\", status] | git's -c core.fsmonitor",
        "[git, -c, \"core.hooksPath=/srv/${build.trigger}\", commit] | git's -c core.hooksPath",
        "[git, -c, \"alias.x=!${build.trigger}\", x] | git's -c alias.x",
        "[git, -c, \"credential.helper=!${build.trigger}\", fetch] | git's -c credential.helper",
        "[git, \"-ccore.sshCommand=${build.trigger}\", fetch] | git's -c core.sshCommand",
        "[git, -C, /srv/repo, -c, \"CORE.SSHCOMMAND=${build.trigger}\", fetch] | git's -c CORE.SSHCOMMAND",
        "[git, -c, \"${build.trigger}=x\", fetch] | git's -c ${build.trigger}",
        "[git, \"--exec-path=/srv/${build.trigger}\", fetch] | git's --exec-path",
        "[git, ls-remote, \"--upload-pack=${build.trigger}\", origin] | git ls-remote's --upload-pack",
        "[git, ls-remote, -u, \"${build.trigger}\", origin] | git ls-remote's -u",
        "[git, ls-remote, \"--exec=${build.trigger}\", origin] | git ls-remote's --exec",
        "[git, clone, -u, \"${build.trigger}\", origin, /srv/x] | git clone's -u",
        "[git, clone, -c, \"core.sshCommand=${build.trigger}\", origin] | git clone's -c core.sshCommand",
        "[git, clone, --config, \"core.sshCommand=${build.trigger}\", origin] | git clone's --config core.sshCommand",
        "[git, fetch, origin, --upload-pack, \"${build.trigger}\"] | git fetch's --upload-pack",
        "[git, pull, \"--upload-pack=${build.trigger}\"] | git pull's --upload-pack",
        "[git, push, \"--receive-pack=${build.trigger}\", origin] | git push's --receive-pack",
        "[git, push, --exec, \"${build.trigger}\", origin] | git push's --exec",
        "[sudo, -u, deploy, git, -c, \"core.sshCommand=${build.trigger}\", fetch] | git's -c core.sshCommand",
        "[rsync, -e, \"${build.trigger}\", a, b] | rsync's -e",
        "[rsync, -avze, \"ssh -i /k/${build.trigger}\", a, b] | rsync's -e",
        "[rsync, -a, src/, \"--rsh=${build.trigger}\", host:/x] | rsync's --rsh",
        "[rsync, \"--rsync-path=${build.trigger}\", a, host:/x] | rsync's --rsync-path",
        "[timeout, 5m, rsync, -e, \"${build.trigger}\", a, b] | rsync's -e",
        "[tar, --checkpoint=1, \"--checkpoint-action=exec=${build.trigger}\", -cf, /dev/null, x] | tar's --checkpoint-action",
        "[tar, -xf, a.tar, \"--to-command=${build.trigger}\"] | tar's --to-command",
        "[tar, \"--use-compress-program=${build.trigger}\", -cf, a.tar, x] | tar's --use-compress-program",
        "[tar, -I, \"${build.trigger}\", -cf, a.tar, x] | tar's -I",
        "[tar, -cf, a.tar, \"--info-script=${build.trigger}\", x] | tar's --info-script",
        "[tar, -F, \"${build.trigger}\", -cf, a.tar, x] | tar's -F",
        "[tar, \"--new-volume-script=${build.trigger}\", -cf, a.tar, x] | tar's --new-volume-script",
        "[tar, \"--rsh-command=${build.trigger}\", -cf, host:a.tar, x] | tar's --rsh-command",
        "[scp, -S, \"${build.trigger}\", a, host:b] | scp's -S",
        "[scp, -o, \"ProxyCommand=${build.trigger}\", a, host:b] | scp's -o ProxyCommand",
        "[sftp, \"-oProxyCommand ${build.trigger}\", host] | sftp's -o ProxyCommand",
    })
    void theValueOfAnOptionThatNamesWhatRunsIsRefused(String shape) {
        String[] parts = shape.split(" \\| ");
        assertThatThrownBy(() -> TestRules.parse(rule(parts[0])))
                .hasMessageContaining("in the value of " + parts[1] + ": its value is the build's own text");
    }

    /**
     * review50b R1, R3: the same options under the spellings their programs read too (a long option's unique prefix,
     * GNU tar's dash-less cluster), and git's commands whose operands name what runs ({@code git config KEY VALUE}
     * keeps what {@code -c} gives one command). Each loaded before, and ran the build's text on a real git and tar.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "[tar, --checkpoint=1, \"--checkpoint-act=exec=${build.trigger}\", -cf, a.tar, x] | tar's --checkpoint-action",
        "[tar, --use-compress-prog, \"${build.trigger}\", -cf, a.tar, x] | tar's --use-compress-program",
        "[tar, -xf, a.tar, \"--to-c=${build.trigger}\"] | tar's --to-command",
        "[tar, cIf, \"${build.trigger}\", a.tar, x] | tar's -I",
        "[tar, cfI, a.tar, \"${build.trigger}\", x] | tar's -I",
        "[rsync, \"--rs=${build.trigger}\", a, b] | rsync's --rsh",
        "[rsync, -a, --rsync-p, \"${build.trigger}\", a, host:b] | rsync's --rsync-path",
        "[git, ls-remote, \"--upload-p=${build.trigger}\", .] | git ls-remote's --upload-pack",
        "[git, fetch, \"--upl=${build.trigger}\", origin] | git fetch's --upload-pack",
        "[git, clone, --upload, \"${build.trigger}\", origin, /srv/x] | git clone's --upload-pack",
        "[git, clone, --conf, \"core.sshCommand=${build.trigger}\", origin] | git clone's --config core.sshCommand",
        "[git, push, \"--receive-p=${build.trigger}\", origin] | git push's --receive-pack",
        "[git, config, core.sshCommand, \"${build.trigger}\"] | git config's core.sshCommand",
        "[git, config, --global, alias.x, \"!${build.trigger}\"] | git config's alias.x",
        "[git, -C, /srv/r, config, -f, .gitmodules, core.hooksPath, \"/srv/${build.trigger}\"] | git config's core.hooksPath",
        "[git, config, set, --global, credential.helper, \"!${build.trigger}\"] | git config's credential.helper",
        "[git, rebase, --exec, \"${build.trigger}\", main] | git rebase's --exec",
        "[git, rebase, -i, -x, \"make ${build.trigger}\", main] | git rebase's -x",
        "[git, submodule, foreach, \"echo ${build.trigger}\"] | git submodule foreach's command",
        "[git, submodule, --quiet, foreach, --recursive, make, \"${build.trigger}\"] | git submodule foreach's command",
        "[git, bisect, run, \"${build.trigger}\", x] | git bisect run's program",
    })
    void anotherSpellingOfSuchAnOptionOrAGitCommandThatRunsItsOperandIsRefused(String shape) {
        String[] parts = shape.split(" \\| ");
        assertThatThrownBy(() -> TestRules.parse(rule(parts[0])))
                .hasMessageContaining("in the value of " + parts[1] + ": its value is the build's own text");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[parallel, \"echo ${build.trigger}\", \":::\", a] | the command parallel gives to a shell",
        "[parallel, -j, 2, /opt/deploy, \"${build.trigger}\", \":::\", a, b] | the command parallel gives to a shell",
        "[expect, -c, 'send \"${build.trigger}\"'] | expect's -c code",
    })
    void theCodeParallelAndExpectRunAreRefused(String shape) {
        String[] parts = shape.split(" \\| ");
        assertThatThrownBy(() -> TestRules.parse(rule(parts[0])))
                .hasMessageContaining("placeholder '${build.trigger}' in " + parts[1] + ": its value is the build's"
                        + " own text");
    }

    @Test
    void expectsCodeIsToldToReadTheVariableAsTclDoes() {
        assertThatThrownBy(() -> TestRules.parse(rule("[expect, -c, 'send \"${build.trigger}\"']")))
                .hasMessageContaining("read its variable there instead: $env(BUILDHOOK_TRIGGER)");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[git, -c, \"user.name=${build.project}\", commit, -m, x]",
        "[git, -c, \"core.sshCommand=ssh -i /k/${build.id}.key\", fetch]",
        "[git, fetch, origin, \"${build.trigger}\"]",
        "[git, push, -u, origin, \"${build.trigger}\"]",
        "[git, clone, \"https://example.com/${build.project}.git\", /srv/x]",
        "[git, log, -c, \"${build.trigger}\"]",
        "[rsync, -a, \"/srv/${build.trigger}/\", \"host:/x/${build.trigger}\"]",
        "[rsync, -e, ssh, \"/srv/${build.trigger}/\", host:/x]",
        "[tar, -cf, \"/srv/${build.trigger}.tar\", dir]",
        "[tar, --checkpoint-action=dot, -cf, \"/srv/${build.trigger}.tar\", dir]",
        "[scp, -o, \"User=${build.trigger}\", a, host:b]",
        "[parallel, /opt/deploy, \":::\", \"${build.trigger}\"]",
        "[/opt/deploy, -e, \"${build.trigger}\"]",
    })
    void aValueGivenAsDataStillLoads(String command) {
        assertThat(TestRules.parse(rule(command)).size()).isEqualTo(1);
    }

    /** review50b: the ordinary uses of the forms read since still load. */
    @ParameterizedTest
    @ValueSource(strings = {
        "[tar, --checkpoint=10, -cf, \"/srv/${build.trigger}.tar\", dir]",
        "[tar, --checkpoint, --checkpoint-act=dot, -cf, \"/srv/${build.trigger}.tar\", dir]",
        "[tar, czf, \"/srv/${build.trigger}.tar.gz\", dir]",
        "[tar, xf, a.tar, -C, \"/srv/${build.trigger}\"]",
        "[git, fetch, --upl=git-upload-pack, origin, \"${build.trigger}\"]",
        "[git, config, user.name, \"${build.project}\"]",
        "[git, config, --global, core.sshCommand, \"ssh -i /k/${build.id}.key\"]",
        "[git, rebase, --onto, main, \"${build.trigger}\"]",
        "[git, submodule, update, --init, \"${build.trigger}\"]",
        "[git, bisect, start, \"${build.trigger}\", v1]",
        "[git, --config-env=user.name=BUILDHOOK_PROJECT, commit, -m, x]",
        "[git, --config-env=core.sshCommand=MY_SSH, fetch]",
        "[env, \"DEPLOY_TAG=${build.trigger}\", /opt/deploy]",
        "[env, \"GIT_SSH_COMMAND=ssh -i /k/${build.id}.key\", git, fetch]",
        "[sudo, -u, deploy, \"TAG=${build.trigger}\", /opt/deploy]",
        "[systemd-run, \"--setenv=TAG=${build.trigger}\", /opt/deploy]",
    })
    void theOrdinaryUsesOfTheOtherSpellingsStillLoad(String command) {
        assertThat(TestRules.parse(rule(command)).size()).isEqualTo(1);
    }

    /**
     * A job of the tryout's rule an older build stored and did not start is refused as stored ({@link StoredJobCheck}):
     * cancelled at its pick, listed by {@code check}, as docs/CHANGELOG.md says.
     */
    @Test
    void aJobOfSuchARuleAnOlderBuildStoredIsRefusedAsStored() {
        String snapshot = "{\"name\":\"gitx\",\"run\":{\"command\":[\"/usr/bin/git\",\"-c\","
                + "\"core.sshCommand=${build.trigger}\",\"ls-remote\",\"ssh://git@example.invalid/fleet.git\"]}}";

        assertThat(StoredJobCheck.why("gitx", snapshot, 0, false)).get().asString()
                .contains("run.command element 3: placeholder '${build.trigger}' in the value of git's -c"
                        + " core.sshCommand");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GIT_PROXY_COMMAND", "GIT_SEQUENCE_EDITOR", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR",
        "GIT_CONFIG_PARAMETERS", "RUBYOPT", "RUBYLIB", "NODE_PATH", "PYTHONHOME", "LUA_INIT", "GCONV_PATH", "SHELL",
        "BROWSER", "LESSOPEN", "LESSCLOSE", "MANPAGER", "SYSTEMD_PAGER", "SYSTEMD_EDITOR", "SUDO_ASKPASS", "PS4",
        "ZDOTDIR", "TAR_OPTIONS", "RSYNC_CONNECT_PROG", "PARALLEL", "PARALLEL_SHELL"})
    void theVariablesMissingFromTheFirstListMayNotHoldTheBuildsText(String name) {
        assertThatThrownBy(() -> TestRules.parse(rule("[/usr/bin/git, fetch]") + "      env: {" + name
                + ": \"x-${build.trigger}\"}\n"))
                .hasMessageContaining("rules.yaml:5:")
                .hasMessageContaining("placeholder '${build.trigger}' in env " + name + ": its value is the build's"
                        + " own text");
    }

    /**
     * review50b R2: a refused variable set by a listed wrapper's {@code NAME=VALUE} operand (env's, sudo's,
     * systemd-run's {@code --setenv}/{@code -E}) is the {@code env:} key's, with its words.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "[env, \"GIT_SSH_COMMAND=${build.trigger}\", git, fetch] | GIT_SSH_COMMAND",
        "[env, -i, \"LD_PRELOAD=/srv/${build.trigger}.so\", /opt/x] | LD_PRELOAD",
        "[timeout, 5m, env, \"GIT_CONFIG_VALUE_0=${build.trigger}\", git, fetch] | GIT_CONFIG_VALUE_0",
        "[sudo, -u, deploy, \"PATH=/srv/${build.trigger}\", make] | PATH",
        "[systemd-run, \"--setenv=GIT_SSH_COMMAND=${build.trigger}\", git, fetch] | GIT_SSH_COMMAND",
        "[systemd-run, -E, \"GIT_SSH_COMMAND=${build.trigger}\", git, fetch] | GIT_SSH_COMMAND",
        "[env, \"${build.trigger}=/srv/x.so\", /opt/x] | ${build.trigger}",
    })
    void aRefusedVariableSetByAWrappersOperandIsRefused(String shape) {
        String[] parts = shape.split(" \\| ");
        assertThatThrownBy(() -> TestRules.parse(rule(parts[0])))
                .hasMessageContaining("placeholder '${build.trigger}' in env " + parts[1] + ": its value is the"
                        + " build's own text");
    }

    /** review50b R2: git's other spellings of -c (GIT_CONFIG_COUNT and its pairs) and of its settings file. */
    @ParameterizedTest
    @ValueSource(strings = {"GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_CONFIG_VALUE_12", "GIT_CONFIG_COUNT",
        "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG"})
    void gitsOtherSpellingsOfItsSettingsMayNotHoldTheBuildsText(String name) {
        assertThatThrownBy(() -> TestRules.parse(rule("[/usr/bin/git, fetch]") + "      env: {" + name
                + ": \"x-${build.trigger}\"}\n"))
                .hasMessageContaining("rules.yaml:5:")
                .hasMessageContaining("placeholder '${build.trigger}' in env " + name + ": its value is the build's"
                        + " own text");
    }

    /**
     * review50b R3b: {@code git --config-env KEY=VAR} is {@code -c KEY=VALUE} with VAR's value: naming the variable
     * of the build's own text there is that placeholder there.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "[git, \"--config-env=core.sshCommand=BUILDHOOK_TRIGGER\", ls-remote, x] | BUILDHOOK_TRIGGER (placeholder"
                + " '${build.trigger}') in the value of git's --config-env core.sshCommand",
        "[sudo, git, --config-env, alias.x=BUILDHOOK_PROJECT, x] | BUILDHOOK_PROJECT (placeholder '${build.project}')"
                + " in the value of git's --config-env alias.x",
    })
    void gitsConfigEnvNamingTheBuildsTextIsRefused(String shape) {
        String[] parts = shape.split(" \\| ");
        assertThatThrownBy(() -> TestRules.parse(rule(parts[0])))
                .hasMessageContaining("variable " + parts[1] + ": its value is the build's own text");
    }

    /**
     * fix50c's left: {@code git --config-env KEY=VAR} where VAR is the rule's own {@code env:} entry holding the
     * build's text is the same {@code -c KEY=${build.trigger}}; refused at the element, naming the variable and the
     * placeholder it holds.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "[git, \"--config-env=core.sshCommand=MY_SSH\", fetch] | 4:22",
        "[git, --config-env, core.sshCommand=MY_SSH, fetch] | 4:36",
        "[sudo, -u, deploy, git, --config-env, core.sshCommand=MY_SSH, fetch] | 4:54",
    })
    void gitsConfigEnvNamingTheRulesOwnVariableOfTheBuildsTextIsRefused(String shape) {
        String[] parts = shape.split(" \\| ");
        assertThatThrownBy(() -> TestRules.parse(rule(parts[0]) + "      env: {MY_SSH: \"ssh -i /k/${build.trigger}\"}\n"))
                .hasMessageContaining("rules.yaml:" + parts[1] + ": variable MY_SSH (this rule's env, which holds"
                        + " placeholder '${build.trigger}') in the value of git's --config-env core.sshCommand: its"
                        + " value is the build's own text");
    }

    /** The same variable with a fixed value, or the build's id (a number), or under a key that runs nothing, loads. */
    @ParameterizedTest
    @ValueSource(strings = {
        "[git, --config-env=core.sshCommand=MY_SSH, fetch] | ssh -i /k/deploy.key",
        "[git, --config-env=core.sshCommand=MY_SSH, fetch] | ssh -i /k/${build.id}.key",
        "[git, --config-env=user.name=MY_SSH, commit, -m, x] | ${build.trigger}",
    })
    void gitsConfigEnvNamingAVariableOfAFixedValueStillLoads(String shape) {
        String[] parts = shape.split(" \\| ");
        assertThat(TestRules.parse(rule(parts[0]) + "      env: {MY_SSH: \"" + parts[1] + "\"}\n").size())
                .isEqualTo(1);
    }
}
