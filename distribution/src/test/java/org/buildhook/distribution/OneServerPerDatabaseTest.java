package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code serve} processes on one SQLite data folder: the second refuses to start, naming the
 * first and what to do; after {@code kill -9} of the first, the lock is gone with it and a new
 * server starts on the same folder.
 */
class OneServerPerDatabaseTest {

    @TempDir
    Path dir;
    ServeProcesses processes;

    @BeforeEach
    void processes() {
        processes = new ServeProcesses(dir);
    }

    @AfterEach
    void killAll() throws InterruptedException {
        processes.close();
    }

    @Test
    void aSecondServeOnTheSameSqliteDataFolderIsRefusedAndAKilledOneLeavesNoLockBehind() throws Exception {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"),
                "data-dir: data\nserver: {host: 127.0.0.1, port: 0}\n");

        Process first = serve(config, dir.resolve("first.out"));
        await().atMost(Duration.ofMinutes(2)).until(() -> printed(dir.resolve("first.out"), "buildhook listening on"));

        Process second = serve(config, dir.resolve("second.out"));
        assertThat(second.waitFor(2, TimeUnit.MINUTES)).as("the second serve ends by itself").isTrue();
        String output = Files.readString(dir.resolve("second.out"));
        assertThat(second.exitValue()).as(output).isEqualTo(ExitCodes.UNAVAILABLE);
        String refusal = output.lines().filter(l -> l.startsWith("buildhook: cannot start")).findFirst().orElse(output);
        assertThat(refusal).contains("another buildhook (pid " + first.pid() + " on ")
                .contains("is already serving the SQLite database " + dir.resolve("data/buildhook.db"))
                .contains("stop that one first").contains("PostgreSQL").doesNotContain("Exception");
        assertThat(first.isAlive()).isTrue();

        first.destroyForcibly().waitFor();
        Process third = serve(config, dir.resolve("third.out"));
        await().atMost(Duration.ofMinutes(2)).until(() -> printed(dir.resolve("third.out"), "buildhook listening on"));
        assertThat(third.isAlive()).isTrue();
    }

    private Process serve(Path config, Path out) throws IOException {
        return processes.serve(config, out);
    }

    private static boolean printed(Path out, String text) throws IOException {
        return ServeProcesses.printed(out, text);
    }
}
