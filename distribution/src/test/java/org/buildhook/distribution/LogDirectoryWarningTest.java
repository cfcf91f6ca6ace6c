package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code runner.log-dir} that cannot be created does not stop the start (deliveries are still stored;
 * jobs wait until it can be created, tryout17 F3) but is said at start, once, not first seen on the first job;
 * the node is paused from its start (final18 F1).
 */
class LogDirectoryWarningTest {

    @TempDir
    Path dir;

    @Test
    void aLogDirectoryThatCannotBeCreatedIsSaidAtStart() throws Exception {
        Files.writeString(dir.resolve("not-a-folder"), "a file\n");
        Path logs = dir.resolve("not-a-folder/logs");
        Path config = TestConfig.write(dir, "runner: {log-dir: not-a-folder/logs}", TestConfig.LOCAL_SERVER);
        ApplicationLog log = new ApplicationLog(org.slf4j.Logger.ROOT_LOGGER_NAME);
        try (log; BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
        }

        // Once, by the engine's start probe (final18 F1: before, also by the application in other words);
        // retention's own WARN (it cannot mark the folder) says only that it does not sweep it.
        assertThat(log.warnings()).filteredOn(w -> w.contains("starts no job")).singleElement().asString()
                .contains("cannot write runner.log-dir " + logs + " (" + dir.resolve("not-a-folder")
                        + " is not a directory: a file is where a folder goes)")
                .contains("it starts no job until it can");
    }

    @Test
    void aLogDirectoryThatCanBeMadeIsMadeAtStartWithoutAWord() throws Exception {
        Path config = TestConfig.write(dir, "runner: {log-dir: job-logs}", TestConfig.LOCAL_SERVER);
        ApplicationLog log = ApplicationLog.ofAStartAndStop(config);

        assertThat(dir.resolve("job-logs")).isDirectory();
        assertThat(log.lines()).noneMatch(m -> m.contains("runner.log-dir"));
    }
}
