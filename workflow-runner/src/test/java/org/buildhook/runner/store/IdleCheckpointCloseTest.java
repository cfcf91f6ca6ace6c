package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's close abandons an idle checkpoint under way instead of waiting for it (review20 R6): the copy is
 * {@code PASSIVE}, and the write-ahead log keeps every page it did not copy, so nothing is lost. It waited up to 5 s,
 * a wait no stop's count (docs/storage.md, "Graceful shutdown") had, and a copy that waited for one of the pool's
 * connections, all in use by a long read, was still waiting after it: its thread outlived the store. Here a real
 * SQLite database, a real pool of one connection and a read that holds it for the whole test.
 */
class IdleCheckpointCloseTest {

    @TempDir
    Path dir;

    @Test
    void closingAbandonsACopyThatWaitsForTheConnectionOfALongRead() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:sqlite:" + dir.resolve("c.db"));
        config.setMaximumPoolSize(1);
        config.setConnectionTimeout(Duration.ofMinutes(10).toMillis()); // the copy would wait for it all
        String name = "checkpoint-close-test";
        try (HikariDataSource pool = new HikariDataSource(config)) {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("CREATE TABLE t (n INTEGER)");
                s.execute("INSERT INTO t VALUES (1), (2)");
            }
            try (Connection reader = pool.getConnection(); Statement s = reader.createStatement()) {
                reader.setAutoCommit(false);
                ResultSet read = s.executeQuery("SELECT n FROM t"); // a read under way holds the pool's connection
                assertThat(read.next()).isTrue();
                IdleCheckpoint checkpoint = new IdleCheckpoint(pool, () -> null, name);
                for (int i = 0; i < IdleCheckpoint.COMMITS; i++) {
                    checkpoint.committed();
                }
                await().atMost(Duration.ofMinutes(2))
                        .until(() -> pool.getHikariPoolMXBean().getThreadsAwaitingConnection() == 1);

                checkpoint.close();

                // The read still holds the connection: before, the copy went on waiting for it after close().
                await().atMost(Duration.ofMinutes(1)).until(() -> !alive(name));
                assertThat(checkpoint.copies()).isZero();
                assertThat(read.next()).as("the read went on").isTrue();
                read.close();
            }
        }
    }

    private static boolean alive(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }
}
