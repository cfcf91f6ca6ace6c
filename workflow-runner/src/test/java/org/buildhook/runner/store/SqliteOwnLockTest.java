package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Whose lock the SQLite writer waits for. A long wait is said to be another program's ("locked by
 * another program", at {@code WARN}) only when none of the server's own connections may hold the lock:
 * one of db-scheduler's, stalled inside its statement on a loaded machine, is not another program, and
 * db-scheduler's connections waiting behind another program do not hide it.
 */
class SqliteOwnLockTest {

    @TempDir
    Path dir;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger writerLog = (Logger) LoggerFactory.getLogger(SqliteWriter.class);
    private final ExecutorService threads = Executors.newFixedThreadPool(2);
    private Database db;

    @BeforeEach
    void open() {
        log.start();
        writerLog.addAppender(log);
        db = Database.open(StoreConfig.sqlite(dir));
        db.inTransaction("make a table", c -> {
            execute(c, "CREATE TABLE t (x INTEGER)");
            return null;
        });
    }

    @AfterEach
    void close() {
        writerLog.detachAppender(log);
        threads.shutdownNow();
        db.close();
    }

    @Test
    void aLongHoldOfTheWriteLockByOneOfTheServersOwnConnectionsIsNotBlamedOnAnotherProgram() throws Exception {
        try (Connection own = db.schedulerDataSource().getConnection(); Statement st = own.createStatement()) {
            // One of db-scheduler's connections inside its write, its thread not scheduled for a while.
            st.execute("BEGIN IMMEDIATE");
            st.execute("INSERT INTO t VALUES (1)");
            CompletableFuture<Void> write = insertThroughTheWriter(2);
            // Held well past the second after which a wait is said to be another program's.
            await().atMost(Duration.ofSeconds(60)).until(() -> db.writerLockWait().compareTo(Duration.ofMillis(1500)) >= 0);
            st.execute("COMMIT");
            write.get(60, TimeUnit.SECONDS);
        }
        assertThat(lockedWarnings()).isEmpty();
    }

    @Test
    void anotherProgramsLockIsStillSaidWhileOneOfTheServersOwnConnectionsWaitsBehindItToo() throws Exception {
        try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("buildhook.db").toAbsolutePath());
             Statement st = other.createStatement()) {
            st.execute("BEGIN EXCLUSIVE");
            // db-scheduler's connection in use, waiting for the lock itself: it holds nothing.
            CompletableFuture<Void> scheduler = CompletableFuture.runAsync(() -> {
                try (Connection own = db.schedulerDataSource().getConnection(); Statement s = own.createStatement()) {
                    s.execute("INSERT INTO t VALUES (1)");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, threads);
            CompletableFuture<Void> write = insertThroughTheWriter(2);
            await().atMost(Duration.ofSeconds(60)).until(() -> !lockedWarnings().isEmpty());
            st.execute("ROLLBACK");
            write.get(60, TimeUnit.SECONDS);
            scheduler.handle((done, failed) -> null).get(60, TimeUnit.SECONDS); // it may have given up meanwhile
        }
        assertThat(lockedWarnings()).singleElement().asString()
                .contains("is locked by another program", dir.resolve("buildhook.db").toAbsolutePath().toString());
    }

    /** A write of the runner's bookkeeping kind, which waits up to the whole busy timeout. */
    private CompletableFuture<Void> insertThroughTheWriter(int x) {
        return CompletableFuture.runAsync(() -> db.inTransaction("insert " + x, Durability.DEFERRED, c -> {
            execute(c, "INSERT INTO t VALUES (" + x + ")");
            return null;
        }), threads);
    }

    private List<String> lockedWarnings() {
        synchronized (log) {
            return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.contains("locked by another program")).toList();
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
