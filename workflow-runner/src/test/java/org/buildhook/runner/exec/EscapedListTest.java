package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * escape27 F4: the processes that left the job's session are listed in its outcome message, and the job chooses
 * their names. The list names at most {@link Leftovers#NAMED} and counts the others; a name's control bytes are
 * escaped, so that it cannot forge a line of the server's log or of the job's.
 */
class EscapedListTest extends LauncherTest {

    /** A name a job may give its processes: a newline, then a fake log line. */
    static final byte[] FORGED = "z\nWARN FORGED".getBytes(StandardCharsets.ISO_8859_1);

    @AfterEach
    void noneLeft() throws IOException {
        forged().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    /** Live processes named {@link #FORGED}, read from /proc by the test itself. */
    private static List<Long> forged() throws IOException {
        byte[] comm = Arrays.copyOf(FORGED, FORGED.length + 1);
        comm[FORGED.length] = '\n';
        return Fixtures.liveWhere("comm", read -> Arrays.equals(read, comm));
    }

    @Test
    void twelveEscapesWithAForgedNameAreCountedAndEscaped() throws Exception {
        Path program = dir.resolve(new String(FORGED, StandardCharsets.ISO_8859_1));
        Files.copy(Path.of("/bin/sleep"), program);
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        RunningJob job = launcher.start(new JobRequest(Fixtures.jobId("escaped-list"), 1, List.of("/bin/sh", "-c",
                "i=0; while [ $i -lt 12 ]; do (setsid \"$1\" 300 >/dev/null 2>&1 &); i=$((i+1)); done; exec sleep 300",
                "sh", program.toString()), Map.of(), null, null, Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> forged().size() == 12);

        job.cancel();
        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.message()).startsWith("cancelled; process tree terminated (12 had left the job's session: ")
                .contains(" z\\x0aWARN FORGED, ").endsWith(", … and 2 more)").doesNotContain("\n");
        assertThat(outcome.message().split("z\\\\x0aWARN FORGED", -1)).hasSize(11);
        assertThat(Files.readString(outcome.logFile())).doesNotContain("\nWARN FORGED");
        assertThat(forged()).isEmpty();
    }
}
