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
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PostgresStoreTest extends AbstractStoreTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @Override
    String unreachableUrl(Path dir) {
        return "jdbc:postgresql://127.0.0.1:1/nowhere?user=x&password=y&connectTimeout=1";
    }

    /** A PostgreSQL session of this database that waits for a row lock ({@code SELECT ... FOR UPDATE}). */
    @Override
    boolean waitsForLock(Thread thread) throws SQLException {
        try (Connection c = DriverManager.getConnection(config.url());
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        + " AND datname = current_database() AND query LIKE '%FOR UPDATE%'")) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }

    /**
     * review14 F10: a cancel of a queued job that a node picks at that moment. The cancel read the execution
     * unpicked, then removed it by its version; the pick, committed in between, changed the version, and
     * db-scheduler's removal threw ("Expected one execution to be removed"), so the cancel failed with an
     * internal error. Now the job is left to the node that picked it, flagged for cancelling, as a job
     * picked before the cancel is. The pick is another session that locks the execution's row, waits for
     * the cancel to wait for it, then marks it picked and commits, as db-scheduler's pick does.
     */
    @Test
    void aCancelOfAQueuedJobThatANodePicksMeanwhileFlagsItForThatNode() throws Exception {
        String job = store.accept(Plans.delivery("{\"build_id\": 990}"), List.of(Plans.job("plain",
                List.of("/bin/true")))).jobIds().get(0);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection other = store.dataSource().getConnection()) {
            other.setAutoCommit(false);
            try (PreparedStatement p = other.prepareStatement("SELECT version FROM scheduled_tasks WHERE task_name = ?"
                    + " AND task_instance = ? FOR UPDATE")) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setString(2, job);
                p.executeQuery().close();
            }
            int pid = PgSessions.pid(other);
            Future<Boolean> cancel = pool.submit(() -> store.cancel(job));
            await().atMost(Duration.ofSeconds(30)).until(() -> !PgSessions.blockedBy(config.url(), pid).isEmpty());
            try (PreparedStatement p = other.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = ?,"
                    + " last_heartbeat = ?, version = version + 1 WHERE task_name = ? AND task_instance = ?")) {
                p.setBoolean(1, true);
                p.setString(2, "node-b");
                JobQueue.customization(store.dialect()).setInstant(p, 3, Instant.now());
                p.setString(4, JobQueue.TASK_NAME);
                p.setString(5, job);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            other.commit();

            assertThat(cancel.get(30, TimeUnit.SECONDS)).as("cancelled, or asked of the node").isTrue();
        } finally {
            pool.shutdownNow();
        }
        assertThat(store.job(job).orElseThrow().job().cancelRequested()).as("left to the node that picked it")
                .isTrue();
        executionTime(job); // still there, the node's
    }

    /**
     * slots13, across nodes: a cancel takes its rule's turn (the advisory lock the tries and releases of
     * its slots take) before it looks for the next in line. Otherwise the next job, being refused the slot
     * on another node at that moment (the cancelled job still ahead of it), was still picked when the
     * cancel looked and put back just after, and nobody woke it.
     */
    @Test
    void aCancelTakesItsRulesTurnSoThatAJobAnotherNodeWasRefusingMeanwhileIsWoken() throws Exception {
        List<String> ids = slotLine("handover", 970);
        String woken = ids.get(1);
        String next = ids.get(2);
        picked(next);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection other = store.dataSource().getConnection()) {
            other.setAutoCommit(false);
            try (PreparedStatement p = other.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(current_schema()"
                    + " || '/' || ?))")) {
                p.setInt(1, 0x62687273);
                p.setString(2, "handover");
                p.executeQuery().close();
            }
            int pid = PgSessions.pid(other);
            Future<Boolean> cancel = pool.submit(() -> store.cancel(woken));
            await().atMost(Duration.ofSeconds(30)).until(() -> !PgSessions.blockedBy(config.url(), pid).isEmpty());
            // The other node's refusal of the next job: put back for its next try, in the same transaction.
            try (PreparedStatement p = other.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = NULL,"
                    + " execution_time = ?, version = version + 1 WHERE task_name = ? AND task_instance = ?")) {
                p.setBoolean(1, false);
                JobQueue.customization(store.dialect()).setInstant(p, 2, Instant.now().plus(Duration.ofHours(1)));
                p.setString(3, JobQueue.TASK_NAME);
                p.setString(4, next);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            other.commit();

            assertThat(cancel.get(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            pool.shutdownNow();
        }
        assertThat(executionTime(next)).as("woken by the cancel").isBeforeOrEqualTo(Instant.now());
    }
}
