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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session of the store's pools left idle inside a transaction (its node paused by {@code SIGSTOP}, a VM frozen, a
 * host cut off with its connection open) is ended by PostgreSQL after {@link Database#sessionInitSql}, so the
 * row locks it holds do not stop the other nodes for good. ci-a: a node taking over a paused node's jobs waited for the
 * paused node's row lock (a shared resource's, a rule's concurrency line) for as long as it stayed paused, and the jobs
 * never ran again (PostgresWorkflowCrashTest, 2 of 11 under load).
 */
class PostgresIdleInTransactionTest {

    @TempDir
    Path dir;

    @Test
    void aPoolSessionIdleInATransactionIsEndedAndItsLocksGo() throws Exception {
        try (Store store = Store.open(TestStores.postgres(dir.resolve("data")));
                Connection other = DriverManager.getConnection(TestStores.postgresUrl())) {
            Connection paused = store.dataSource().getConnection();
            int pid;
            try (Statement s = paused.createStatement();
                    ResultSet shown = s.executeQuery("SHOW idle_in_transaction_session_timeout")) {
                shown.next();
                assertThat(shown.getString(1)).as("the bound of store.connect-timeout 5s").isEqualTo("30s");
            }
            paused.setAutoCommit(false);
            try (Statement s = paused.createStatement();
                    ResultSet r = s.executeQuery("SELECT pg_backend_pid(), pg_advisory_xact_lock(730417)")) {
                r.next();
                pid = r.getInt(1);
            }
            // Nothing more is sent on it: as a node paused between two statements of its transaction.

            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> !sessionAlive(other, pid));
            try (Statement s = other.createStatement();
                    ResultSet r = s.executeQuery("SELECT pg_try_advisory_lock(730417)")) {
                r.next();
                assertThat(r.getBoolean(1)).as("the ended session's lock is free").isTrue();
                s.execute("SELECT pg_advisory_unlock(730417)");
            }
            try {
                paused.close();
            } catch (SQLException ended) {
                // its session is gone: the pool drops it
            }
        }
    }

    @Test
    void anIdleInTransactionBoundInStoreUrlWins() throws Exception {
        StoreConfig base = TestStores.postgres(dir.resolve("data"));
        StoreConfig own = new StoreConfig(base.url() + "&options=-c%20idle_in_transaction_session_timeout%3D90000",
                base.dataDir(), base.dedupWindow(), base.retention(), base.retentionInterval(), base.retentionBatch(),
                base.poolSize(), base.connectTimeout(), base.clock());
        try (Store store = Store.open(own); Connection c = store.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet shown = s.executeQuery("SHOW idle_in_transaction_session_timeout")) {
            shown.next();
            assertThat(shown.getString(1)).isEqualTo("90s");
        }
    }

    private static boolean sessionAlive(Connection other, int pid) throws SQLException {
        try (PreparedStatement p = other.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE pid = ?")) {
            p.setInt(1, pid);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1) > 0;
            }
        }
    }
}
