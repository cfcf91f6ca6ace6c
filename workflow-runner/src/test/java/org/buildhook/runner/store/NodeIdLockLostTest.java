package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * cluster27 F7: the database ends the session that holds a node's id lock (pg_terminate_backend, as an operator or a
 * pooler does). The node takes it again at its next renewal, and now says that it had lost it: in between, a node
 * started with the same id was not refused. Real PostgreSQL, real advisory lock.
 */
class NodeIdLockLostTest {

    @TempDir
    Path dir;

    @Test
    void aLockWhoseSessionTheDatabaseEndedIsTakenAgainAndSaid() throws Exception {
        String nodeId = "lost-" + UUID.randomUUID();
        Logger logger = (Logger) LoggerFactory.getLogger(NodeLeases.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        StoreConfig config = TestStores.postgres(dir);
        try (Store store = Store.open(config)) {
            NodeLeases.Lock lock = store.nodeLeases().lock(nodeId);
            try {
                assertThat(lock.take()).isTrue();
                assertThat(lock.take()).isTrue();
                assertThat(warnings(log)).isEmpty();
                List<Integer> holders = TestStores.nodeIdLockHolders(config.url(), nodeId);
                assertThat(holders).hasSize(1);

                try (Connection admin = DriverManager.getConnection(config.url());
                        PreparedStatement end = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
                    end.setInt(1, holders.get(0));
                    try (ResultSet rs = end.executeQuery()) {
                        assertThat(rs.next() && rs.getBoolean(1)).isTrue();
                    }
                }

                assertThat(lock.take()).isTrue();
                assertThat(TestStores.nodeIdLockHolders(config.url(), nodeId)).hasSize(1).doesNotContain(holders.get(0));
                assertThat(warnings(log)).singleElement().asString().startsWith("node id " + nodeId
                        + ": the database session that held its advisory lock had ended (found at ")
                        .contains("the lock is held again now, on a new session")
                        // In milliseconds, as the log's other times (tryout28 F3: it said 02:49:27.649641364Z).
                        .containsPattern("found at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{3})?Z:")
                        .endsWith("Until then a node started with this id would not have been refused");
                assertThat(lock.take()).isTrue();
                assertThat(warnings(log)).hasSize(1);
            } finally {
                lock.release();
            }
        } finally {
            logger.detachAppender(log);
        }
    }

    private static List<String> warnings(ListAppender<ILoggingEvent> log) {
        return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                .toList();
    }
}
