package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A start whose logins PostgreSQL refuses for a connection limit (a role's {@code CONNECTION LIMIT 0} here; a
 * database's, or {@code max_connections} reached, are the same SQLSTATE 53300) ends with the server's reason
 * (lockfix29). Just before, {@link PoolStarvation} logged a false WARN: "connection pool buildhook-store gave no
 * connection within store.connect-timeout … until it gives one again, deliveries are answered 503". The start's first
 * login, refused, is left to the pool (PostgreSQL may be coming up with the node), and the migrations' wait for the
 * pool was taken for a starved pool of a running node. A pool starved once the store is open is still said.
 */
class PostgresConnectionLimitAtStartTest {

    @TempDir
    Path dir;

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(PoolStarvation.class);
    private String role;

    @BeforeEach
    void listen() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void close() {
        logger.detachAppender(log);
        if (role != null) {
            PostgresRoles.drop(role);
        }
    }

    @Test
    void aStartRefusedForAConnectionLimitOfZeroSaysNoPoolStarved() {
        String password = "limit-" + System.nanoTime();
        role = PostgresRoles.create(password);
        PostgresRoles.limitConnections(role, 0);
        StoreConfig config = StoreConfig.of(PostgresRoles.urlAs(TestStores.postgresUrl(), role, password), dir)
                .withConnectTimeout(Duration.ofSeconds(1));

        assertThatThrownBy(() -> Store.open(config)).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("too many connections for role")
                .hasMessageContaining("SQLSTATE 53300").hasMessageContaining(Store.OUT_OF_CONNECTIONS);
        assertThat(warnings()).as("no pool of a running node was starved: the start was refused, and says why")
                .isEmpty();
    }

    /** The start's mark does not outlive it: the thread that opened the store is told of a starved pool as any. */
    @Test
    void aPoolStarvedAfterTheStartIsStillSaid() throws Exception {
        StoreConfig config = StoreConfig.of(TestStores.postgresUrl(), dir).withPoolSize(2)
                .withConnectTimeout(Duration.ofSeconds(1));
        List<Connection> held = new ArrayList<>();
        try (Store store = Store.open(config)) {
            for (int i = 0; i < 2; i++) {
                held.add(store.dataSource().getConnection()); // every connection of the pool, in use
            }
            assertThatThrownBy(() -> store.dataSource().getConnection()).isInstanceOf(SQLException.class);

            assertThat(warnings()).singleElement().asString()
                    .startsWith(PoolStarvation.NO_CONNECTION + ": connection pool buildhook-store gave no connection");
        } finally {
            for (Connection c : held) {
                c.close();
            }
        }
    }

    private List<String> warnings() {
        synchronized (log) {
            return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                    .toList();
        }
    }
}
