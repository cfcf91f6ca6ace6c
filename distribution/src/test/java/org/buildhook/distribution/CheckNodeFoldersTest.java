package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * final18 F1: {@code buildhook check} warns about the folders 'serve' writes before any job (the payload
 * folder, {@code runner.log-dir}) when it could not write them, without writing anything itself; before, it
 * said ok and 'serve' started paused.
 */
class CheckNodeFoldersTest {

    @TempDir
    Path dir;

    private final CheckRun run = new CheckRun();

    private Path config(Path data, Path logs) throws IOException {
        return CheckRun.config(dir, data, "runner: {log-dir: " + logs + "}\n");
    }

    @Test
    void warnsAboutAPayloadFolderAndALogFolderThatServeCouldNotWrite() throws IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path payloads = Files.writeString(data.resolve("payloads"), "not a folder");
        Path notAFolder = Files.writeString(dir.resolve("not-a-folder"), "a file");
        Path logs = notAFolder.resolve("logs");

        assertThat(run.check(config(data, logs))).as(run.err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(run.out.toString()).contains("warning: this user cannot write the payload folder " + payloads
                + " (a file is where the folder goes): 'serve' would store deliveries but start no job until it can")
                .contains("warning: this user cannot write runner.log-dir " + logs + " (" + notAFolder
                        + " is not a directory: a file is where a folder goes)");
        // tryout19 F2: the advice fits the reason given, a file where the folder goes, not only a full disk or a mode.
        assertThat(run.out.toString()).contains("or move away a file that is where a folder goes");
    }

    @Test
    void saysNothingOfFoldersServeCanMakeAndWritesNothing() throws IOException {
        Path data = dir.resolve("data");
        Path logs = dir.resolve("job-logs");

        assertThat(run.check(config(data, logs))).as(run.err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(run.out.toString()).doesNotContain("cannot write");
        assertThat(data).doesNotExist();
        assertThat(logs).doesNotExist();
    }
}
