package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout12 F2 on PostgreSQL: a database whose disk is full refuses every write that needs room
 * ({@code 53100 disk_full}: a new delivery, the health probe's row) and still commits the runner's
 * transactions that change nothing (a sweep with nothing due). Those must not make {@code /healthz}
 * say ok while every delivery is refused. The full disk is a trigger of the test's own schema that
 * raises {@code disk_full} on the tables a delivery and the probe write; the shared server is not touched.
 */
class PostgresFullDiskHealthTest {

    @TempDir
    Path dir;
    String url;
    Store store;

    @BeforeEach
    void open() {
        url = TestStores.postgresUrl();
        store = Store.open(StoreConfig.of(url, dir));
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void transactionsThatChangeNothingDoNotMakeAFullDiskLookHealthy() throws Exception {
        accept("before");
        diskFull(true);
        assertThatThrownBy(() -> accept("on a full disk")).isInstanceOf(StoreUnavailableException.class);
        assertThat(store.health()).isEqualTo(StoreHealth.NOT_WRITABLE);

        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    assertThat(store.expireApprovals()).isEmpty(); // commits, changing nothing
                    return store.health() == StoreHealth.NOT_WRITABLE;
                });

        diskFull(false);
        await().atMost(Duration.ofMinutes(1)).until(() -> store.health() == StoreHealth.OK);
        accept("after");
    }

    private void diskFull(boolean full) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            if (full) {
                s.execute("CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS"
                        + " $$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
                        + " USING ERRCODE = 'disk_full'; END$$");
                s.execute("CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON deliveries"
                        + " FOR EACH ROW EXECUTE FUNCTION disk_full()");
                s.execute("CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON store_probe"
                        + " FOR EACH ROW EXECUTE FUNCTION disk_full()");
            } else {
                s.execute("DROP FUNCTION disk_full() CASCADE");
            }
        }
    }

    private AcceptResult accept(String label) {
        return store.accept(Plans.delivery("{\"label\": \"" + label + "\"}"),
                List.of(Plans.job("deploy", List.of("/bin/true"))));
    }
}
