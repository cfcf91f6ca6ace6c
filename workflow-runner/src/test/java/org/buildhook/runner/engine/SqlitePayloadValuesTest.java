package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.AcceptResult;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

/**
 * tryout42 F2, F3 as real processes through a real engine and store: each value ran its harm through a rule that
 * loaded without a word; now the job that would write it is stored FAILED and never started, the delivery's other
 * jobs run, and its {@code on-failure} pages (PayloadValues).
 */
class SqlitePayloadValuesTest extends AbstractWorkflowTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    /** The fixture's body with {@code trigger_name} set to {@code trigger} and {@code extra} JSON fields first. */
    private static byte[] body(String trigger, String extra) {
        String quoted = new String(JsonStringEncoder.getInstance().quoteAsString(trigger));
        String body = Plans.fixture().replace("\"trigger_name\": \"containers-devel\"", "\"trigger_name\": \"" + quoted
                + "\"");
        assertThat(body).contains(quoted);
        return ("{" + extra + body.substring(body.indexOf('{') + 1)).getBytes(StandardCharsets.UTF_8);
    }

    private AcceptResult deliverTrigger(RuleSet rules, String trigger, String extra) {
        return deliver(rules, body(trigger, extra));
    }

    @Test
    void bashIsNotGivenTheWebhookBodyAsItsScriptAndTheOnFailurePages() throws IOException {
        Path triggers = Files.createDirectories(dir.resolve("triggers"));
        Path pwned = dir.resolve("PWNED-stdin");
        Path paged = dir.resolve("paged");
        Path other = dir.resolve("other-ran");
        RuleSet rules = rules("rules:\n"
                + "  - name: per-trigger-script\n"
                + "    run: {command: [/bin/bash, \"" + triggers + "/${build.trigger}\"]}\n"
                + "    on-failure: {command: [/bin/sh, \"" + script("page.sh", "echo \"$1 $2\" > " + paged)
                        + "\", \"${job.outcome}\", \"${job.attempts}\"]}\n"
                + "  - name: other\n"
                + "    run: {command: [/usr/bin/touch, \"" + other + "\"]}\n");
        openStore();
        startEngine();

        AcceptResult accepted = deliverTrigger(rules, "../".repeat(16) + "dev/stdin",
                "\"annotation\": \"$(touch " + pwned + ")\", ");
        Job refused = job(accepted.jobIds().get(0));
        awaitFinal(accepted.jobIds().get(1));
        awaitOnlyJobOf("per-trigger-script/on-failure");

        assertState(refused, JobState.FAILED);
        assertThat(refused.message()).startsWith("not started: rule 'per-trigger-script' writes ${build.trigger} into"
                + " argument 1 of 'command'").contains("'..' path segment");
        assertThat(refused.attempts()).isZero();
        assertThat(refused.argv()).containsExactly("/bin/bash", triggers + "/${build.trigger}");
        assertState(job(accepted.jobIds().get(1)), JobState.SUCCEEDED);
        assertThat(other).exists();
        assertThat(Files.readString(paged)).isEqualTo("FAILED 0\n");
        assertThat(pwned).doesNotExist();
        assertThat(jobsOfRule("per-trigger-script")).hasSize(1);
    }

    @Test
    void rmRfLeavesTheSiblingFolderAlone() throws IOException {
        Path builds = Files.createDirectories(dir.resolve("builds"));
        Path victim = Files.createDirectories(dir.resolve("victim"));
        Files.writeString(victim.resolve("important.txt"), "keep");
        RuleSet rules = rules("rules:\n  - name: cleanup-builds\n"
                + "    run: {command: [/bin/rm, -rf, \"" + builds + "/${build.trigger}\"]}\n");
        openStore();
        startEngine();

        Job refused = awaitFinal(deliverTrigger(rules, "../victim", "").jobIds().get(0)).job();

        assertState(refused, JobState.FAILED);
        assertThat(victim.resolve("important.txt")).hasContent("keep");

        // tryout43 F7: a trigger '/' made it rm -rf the builds folder itself.
        Files.writeString(builds.resolve("build-1.img"), "keep");
        assertState(awaitFinal(deliverTrigger(rules, "/", "").jobIds().get(0)).job(), JobState.FAILED);
        assertThat(builds.resolve("build-1.img")).hasContent("keep");
    }

    @Test
    void makeDoesNotExpandTheTriggerAsMakeCode() throws IOException {
        Path mk = Files.createDirectories(dir.resolve("mk"));
        Files.writeString(mk.resolve("Makefile"), "deploy: ; @echo deploying tag \"$(TAG)\"\n");
        Path pwned = dir.resolve("PWNED-make");
        RuleSet rules = rules("rules:\n  - name: make-deploy\n"
                + "    run: {command: [/usr/bin/make, -C, \"" + mk + "\", deploy, \"TAG=${build.trigger}\"]}\n");
        openStore();
        startEngine();

        Job refused = awaitFinal(deliverTrigger(rules, "$(shell touch " + pwned + ")", "").jobIds().get(0)).job();

        assertState(refused, JobState.FAILED);
        assertThat(refused.message()).contains("into argument 4 of 'command'").contains("it holds '$'");
        assertThat(pwned).doesNotExist();
    }

    @Test
    void gitIsNotGivenTheTriggerAsAnOption() throws Exception {
        Path clone = dir.resolve("clone");
        assertThat(new ProcessBuilder("git", "init", "-q", clone.toString()).start().waitFor(60, TimeUnit.SECONDS))
                .isTrue();
        Path pwned = dir.resolve("PWNED-git");
        Files.writeString(dir.resolve("upload.sh"), "#!/bin/sh\ntouch " + pwned + "\nexit 1\n");
        dir.resolve("upload.sh").toFile().setExecutable(true);
        RuleSet rules = rules("rules:\n  - name: git-fetch\n"
                + "    run: {command: [/usr/bin/git, -C, \"" + clone + "\", fetch, \"" + dir + "\", \"${build.trigger}\"]}\n");
        openStore();
        startEngine();

        Job refused = awaitFinal(deliverTrigger(rules, "--upload-pack=" + dir.resolve("upload.sh"), "").jobIds()
                .get(0)).job();

        assertState(refused, JobState.FAILED);
        assertThat(refused.message()).contains("argument 5 of 'command'").contains("begins with '-'");
        assertThat(pwned).doesNotExist();
    }

    /**
     * GIT_SSH_COMMAND is refused at load (WrappedPrograms); a variable of the operator's own that a script gives to a
     * shell, as git gives GIT_SSH_COMMAND to sh -c, has its value checked.
     */
    @Test
    void anEnvValueAScriptRunsThroughAShellIsNotSpliced() throws IOException {
        Path pwned = dir.resolve("PWNED-ssh");
        RuleSet rules = rules("rules:\n  - name: deploy-key\n"
                + "    run:\n      command: [/bin/sh, \"" + script("deploy.sh", "sh -c \"$DEPLOY_SSH\"") + "\"]\n"
                + "      env: {DEPLOY_SSH: \"echo -i /etc/keys/${build.trigger}.key\"}\n");
        openStore();
        startEngine();

        Job refused = awaitFinal(deliverTrigger(rules, "x; touch " + pwned + "; #", "").jobIds().get(0)).job();

        assertState(refused, JobState.FAILED);
        assertThat(refused.message()).contains("into env DEPLOY_SSH");
        assertThat(pwned).doesNotExist();
    }

    @Test
    void aRuleThatOptsOutRunsAsBefore() throws IOException {
        Path out = dir.resolve("out");
        RuleSet rules = rules("rules:\n  - name: notify\n"
                + "    run:\n      command: [/bin/sh, \"" + script("notify.sh", "printf '%s' \"$1\" > " + out)
                        + "\", \"${build.trigger}\"]\n      payload-values: as-sent\n");
        openStore();
        startEngine();

        Job ran = awaitFinal(deliverTrigger(rules, "a b; $(c)", "").jobIds().get(0)).job();

        assertState(ran, JobState.SUCCEEDED);
        assertThat(out).hasContent("a b; $(c)");
    }
}
