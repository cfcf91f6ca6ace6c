package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's health check ({@code /healthz}) on PostgreSQL does not wait behind the pools that
 * deliveries and jobs use: with every connection of the store's pool taken (load), it still says
 * the store is healthy, and at once (tryout8, F9: it took the pool's 5 s connection wait, and then
 * said "unreachable").
 */
class PostgresHealthTest {

    @TempDir
    Path dir;

    @Test
    void aPoolWhoseConnectionsAreAllTakenIsNoFalseUnhealthyStore() throws Exception {
        String url = TestStores.postgresUrl();
        String schema = url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
        ExecutorService readers = Executors.newFixedThreadPool(2);
        // The pool's wait a minute, far beyond the check's own bounds (1 s for its connection, 3 s for an
        // answer): a check that waited for the pool takes it, one that does not is far under half of it
        // however busy the machine (review20 R2: it asserted < 4 s against the default 5 s).
        Duration poolWait = Duration.ofMinutes(1);
        try (Store store = Store.open(StoreConfig.of(url, dir).withPoolSize(2).withConnectTimeout(poolWait));
                Connection locker = DriverManager.getConnection(url)) {
            TestStores.awaitHealthy(store); // the check's pool's first login, which may take longer than its 1 s wait
            List<Future<?>> reads = exhaust(store, locker, readers, url, schema);

            long started = System.nanoTime();
            StoreHealth health = store.health();
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(health).isEqualTo(StoreHealth.OK);
            assertThat(took).as("answered without waiting for the store's pool (1 min)").isLessThan(poolWait.dividedBy(2));
            locker.rollback();
            for (Future<?> read : reads) {
                read.get();
            }
        } finally {
            readers.shutdownNow();
        }
    }

    /**
     * tryout22 F3's residue: a pool that gave no connection within its wait (store.connect-timeout) refuses every
     * delivery that needs it, so the health check, on its own connection, must not say ok meanwhile; and it must
     * say ok again by itself once the pool has a connection to give, without a caller having to try first. The
     * pool is exhausted for real: both its connections wait for a table lock another session holds.
     */
    @Test
    void aPoolThatGaveNoConnectionWithinItsWaitIsAnUnhealthyStoreUntilItHasOneToGive() throws Exception {
        String plain = TestStores.postgresUrl();
        String schema = plain.substring(plain.indexOf("currentSchema=") + "currentSchema=".length());
        // Sessions that wait for the lock as long as it is held (store.url's lock_timeout wins over the pools'
        // store.connect-timeout, PostgresLockTimeoutTest): the pool is exhausted, not refused the lock.
        String url = plain + "&options=-c%20lock_timeout%3D0";
        ExecutorService readers = Executors.newFixedThreadPool(2);
        // The 500 ms is the exhausted pool's wait, what the store.job below fails after. It also bounds each login
        // (the open's first, each pooled connection's, the health check's), which a loaded machine can take longer
        // than 500 ms to make (flake26; PostgresGroupCommitTest failed so in ci-ag): the logins get a minute in the
        // URL (which wins), and the pool's two connections are made before the reads need them.
        StoreConfig shortWait = StoreConfig.of(url + TestStores.GENEROUS_LOGINS, dir).withPoolSize(2)
                .withConnectTimeout(Duration.ofMillis(500));
        try (Store store = TestStores.openWithConnections(shortWait, 2);
                Connection locker = DriverManager.getConnection(url)) {
            TestStores.awaitHealthy(store); // the check's pool's first login, which may take longer than its 1 s wait
            assertThat(store.healthReport().ok()).isTrue();
            List<Future<?>> reads = exhaust(store, locker, readers, url, schema);
            assertThat(store.healthReport().ok()).as("busy, but no wait has ended empty yet").isTrue();

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.job("01M8PZ32TR20HT41KET91M5VKP"))
                    .isInstanceOf(StoreUnavailableException.class);

            HealthReport starved = store.healthReport();
            assertThat(starved.state()).isEqualTo(StoreHealth.UNREACHABLE);
            assertThat(starved.reason()).startsWith("the store gives this node no connection: its connection pool"
                    + " buildhook-store has given none for ").contains("buildhook-store: 2 open, 2 in use, 0 waiting")
                    .endsWith("see the server log");
            assertThat(store.trouble()).hasValueSatisfying(t -> assertThat(t.reason())
                    .startsWith("the store gives this node no connection"));

            locker.rollback();
            for (Future<?> read : reads) {
                read.get();
            }
            // Its connections are back, idle: ok, though no caller has taken one since.
            await().atMost(Duration.ofMinutes(1)).until(() -> store.healthReport().ok());
            assertThat(store.trouble()).isEmpty();
        } finally {
            readers.shutdownNow();
        }
    }

    /**
     * review13 L8: every node's probe updates the same row of store_probe, on a connection without a
     * lock timeout; a node stalled between its probe's UPDATE and COMMIT (a long GC pause, a network
     * partition until TCP notices) held every other node's probe, and so their health outcome, which
     * on PostgreSQL only the probe clears after a failed write. The probe now waits a second at most.
     */
    @Test
    void aProbeRowAnotherNodeHoldsDoesNotHoldTheHealthCheck() throws Exception {
        String url = TestStores.postgresUrl();
        ExecutorService checks = Executors.newSingleThreadExecutor();
        try (Store store = Store.open(StoreConfig.of(url, dir));
                Connection stalled = DriverManager.getConnection(url)) {
            TestStores.awaitHealthy(store); // the check's pool's first login, which may take longer than its 1 s wait
            stalled.setAutoCommit(false);
            try (Statement sql = stalled.createStatement()) {
                sql.executeUpdate("UPDATE store_probe SET at = 0 WHERE id = 1"); // another node, mid-probe
            }
            int stalledPid = PgSessions.pid(stalled);
            // Checks until one probes again (the last probe's trust ran out): it waits for the row a while,
            // then answers the last outcome. Before, it waited as long as the other node held the row.
            java.util.concurrent.atomic.AtomicBoolean probeWaited = new java.util.concurrent.atomic.AtomicBoolean();
            // No speed bound: before, the check waited as long as the other node held the row, which here is until
            // the test's rollback, so a check that ends at all while the row is held waited for the row no longer
            // than its lock_timeout (1 s). The minutes only bound a hung test.
            await().pollInterval(Duration.ofMillis(200)).atMost(Duration.ofMinutes(10)).until(() -> {
                Future<StoreHealth> health = checks.submit(store::health);
                await("the health check, while another node holds the probe row").atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofMillis(50)).until(() -> {
                            if (!PgSessions.blockedBy(url, stalledPid).isEmpty()) {
                                probeWaited.set(true);
                            }
                            return health.isDone();
                        });
                assertThat(health.get()).isEqualTo(StoreHealth.OK);
                return probeWaited.get();
            });
            stalled.rollback();
        } finally {
            checks.shutdownNow();
        }
    }

    /**
     * Takes both connections of {@code store}'s pool (of two): {@code locker} locks the jobs table in a transaction
     * it leaves open, and two reads on {@code readers} wait for it. Their futures; {@code locker.rollback()} ends it.
     */
    private static List<Future<?>> exhaust(Store store, Connection locker, ExecutorService readers, String url,
            String schema) throws Exception {
        locker.setAutoCommit(false);
        try (Statement sql = locker.createStatement()) {
            sql.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
        }
        List<Future<?>> reads = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            reads.add(readers.submit(() -> store.job("01M8PZ32TR20HT41KET91M5VKP")));
        }
        await().atMost(Duration.ofMinutes(1)).until(() -> waitingForTheLock(url, schema) == 2);
        return reads;
    }

    private static int waitingForTheLock(String url, String schema) throws Exception {
        try (Connection c = DriverManager.getConnection(url); PreparedStatement p = c.prepareStatement(
                "SELECT count(*) FROM pg_locks WHERE relation = to_regclass(?) AND NOT granted")) {
            p.setString(1, schema + ".jobs");
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
