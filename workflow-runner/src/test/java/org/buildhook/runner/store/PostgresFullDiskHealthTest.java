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
        assertThat(store.healthReport().reason()).as("/healthz says what is wrong")
                .isEqualTo("the store cannot write: the database server is out of disk space (SQLSTATE 53100);"
                        + " see the server log");

        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    assertThat(store.expireApprovals()).isEmpty(); // commits, changing nothing
                    return store.health() == StoreHealth.NOT_WRITABLE;
                });

        diskFull(false);
        await().atMost(Duration.ofMinutes(1)).until(() -> store.health() == StoreHealth.OK);
        accept("after");
    }

    /**
     * A PostgreSQL server out of disk space may refuse new sessions too ({@code FATAL}, {@code 53100}:
     * a backend that cannot write its files). {@code /healthz}'s read, on a connection of its own, then
     * fails; it said "the store does not answer", sending the operator after the network (tryout12). It
     * names the database server's want of disk space, and tells a server that refuses connections at
     * the TCP level apart from one that does not answer. The refusing server is a {@link PgFront}
     * before the test's PostgreSQL.
     */
    @Test
    void aDatabaseThatRefusesNewSessionsForWantOfDiskSpaceIsSaidToBeOutOfDiskSpaceNotSilent() throws Exception {
        try (PgFront front = PgFront.to(url);
                Store fronted = Store.open(StoreConfig.of(front.url(url), dir.resolve("fronted")))) {
            front.refuseNewConnections("53100", "could not write init file: No space left on device");
            // The server restarts (it ran out of disk space): the sessions it had are gone, the health check's
            // own among them, which is made at the store's open and kept (pglogin28); its pool makes another in
            // the background after each failure: the reason is that of the pool's last try.
            front.cutForwarded();
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
                HealthReport full = fronted.healthReport();
                assertThat(full.state()).isEqualTo(StoreHealth.UNREACHABLE);
                assertThat(full.reason()).isEqualTo("the store refuses connections: the database server is out of"
                        + " disk space (SQLSTATE 53100)");
            });

            front.refuseNewConnections("57P03", "the database system is in recovery mode");
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(fronted.healthReport().reason())
                    .isEqualTo("the store refuses connections: the database server is starting, stopping or"
                            + " recovering (SQLSTATE 57P03)"));

            front.close(); // nothing listens any more
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(fronted.healthReport().reason())
                    .isEqualTo("the store refuses connections: nothing listens at its address (connection refused)"));
        }
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
