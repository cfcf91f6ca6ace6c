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
        try (Store store = Store.open(StoreConfig.of(url, dir).withPoolSize(2));
                Connection locker = DriverManager.getConnection(url)) {
            assertThat(store.health()).isEqualTo(StoreHealth.OK);
            locker.setAutoCommit(false);
            try (Statement sql = locker.createStatement()) {
                sql.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
            }
            // Both connections of the store's pool wait for the lock: the pool is exhausted.
            List<Future<?>> reads = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                reads.add(readers.submit(() -> store.job("01M8PZ32TR20HT41KET91M5VKP")));
            }
            await().atMost(Duration.ofMinutes(1)).until(() -> waitingForTheLock(url, schema) == 2);

            long started = System.nanoTime();
            StoreHealth health = store.health();
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(health).isEqualTo(StoreHealth.OK);
            assertThat(took).as("answered without waiting for the store's pool (5 s)").isLessThan(Duration.ofSeconds(4));
            locker.rollback();
            for (Future<?> read : reads) {
                read.get();
            }
        } finally {
            readers.shutdownNow();
        }
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
