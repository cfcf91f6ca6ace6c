package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An idle checkpoint that could not copy the whole write-ahead log is tried again by itself, on a bounded timer,
 * without waiting for {@link IdleCheckpoint#COMMITS} more commits (tryout26 F8: after a checkpoint failed on a full
 * disk the next one came only 32 commits later, about a minute on an idle server, and the log grew meanwhile and
 * never shrank). Here a real SQLite database and a real reader holding its snapshot make the first copy fall short,
 * the way a full disk makes it fail; once the reader lets go, with no commit since, the database file itself (read
 * without its log: SQLite's {@code immutable} URI parameter) holds every row.
 */
class IdleCheckpointRetryTest {

    @TempDir
    Path dir;

    @Test
    void aCopyThatFellShortIsTriedAgainWithoutWaitingForMoreCommits() throws Exception {
        Path db = dir.resolve("r.db");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:sqlite:" + db);
        config.setMaximumPoolSize(2);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA wal_autocheckpoint=0"); // this connection's commits copy nothing by themselves
                s.execute("CREATE TABLE t (n INTEGER, pad TEXT)");
                s.execute("INSERT INTO t VALUES (1, hex(randomblob(2000)))");
            }
            IdleCheckpoint checkpoint;
            try (Connection reader = DriverManager.getConnection("jdbc:sqlite:" + db);
                    Statement r = reader.createStatement()) {
                reader.setAutoCommit(false);
                try (ResultSet read = r.executeQuery("SELECT count(*) FROM t")) {
                    assertThat(read.next()).isTrue(); // the reader's snapshot: the log's pages after it stay
                }
                try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                    s.execute("PRAGMA wal_autocheckpoint=0");
                    for (int i = 2; i <= 50; i++) {
                        s.execute("INSERT INTO t VALUES (" + i + ", hex(randomblob(2000)))");
                    }
                }
                checkpoint = new IdleCheckpoint(pool, () -> null, "checkpoint-retry-test");
                for (int i = 0; i < IdleCheckpoint.COMMITS; i++) {
                    checkpoint.committed();
                }
                await().atMost(Duration.ofMinutes(2)).until(() -> checkpoint.copies() >= 1);
                assertThat(rowsInTheDatabaseFile(db)).as("the reader held back the copy").isLessThan(50);
                reader.commit(); // lets go; no commit follows
            }
            try {
                // Before: the next copy waited for 32 more commits, and none came. Both are awaited together: the
                // copy writes the database file inside its PRAGMA, and counts itself only when the PRAGMA returns
                // (CI of df8f483f read the file between the two).
                await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
                    assertThat(rowsInTheDatabaseFile(db)).isEqualTo(50);
                    assertThat(checkpoint.copies()).isGreaterThanOrEqualTo(2);
                });
            } finally {
                checkpoint.close();
            }
        }
    }

    /** The rows in the database file alone, its write-ahead log not read ({@code immutable=1}). */
    private static long rowsInTheDatabaseFile(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?immutable=1");
                Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM t")) {
            r.next();
            return r.getLong(1);
        } catch (java.sql.SQLException e) {
            return -1; // the table is not in the file yet
        }
    }
}
