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
