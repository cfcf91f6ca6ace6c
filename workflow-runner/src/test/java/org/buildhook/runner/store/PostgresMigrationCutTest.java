package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * recheck29: the migrations run holding their advisory lock on one session ({@code Migrations.holdingTheLock}); when
 * that session is cut during a migration (here ended by {@code pg_terminate_backend} from another session), the
 * migration fails, and the unlock after it fails too on the dead connection. The error said was the unlock's
 * ("Connection is closed"), which hid why the migration failed; now the migration's own error is the one
 * thrown, the unlock's failure added to it as suppressed.
 */
class PostgresMigrationCutTest {

    /** Migrations' advisory lock key: its high and low 32 bits, as pg_locks shows them. */
    private static final long KEY = 0x6275696c64686f6bL;

    @TempDir
    Path dir;

    @Test
    void aSessionCutDuringAMigrationSaysTheMigrationsErrorNotTheUnlocks() throws Exception {
        String application = "cut-" + UUID.randomUUID().toString().substring(0, 8);
        // No lock_timeout (the migrations set none either): the migration waits for the table lock held below.
        String url = TestStores.postgresUrl() + "&ApplicationName=" + application + "&options=-c%20lock_timeout%3D0";
        try (Connection held = DriverManager.getConnection(url); Statement s = held.createStatement()) {
            s.execute("CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY,"
                    + " description VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
            held.setAutoCommit(false);
            s.execute("LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE");
            CompletableFuture<Void> open = CompletableFuture.runAsync(
                    () -> Store.open(StoreConfig.of(url, dir.resolve("n1"))).close());
            try {
                // The node holds the migrations' lock and waits for the table: it is migrating. Its session is cut.
                // Asked on a connection of its own: pg_stat_activity is one snapshot for the whole of held's transaction.
                int pid;
                try (Connection look = DriverManager.getConnection(url)) {
                    pid = await().atMost(Duration.ofMinutes(2)).until(() -> migrating(look, application), p -> p > 0);
                }
                try (PreparedStatement p = held.prepareStatement("SELECT pg_terminate_backend(?)")) {
                    p.setInt(1, pid);
                    p.execute();
                }
                held.rollback();
                ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> open.get(2, TimeUnit.MINUTES));
                Throwable e = failed.getCause();
                List<String> suppressed = new ArrayList<>();
                for (Throwable t = e; t != null; t = t.getCause()) {
                    // Each named with where it was thrown: the unlock's, besides the transaction's autocommit restore.
                    Arrays.stream(t.getSuppressed()).map(x -> x + " at " + Arrays.stream(x.getStackTrace())
                            .filter(f -> f.getClassName().equals(Migrations.class.getName())).findFirst()
                            .map(f -> f.getMethodName()).orElse("?")).forEach(suppressed::add);
                }
                String all = e + " / cause: " + e.getCause() + " / suppressed: " + suppressed;
                assertThat(e.getMessage()).as(all).contains("terminating connection due to administrator command")
                        .doesNotContain("Connection is closed");
                assertThat(suppressed).as(all).anySatisfy(x -> assertThat(x).contains("Connection is closed").endsWith(" at unlock"));
            } finally {
                held.rollback();
                open.cancel(true);
            }
        }
    }

    /**
     * The backend of {@code application} that holds the migrations' lock and waits for a table lock, or 0.
     */
    private static int migrating(Connection c, String application) throws Exception {
        try (PreparedStatement p = c.prepareStatement("SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a"
                + " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ? AND l.objid = ?"
                + " AND a.application_name = ? AND a.wait_event_type = 'Lock'")) {
            p.setLong(1, KEY >>> 32);
            p.setLong(2, KEY & 0xffffffffL);
            p.setString(3, application);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }
}
