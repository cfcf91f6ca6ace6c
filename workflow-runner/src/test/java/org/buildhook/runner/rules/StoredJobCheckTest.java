package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.Test;

/** tryout42 F7: a job stored by an older build carries its rule as it was; this build reads it through its checks. */
class StoredJobCheckTest {

    /** The canonical JSON an older build stored with the job of tryout42 F7's rule {@code deploy}. */
    static final String OLD_DEPLOY = "{\"name\":\"deploy\",\"run\":{\"command\":[\"/bin/bash\",\"-c\","
            + "\"sleep 1; echo \\\"deployed ${build.trigger}\\\"\"],\"concurrency\":1}}";

    private static Job job(String rule, String snapshot, JobWorkflow workflow, String runName) {
        return new Job("01JOB", "01DELIVERY", rule, snapshot, List.of("/bin/true"), Map.of(), null, true,
                Duration.ofMinutes(1), 0, Duration.ofSeconds(1), 1, runName, JobState.QUEUED, 0, null, Instant.EPOCH,
                null, null, null, null, null, false, null, workflow, null, null);
    }

    @Test
    void aRuleAsAnOlderBuildStoredItWithPayloadTextInShellCodeIsRefusedNamingTheElementAndTheReplay() {
        String why = StoredJobCheck.refusal(job("deploy", OLD_DEPLOY, JobWorkflow.NONE, null)).orElseThrow();

        assertThat(why).startsWith("its rule 'deploy' as stored with the job (planned by an older buildhook, or by a"
                + " node of one) is refused by this build: run.command element 3: placeholder '${build.trigger}' in"
                + " shell code: ")
                .contains("\"$BUILDHOOK_TRIGGER\"")
                .endsWith("make a new one of its delivery with the fixed rule in force: buildhook replay 01DELIVERY"
                        + " --rule deploy")
                .doesNotContain("(stored)").doesNotContain(":1:");
    }

    /**
     * tryout43 F9: in a rolling upgrade a node of this build picked a job that a newer node had planned from a rule
     * with a key added since ({@code payload-values} then) and cancelled it, "planned by an older buildhook". A key
     * this build does not know is not a refusal; a known element that is refused still is.
     */
    @Test
    void aKeyThisBuildDoesNotKnowIsNoRefusalButAKnownRefusedElementStillIs() {
        String newer = "{\"name\":\"deploy\",\"run\":{\"command\":[\"/opt/deploy.sh\",\"${build.trigger}\"],"
                + "\"sandbox\":\"strict\"},\"rollout\":{\"waves\":2}}";
        assertThat(StoredJobCheck.refusal(job("deploy", newer, JobWorkflow.NONE, null))).isEmpty();

        String both = OLD_DEPLOY.replace("\"concurrency\":1", "\"concurrency\":1,\"sandbox\":\"strict\"");
        assertThat(StoredJobCheck.refusal(job("deploy", both, JobWorkflow.NONE, null))).get().asString()
                .contains("placeholder '${build.trigger}' in shell code").doesNotContain("unknown key");
    }

    @Test
    void aFollowUpAsStoredIsCheckedAsTheActionItIs() {
        JobWorkflow followUp = new JobWorkflow(7L, null, false, null, Map.of(), Map.of(), null, "01PARENT", 1);
        String action = "{\"command\":[\"/bin/sh\",\"-c\",\"echo ${build.project} ${job.outcome}\"]}";

        String why = StoredJobCheck.refusal(job("deploy/on-failure", action, followUp, null)).orElseThrow();

        assertThat(why).startsWith("its follow-up 'on-failure' of rule 'deploy' as stored with the job")
                .contains("refused by this build: on-failure.command element 3: placeholder '${build.project}' in"
                        + " shell code")
                .endsWith("buildhook replay 01DELIVERY --rule deploy");
    }

    @Test
    void everyRuleAndFollowUpThisBuildPlansIsNotRefused() {
        RuleSet rules = TestRules.parse("resources: {boards: 3}\n"
                + "rules:\n"
                + "  - name: deploy\n"
                + "    description: the whole \"works\"\n"
                + "    when: {endpoint: default, project: ['andy-corp/*', x], runs: {match: each}}\n"
                + "    supersede: {key: '${build.project}-${run.name}', running: cancel}\n"
                + "    approval: {expires: 8h}\n"
                + "    renamed-from: [deploy-old]\n"
                + "    run:\n"
                + "      command: [/bin/sh, -c, 'deploy \"$BUILDHOOK_TRIGGER\"', '${build.trigger}', '${run.name}']\n"
                + "      env: {TARGET: 'prod ${build.project}', LEVEL: 3}\n"
                + "      workdir: /tmp\n"
                + "      timeout: 10m\n"
                + "      retries: 2\n"
                + "      backoff: 5s\n"
                + "      concurrency: 1\n"
                + "      stdin: false\n"
                + "      resources: {boards: 2}\n"
                + "    on-failure:\n"
                + "      command: [/opt/page.sh, '${job.id}', '${run.name}']\n"
                + "      resources: {boards: 1}\n"
                + "      on-success: {command: [/opt/log.sh, '${job.rule}']}\n"
                + "  - name: plain\n"
                + "    run: {command: [/opt/plain.sh, '${build.id}']}\n");
        rules.snapshots().forEach((name, snapshot) -> assertThat(StoredJobCheck.why(name, snapshot, 0, false))
                .as(name).isEmpty());

        PlannedJob deploy = rules.match("default", TestEvents.seed()).get(0);
        assertThat(StoredJobCheck.refusal(job(deploy.ruleName(), deploy.ruleSnapshot(), deploy.workflow(),
                deploy.runName()))).isEmpty();
        PlannedJob page = FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(),
                deploy.runName(), new FollowUpParent("01JOB", "deploy", "FAILED", 1, 1, null)).orElseThrow();
        assertThat(StoredJobCheck.refusal(job(page.ruleName(), page.ruleSnapshot(), page.workflow(),
                page.runName()))).isEmpty();
        PlannedJob log = FollowUps.plan(page.workflow().followUps(), "default", TestEvents.seed(), page.runName(),
                new FollowUpParent("01PAGE", "deploy/on-failure", "SUCCEEDED", 0, 1, null)).orElseThrow();
        assertThat(StoredJobCheck.refusal(job(log.ruleName(), log.ruleSnapshot(), log.workflow(), log.runName())))
                .isEmpty();
    }

    @Test
    void aSnapshotThatIsNoRuleBuildhookWroteIsNotRefused() {
        assertThat(StoredJobCheck.why("deploy", "name: deploy", 0, false)).isEmpty();
        assertThat(StoredJobCheck.why("deploy", null, 0, false)).isEmpty();
        assertThat(StoredJobCheck.why("deploy", "{}", 0, false)).isEmpty();
        assertThat(StoredJobCheck.why("deploy/on-failure", "{}", 1, false)).isEmpty();
    }
}
