package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Once a node's stop is past its grace period ({@link Store#stopping()}), a store that could not be
 * <em>reached</em> a moment ago is not waited for again; a pool that was only busy (every connection
 * in use, PostgreSQL answering) is no such store: the next step is tried (review10, M1: HikariCP's
 * "Connection is not available" of an exhausted pool was taken for an outage, and the steps after it,
 * on every pool of the store, failed without trying for the next connection wait).
 */
class PostgresStopWaitsTest {

    @TempDir
    Path dir;

    @Test
    void aPoolThatWasOnlyBusyIsTriedAgainDuringAStop() throws Exception {
        try (Store store = Store.open(TestStores.postgres(dir).withPoolSize(2))) {
            store.stopping();
            try (Connection first = store.dataSource().getConnection();
                    Connection second = store.dataSource().getConnection()) {
                // Both connections of the pool are in use: this read waits the connection wait, then fails.
                assertThatThrownBy(() -> store.job("01M8PZ32TR20HT41KET91M5VKP"))
                        .isInstanceOf(StoreUnavailableException.class);
            }
            // The connections are back in the pool and PostgreSQL answers: the next read is tried, and works.
            assertThat(store.job("01M8PZ32TR20HT41KET91M5VKP")).isEmpty();
        }
    }

    /**
     * A call the database leaves unanswered with its connection open (a network partition, a hung
     * server: pgjdbc's connections have no socket timeout) is waited for as ever before the stop's grace
     * period ends, and once it has ended, for the connection wait and no longer: it ends with a
     * connection failure, and the stop's later calls fail at once instead of each waiting (review11 F3:
     * the stop waited without end). The hung database is a {@link PgFront} that stops forwarding.
     */
    @Test
    void aCallTheDatabaseLeavesUnansweredEndsOnceAStopHasWaitedTheConnectionWaitForIt() throws Exception {
        String url = TestStores.postgresUrl();
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch frozen = new java.util.concurrent.CountDownLatch(1);
        try (PgFront front = PgFront.to(url); Database db = Database.open(StoreConfig.of(front.url(url), dir))) {
            java.util.concurrent.CompletableFuture<Object> call = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> db.read("look while the database hangs", c -> {
                        inside.countDown();
                        try {
                            frozen.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                        try (java.sql.Statement s = c.createStatement()) {
                            s.execute("SELECT 1");
                        }
                        return null;
                    }));
            assertThat(inside.await(1, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
            front.freeze();
            frozen.countDown();
            org.awaitility.Awaitility.await().during(java.time.Duration.ofSeconds(2))
                    .atMost(java.time.Duration.ofSeconds(10)).until(() -> !call.isDone());

            long stoppingAt = System.nanoTime();
            db.stopping();
            assertThatThrownBy(() -> call.get(1, java.util.concurrent.TimeUnit.MINUTES))
                    .hasCauseInstanceOf(StoreUnavailableException.class);
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - stoppingAt))
                    .as("not before the connection wait").isGreaterThanOrEqualTo(db.connectionWait());
            long laterAt = System.nanoTime();
            assertThatThrownBy(() -> db.read("look again", c -> null)).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("not waited for");
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - laterAt)).as("at once")
                    .isLessThan(db.connectionWait());
        }
    }

    /** What HikariCP throws when PostgreSQL refuses connections still counts as "could not be reached". */
    @Test
    void aPoolThatCannotConnectIsAStoreThatCouldNotBeReached() throws Exception {
        java.net.ServerSocket closed = new java.net.ServerSocket(0);
        int port = closed.getLocalPort();
        closed.close(); // nothing listens there now: connections are refused
        com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
        config.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + port + "/buildhook_test");
        config.setDriverClassName("org.postgresql.Driver");
        config.setConnectionTimeout(250);
        config.setInitializationFailTimeout(-1);
        try (com.zaxxer.hikari.HikariDataSource refused = new com.zaxxer.hikari.HikariDataSource(config)) {
            java.sql.SQLException failure = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    refused::getConnection);
            assertThat(StopWaits.couldNotConnect(failure)).as(failure.toString()).isTrue();
        }
    }
}
