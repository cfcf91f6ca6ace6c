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
 * review32 F3 (of e7e6e744): the log's disk fills up (a real 64 KiB tmpfs, a real command writing 300 KB); the log
 * ends with buildhook's own {@code [buildhook] log cut here} line. Its record of notes is dropped on the error, and a
 * log with no record in a marked log directory reads as one "with no notes": the job page then showed buildhook's own
 * cut line as "(printed by the command), whatever it says". The reader must never call buildhook's own line the
 * command's: either the record holds it, or the log reads as one whose notes are not known (unmarked).
 * Needs root to mount the tmpfs: fails, not skips, under CI=true when it cannot.
 */
class FullLogDiskNotesTest {

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
    void theCutLineOfALogWhoseDiskFilledUpIsNeverReadAsTheCommands() throws Exception {
        Path logs = SmallTmpfs.mount(dir.resolve("logs"));
        mounted = logs;
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(logs));
        Path script = Files.writeString(dir.resolve("loud.sh"),
                "#!/bin/sh\nhead -c 300000 /dev/zero | tr '\\0' 'x'\n");
        script.toFile().setExecutable(true);

        JobOutcome outcome = launcher.start(Fixtures.request("full-disk", List.of("/bin/sh", script.toString())))
                .outcome().get(60, TimeUnit.SECONDS);
        String log = Files.readString(outcome.logFile(), StandardCharsets.UTF_8);
        int cutAt = log.lastIndexOf("[buildhook] log cut here");
        assertThat(cutAt).as("the log ends with buildhook's cut line").isPositive();

        LogNotes.Piece piece = LogNotes.readTail(outcome.logFile(), 1 << 20);
        long cutOffset = log.substring(0, cutAt).getBytes(StandardCharsets.UTF_8).length;
        boolean cutIsANote = piece.notes().stream().anyMatch(n -> n.offset() <= cutOffset && cutOffset < n.end());
        assertThat(!piece.recorded() || cutIsANote)
                .as("buildhook's own cut line read as the command's (recorded %s, notes %s)", piece.recorded(),
                        piece.notes())
                .isTrue();
    }
}
