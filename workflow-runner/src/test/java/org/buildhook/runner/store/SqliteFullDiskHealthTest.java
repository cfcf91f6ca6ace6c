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

    private AcceptResult accept(String label, int size) {
        return store.accept(Plans.delivery("{\"label\": \"" + label + "\", \"pad\": \"" + "x".repeat(size) + "\"}"),
                List.of(Plans.job("deploy", List.of("/bin/true"))));
    }
}
