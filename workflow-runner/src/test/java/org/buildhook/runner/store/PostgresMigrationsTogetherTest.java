package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout28 F2: two nodes starting at once on an empty PostgreSQL schema took turns by migration, and the
 * log said "store schema upgraded from version 2 to 16 …; a buildhook older than this one cannot open it any
 * more" of a store created a second before (or "created" twice). One node migrates the whole way under the
 * lock, the other then finds it up to date and says nothing.
 */
class PostgresMigrationsTogetherTest {

    /** Migrations' advisory lock key: its high and low 32 bits, as pg_locks shows them. */
    private static final long KEY = 0x6275696c64686f6bL;

    @TempDir
    Path dir;

    @Test
    void twoNodesStartingAtOnceOnAnEmptySchemaSayOnceThatItWasCreated() throws Exception {
        String application = "migrate-" + UUID.randomUUID().toString().substring(0, 8);
        String url = TestStores.postgresUrl() + "&ApplicationName=" + application;
        try (Connection held = DriverManager.getConnection(url); Statement s = held.createStatement()) {
            // A node found schema_version just made by another (both then wait at the migrations' lock).
            s.execute("CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY,"
                    + " description VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
            s.execute("SELECT pg_advisory_lock(" + KEY + ")");
            ListAppender<ILoggingEvent> said = new ListAppender<>();
            Logger log = (Logger) org.slf4j.LoggerFactory.getLogger(Migrations.class);
            said.start();
            log.addAppender(said);
            ExecutorService nodes = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> opened = new ArrayList<>();
                for (String node : List.of("n1", "n2")) {
                    opened.add(nodes.submit(() -> {
                        Store.open(StoreConfig.of(url, dir.resolve(node))).close();
                        return null;
                    }));
                }
                await().atMost(Duration.ofMinutes(2)).until(() -> waiting(held, application) == 2);
                s.execute("SELECT pg_advisory_unlock(" + KEY + ")");
                for (Future<?> f : opened) {
                    f.get(5, TimeUnit.MINUTES);
                }
            } finally {
                nodes.shutdownNow();
                log.detachAppender(said);
            }
            List<String> lines = said.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.startsWith("store schema")).toList();
            assertThat(lines).containsExactly("store schema created at version " + Migrations.latest(Dialect.POSTGRESQL));
            try (ResultSet r = s.executeQuery("SELECT count(*), count(DISTINCT version), max(version) FROM schema_version")) {
                r.next();
                int latest = Migrations.latest(Dialect.POSTGRESQL);
                assertThat(List.of(r.getInt(1), r.getInt(2), r.getInt(3))).containsExactly(latest, latest, latest);
            }
        }
    }

    /** The sessions of {@code application} waiting for the migrations' lock. */
    private static int waiting(Connection c, String application) throws Exception {
        try (PreparedStatement p = c.prepareStatement("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                + " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = ? AND l.objid = ?"
                + " AND a.application_name = ?")) {
            p.setLong(1, KEY >>> 32);
            p.setLong(2, KEY & 0xffffffffL);
            p.setString(3, application);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }
}
