package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

/**
 * review54 F5 (M): PostgreSQL, two nodes of two hosts. node-a's command exits 0; the record of that outcome meets a
 * deadlock ({@code 40P01}, waited out as an outage) until node-a's stop's grace ends. The outcome was kept in node-a's
 * stops-not-recorded, but the failure was thrown to db-scheduler, whose retry put the execution back in the queue 10 s
 * later: node-b (another host: it cannot read node-a's data folder) picked it, recorded attempt 1 cut short and ran the
 * command again, long before the dead-node limit. Now the execution stays picked by node-a until node-a's next start
 * records the kept outcome.
 */
class KeptOutcomeStaysPickedAtAStopTest extends AbstractStoreOutageTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @Test
    void anOutcomeWhoseRecordDeadlocksUntilTheStopIsNotRunAgainByANodeOfAnotherHost() throws Exception {
        engine.stop();
        engine = JobEngine.create(storeWithOutages, launcher,
                AbstractEngineTest.steady("node-a").withShutdownGrace(Duration.ofSeconds(1)));
        AtomicInteger tries = new AtomicInteger();
        doAnswer(call -> {
            tries.incrementAndGet();
            throw new RunnerException("store failed to record an attempt (injected)",
                    new SQLException("ERROR: deadlock detected (injected)", "40P01"));
        }).when(ledger).finishAttempt(anyString(), anyInt(), any(), any(), anyLong(), any());
        engine.start();
        Path runs = dir.resolve("runs");
        String jobId = acceptCountingJob(runs);
        await().atMost(Duration.ofSeconds(60)).until(() -> tries.get() >= 2);
        engine.stop();

        Path notes = store.config().dataDir().resolve(StopsNotRecorded.FILE_NAME);
        assertThat(notes).as("the outcome kept in node-a's data folder").exists();
        assertThat(Files.readString(notes)).contains(jobId);
        assertThat(execution(jobId)).as("the execution left picked by node-a").isEqualTo("picked by node-a");
        // node-a as if on another host than node-b: node-b cannot read its data folder.
        String[] host = hostOfAttempt(jobId);
        moveAttempt(jobId, "other-host", "other-boot");

        CommonsExecLauncher launcherB = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-b")));
        Store storeB = Store.open(StoreConfig.of(store.config().url(), dir.resolve("data-b")));
        // A dead-node limit of 100 s: a take-over within the 25 s below would be db-scheduler's retry, not it.
        JobEngine b = JobEngine.create(storeB, launcherB, new EngineConfig("node-b", 4, Duration.ofMillis(200),
                Duration.ofMillis(200), 500, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100)));
        b.start();
        try {
            await().during(Duration.ofSeconds(25)).atMost(Duration.ofSeconds(40))
                    .until(() -> Files.readAllLines(runs).size() == 1
                            && store.job(jobId).orElseThrow().attempts().size() == 1);
        } finally {
            b.stop();
            launcherB.close();
            storeB.close();
        }

        // node-a's next start, back on its host and the store answering, records what it kept.
        moveAttempt(jobId, host[0], host[1]);
        engine = JobEngine.create(store, launcher, AbstractEngineTest.steady("node-a"));
        engine.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("run");
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(store.job(jobId).orElseThrow().attempts()).extracting(JobAttempt::exitCode).containsExactly(0);
    }

    private String execution(String jobId) throws SQLException {
        try (var c = store.dataSource().getConnection(); var p = c.prepareStatement(
                "SELECT picked, picked_by FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (var rs = p.executeQuery()) {
                return !rs.next() ? "none" : rs.getBoolean(1) ? "picked by " + rs.getString(2) : "not picked";
            }
        }
    }

    private String[] hostOfAttempt(String jobId) throws SQLException {
        try (var c = store.dataSource().getConnection(); var p = c.prepareStatement(
                "SELECT host, boot_id FROM job_attempts WHERE job_id = ?")) {
            p.setString(1, jobId);
            try (var rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return new String[] {rs.getString(1), rs.getString(2)};
            }
        }
    }

    private void moveAttempt(String jobId, String host, String bootId) throws SQLException {
        try (var c = store.dataSource().getConnection(); var p = c.prepareStatement(
                "UPDATE job_attempts SET host = ?, boot_id = ? WHERE job_id = ?")) {
            p.setString(1, host);
            p.setString(2, bootId);
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }
}
