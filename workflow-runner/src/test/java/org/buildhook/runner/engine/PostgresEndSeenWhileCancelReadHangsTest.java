package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * metrics42 (MetricsWithStoreAwayTest, 1 of 2 under load in session 41): a job's thread looks at the job's cancel
 * flag in the store every {@code runner.cancel-check} while its command runs. When the store stops answering while
 * that read is under way (a PostgreSQL that hangs, a partition), the thread sees the command's end only once the read
 * is over: up to {@code store.connect-timeout}, or for as long as the hang lasts. Meanwhile the ended command was
 * still counted as running ({@code buildhook_jobs_running} 1) and not as awaiting the record of its end ({@code
 * buildhook_jobs_awaiting_record} 0), which those gauges promise (docs/operations.md). Here the read hangs for real:
 * another session holds the {@code jobs} table's lock, with the store's sessions' {@code lock_timeout} 0, so the
 * read waits as long as the lock is held; the command then exits.
 */
class PostgresEndSeenWhileCancelReadHangsTest {

    @TempDir
    Path dir;

    @Test
    void aCommandThatEndsWhileItsCancelReadHangsIsCountedAwaitingItsRecordNotRunning() throws Exception {
        StoreConfig config = PostgresSchedulerStopBoundTest.rowsHeldForEver(dir);
        try (Store store = Store.open(config);
             CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
             JobEngine engine = PostgresSchedulerStopBoundTest.started(store, launcher, "read-node")) {
            Path go = dir.resolve("go");
            String jobId = PostgresSchedulerStopBoundTest.runningUntil(go, store, engine);

            try (Connection locker = DriverManager.getConnection(config.url())) {
                int lockerPid = pid(locker);
                locker.setAutoCommit(false);
                try (Statement st = locker.createStatement()) {
                    st.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
                }
                // The job's thread is in its cancel read (every 200 ms here), which waits for the lock.
                await().atMost(Duration.ofMinutes(2)).until(() -> cancelReadsWaitingFor(config, lockerPid) == 1);
                Files.createFile(go);

                // A bound for a hung test only: before, the end was not seen while the lock was held (for ever).
                await().atMost(Duration.ofMinutes(2))
                        .until(() -> engine.runningCount() == 0 && engine.endsAwaitingRecord() == 1);
                assertThat(cancelReadsWaitingFor(config, lockerPid))
                        .as("the read still waits: the end was counted meanwhile").isEqualTo(1);
                locker.rollback();
            }
            await().atMost(Duration.ofMinutes(2)).until(() -> engine.endsAwaitingRecord() == 0
                    && store.ledger().job(jobId).orElseThrow().state() == JobState.SUCCEEDED);
            assertThat(engine.runningCount()).isZero();
        }
    }

    /** How many reads of a job's cancel flag wait for a lock that the session {@code locker} (its pid) holds. */
    private static int cancelReadsWaitingFor(StoreConfig config, int locker) throws java.sql.SQLException {
        try (Connection look = DriverManager.getConnection(config.url());
             PreparedStatement p = look.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                     + " WHERE ? = ANY(pg_blocking_pids(pid)) AND query LIKE 'SELECT cancel_requested FROM jobs%'")) {
            p.setInt(1, locker);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** The backend pid of {@code c}'s session. */
    private static int pid(Connection c) throws java.sql.SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
