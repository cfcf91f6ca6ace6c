package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.AcceptResult;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.Dialect;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.junit.jupiter.api.Test;

/**
 * tryout42 F7: jobs an older build stored (queued, awaiting an approval) of rules this build refuses at load, with the
 * payload's text rendered into shell code, are not run by this build's engine, which ends them with why and what to do;
 * jobs of rules it plans run as before. On SQLite and PostgreSQL (whose first start of a job without a limit is made
 * with its read). And values43 V2 / tryout43 F8: jobs an older build stored with payload values this build refuses
 * where it plans a job end FAILED unrun, as planning would have stored them, and their on-failure starts.
 */
abstract class AbstractStoredRuleRefusedTest extends AbstractWorkflowTest {

    /** A job as an older build planned it: its rule's snapshot and its command as that build rendered them. */
    private static PlannedJob asOldBuildPlannedIt(PlannedJob now, String snapshot, List<String> argv) {
        return new PlannedJob(now.ruleName(), snapshot, argv, now.env(), now.workdir(), now.stdin(), now.timeout(),
                now.retries(), now.backoff(), now.concurrency(), now.runName(), now.workflow());
    }

    /**
     * A job the older build's node left marked running (it crashed while attempt 1 ran): this build does not run it
     * again; its next attempt's start ends attempt 1's record, and that attempt is recorded as not started.
     */
    @Test
    void aJobAnOlderBuildLeftMarkedRunningIsNotRunAgain() throws IOException {
        Path pwned = dir.resolve("PWNED");
        String trigger = "y\"; touch " + pwned + "; echo \"";
        RuleSet rules = rules("rules:\n  - name: deploy\n"
                + "    run: {command: [/bin/bash, -c, 'echo \"$BUILDHOOK_TRIGGER\"'], concurrency: 1}\n");
        PlannedJob now = rules.match("default", new BuildEventParser().parse(body(67))).get(0);
        String code = "sleep 1; echo \"deployed ${build.trigger}\"";
        openStore();
        String deploy = store.accept(Plans.delivery(Plans.fixture()), List.of(asOldBuildPlannedIt(now,
                now.ruleSnapshot().replace(now.argv().get(2).replace("\"", "\\\""), code.replace("\"", "\\\"")),
                List.of("/bin/bash", "-c", code.replace("${build.trigger}", trigger))))).jobIds().get(0);
        assertThat(store.ledger().startAttempt(deploy, "old-node")).isEqualTo(1);
        assertState(job(deploy), JobState.RUNNING);

        startEngine();

        org.buildhook.runner.store.JobDetail ended = awaitFinal(deploy);
        assertState(ended.job(), JobState.CANCELLED);
        assertThat(ended.job().message()).startsWith("not run again (attempt 1 ran under an earlier build): its rule"
                + " 'deploy' as stored with the job");
        assertThat(ended.attempts()).hasSize(2);
        assertThat(ended.attempts().get(0).outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.INTERRUPTED);
        assertThat(ended.attempts().get(1).message()).startsWith("not run again (attempt 1 ran under an earlier build)");
        assertThat(pwned).doesNotExist();
    }

    @Test
    void jobsOfARuleThisBuildRefusesEndCancelledUnrunAndTheOthersRunWithTheirFollowUps() throws IOException {
        Path pwned = dir.resolve("PWNED");
        Path ok = dir.resolve("ok");
        String trigger = "y\"; touch " + pwned + "; echo \"";
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/bash, -c, 'sleep 1; echo \"deployed $BUILDHOOK_TRIGGER\"'], concurrency: 1}\n"
                + "    on-cancel: {command: [/usr/bin/touch, " + dir.resolve("cleaned") + "]}\n"
                + "  - name: notify\n"
                + "    run: {command: [/bin/sh, -c, 'echo \"$BUILDHOOK_TRIGGER\"']}\n"
                + "  - name: announce\n"
                + "    approval: {expires: 1d}\n"
                + "    run: {command: [/bin/sh, -c, 'echo \"$BUILDHOOK_TRIGGER\"']}\n"
                + "    on-cancel: {command: [/usr/bin/touch, " + dir.resolve("announce-cleaned") + "]}\n"
                + "  - name: fine\n"
                + "    run: {command: [/bin/sh, -c, 'echo \"$1\" >> " + ok + "', fine, '${build.trigger}'],\n"
                + "      payload-values: as-sent}\n"
                + "    on-success: {command: [/bin/sh, -c, 'echo \"$1\" >> " + ok + "', follow, '${job.outcome}']}\n");
        byte[] body = Plans.fixture().replace("\"trigger_name\": \"containers-devel\"", "\"trigger_name\": \""
                + trigger.replace("\"", "\\\"") + "\"").getBytes(StandardCharsets.UTF_8);
        BuildEvent event = new BuildEventParser().parse(body);
        assertThat(event.triggerName()).isEqualTo(trigger);
        List<PlannedJob> planned = new ArrayList<>();
        for (PlannedJob now : rules.match("default", event)) {
            String code = switch (now.ruleName()) {
                case "deploy" -> "sleep 1; echo \"deployed ${build.trigger}\"";
                case "notify" -> "echo \"deploying ${build.project} trigger ${build.trigger}\"";
                case "announce" -> "echo \"announcing ${build.trigger}\"";
                default -> null;
            };
            planned.add(code == null ? now : asOldBuildPlannedIt(now, now.ruleSnapshot().replace(
                    now.argv().get(2).replace("\"", "\\\""), code.replace("\"", "\\\"")),
                    List.of(now.argv().get(0), "-c", code.replace("${build.trigger}", trigger)
                            .replace("${build.project}", "andy-corp/lmp"))));
        }
        openStore();
        AcceptResult stored = store.accept(Plans.delivery("default", new String(body, StandardCharsets.UTF_8),
                Instant.now()), DeliverySummary.of(event), planned);
        List<String> ids = stored.jobIds();
        String deploy = ids.get(0);
        String notify = ids.get(1);
        String announce = ids.get(2);
        String fine = ids.get(3);
        assertThat(job(deploy).ruleSnapshot()).contains("${build.trigger}");

        startEngine();

        for (String id : List.of(deploy, notify)) {
            Job ended = awaitFinal(id).job();
            assertState(ended, JobState.CANCELLED);
            assertThat(ended.message()).startsWith("not run: its rule '" + ended.ruleName() + "' as stored with the job")
                    .contains("is refused by this build: run.command element 3: placeholder '${build.")
                    .contains("placeholder '${build.trigger}' in shell code")
                    .endsWith("buildhook replay " + stored.deliveryId() + " --rule " + ended.ruleName());
            assertThat(store.followUps().isPending(id)).as("nothing of its rule ran: no follow-up").isFalse();
        }
        // PostgreSQL starts the first attempt of a job without a limit with its read: recorded as not started.
        assertThat(awaitFinal(notify).attempts()).hasSize(store.dialect() == Dialect.POSTGRESQL ? 1 : 0)
                .allSatisfy(a -> assertThat(a.message()).startsWith("not run: its rule 'notify'"));
        assertThat(awaitFinal(deploy).attempts()).isEmpty();
        assertState(awaitFinal(fine).job(), JobState.SUCCEEDED);
        await().atMost(Duration.ofSeconds(60)).until(() -> jobsOfRule("fine/on-success").size() == 1
                && jobsOfRule("fine/on-success").get(0).state() == JobState.SUCCEEDED);
        assertThat(java.nio.file.Files.readAllLines(ok)).containsExactly(trigger, "SUCCEEDED");

        // tryout49 F6: one awaiting an approval, which this build cannot give, is ended by the start, not left
        // awaiting one (jobs, status and the metric said it did) until its expiry.
        assertState(job(announce), JobState.CANCELLED);
        assertThat(job(announce).message()).startsWith("not run: it awaited an approval, which this build cannot give:"
                + " its rule 'announce' as stored with the job")
                .endsWith("buildhook replay " + stored.deliveryId() + " --rule announce");
        assertThat(store.approve(announce, "alice")).isFalse();
        // Nothing of its rule ran, so no follow-up of it starts (as the pick's JobTask.refused): its on-cancel is not
        // due (review49 F10: it ran, the job's follow-ups left pending by the start's cancel).
        await().atMost(Duration.ofSeconds(60)).until(() -> !store.followUps().isPending(announce)
                || !jobsOfRule("announce/on-cancel").isEmpty());
        assertThat(jobsOfRule("announce/on-cancel")).as("a follow-up of a job none of whose commands ran").isEmpty();
        assertThat(store.followUps().isPending(announce)).isFalse();

        assertThat(jobsOfRule("deploy/on-cancel")).isEmpty();
        assertThat(pwned).doesNotExist();
        assertThat(dir.resolve("cleaned")).doesNotExist();
    }

    /** A job as an older build planned it from the rule this build has: the refused value rendered, unchecked. */
    private static PlannedJob unchecked(PlannedJob now, String trigger) {
        List<String> argv = new ArrayList<>();
        now.argv().forEach(a -> argv.add(a.replace("${build.trigger}", trigger)));
        return asOldBuildPlannedIt(now, now.ruleSnapshot(), argv);
    }

    private AcceptResult storeAsAnOldBuild(RuleSet rules, String trigger, List<String> ruleNames) {
        byte[] body = Plans.fixture().replace("\"trigger_name\": \"containers-devel\"", "\"trigger_name\": \""
                + trigger + "\"").getBytes(StandardCharsets.UTF_8);
        BuildEvent event = new BuildEventParser().parse(body);
        assertThat(event.triggerName()).isEqualTo(trigger);
        List<PlannedJob> planned = new ArrayList<>();
        for (PlannedJob now : rules.match("default", event)) {
            if (ruleNames.contains(now.ruleName())) {
                planned.add(unchecked(now, trigger));
            }
        }
        return store.accept(Plans.delivery("default", new String(body, StandardCharsets.UTF_8), Instant.now()),
                DeliverySummary.of(event), planned);
    }

    /**
     * values43 V2 / tryout43 F8: {@code [rm, -rf, "…/builds/${build.trigger}"]} stored by an older build with a
     * trigger {@code ../victim} removed the sibling folder after the upgrade, and with {@code /} every build. This build
     * ends such jobs FAILED without running them (with no limit: PostgreSQL's start at the read; with a concurrency
     * limit: after its slot; one approved by an older node, at its pick; one an older node left marked running, at
     * its next attempt's start), with planning's words; their on-failure pages. One still awaiting an approval, which
     * this build cannot give (409), ends CANCELLED at the node's start with why and the replay, as one of a rule this
     * build refuses (review50 F2: it stayed AWAITING_APPROVAL, counted as awaiting one, until its expiry). One that
     * writes {@code payload-values: as-sent} runs, and so does one whose value passes.
     */
    @Test
    void jobsAnOlderBuildStoredWithValuesThisBuildRefusesEndFailedUnrunAndTheirOnFailureStarts() throws IOException {
        Path builds = java.nio.file.Files.createDirectories(dir.resolve("builds"));
        java.nio.file.Files.createDirectories(builds.resolve("nightly"));
        java.nio.file.Files.createDirectories(builds.resolve("keep"));
        Path victim = java.nio.file.Files.createDirectories(dir.resolve("victim"));
        java.nio.file.Files.createDirectories(dir.resolve("marks"));
        Path pages = dir.resolve("pages");
        Path ok = dir.resolve("ok");
        String rm = "[/bin/rm, -rf, '" + builds + "/${build.trigger}']";
        String page = "{command: [/bin/sh, -c, 'echo \"$1 $2\" >> " + pages + "', page, '${job.outcome}',"
                + " '${job.rule}']}";
        RuleSet rules = rules("rules:\n"
                + "  - name: cleanup\n"
                + "    run: {command: " + rm + "}\n"
                + "    on-failure: " + page + "\n"
                + "  - name: cleanup-one\n"
                + "    run: {command: " + rm + ", concurrency: 1}\n"
                + "    on-failure: " + page + "\n"
                + "  - name: announce\n"
                + "    approval: {expires: 1d}\n"
                + "    run: {command: [/usr/bin/touch, '" + dir + "/marks/${build.trigger}-announced']}\n"
                + "  - name: as-sent\n"
                + "    run: {command: [/bin/sh, -c, 'echo \"$1\" >> " + ok + "', x, '${build.trigger}'],"
                + " payload-values: as-sent}\n");
        openStore();
        AcceptResult climbs = storeAsAnOldBuild(rules, "../victim", List.of("cleanup", "cleanup-one", "announce",
                "as-sent"));
        AcceptResult slash = storeAsAnOldBuild(rules, "/", List.of("cleanup", "cleanup-one", "announce"));
        AcceptResult fine = storeAsAnOldBuild(rules, "nightly", List.of("cleanup"));
        String cleanup = climbs.jobIds().get(0);
        String cleanupOne = climbs.jobIds().get(1);
        String announce = climbs.jobIds().get(2);
        String asSent = climbs.jobIds().get(3);
        String all = slash.jobIds().get(0);
        String crashed = slash.jobIds().get(1);
        String approved = slash.jobIds().get(2);
        assertThat(job(cleanup).argv()).containsExactly("/bin/rm", "-rf", builds + "/../victim");
        // The older build's node crashed while attempt 1 of one ran (its command had not removed anything yet).
        assertThat(store.ledger().startAttempt(crashed, "old-node")).isEqualTo(1);
        // An older node's approval of another, which that build did not refuse.
        assertThat(store.approve(approved, "alice")).isTrue();

        startEngine();

        for (String id : List.of(cleanup, cleanupOne)) {
            Job ended = awaitFinal(id).job();
            assertState(ended, JobState.FAILED);
            assertThat(ended.message()).startsWith("not started: rule '" + ended.ruleName() + "' writes"
                    + " ${build.trigger} into argument 2 of 'command', and its value \"../victim\" is refused: it holds"
                    + " a '..' path segment").contains("payload-values: as-sent")
                    .contains("planned by an older buildhook")
                    .endsWith("buildhook replay " + climbs.deliveryId() + " --rule " + ended.ruleName());
        }
        // PostgreSQL starts the first attempt of a job without a limit with its read: recorded as not started.
        assertThat(awaitFinal(cleanup).attempts()).hasSize(store.dialect() == Dialect.POSTGRESQL ? 1 : 0)
                .allSatisfy(a -> assertThat(a.message()).startsWith("not started: rule 'cleanup'"));
        assertThat(awaitFinal(cleanupOne).attempts()).isEmpty();
        assertState(awaitFinal(all).job(), JobState.FAILED);
        assertThat(job(all).message()).contains("its value \"/\" is refused: it has no letter or digit");
        Job again = awaitFinal(crashed).job();
        assertState(again, JobState.FAILED);
        assertThat(again.message()).startsWith("not run again (attempt 1 ran under an earlier build): rule"
                + " 'cleanup-one' writes ${build.trigger}");
        assertState(awaitFinal(fine.jobIds().get(0)).job(), JobState.SUCCEEDED);
        assertState(awaitFinal(asSent).job(), JobState.SUCCEEDED);
        assertThat(java.nio.file.Files.readAllLines(ok)).containsExactly("../victim");

        // review50 F2: the one awaiting an approval, which this build cannot give, is ended by the start as one of a
        // rule this build refuses, not left awaiting one until its expiry; no follow-up, as none of it ran.
        assertState(job(announce), JobState.CANCELLED);
        assertThat(job(announce).message()).startsWith("not run: it awaited an approval, which this build cannot give:"
                + " rule 'announce' writes ${build.trigger}").contains("its value \"../victim\" is refused")
                .endsWith("buildhook replay " + climbs.deliveryId() + " --rule announce");
        assertThat(store.actionsOnJob(announce)).singleElement().satisfies(a -> {
            assertThat(a.actor()).isEqualTo("buildhook");
            assertThat(a.action()).isEqualTo("cancel");
        });
        assertThat(store.approve(announce, "alice")).isFalse();
        assertThat(store.followUps().isPending(announce)).isFalse();
        // The one an older node approved ends FAILED at its pick, with planning's words.
        assertState(awaitFinal(approved).job(), JobState.FAILED);
        assertThat(job(approved).message()).startsWith("not started: rule 'announce' writes ${build.trigger}");

        // Each refused job of a rule with an on-failure paged, as planning's refusal does.
        await().atMost(Duration.ofSeconds(60)).until(() -> java.nio.file.Files.exists(pages)
                && java.nio.file.Files.readAllLines(pages).size() == 4);
        assertThat(java.nio.file.Files.readAllLines(pages)).containsExactlyInAnyOrder("FAILED cleanup",
                "FAILED cleanup-one", "FAILED cleanup", "FAILED cleanup-one");
        assertThat(victim).isDirectory();
        assertThat(builds.resolve("keep")).isDirectory();
        assertThat(builds.resolve("nightly")).doesNotExist();
        assertThat(dir.resolve("victim-announced")).doesNotExist();
    }
}
