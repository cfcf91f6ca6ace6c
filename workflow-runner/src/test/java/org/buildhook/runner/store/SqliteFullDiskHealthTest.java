package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout13 F1: on a SQLite store whose disk is full, every delivery was refused (503) while
 * {@code /healthz} said 200 "ok" again one second after each refusal. The health probe rewrote one
 * row in a page that was already there, which still fits where a delivery, which needs new room,
 * does not: on a real disk, in the part of the WAL file the refused delivery's own frames had
 * claimed before the disk ran out. Here the disk is full at the page count the database has
 * ({@code max_page_count}, on every connection through the URL): a delivery that needs more pages is
 * refused with {@code SQLITE_FULL} as on a full disk, and a one-row update still commits.
 */
class SqliteFullDiskHealthTest {

    @TempDir
    Path dir;
    Store store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void aProbeWriteThatFitsWhereADeliveryDoesNotDoesNotMakeAFullDiskLookHealthy() throws Exception {
        Path data = dir.resolve("data");
        store = Store.open(TestStores.sqlite(data));
        accept("before", 100);
        store.close();
        Path file = data.resolve("buildhook.db").toAbsolutePath();
        long pages;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA page_count")) {
            rs.next();
            pages = rs.getLong(1);
        }
        store = Store.open(StoreConfig.of("jdbc:sqlite:" + file + "?max_page_count=" + pages, data));

        assertThatThrownBy(() -> accept("on the full disk", 50_000)).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("SQLITE_FULL");
        assertThat(store.health()).isEqualTo(StoreHealth.NOT_WRITABLE);
        assertThat(store.healthReport().reason()).as("what /healthz says is wrong")
                .isEqualTo("the store cannot write: its disk is full (SQLITE_FULL); see the server log");

        // Past the second a failure is believed, /healthz probes: it must not find that writes work.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> store.health() == StoreHealth.NOT_WRITABLE);
        assertThatThrownBy(() -> accept("still on the full disk", 50_000))
                .isInstanceOf(StoreUnavailableException.class);
    }

    /**
     * review14 F13: after a write was refused for want of room, the health probe writes 64 KiB, which on
     * a full disk does not fit, and SQLite answers {@code SQLITE_FULL} by rolling the whole transaction
     * back. The probe shared the writer's batch with the runner's other deferred bookkeeping, which then
     * failed with it (an outage, waited out and tried again: harmless, but noisy). It commits in a batch
     * of its own now: bookkeeping queued beside a probe that does not fit is stored.
     */
    @Test
    void bookkeepingQueuedBesideAProbeThatDoesNotFitIsNotFailedByIt() throws Exception {
        Path data = dir.resolve("data");
        Path file = data.resolve("buildhook.db").toAbsolutePath();
        try (Store made = Store.open(TestStores.sqlite(data))) {
            assertThat(made.health()).as("the schema and the probe's row are made").isEqualTo(StoreHealth.OK);
        }
        long pages;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA page_count")) {
            rs.next();
            pages = rs.getLong(1);
        }
        try (Database db = Database.open(StoreConfig.of("jdbc:sqlite:" + file + "?max_page_count=" + pages, data))) {
            assertThatThrownBy(() -> db.inTransaction("accept a delivery", Durability.DURABLE, c -> {
                try (Statement s = c.createStatement()) {
                    return s.executeUpdate("INSERT INTO store_probe (id, at) VALUES (3, zeroblob(1048576))");
                }
            })).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("SQLITE_FULL");

            // The writer held, so that what is handed to it meanwhile waits for the same next batch.
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Object> holding = db.inTransactionLater("hold the writer", Durability.DEFERRED, c -> {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
            assertThat(held.await(1, TimeUnit.MINUTES)).isTrue();
            CompletableFuture<Integer> bookkeeping = db.inTransactionLater("record an attempt", Durability.DEFERRED,
                    c -> {
                        try (Statement s = c.createStatement()) {
                            return s.executeUpdate("UPDATE store_probe SET at = at + 1 WHERE id = 1");
                        }
                    });
            // Health checks until one probes (a failure is believed for a second), and its probe waits too.
            AtomicBoolean checking = new AtomicBoolean(true);
            CompletableFuture<Void> checks = CompletableFuture.runAsync(() -> {
                while (checking.get()) {
                    db.writable();
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                }
            });
            try {
                await().atMost(Duration.ofMinutes(1)).until(() -> db.writerWaiting() == 2);
                release.countDown();

                assertThat(bookkeeping.get(1, TimeUnit.MINUTES)).as("stored beside the probe").isEqualTo(1);
            } finally {
                release.countDown();
                checking.set(false);
            }
            checks.get(1, TimeUnit.MINUTES);
            holding.get(1, TimeUnit.MINUTES);
            assertThat(db.writable()).as("the disk is still full").isFalse();
        }
    }

    private AcceptResult accept(String label, int size) {
        return store.accept(Plans.delivery("{\"label\": \"" + label + "\", \"pad\": \"" + "x".repeat(size) + "\"}"),
                List.of(Plans.job("deploy", List.of("/bin/true"))));
    }
}
