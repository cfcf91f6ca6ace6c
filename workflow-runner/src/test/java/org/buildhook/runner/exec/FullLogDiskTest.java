package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * disk18 D4: the log's disk fills up after the log was opened (a real 64 KiB tmpfs, a real command that
 * writes 300 KB). The command runs to its end and its outcome is kept (SUCCEEDED, "log incomplete"), and
 * the log ends with a {@code [buildhook] log cut here} line saying why, instead of stopping mid-output.
 * Needs root to mount the tmpfs: fails, not skips, under CI=true when it cannot.
 */
class FullLogDiskTest {

    @TempDir
    Path dir;
    private Path mounted;
    private CommonsExecLauncher launcher;

    @AfterEach
    void unmount() throws Exception {
        if (launcher != null) {
            launcher.close();
        }
        SmallTmpfs.unmount(mounted);
    }

    @Test
    void aLogWhoseDiskFillsUpEndsWithALineSayingSoAndTheOutcomeIsKept() throws Exception {
        Path logs = SmallTmpfs.mount(dir.resolve("logs"));
        mounted = logs;
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(logs));
        Path script = Files.writeString(dir.resolve("loud.sh"),
                "#!/bin/sh\nhead -c 300000 /dev/zero | tr '\\0' 'x'\necho done > " + dir.resolve("ran") + "\n");
        script.toFile().setExecutable(true);

        JobOutcome outcome = launcher.start(Fixtures.request("full-disk", List.of("/bin/sh", script.toString())))
                .outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(outcome.message()).contains("log incomplete").containsIgnoringCase("no space left on device");
        assertThat(dir.resolve("ran")).hasContent("done\n");
        String log = Files.readString(outcome.logFile(), StandardCharsets.UTF_8);
        assertThat(log).startsWith("xxxx");
        String last = log.substring(log.lastIndexOf('\n', log.length() - 2) + 1);
        assertThat(last).startsWith("[buildhook] log cut here: it could not be written further (")
                .containsIgnoringCase("no space left on device")
                .contains("bytes of output are not in this log")
                .endsWith("The command ran on; its outcome is recorded with the job\n");
    }
}
