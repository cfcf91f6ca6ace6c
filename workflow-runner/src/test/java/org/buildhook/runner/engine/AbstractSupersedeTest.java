package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.Test;

/** A newer build supersedes an older one's job of the same rule and key; run on SQLite and PostgreSQL. */
abstract class AbstractSupersedeTest extends AbstractWorkflowTest {

    private RuleSet deployRule(Path script, String running) {
        return rules("rules:\n"
                + "  - name: deploy\n"
                + "    supersede: {key: \"${build.project}/${build.trigger}\", running: " + running + "}\n"
                + "    run: {command: [/bin/sh, \"" + script + "\", \"${build.id}\"]}\n");
    }

    @Test
    void buildsSixtySevenSixtyNineAndSixtyEightArrivingInThatOrderLeaveOnlySixtyNinesDeploy() throws IOException {
        Path ran = dir.resolve("ran");
        RuleSet rules = deployRule(script("deploy.sh", "echo $1 >> " + ran), "keep");
        openStore();

        String job67 = deliver(rules, 67).jobIds().get(0);
        String job69 = deliver(rules, 69).jobIds().get(0);
        String job68 = deliver(rules, 68).jobIds().get(0);

        assertState(job(job67), JobState.SUPERSEDED);
        assertThat(job(job67).supersededBy()).isEqualTo(job69);
        assertState(job(job68), JobState.SUPERSEDED);
        assertThat(job(job68).supersededBy()).as("superseded at once by the newer build seen before").isEqualTo(job69);
        assertState(job(job69), JobState.QUEUED);

        startEngine();
        assertState(awaitFinal(job69).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactly("69");
        assertThat(job(job67).attempts()).isZero();
        assertThat(job(job68).attempts()).isZero();
    }

    @Test
    void aRunningJobOfAnOlderBuildIsKilledWhenTheRuleSaysCancel() throws IOException {
        Path started = dir.resolve("started");
        Path ran = dir.resolve("ran");
        RuleSet rules = deployRule(script("deploy.sh",
                "echo $1 >> " + started + "\n[ \"$1\" = 67 ] && sleep 120\necho $1 >> " + ran), "cancel");
        openStore();
        startEngine();

        String job67 = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(started));
        String job68 = deliver(rules, 68).jobIds().get(0);

        Job old = awaitFinal(job67).job();
        assertState(old, JobState.SUPERSEDED);
        assertThat(old.supersededBy()).isEqualTo(job68);
        // One wording with a job superseded before it started (tryout16 F9).
        assertThat(old.message()).isEqualTo("superseded by job " + job68 + " of build 68");
        assertThat(AbstractEngineTest.lastLine(store.job(job67).orElseThrow()))
                .startsWith("[buildhook] killed: superseded by job " + job68 + " of a newer build;");
        assertState(awaitFinal(job68).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactly("68");
    }

    /**
     * chaos15 F2: under {@code running: cancel} the newer build's job started at once, beside the older
     * one's command that was still being stopped (a SIGTERM trap cleaning up for up to kill-grace). It now
     * waits until the older job's process tree is gone. Build 67's trap keeps it alive until build 68's
     * command has started (it then exits), or until the SIGKILL after kill-grace; 68's command, as it
     * starts, notes whether 67's shell still lives.
     */
    @Test
    void theNewerBuildsJobStartsOnlyOnceTheOlderOneItCancelledHasEnded() throws IOException {
        Path started = dir.resolve("started");
        Path pid67 = dir.resolve("pid67");
        Path overlap = dir.resolve("overlap");
        RuleSet rules = deployRule(script("deploy.sh", "if [ \"$1\" = 67 ]; then\n"
                + "  echo $$ > " + pid67 + "\n"
                + "  trap 'while ! grep -qx 68 " + started + " 2>/dev/null; do sleep 0.05; done; exit 1' TERM\n"
                + "  echo 67 >> " + started + "\n"
                + "  sleep 120 & wait\n"
                + "else\n"
                + "  kill -0 $(cat " + pid67 + ") 2>/dev/null && echo \"67 still runs\" >> " + overlap + "\n"
                + "  echo $1 >> " + started + "\n"
                + "fi"), "cancel");
        openStore();
        startEngine();

        String job67 = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(started));
        String job68 = deliver(rules, 68).jobIds().get(0);

        assertState(awaitFinal(job68).job(), JobState.SUCCEEDED);
        assertState(awaitFinal(job67).job(), JobState.SUPERSEDED);
        assertThat(overlap).as("68's command started while 67's still ran").doesNotExist();
        assertThat(Files.readAllLines(started)).containsExactly("67", "68");
    }

    /**
     * review15 (crash16): the newer build's job, put back while the older one it cancelled was still being
     * stopped, waited for its next try ({@code runner.slot-retry}, an hour here) after the older one's
     * processes were gone: nothing woke it. Build 67's trap holds it until 68 has been put back.
     */
    @Test
    void theNewerBuildsJobStartsAsSoonAsTheOlderOneItCancelledHasEnded() throws IOException {
        Path started = dir.resolve("started");
        Path release = dir.resolve("release");
        RuleSet rules = deployRule(script("deploy.sh", "if [ \"$1\" = 67 ]; then\n"
                + "  trap 'while [ ! -f " + release + " ]; do sleep 0.05; done; exit 1' TERM\n"
                + "  echo 67 >> " + started + "\n"
                + "  sleep 120 & wait\n"
                + "else\n"
                + "  echo $1 >> " + started + "\n"
                + "fi"), "cancel");
        openStore();
        startEngine(AbstractEngineTest.steady("node-a").withSlotRetryDelay(Duration.ofHours(1)));

        String job67 = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(started));
        String job68 = deliver(rules, 68).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).alias("68 put back to wait for 67")
                .until(() -> waitsLater(job68, Duration.ofMinutes(30)));
        // tryout33 F9 (c): shown as the log says it, not "-".
        assertState(job(job68), JobState.QUEUED);
        assertThat(job(job68).message()).isEqualTo("waiting for the older build's job it superseded (" + job67
                + ") to stop before it starts (its node stops it within runner.cancel-check and runner.kill-grace; one"
                + " whose node is gone, once another node takes it over)");
        Files.createFile(release);

        assertState(awaitFinal(job67).job(), JobState.SUPERSEDED);
        assertState(awaitFinal(job68).job(), JobState.SUCCEEDED);
        assertThat(job(job68).message()).as("the wait is over").doesNotContain("waiting for");
        assertThat(Files.readAllLines(started)).containsExactly("67", "68");
    }

    /** Whether the job's execution waits in the queue, not picked, for more than {@code than} from now. */
    private boolean waitsLater(String jobId, Duration than) throws java.sql.SQLException {
        return queuedFor(jobId).filter(t -> t.isAfter(java.time.Instant.now().plus(than))).isPresent();
    }

    /**
     * A runner.cancel-check far longer than any test: the engine never looks at the cancel flag of a running
     * job, so a command that ends by itself after its cancel or supersede was written is seen to end first.
     */
    private static EngineConfig lateCancelCheck() {
        return new EngineConfig("node-a", 4, Duration.ofMillis(200), Duration.ofMillis(200), 50, Duration.ofSeconds(5),
                Duration.ofMillis(100), Duration.ofHours(1));
    }

    /**
     * Build 67's command waits for {@code go}, then exits {@code exit}; other builds' exit 0 at once. {@code run}
     * adds to the rule's {@code run}. Every
     * follow-up writes its kind, the parent's final state and build to {@code followed}.
     */
    private RuleSet waitsForGo(String supersede, String run, String exit, Path followed) throws IOException {
        Path go = dir.resolve("go");
        String note = "{command: [/bin/sh, -c, 'echo \"$0 $1 $2\" >> " + followed + "', %s, \"${job.outcome}\","
                + " \"${build.id}\"]}";
        return rules("rules:\n"
                + "  - name: deploy\n"
                + supersede
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "echo $1 >> " + dir.resolve("started")
                        + "\nif [ \"$1\" = 67 ]; then while [ ! -e " + go + " ]; do [ -d " + dir + " ] || exit 1;"
                        + " sleep 0.05; done; exit " + exit + "; fi") + "\", \"${build.id}\"], retries: 2, backoff: 100ms" + run + "}\n"
                + "    on-success: " + String.format(note, "on-success") + "\n"
                + "    on-failure: " + String.format(note, "on-failure") + "\n"
                + "    on-cancel: " + String.format(note, "on-cancel") + "\n");
    }

    /** Build 67's job of {@code rules}, its command started, on a {@link #lateCancelCheck} engine. */
    private String running67(RuleSet rules) {
        openStore();
        startEngine(lateCancelCheck());
        String job67 = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("started")));
        return job67;
    }

    /**
     * Job {@code jobId}, once final: it ended {@code state} with {@code message}, its exit code and its one
     * attempt's outcome ({@code attempt}, {@code exit}) as its command ended by itself.
     */
    private Job endedByItself(String jobId, JobState state, AttemptOutcome attempt, int exit, String message) {
        JobDetail ended = awaitFinal(jobId);
        assertState(ended.job(), state);
        assertThat(ended.job().exitCode()).as("the truth of its exit").isEqualTo(exit);
        assertThat(ended.job().message()).isEqualTo(message);
        assertThat(ended.attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(attempt);
            assertThat(a.exitCode()).isEqualTo(exit);
        });
        return ended.job();
    }

    /** The lines the follow-ups wrote once {@code count} of them have ended. */
    private java.util.List<String> followUps(Path followed, int count) throws IOException {
        await().atMost(Duration.ofSeconds(60)).until(() -> java.util.stream.Stream.of("on-success", "on-failure",
                "on-cancel").flatMap(kind -> jobsOfRule("deploy/" + kind).stream())
                .filter(j -> j.state().isFinal()).count() >= count);
        return Files.readAllLines(followed);
    }

    /**
     * tryout21 F5: under {@code running: cancel}, build 67's command exited 0 by itself after build 68 had
     * superseded it but before the next runner.cancel-check: it was recorded SUCCEEDED and started its
     * on-success, build 67's deploy after 68 superseded it. Whether a cancel was asked for is now read
     * with the end's record: it keeps its exit code and its attempt's outcome, but ends SUPERSEDED.
     */
    @Test
    void anOlderBuildsCommandThatExitsByItselfAfterItWasSupersededStartsNoOnSuccess() throws IOException {
        Path followed = dir.resolve("followed");
        RuleSet rules = waitsForGo("    supersede: {key: \"${build.project}\", running: cancel}\n", "", "0", followed);
        String job67 = running67(rules);
        String job68 = deliver(rules, 68).jobIds().get(0);
        assertThat(job(job67).cancelRequested()).as("the supersede is written before 67's command exits").isTrue();
        Files.createFile(dir.resolve("go"));

        Job old = endedByItself(job67, JobState.SUPERSEDED, AttemptOutcome.SUCCEEDED, 0, "exited with 0; it ended by"
                + " itself after it was superseded by job " + job68 + " of build 68, before the stop reached it; it"
                + " counts as superseded: its on-success is not started (its on-cancel is, if its rule has one)");
        assertThat(old.supersededBy()).isEqualTo(job68);
        assertState(awaitFinal(job68).job(), JobState.SUCCEEDED);
        assertThat(followUps(followed, 2)).containsExactlyInAnyOrder("on-cancel SUPERSEDED 67", "on-success SUCCEEDED 68");
    }

    /**
     * tryout21 F5, for an explicit cancel: a command that fails by itself after its cancel was asked for, before
     * the engine looked, was retried (its next pick then ended it "cancelled while attempt 1 ran; its node stopped
     * …", which was untrue) and started no on-cancel. It now ends CANCELLED at once: no retry, no on-failure.
     */
    @Test
    void aCommandThatFailsByItselfAfterItsCancelWasAskedForIsNeitherRetriedNorStartsItsOnFailure()
            throws IOException {
        Path followed = dir.resolve("followed");
        // With a concurrency limit, as tryout21 had: its end is recorded in the transaction that frees its slot.
        RuleSet rules = waitsForGo("", ", concurrency: 1", "3", followed);
        String job67 = running67(rules);
        assertThat(store.cancel(job67)).isTrue();
        Files.createFile(dir.resolve("go"));

        endedByItself(job67, JobState.CANCELLED, AttemptOutcome.FAILED, 3, "exited with 3; it ended by itself after"
                + " its cancel was asked for, before the cancel stopped it; it counts as cancelled: it is not retried"
                + " and its on-failure is not started (its on-cancel is, if its rule has one)");
        assertThat(followUps(followed, 1)).containsExactly("on-cancel CANCELLED 67");
    }

    /** A job that ended before any cancel or supersede keeps its outcome and starts its follow-up. */
    @Test
    void aJobThatEndedBeforeItWasSupersededOrCancelledKeepsItsSuccessAndItsOnSuccess() throws IOException {
        Path followed = dir.resolve("followed");
        RuleSet rules = waitsForGo("    supersede: {key: \"${build.project}\", running: cancel}\n", "", "0", followed);
        Files.createFile(dir.resolve("go"));
        String job67 = running67(rules);
        assertState(awaitFinal(job67).job(), JobState.SUCCEEDED);
        String job68 = deliver(rules, 68).jobIds().get(0);
        assertThat(store.cancel(job67)).as("ended already").isFalse();

        assertState(awaitFinal(job68).job(), JobState.SUCCEEDED);
        Job kept = job(job67);
        assertState(kept, JobState.SUCCEEDED);
        assertThat(kept.supersededBy()).isNull();
        assertThat(kept.message()).isEqualTo("exited with 0");
        assertThat(followUps(followed, 2)).containsExactlyInAnyOrder("on-success SUCCEEDED 67",
                "on-success SUCCEEDED 68");
    }

    @Test
    void aRunningJobOfAnOlderBuildGoesOnByDefault() throws IOException {
        Path go = dir.resolve("go");
        Path started = dir.resolve("started");
        Path ran = dir.resolve("ran");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    supersede: {key: \"${build.project}\"}\n"
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "echo $1 >> " + started
                        + "\nwhile [ ! -e " + go + " ]; do [ -d " + go.getParent()
                                + " ] || exit 1; sleep 0.05; done\necho $1 >> " + ran) + "\", \"${build.id}\"]}\n");
        openStore();
        startEngine();

        String job67 = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(started));
        String job68 = deliver(rules, 68).jobIds().get(0);
        Files.createFile(go);

        assertState(awaitFinal(job67).job(), JobState.SUCCEEDED);
        assertState(awaitFinal(job68).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactlyInAnyOrder("67", "68");
    }

    @Test
    void aReRunOfASupersededJobIsNeitherSupersededNorSupersedes() throws IOException {
        RuleSet rules = deployRule(script("deploy.sh", "true"), "keep");
        openStore();

        String job67 = deliver(rules, 67).jobIds().get(0);
        String job68 = deliver(rules, 68).jobIds().get(0);
        String rerun = store.rerun(job67);

        assertState(job(job67), JobState.SUPERSEDED);
        assertState(job(rerun), JobState.QUEUED);
        assertState(job(job68), JobState.QUEUED);
    }

    /**
     * review50b R12: a delivery claims its jobs' keys in (rule, key) order, not in the order of its jobs (on
     * PostgreSQL two deliveries claiming two new keys in opposite orders deadlocked: PostgresSupersedeLockOrderTest).
     * What each job comes to is as before: its id in the jobs' order, superseded by the newer build's job of its own
     * rule, superseding the older build's of its own rule, whichever order the rules are listed in.
     */
    @Test
    void jobsOfRulesListedInAnotherOrderEachSupersedeAndAreSupersededByTheirOwnRulesJobs() throws IOException {
        String rule = "  - name: %s\n    supersede: {key: \"${build.project}\"}\n    run: {command: [/bin/true]}\n";
        RuleSet ba = rules("rules:\n" + rule.formatted("deploy-b") + rule.formatted("deploy-a"));
        RuleSet ab = rules("rules:\n" + rule.formatted("deploy-a") + rule.formatted("deploy-b"));
        openStore();

        java.util.List<String> b67a67 = deliver(ba, 67).jobIds();
        java.util.List<String> a68b68 = deliver(ab, 68).jobIds();
        java.util.List<String> b66a66 = deliver(ba, 66).jobIds();

        for (java.util.List<String> ids : java.util.List.of(b67a67, a68b68, b66a66)) {
            assertThat(ids).hasSize(2);
            assertThat(ids.get(0)).isLessThan(ids.get(1));
        }
        assertThat(java.util.List.of(job(b67a67.get(0)).ruleName(), job(b67a67.get(1)).ruleName()))
                .containsExactly("deploy-b", "deploy-a");
        assertThat(java.util.List.of(job(a68b68.get(0)).ruleName(), job(a68b68.get(1)).ruleName()))
                .containsExactly("deploy-a", "deploy-b");
        // build 68 superseded build 67's jobs, each by its own rule's job
        assertState(job(b67a67.get(0)), JobState.SUPERSEDED);
        assertThat(job(b67a67.get(0)).supersededBy()).isEqualTo(a68b68.get(1));
        assertState(job(b67a67.get(1)), JobState.SUPERSEDED);
        assertThat(job(b67a67.get(1)).supersededBy()).isEqualTo(a68b68.get(0));
        // build 66, late, was superseded at once, each job by its own rule's newest
        assertState(job(b66a66.get(0)), JobState.SUPERSEDED);
        assertThat(job(b66a66.get(0)).supersededBy()).isEqualTo(a68b68.get(1));
        assertState(job(b66a66.get(1)), JobState.SUPERSEDED);
        assertThat(job(b66a66.get(1)).supersededBy()).isEqualTo(a68b68.get(0));
        assertState(job(a68b68.get(0)), JobState.QUEUED);
        assertState(job(a68b68.get(1)), JobState.QUEUED);
    }

    /**
     * review51 L1: an older build's job whose attempt failed and that waits for its retry, its node still putting it
     * back (the job's record commits before db-scheduler's reschedule: its execution still picked), met by a newer
     * build of its key. It was only flagged: it stayed queued for the whole backoff (here an hour), and under {@code
     * running: cancel} held the newer build's job back all that time. Now it ends superseded at once, as a cancel ends
     * it (flakes35). Held picked here, as in that moment.
     */
    @Test
    void aJobWaitingForItsRetryWhileItsNodeStillPutsItBackIsSupersededAtOnce() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    supersede: {key: \"${build.project}/${build.trigger}\", running: cancel}\n"
                + "    run: {command: [/bin/sh, -c, 'exit 3'], retries: 2, backoff: 1h}\n");
        openStore();
        startEngine();
        String job67 = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(job67).retryDueAt().isPresent() && !picked(job67));
        try (java.sql.Connection c = store.dataSource().getConnection(); java.sql.PreparedStatement p = c
                .prepareStatement("UPDATE scheduled_tasks SET picked = ? WHERE task_name = ? AND task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, org.buildhook.runner.store.JobQueue.TASK_NAME);
            p.setString(3, job67);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }

        String job68 = deliver(rules, 68).jobIds().get(0);

        Job old = job(job67);
        assertState(old, JobState.SUPERSEDED);
        assertThat(old.supersededBy()).isEqualTo(job68);
        assertThat(old.message()).isEqualTo("superseded by job " + job68 + " of build 68");
        assertThat(old.attempts()).isEqualTo(1);
    }

    /** Whether {@code id}'s execution is picked now. */
    private boolean picked(String id) throws java.sql.SQLException {
        try (java.sql.Connection c = store.dataSource().getConnection(); java.sql.PreparedStatement p = c
                .prepareStatement("SELECT picked FROM scheduled_tasks WHERE task_name = ? AND task_instance = ?")) {
            p.setString(1, org.buildhook.runner.store.JobQueue.TASK_NAME);
            p.setString(2, id);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
