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

    private static String readQuietly(Path file) {
        try {
            return java.nio.file.Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
