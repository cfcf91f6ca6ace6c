package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.exec.Decision;
import org.buildhook.runner.exec.ExitAtTheStop;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.Test;

/**
 * A cancel's record says what really happened: a command that ended by itself as its cancel or its node's
 * stop reached it keeps its exit (tryout22 F6), so does a job concluded from its dead node's attempt whose
 * cancel was asked for (supersede21), and a job cancelled in its retry's backoff does not say it never ran
 * (retry21). Real engine, real commands; run on SQLite and PostgreSQL by the subclasses.
 */
abstract class AbstractCancelTruthTest extends AbstractWorkflowTest {

    /** Rule {@code name} running {@code script}, whose on-success and on-cancel each write their kind to {@code followed}. */
    private RuleSet followedRule(String name, Path script, String run, Path followed) {
        String note = "{command: [/bin/sh, -c, 'echo %s >> " + followed + "']}";
        return rules("rules:\n"
                + "  - name: " + name + "\n"
                + "    run: {command: [/bin/sh, \"" + script + "\"]" + run + "}\n"
                + "    on-success: " + String.format(note, "on-success") + "\n"
                + "    on-cancel: " + String.format(note, "on-cancel") + "\n");
    }

    /** What the follow-ups of {@code rule} wrote, once one of them has ended. */
    private List<String> followed(String rule, Path followed) throws IOException {
        await().atMost(Duration.ofSeconds(60)).until(() -> jobsOfRule(rule + "/on-success").stream()
                .anyMatch(j -> j.state().isFinal()) || jobsOfRule(rule + "/on-cancel").stream()
                .anyMatch(j -> j.state().isFinal()));
        return Files.readAllLines(followed);
    }

    /** Job {@code id}, once final: CANCELLED with {@code message}, exit 0 kept; its one attempt SUCCEEDED, returned. */
    private JobAttempt cancelledKeepingItsSuccess(String id, String message) {
        JobDetail ended = awaitFinal(id);
        assertState(ended.job(), JobState.CANCELLED);
        assertThat(ended.job().exitCode()).isZero();
        assertThat(ended.job().message()).isEqualTo(message);
        assertThat(ended.attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
            assertThat(a.exitCode()).isZero();
        });
        return ended.attempts().get(0);
    }

    private static List<String> log(JobAttempt attempt) throws IOException {
        return Files.readAllLines(Path.of(attempt.logPath()));
    }

    /**
     * tryout22 F6: the command's log showed its last line ("done"), yet its attempt said {@code CANCELLED …
     * cancelled; process tree terminated}. The command exits here exactly as its cancel's kill has looked for
     * its processes ({@link ExitAtTheStop}).
     */
    @Test
    void aCommandThatEndsByItselfAsItsCancelReachesItKeepsItsSuccessAndTheJobSaysSo() throws Exception {
        Path followed = dir.resolve("followed");
        try (ExitAtTheStop exit = ExitAtTheStop.in(dir)) {
            RuleSet rules = followedRule("race", script("race.sh", exit.script(0)), "", followed);
            openStore();
            startEngine();
            String id = deliver(rules, 67).jobIds().get(0);
            await().atMost(Duration.ofSeconds(60)).until(exit::started);

            assertThat(store.cancel(id)).isTrue();

            JobAttempt attempt = cancelledKeepingItsSuccess(id, "exited with 0; it ended by itself after its cancel was"
                    + " asked for, before the cancel stopped it; it counts as cancelled: its on-success is not started"
                    + " (its on-cancel is, if its rule has one)");
            assertThat(attempt.message()).isEqualTo("exited with 0");
            assertThat(log(attempt)).containsExactly("done");
            assertThat(followed("race", followed)).containsExactly("on-cancel");
        }
    }

    /**
     * The same moment at a node's stop: the command had ended by itself, yet its attempt was recorded
     * {@code INTERRUPTED} ("stopped by the shutdown …; run again") and the job queued to run it again.
     */
    @Test
    void aCommandThatEndsByItselfAsItsNodesStopReachesItIsRecordedAndNotRunAgain() throws Exception {
        try (ExitAtTheStop exit = ExitAtTheStop.in(dir)) {
            Path ran = dir.resolve("ran");
            RuleSet rules = rules("rules:\n"
                    + "  - name: stopped\n"
                    + "    run: {command: [/bin/sh, \"" + script("stopped.sh", "echo ran >> " + ran + "\n"
                            + exit.script(0)) + "\"]}\n");
            openStore();
            // The stop's grace is short, so that it kills; the command waits for that kill's look in any case.
            startEngine(AbstractEngineTest.steady("node-a").withShutdownGrace(Duration.ofMillis(200)));
            String id = deliver(rules, 67).jobIds().get(0);
            await().atMost(Duration.ofSeconds(60)).until(exit::started);

            engine.stop();
            engine = null;

            Job job = job(id);
            assertState(job, JobState.SUCCEEDED);
            assertThat(job.message()).isEqualTo("exited with 0");
            assertThat(store.job(id).orElseThrow().attempts()).singleElement().satisfies(a -> {
                assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
                assertThat(log(a)).containsExactly("done");
            });
            assertThat(Files.readAllLines(ran)).as("run once").containsExactly("ran");
        }
    }

    /**
     * supersede21: a job whose dead node had seen its command exit 0 ({@code decided}), and whose cancel was
     * asked for before another node concluded it, ended "cancelled while attempt 1 ran; its node stopped before
     * the attempt ended", without the exit it had.
     */
    @Test
    void aJobConcludedFromItsDeadNodesAttemptAfterItsCancelKeepsTheExitItHad() throws Exception {
        Path followed = dir.resolve("followed");
        Path ran = dir.resolve("ran");
        RuleSet rules = followedRule("deploy", script("deploy.sh", "echo ran >> " + ran), "", followed);
        openStore();
        String id = deliver(rules, 67).jobIds().get(0);
        // Node node-gone picked it, saw its command exit 0, stopped before the end was recorded; the cancel came
        // while its pick stood (so the job could only be flagged).
        execution(id, "UPDATE scheduled_tasks SET picked = ?, picked_by = 'node-gone' WHERE task_name = ?"
                + " AND task_instance = ?", true);
        int attempt = store.ledger().startAttempt(id, "node-gone");
        store.ledger().recordDecidedLater(id, attempt, new Decision(JobOutcome.Result.SUCCEEDED, 0, null)).get();
        store.ledger().interruptAttempt(id, attempt, null, "stopped by the shutdown of node-gone; run again");
        assertThat(store.cancel(id)).isTrue();
        assertThat(job(id).cancelRequested()).isTrue();
        execution(id, "UPDATE scheduled_tasks SET picked = ?, picked_by = NULL WHERE task_name = ?"
                + " AND task_instance = ?", false);

        startEngine();

        cancelledKeepingItsSuccess(id, "exited with 0; then stopped by the shutdown of node-gone; its cancel was asked"
                + " for before that end was recorded; it counts as cancelled: its on-success is not started (its"
                + " on-cancel is, if its rule has one)");
        assertThat(followed("deploy", followed)).containsExactly("on-cancel");
        assertThat(ran).as("not run again").doesNotExist();
    }

    /** retry21: a job cancelled in its retry's backoff said "cancelled before it ran", though attempt 1 had. */
    @Test
    void aJobCancelledWhileItWaitsForARetrySaysWhichAndWhatItsAttemptCameTo() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: flaky\n"
                + "    run: {command: [/bin/sh, -c, 'exit 3'], retries: 2, backoff: 1h}\n");
        openStore();
        startEngine();
        String id = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(id).retryDueAt().isPresent());

        assertThat(store.cancel(id)).isTrue();

        Job job = job(id);
        assertState(job, JobState.CANCELLED);
        assertThat(job.message()).isEqualTo("cancelled while waiting for retry 1 of 2; attempt 1 exited with 3");
        assertThat(job.attempts()).isEqualTo(1);
    }

    /**
     * flakes35: the job's record of its retry wait commits before db-scheduler puts its execution back, so a cancel
     * can come while the execution is still picked (seen on a loaded machine). It was only flagged then: the job stayed
     * queued for its whole backoff. Held picked here, as in that moment.
     */
    @Test
    void aJobCancelledWhileItsNodeIsStillPuttingItBackForItsRetryIsCancelledAtOnce() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: flaky\n"
                + "    run: {command: [/bin/sh, -c, 'exit 3'], retries: 2, backoff: 1h}\n");
        openStore();
        startEngine();
        String id = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(id).retryDueAt().isPresent() && !picked(id));
        execution(id, "UPDATE scheduled_tasks SET picked = ? WHERE task_name = ? AND task_instance = ?", true);

        assertThat(store.cancel(id)).isTrue();

        Job job = job(id);
        assertState(job, JobState.CANCELLED);
        assertThat(job.message()).isEqualTo("cancelled while waiting for retry 1 of 2; attempt 1 exited with 3");
        assertThat(job.attempts()).isEqualTo(1);
    }

    /** Whether {@code id}'s execution is picked now. */
    private boolean picked(String id) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT picked FROM scheduled_tasks WHERE task_name = ? AND task_instance = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setString(2, id);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private void execution(String id, String sql, boolean picked) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(sql)) {
            p.setBoolean(1, picked);
            p.setString(2, JobQueue.TASK_NAME);
            p.setString(3, id);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /**
     * delcancel50: a node picked the job (a rule with a concurrency limit: read, its slot taken) and is about to start
     * it when its delivery is cancelled. The cancel finds its execution picked and only flags it, and its answer says
     * the job is cancelled and will not start; the start saw no flag (the job was read before it) and the command ran
     * until the node's next cancel check. Now the start looks at the flag: the command never runs, the job ends
     * CANCELLED with no attempt, its slot goes to the next job of the rule, and its on-cancel runs as after any cancel.
     */
    @Test
    void aJobStartedJustAfterItsDeliveryIsCancelledNeverRunsItsCommand() throws Exception {
        Path ran = dir.resolve("ran");
        Path followed = dir.resolve("followed");
        String note = "{command: [/bin/sh, -c, 'echo %s >> " + followed + "']}";
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, -c, 'echo $1 >> " + ran + "', sh, \"${build.id}\"], concurrency: 1}\n"
                + "    on-cancel: " + String.format(note, "on-cancel") + "\n");
        openStore();
        org.buildhook.runner.store.AcceptResult first = deliver(rules, 1);
        String job = first.jobIds().get(0);
        java.util.concurrent.atomic.AtomicReference<org.buildhook.runner.store.DeliveryCancel> answer =
                new java.util.concurrent.atomic.AtomicReference<>();
        org.buildhook.runner.store.AttemptStartSeams.beforeStart(id -> {
            if (id.equals(job) && answer.get() == null) {
                answer.set(store.cancelDelivery(first.deliveryId(), "op").orElseThrow());
            }
        });
        try {
            startEngine();
            JobDetail ended = awaitFinal(job);
            assertState(ended.job(), JobState.CANCELLED);
            assertThat(ended.attempts()).as("never started").isEmpty();
        } finally {
            org.buildhook.runner.store.AttemptStartSeams.clear();
        }
        assertThat(answer.get().jobs()).singleElement().satisfies(j -> {
            assertThat(j.cancelled()).isTrue();
            assertThat(j.state()).as("picked: left to its node").isEqualTo(JobState.QUEUED);
        });
        assertThat(ran).as("its command never ran").doesNotExist();
        assertThat(followed("deploy", followed)).containsExactly("on-cancel");

        // Its slot was freed: the next build's job of the rule runs.
        String next = deliver(rules, 2).jobIds().get(0);
        assertState(awaitFinal(next).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactly("2");
    }
}
