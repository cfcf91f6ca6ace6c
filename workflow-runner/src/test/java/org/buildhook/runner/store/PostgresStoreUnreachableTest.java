package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
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
}
