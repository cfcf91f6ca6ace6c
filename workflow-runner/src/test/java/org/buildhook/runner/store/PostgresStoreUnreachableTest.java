package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PostgreSQL store that cannot be reached when buildhook starts is said with where (the URL
 * without its parameters) and the driver's own reason, never the password, rather than the pool's
 * "Connection is not available, request timed out".
 */
class PostgresStoreUnreachableTest {

    @TempDir
    Path dir;

    @Test
    void aRefusedConnectionAtOpenNamesTheServerAndWhatToCheckNeverThePassword() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort(); // nothing listens there once it is closed
        }
        StoreConfig config = StoreConfig.of("jdbc:postgresql://127.0.0.1:" + port
                + "/buildhook?user=buildhook&password=TopSecret-0xC0FFEE&connectTimeout=5", dir);

        assertThatThrownBy(() -> Store.open(config).close())
                .isInstanceOf(StoreUnavailableException.class)
                .satisfies(e -> assertThat(e.getMessage())
                        .contains("cannot connect to the PostgreSQL store jdbc:postgresql://127.0.0.1:" + port
                                + "/buildhook?(parameters hidden)")
                        .contains("127.0.0.1:" + port + " refused")
                        .contains("store.url, store.user and store.password")
                        .doesNotContain("TopSecret").doesNotContain("Connection is not available"));
    }

    /**
     * A PostgreSQL that accepts the connection and then does not answer in time (here never: a {@link
     * PgFront} that forwards nothing) stands for a first connection that takes longer than the wait, as a
     * packed WAR's on a busy host did with PostgreSQL up (review17): the start says what timed out, after
     * how long and which key raises it, before "check that PostgreSQL runs" (store18: it said only
     * "Connection is not available, request timed out after 5067ms …; check that PostgreSQL runs"). The
     * driver's own login wait is made longer than the test so that only the pool's wait can end first.
     */
    @Test
    void aFirstConnectionNotMadeWithinTheConnectTimeoutNamesTheKeyBeforeSayingToCheckPostgres() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            front.freeze();
            StoreConfig config = StoreConfig.of(front.url(url) + "&loginTimeout=600", dir)
                    .withConnectTimeout(Duration.ofMillis(300));

            assertThatThrownBy(() -> Store.open(config).close())
                    .isInstanceOf(StoreUnavailableException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .startsWith("cannot connect to the PostgreSQL store jdbc:postgresql://127.0.0.1:")
                            .contains(": no connection was made within store.connect-timeout (300ms), and none was"
                                    + " refused")
                            .contains("raise store.connect-timeout (for example to 30s); otherwise check that"
                                    + " PostgreSQL runs")
                            .doesNotContain("Connection is not available").doesNotContain("buildhook?user"));
        }
    }
}
