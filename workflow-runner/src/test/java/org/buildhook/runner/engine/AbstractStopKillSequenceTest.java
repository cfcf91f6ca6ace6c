package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A graceful stop lets the launcher's kill sequence of a job that ignores SIGTERM (SIGTERM, {@code runner.kill-grace},
 * SIGKILL, the tree reaped) end, and the job's thread record what became of the job, before db-scheduler's stop
 * interrupts that thread, whatever the kill-grace. db-scheduler's stop waits one bound, then interrupts, then waits it
 * again; one bound could not fit every kill-grace: with {@code (kill-grace + 3 × store.connect-timeout) / 2} (review20),
 * a kill-grace above three connection waits had the thread interrupted before the SIGKILL. The attempt was then not
 * recorded ("the store is unavailable … interrupted", db-scheduler's "Unhandled exception"), and the job went back to
 * the queue 10 s later instead of in its place. Here a real command ignores SIGTERM, with a kill-grace of 20 s and a
 * connection wait of 5 s: the old bound interrupted the thread 2.5 s before the SIGKILL. The job's thread then has two
 * connection waits (10 s) to record the attempt after the SIGKILL, ample on a loaded machine (with 2 s, 4 s: review21 R5). Nothing is timed: what the
 * stop waits for is read from what it says, and what it did from the store.
 */
abstract class AbstractStopKillSequenceTest {

    static final Duration KILL_GRACE = Duration.ofSeconds(20);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    abstract StoreConfig config(Path dir);

    @Test
    void aJobThatIgnoresSigtermIsKilledAndRecordedBeforeItsThreadIsInterruptedWhateverTheKillGrace() throws Exception {
        assertThat(KILL_GRACE).as("the case of review20's residue").isGreaterThan(CONNECT_TIMEOUT.multipliedBy(3));
        StoreConfig config = config(dir.resolve("data")).withConnectTimeout(CONNECT_TIMEOUT);
        StopLog log = new StopLog();
        try (log; Store store = Store.open(config); CommonsExecLauncher launcher = CommonsExecLauncher.create(
                LauncherConfig.defaults(dir.resolve("logs")).withKillGrace(KILL_GRACE))) {
            // Grace 300 ms; 1 s × 1000 heartbeats: no self-fencing, no watchdog, whatever the machine's stalls.
            JobEngine engine = JobEngine.create(store, launcher, new EngineConfig("kill-node", 2, Duration.ofMillis(250),
                    Duration.ofSeconds(1), 1000, Duration.ofMillis(300), Duration.ofMillis(100), Duration.ofMillis(200)));
            engine.start();
            Path started = dir.resolve("started");
            // The shell and its sleeps ignore SIGTERM (an ignored signal stays ignored across exec): only SIGKILL ends them.
            PlannedJob stubborn = new PlannedJob("stubborn", "name: stubborn", List.of("/bin/sh", "-c",
                    "trap '' TERM; echo $$ > " + started + "; while :; do sleep 1; done"), Map.of(), null, false,
                    Duration.ofMinutes(30), 0, Duration.ofMillis(100), 0, null);
            String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(stubborn)).jobIds().get(0);
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(started) && engine.runningCount() == 1);
            Instant stopBegan = Instant.now();

            engine.stop();

            JobDetail stopped = store.job(jobId).orElseThrow();
            assertThat(stopped.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.INTERRUPTED);
            assertThat(stopped.attempts().get(0).message()).isEqualTo("stopped by the shutdown of kill-node; run again");
            assertThat(stopped.job().state()).isEqualTo(JobState.QUEUED);
            // Its thread waited for the whole kill sequence: the tree needed its SIGKILL, and its log says so.
            assertThat(AbstractEngineTest.lastLine(stopped)).startsWith("[buildhook] killed: stopped by the shutdown of"
                    + " kill-node; process tree terminated (SIGKILL after the 20s grace period)");
            // Back in its place, not put back 10 s later by db-scheduler's failure handler.
            assertThat(executionTime(store, jobId)).isBefore(stopBegan);
        }
        List<String> said = log.said();
        // db-scheduler says when it interrupts the jobs' threads, between its two waits for them ("Will wait up to
        // 2x…" and "Scheduler stopped…"). Whether the interrupt then cost the job its record depends on where it lands
        // (in the wait for the tree it did not; in a call to the store it did): that it came at all is the fault.
        int waits = said.indexOf(said.stream().filter(m -> m.startsWith("Letting running executions finish."))
                .findFirst().orElseThrow());
        int stopped = said.subList(waits, said.size()).stream().filter(m -> m.startsWith("Scheduler stopped"))
                .findFirst().map(m -> said.subList(waits, said.size()).indexOf(m) + waits).orElseThrow();
        assertThat(said.subList(waits, stopped)).as("the job's thread was not interrupted")
                .doesNotContain("Interrupting executor service threads for shutdown.");
        assertThat(said).as("the stop's line for the job").anyMatch(m -> m.contains(
                "attempt 1 was still running when the stop's grace period (runner.shutdown-grace, 300ms) ended: its"
                        + " process tree was killed; the job runs again after the next start, or on another node"));
        assertThat(log.events()).as("nothing failed on the job's thread").noneMatch(e -> e.getLevel() == Level.ERROR);
        assertThat(said).as("no false line of a store made unavailable by the interrupt").noneMatch(m ->
                m.startsWith("Unhandled exception") || m.contains("interrupted while"));
        // What the stop waits for, read from what it says: the kill-grace and two connection waits for the jobs'
        // threads, then db-scheduler's twice half a connection wait (docs/storage.md, "Graceful shutdown").
        assertThat(said).anyMatch(m -> m.startsWith("stopping: waiting up to 30s for 1 job(s) of node kill-node"));
        assertThat(said).contains("Letting running executions finish. Will wait up to 2x" + Duration.ofMillis(2500) + ".");
    }

    /** When the job's execution is due (also AbstractEngineTest's). */
    static Instant executionTime(Store store, String jobId) throws Exception {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_name = ? AND task_instance = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setString(2, jobId);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).as("the job's execution").isTrue();
                return JobQueue.customization(store.dialect()).getInstant(rs, "execution_time");
            }
        }
    }
}
