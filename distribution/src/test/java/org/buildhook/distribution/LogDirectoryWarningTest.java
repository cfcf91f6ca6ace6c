package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code runner.log-dir} that cannot be created does not stop the start (deliveries are still stored;
 * jobs wait until it can be created, tryout17 F3) but is said at start, not first seen on the first job.
 */
class LogDirectoryWarningTest {

    @TempDir
    Path dir;

    @Test
    void aLogDirectoryThatCannotBeCreatedIsSaidAtStart() throws Exception {
        Files.writeString(dir.resolve("not-a-folder"), "a file\n");
        Path logs = dir.resolve("not-a-folder/logs");
        Path config = TestConfig.write(dir, "runner: {log-dir: not-a-folder/logs}", TestConfig.LOCAL_SERVER);
        ApplicationLog log = ApplicationLog.ofAStartAndStop(config);

        assertThat(log.warnings()).anySatisfy(w -> assertThat(w).startsWith("runner.log-dir " + logs + " cannot be created")
                .contains("this node starts no job until it can"));
    }

    @Test
    void aLogDirectoryThatCanBeMadeIsMadeAtStartWithoutAWord() throws Exception {
        Path config = TestConfig.write(dir, "runner: {log-dir: job-logs}", TestConfig.LOCAL_SERVER);
        ApplicationLog log = ApplicationLog.ofAStartAndStop(config);

        assertThat(dir.resolve("job-logs")).isDirectory();
        assertThat(log.lines()).noneMatch(m -> m.contains("runner.log-dir"));
    }
}
