package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.SmallTmpfs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite store's first connection at a start (store41): a start on a loaded host ended when that connection, which
 * loads the driver and its native library, took longer than {@code store.connect-timeout}, with HikariCP's
 * "buildhook-store - Connection is not available, request timed out after 5037ms (total=0, …)" and nothing else. Now
 * a first connection the host holds back is waited for, while one that waits off the CPU (a lock another program
 * holds here) or that SQLite refuses ends the start, saying which file, why, the key and what to check. Real SQLite
 * files; the host's holding back is the one seam ({@link Store#open(StoreConfig, ScheduledExecutorService, boolean,
 * java.util.function.Predicate)}), since this JVM loaded the driver long ago.
 */
class SqliteFirstConnectionTest {

    @TempDir
    Path dir;
    private Connection other;
    private Store store;
    private final ScheduledExecutorService retention = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void close() throws Exception {
        if (other != null) {
            other.close();
        }
        if (store != null) {
            store.close();
        }
        retention.shutdownNow();
    }

    /** A database file in SQLite's default (rollback journal) mode, which another connection holds locked. */
    private Path lockedByAnotherProgram() throws Exception {
        Path db = Files.createDirectories(dir.resolve("data")).resolve("buildhook.db");
        other = DriverManager.getConnection("jdbc:sqlite:" + db);
        try (Statement st = other.createStatement()) {
            st.execute("CREATE TABLE theirs (x INTEGER)");
            st.execute("BEGIN EXCLUSIVE");
        }
        return db;
    }

    @Test
    void aFileAnotherProgramHoldsLockedEndsTheStartSayingWhichFileTheLockTheKeyAndWhatToDo() throws Exception {
        Path db = lockedByAnotherProgram();
        StoreConfig config = StoreConfig.sqlite(db.getParent()).withConnectTimeout(Duration.ofMillis(500));

        // Before: "store unavailable while trying to look for schema_version: buildhook-store - Connection is not
        // available, request timed out after 500ms (total=0, active=0, idle=0, waiting=0)".
        assertThatThrownBy(() -> store = Store.open(config)).isInstanceOf(StoreUnavailableException.class)
                .hasMessageStartingWith("cannot open the SQLite store " + db + ": ")
                .hasMessageContaining("store.connect-timeout").hasMessageContaining("500ms")
                .hasMessageContaining("a lock").hasMessageContaining("fuser " + db)
                .hasMessageNotContaining("Connection is not available").hasMessageNotContaining("total=0");
    }

    /** SQLite's own refusal is said at once, with its reason: not after HikariCP tried again for the whole key. */
    @Test
    @Timeout(120)
    void aFileThatIsNotADatabaseEndsTheStartAtOnceWithSqlitesReasonAndWhatToCheck() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path db = Files.writeString(data.resolve("buildhook.db"),
                "not a database, but long enough to be read as one: ".repeat(100));
        StoreConfig config = StoreConfig.sqlite(data).withConnectTimeout(Duration.ofMinutes(10));

        assertThatThrownBy(() -> store = Store.open(config)).isInstanceOf(StoreUnavailableException.class)
                .hasMessageStartingWith("cannot open the SQLite store " + db + ": ")
                .hasMessageContaining("SQLITE_NOTADB")
                .hasMessageContaining("check that store.url (or data-dir) names buildhook's database, or restore");
    }

    /**
     * A later step of the start whose pool gave no connection within the key: the store, what the start was doing, the
     * key with its value and what to check, instead of HikariCP's words as they ended a start (store41).
     */
    @Test
    void aStepOfTheStartThatGotNoConnectionIsSaidWithTheStoreTheKeyAndWhatToCheck() {
        String hikari = "buildhook-store - Connection is not available, request timed out after 5037ms (total=0,"
                + " active=0, idle=0, waiting=0)";
        RuntimeException raw = new StoreUnavailableException("store unavailable while trying to look for"
                + " schema_version: " + hikari, new java.sql.SQLTransientConnectionException(hikari));
        StoreConfig sqlite = StoreConfig.sqlite(dir.resolve("data"));
        StoreConfig postgres = StoreConfig.of("jdbc:postgresql://db.example:5432/buildhook?user=u&password=secret", dir);

        assertThat(Store.saidAtStart(sqlite, raw)).isInstanceOf(StoreUnavailableException.class).hasNoCause()
                .hasMessageStartingWith("cannot open the SQLite store " + dir.resolve("data/buildhook.db") + ": the start"
                        + " waited store.connect-timeout (5s) for a connection to look for schema_version and got none")
                .hasMessageContaining("raise store.connect-timeout (for example to 30s)")
                .hasMessageContaining("fuser " + dir.resolve("data/buildhook.db")).hasMessageNotContaining("total=0");
        assertThat(Store.saidAtStart(postgres, raw)).isInstanceOf(StoreUnavailableException.class).hasNoCause()
                .hasMessageStartingWith("cannot connect to the PostgreSQL store jdbc:postgresql://db.example:5432/buildhook"
                        + "?(parameters hidden): the start waited store.connect-timeout (5s) for a connection to look for"
                        + " schema_version and got none, and none was refused")
                .hasMessageContaining("check that PostgreSQL runs").hasMessageNotContaining("secret");
        RuntimeException said = new StoreUnavailableException("cannot open the SQLite store x: said already", null);
        assertThat(Store.saidAtStart(sqlite, said)).isSameAs(said);
    }

    @Test
    void aFirstConnectionTheHostHoldsBackIsWaitedForBeyondTheKeyAndTheStoreOpens() throws Exception {
        Path db = lockedByAnotherProgram();
        StoreConfig config = StoreConfig.sqlite(db.getParent()).withConnectTimeout(Duration.ofMillis(250));
        AtomicInteger turns = new AtomicInteger();

        // The first turn ends with the connection still waiting: the host held it back, says the seam, which then
        // lets the other program's lock go, so that the connection is made in a later turn.
        store = Store.open(config, retention, false, got -> {
            if (turns.incrementAndGet() == 1) {
                try {
                    other.close();
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            }
            return true;
        });

        assertThat(turns).as("turns of store.connect-timeout waited").hasPositiveValue();
        assertThat(store.schemaVersion()).isPositive();
    }

    /**
     * tryout57 F2: a start on a data folder whose disk is full (the server stopped, its store closed, the disk filled
     * meanwhile) is refused by SQLite as {@code SQLITE_IOERR_SHMSIZE} ("I/O error within xShmMap"), not
     * {@code SQLITE_FULL}, and the start sent the operator to the file's existence and permissions first. A real full
     * tmpfs; the start must say the disk is full and to free space there.
     */
    @Test
    void aStartOnAFullDiskSaysTheDiskIsFull() throws Exception {
        Path disk = null;
        try {
            disk = SmallTmpfs.mount(dir.resolve("disk"), "4m");
            Path data = disk.resolve("data");
            Store.open(TestStores.sqlite(data)).close();
            try (OutputStream filler = Files.newOutputStream(disk.resolve("filler"))) {
                byte[] block = new byte[64 * 1024];
                while (true) {
                    filler.write(block);
                }
            } catch (IOException full) {
                assertThat(full).hasMessageContaining("No space left on device");
            }

            assertThatThrownBy(() -> store = Store.open(TestStores.sqlite(data)))
                    .isInstanceOf(RunnerException.class)
                    .hasMessageContaining("cannot open the SQLite store " + data.resolve("buildhook.db"))
                    .hasMessageContaining("the disk of " + data + " is full (")
                    .hasMessageContaining("free space there (df " + data + ")")
                    .hasMessageNotContaining("that the user buildhook runs as may read and write");
        } finally {
            if (store != null) {
                store.close();
                store = null;
            }
            SmallTmpfs.unmount(disk);
        }
    }
}
