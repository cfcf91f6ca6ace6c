package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread interrupted while it waits for one of the store's connections (every connection of the pool in use: a
 * store that hangs holds them; db-scheduler's stop interrupts the jobs' threads once its own wait is over) gets an
 * outage, {@link StoreUnavailableException}, and keeps its interrupt: nothing was sent to the database. Before,
 * HikariCP's {@code "Interrupted during connection acquisition"} (an SQLException with no SQLSTATE) became "store
 * failed to …", which a job's thread took for a failed statement: thrown to db-scheduler (an ERROR with its stack
 * trace), the stop's note of the attempt not written (interrupt45).
 */
class InterruptedConnectionWaitTest {

    @TempDir
    Path dir;

    @Test
    void onSqliteAnInterruptedWaitForAConnectionIsAnOutage() throws Exception {
        // One of the pool's two is the writer's, which holds it while the store is open.
        interruptedWhileThePoolIsInUse(TestStores.sqlite(dir), 1);
    }

    @Test
    void onPostgresqlAnInterruptedWaitForAConnectionIsAnOutage() throws Exception {
        interruptedWhileThePoolIsInUse(TestStores.postgres(dir), 2);
    }

    /** @param free how many connections of a pool of two the store leaves free */
    private static void interruptedWhileThePoolIsInUse(StoreConfig config, int free) throws Exception {
        try (Store store = Store.open(config.withPoolSize(2))) {
            assertThat(store.job("01M8PZ32TR20HT41KET91M5VKP")).isEmpty();
            boolean stillInterrupted;
            java.util.List<Connection> held = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < free; i++) {
                    held.add(store.dataSource().getConnection());
                }
                Thread.currentThread().interrupt();
                try {
                    assertThatThrownBy(() -> store.job("01M8PZ32TR20HT41KET91M5VKP"))
                            .isInstanceOf(StoreUnavailableException.class)
                            .hasMessageContaining("Interrupted during connection acquisition");
                } finally {
                    stillInterrupted = Thread.interrupted();
                }
            } finally {
                for (Connection c : held) {
                    c.close();
                }
            }
            assertThat(stillInterrupted).as("the interrupt is kept").isTrue();
            // Not interrupted, with the connections back: the store answers.
            assertThat(store.job("01M8PZ32TR20HT41KET91M5VKP")).isEmpty();
        }
    }
}
