package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreLockTest {

    @TempDir
    Path dir;

    /** As every other time in the log: to the millisecond, not the clock's nanoseconds (…T23:16:16.961609467Z). */
    @Test
    void aSecondServerIsToldWhenTheFirstStartedToTheMillisecond() {
        StoreConfig config = StoreConfig.sqlite(dir);
        try (StoreLock first = StoreLock.acquire(config)) {
            assertThatThrownBy(() -> StoreLock.acquire(config)).hasMessageContaining("is already serving the SQLite");
            assertThat(java.nio.file.Files.exists(dir.resolve("buildhook.db.lock"))).isTrue();
            String holder = readQuietly(dir.resolve("buildhook.db.lock"));
            assertThat(holder).matches("(?s)pid \\d+ on .+, started \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{3})?Z\\n"
                    + "data-dir " + java.util.regex.Pattern.quote(dir.toAbsolutePath().normalize().toString()) + "\\n");
        }
    }

    /**
     * The lock file is only a courtesy (who holds the lock, and with which data folder): one whose
     * {@code data-dir} line is not a path (a torn write left a NUL in it) is ignored, not a start that
     * fails with InvalidPathException and keeps failing until someone deletes the file (review14 F5).
     */
    @Test
    void aLockFileWhoseDataDirLineIsNotAPathDoesNotStopTheStart() throws Exception {
        StoreConfig config = StoreConfig.sqlite(dir);
        java.nio.file.Files.writeString(dir.resolve("buildhook.db.lock"), "pid 1 on elsewhere, started 2026-12-01T00:00:00Z\n"
                + "data-dir /var/lib/build\u0000\u0000hook\n");
        try (StoreLock lock = StoreLock.acquire(config)) {
            assertThat(readQuietly(dir.resolve("buildhook.db.lock"))).contains("data-dir "
                    + dir.toAbsolutePath().normalize());
        }
        try (StoreLock again = StoreLock.acquire(config)) {
            assertThat(again).isNotNull();
        }
    }

    private static String readQuietly(Path file) {
        try {
            return java.nio.file.Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
