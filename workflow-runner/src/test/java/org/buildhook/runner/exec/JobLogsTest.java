package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JobLogsTest {

    @TempDir
    Path dir;

    /**
     * review26 R8: a runner.log-dir changed without moving the older logs still reads them where they were written
     * (as before tryout26 F3's change), while the log dir in force wins when it has the file, and a recorded path not
     * named as that very attempt's log is never read.
     */
    @Test
    void readsTheLogDirInForceFirstThenTheRecordedPathNamedAsThatAttemptsLog() throws java.io.IOException {
        JobLogs now = new JobLogs(dir.resolve("new"));
        Path old = new JobLogs(dir.resolve("old")).pathFor("J1", 1);
        java.nio.file.Files.createDirectories(old.getParent());
        java.nio.file.Files.writeString(old, "written before the change\n");
        Path elsewhere = dir.resolve("secret.txt");
        java.nio.file.Files.writeString(elsewhere, "not a log\n");

        assertThat(JobLogs.toRead(now, "J1", 1, old.toString())).isEqualTo(old);
        assertThat(JobLogs.toRead(now, "J1", 2, old.toString())).isEqualTo(now.pathFor("J1", 2));
        assertThat(JobLogs.toRead(now, "J2", 1, old.toString())).isEqualTo(now.pathFor("J2", 1));
        assertThat(JobLogs.toRead(now, "J1", 1, elsewhere.toString())).isEqualTo(now.pathFor("J1", 1));

        Path own = now.pathFor("J1", 1);
        java.nio.file.Files.createDirectories(own.getParent());
        java.nio.file.Files.writeString(own, "moved here\n");
        assertThat(JobLogs.toRead(now, "J1", 1, old.toString())).isEqualTo(own);
        assertThat(JobLogs.ofAttempt(now, "J1", 1, old.toString())).as("deleting: only in the log dir in force")
                .isEqualTo(own);
    }

    @Test
    void namesTheLogAfterTheJobIdAndAttemptOnly() {
        JobLogs logs = new JobLogs(dir);

        assertThat(logs.pathFor("Job_42-a", 2)).isEqualTo(dir.resolve("Job_42-a").resolve("attempt-2.log"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "..", "../etc", "a/b", "/abs", "a b", "a\nb", "a\0b", "é", ".hidden", "x.log",
            "12345678901234567890123456789012345678901234567890123456789012345"})
    void refusesAJobIdThatCouldNameAnotherPath(String hostile) {
        JobLogs logs = new JobLogs(dir);

        assertThatThrownBy(() -> logs.pathFor(hostile, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid job id")
                .hasMessageContaining("[A-Za-z0-9_-]");
    }

    @Test
    void refusesAnAttemptBelowOne() {
        assertThatThrownBy(() -> new JobLogs(dir).pathFor("job", 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void keepsEveryValidIdInsideTheLogDirectory() {
        JobLogs logs = new JobLogs(dir.resolve("a/../logs"));

        for (String id : List.of("-", "_", "--", "a", "0123456789012345678901234567890123456789012345678901234567890123")) {
            assertThat(logs.pathFor(id, 1)).startsWithRaw(dir.resolve("logs")).hasParentRaw(dir.resolve("logs").resolve(id));
        }
    }

    @Test
    void launcherRefusesAHostileJobIdBeforeRunningAnything() {
        Fixtures fixtures = new Fixtures(dir);
        try (CommonsExecLauncher launcher = fixtures.launcher(fixtures.config())) {
            JobRequest request = new JobRequest("../../etc/passwd", 1, List.of("/bin/true"), Map.of(), null, null,
                    Duration.ofSeconds(5));

            assertThatThrownBy(() -> launcher.start(request)).isInstanceOf(IllegalArgumentException.class);
            assertThat(launcher.runningCount()).isZero();
        } finally {
            fixtures.close();
        }
    }
}
