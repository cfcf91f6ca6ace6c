package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fixes38 F2: {@link Store#job} read a job's row and its attempts in two statements, each its own snapshot, while the
 * engine writes an attempt's end and the job's state in one transaction: a read whose first statement came before that
 * commit and whose second came after saw the attempt ended and the job still RUNNING (the job page, the API, a log
 * follow's last line). Now one statement, one snapshot. The order is held by PostgreSQL itself: the writing
 * transaction holds {@code job_attempts} locked until the read waits for it, then commits.
 */
class PostgresJobReadInOneSnapshotTest {

    @TempDir
    Path dir;
    String url;
    Store store;

    @BeforeEach
    void open() {
        // No lock_timeout of the store's own (its connection wait, 5 s): the read waits for the test's lock.
        url = TestStores.postgresUrl() + "&options=-c%20lock_timeout%3D0";
        store = Store.open(StoreConfig.of(url, dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void aJobIsReadWithItsAttemptsAsOneCommitLeftThem() throws Exception {
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        assertThat(store.ledger().startAttempt(jobId, "node-a")).isEqualTo(1);
        long now = System.currentTimeMillis();
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try (Connection writer = DriverManager.getConnection(url); Connection watcher = DriverManager.getConnection(url)) {
            writer.setAutoCommit(false);
            try (Statement s = writer.createStatement()) {
                // As the engine ends an attempt: its end and the job's state in one transaction (ExecutionLedger).
                s.execute("LOCK TABLE job_attempts IN ACCESS EXCLUSIVE MODE");
                try (PreparedStatement p = writer.prepareStatement("UPDATE job_attempts SET outcome = 'SUCCEEDED',"
                        + " exit_code = 0, ended_at = ?, message = 'exited with 0' WHERE job_id = ?")) {
                    p.setLong(1, now);
                    p.setString(2, jobId);
                    assertThat(p.executeUpdate()).isEqualTo(1);
                }
                try (PreparedStatement p = writer.prepareStatement("UPDATE jobs SET state = 'SUCCEEDED', exit_code = 0,"
                        + " ended_at = ?, message = 'exited with 0' WHERE id = ?")) {
                    p.setLong(1, now);
                    p.setString(2, jobId);
                    assertThat(p.executeUpdate()).isEqualTo(1);
                }
            }
            Future<JobDetail> read = reader.submit(() -> store.job(jobId).orElseThrow());
            await().atMost(Duration.ofMinutes(2)).until(() -> waitsForTheAttempts(watcher));
            writer.commit();

            JobDetail seen = read.get(2, TimeUnit.MINUTES);
            assertThat(seen.attempts()).singleElement().satisfies(a -> assertThat(a.outcome())
                    .isEqualTo(AttemptOutcome.SUCCEEDED));
            assertThat(seen.job().state()).as("the job as the commit that ended its attempt left it")
                    .isEqualTo(JobState.SUCCEEDED);
        } finally {
            reader.shutdownNow();
        }
    }

    /** Whether a statement waits for the lock on this schema's {@code job_attempts}. */
    private static boolean waitsForTheAttempts(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_locks"
                + " WHERE NOT granted AND relation = 'job_attempts'::regclass")) {
            return rs.next() && rs.getInt(1) > 0;
        }
    }
}
