package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * A SQLite store whose file stops taking writes while it is open: made immutable ({@code chattr +i},
 * needs root and a file system with that attribute; fails on CI when it cannot, skips elsewhere), or
 * its data directory deleted. Writes are refused as {@link StoreUnavailableException} (so the HTTP
 * side answers 503), health says so, and nothing accepted is missing after a reopen.
 */
class SqliteStoreFaultTest {

    @TempDir
    Path dir;
    Path data;
    StoreConfig config;
    Store store;
    final List<Path> immutable = new ArrayList<>();

    @BeforeEach
    void open() {
        data = dir.resolve("data");
        config = TestStores.sqlite(data).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        store = Store.open(config);
    }

    @AfterEach
    void close() throws Exception {
        for (Path p : immutable) {
            chattr("-i", p);
        }
        if (store != null) {
            store.close();
        }
    }

    @Test
    void aReadOnlyDatabaseFileRefusesWritesAsUnavailableAndHealthRecoversOnceItIsWritableAgain() throws Exception {
        String before = accept("before").deliveryId();
        makeImmutable(data.resolve("buildhook.db"), data.resolve("buildhook.db-wal"));

        assertThatThrownBy(() -> accept("while read-only")).isInstanceOf(StoreUnavailableException.class);
        assertThat(store.health()).isEqualTo(StoreHealth.NOT_WRITABLE);
        assertThat(store.lastWriteFailure()).isPresent();

        for (Path p : immutable) {
            chattr("-i", p);
        }
        immutable.clear();
        await().atMost(Duration.ofMinutes(1)).until(() -> store.health() == StoreHealth.OK);
        String after = accept("after").deliveryId();

        store.close();
        store = Store.open(config);
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).extracting(Delivery::id)
                .containsExactlyInAnyOrder(before, after);
    }

    /**
     * tryout12 F2: on a full disk every delivery was refused (503) while /healthz said 200 "ok", for
     * good: the runner's periodic transactions that change nothing (a poll that picks no job, an
     * approval sweep with nothing due) commit without writing a byte, and each counted as a write
     * that worked.
     */
    @Test
    void transactionsThatChangeNothingDoNotMakeAStoreThatCannotWriteLookHealthy() throws Exception {
        accept("before");
        makeImmutable(data.resolve("buildhook.db"), data.resolve("buildhook.db-wal"));
        assertThatThrownBy(() -> accept("while read-only")).isInstanceOf(StoreUnavailableException.class);

        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    assertThat(store.expireApprovals()).isEmpty(); // commits, changing nothing
                    return store.health() == StoreHealth.NOT_WRITABLE;
                });

        for (Path p : immutable) {
            chattr("-i", p);
        }
        immutable.clear();
        await().atMost(Duration.ofMinutes(1)).until(() -> store.health() == StoreHealth.OK);
        accept("after");
    }

    @Test
    void aHealthCheckOfAnIdleStoreFindsThatWritesFail() throws Exception {
        accept("before");
        makeImmutable(data.resolve("buildhook.db"), data.resolve("buildhook.db-wal"));

        // No write was tried since; the health check must try one itself once the last success is old.
        await().atMost(Duration.ofMinutes(1)).until(() -> store.health() == StoreHealth.NOT_WRITABLE);
    }

    @Test
    void aDeletedDataDirectoryIsNoticedAndNothingIsAcceptedInto() throws Exception {
        accept("before");
        deleteRecursively(data);

        assertThatThrownBy(() -> accept("after the deletion")).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("deleted or replaced");
        assertThat(store.health()).isEqualTo(StoreHealth.NOT_WRITABLE);
        // A new, empty data directory (as a job's payload folder would make) changes nothing.
        Files.createDirectories(data.resolve("payloads"));
        assertThatThrownBy(() -> accept("into a new directory")).isInstanceOf(StoreUnavailableException.class);
        try {
            store.deliveries(DeliveryQuery.latest(10));
        } catch (RuntimeException e) {
            // A new pooled connection opens an empty file at the path: "no such table" is not the cause.
            assertThat(e).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("deleted or replaced");
        }
        assertThat(store.health()).isEqualTo(StoreHealth.NOT_WRITABLE);

        store.close();
        store = Store.open(config);
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).isEmpty();
    }

    /**
     * tryout33 F6: the data folder renamed while serving was said "deleted or replaced", with the advice to restore
     * a backup, which would have lost everything since; the file was whole at its new path. Now the words say it
     * was moved and where it is, and that moving it back loses nothing, which the reopen proves.
     */
    @Test
    void aDataFolderMovedWhileServingIsSaidMovedWithItsNewPlaceAndNothingIsLost() throws Exception {
        accept("before");
        Path moved = dir.resolve("moved");
        Files.move(data, moved);

        assertThatThrownBy(() -> accept("after the move")).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("was moved while buildhook was running: it is now "
                        + moved.resolve("buildhook.db").toRealPath())
                .hasMessageNotContaining("deleted");
        assertThat(store.health()).isEqualTo(StoreHealth.NOT_WRITABLE);
        assertThat(store.healthReport().reason()).contains("deleted, replaced or moved");

        store.close();
        store = null;
        Files.move(moved, data);
        store = Store.open(config);
        // The delivery before the move is there; the one refused at the moment of the move may be too (its commit
        // landed in the moved file before the move was noticed), as the ERROR says (tryout33 F9 (a)).
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).hasSizeBetween(1, 2);
    }

    @ParameterizedTest
    @EnumSource(value = SQLiteErrorCode.class, names = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY",
        "SQLITE_READONLY_DBMOVED", "SQLITE_IOERR", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_CORRUPT",
        "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_PERM", "SQLITE_PROTOCOL"})
    void everySqliteFailureToReadOrWriteTheFileIsAnOutage(SQLiteErrorCode code) {
        assertThat(StoreUnavailableException.isOutage(new SQLiteException("injected", code))).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = SQLiteErrorCode.class, names = {"SQLITE_ERROR", "SQLITE_CONSTRAINT",
        "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_MISMATCH", "SQLITE_RANGE"})
    void aMistakeInAStatementIsNotAnOutage(SQLiteErrorCode code) {
        assertThat(StoreUnavailableException.isOutage(new SQLiteException("injected", code))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"08006", "57P01", "53100", "53200", "58030", "25006", "XX001"})
    void postgresqlStatesOfAServerThatCannotWriteAreOutages(String state) {
        assertThat(StoreUnavailableException.isOutage(new SQLException("injected", state))).isTrue();
        SQLException wrapped = new SQLException("batch failed", "42000");
        wrapped.setNextException(new SQLException("injected", state));
        assertThat(StoreUnavailableException.isOutage(wrapped)).as("as a batch's next exception").isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"23505", "42601", "42P01", "22001"})
    void postgresqlStatesOfAMistakeAreNotOutages(String state) {
        assertThat(StoreUnavailableException.isOutage(new SQLException("injected", state))).isFalse();
    }

    private AcceptResult accept(String label) {
        return store.accept(Plans.delivery("{\"label\": \"" + label + "\"}"),
                List.of(Plans.job("deploy", List.of("/bin/true"))));
    }

    private void makeImmutable(Path... files) throws Exception {
        for (Path p : files) {
            assertThat(p).exists();
            if (!chattr("+i", p)) {
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    throw new AssertionError("chattr +i " + p + " failed: CI must run as root on a file system "
                            + "with the immutable attribute (ext4, xfs, btrfs)");
                }
                Assumptions.abort("chattr +i is not possible here (not root, or the file system lacks it)");
            }
            immutable.add(p);
        }
    }

    private static boolean chattr(String flag, Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("chattr", flag, file.toString()).redirectErrorStream(true).start();
        p.getInputStream().transferTo(System.err);
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
