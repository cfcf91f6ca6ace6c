package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * review32 (of orphan32's 8e5f8adf): a late orphan of a job that starts a process through a subshell that exits at
 * once ({@code (cmd &)}, the usual way to put a process in the background for good) hands that process to this JVM
 * straight away, not through itself: no look ever sees it as the late orphan's child. It is the job's all the same
 * (its own session, started by the job's process) and must be ended with the late orphan, as it was before 8e5f8adf
 * (the late orphan's going stretched the job's time to the look that found it gone). Real processes; the looks are
 * the launcher's periodic look, called by the test.
 */
@EnabledOnOs(OS.LINUX)
class OrphansLateDoubleForkTest {

    @RegisterExtension
    static final SubreaperOn SUBREAPER = new SubreaperOn();

    @TempDir
    Path dir;

    @Test
    void whatALateOrphanPutInTheBackgroundThroughASubshellAfterTheJobEndedIsEndedWithIt() throws Exception {
        Path go = dir.resolve("go");
        Process mkfifo = Orphans.spawn(null, () -> new ProcessBuilder("mkfifo", go.toString()).start());
        assertThat(mkfifo.waitFor(1, TimeUnit.MINUTES)).isTrue();
        Path pidFile = dir.resolve("daemon.pid");
        Object owner = SubreaperOn.owner("job-a");
        SUBREAPER.attempt(owner);
        // Started while job-a ran, in a session of its own (as a job's processes are: never this JVM's); once told, it
        // puts a sleep in the background through a subshell that exits at once (the sleep is handed to this JVM
        // then), and goes on with a foreground sleep of its own.
        long late = SUBREAPER.orphan("setsid /bin/sh -c 'read line < " + go + "; (sleep 600 </dev/null >/dev/null 2>&1 &"
                + " echo $! > " + pidFile + "); sleep 600'");
        Orphans.ended(owner);
        long endedAt = Orphans.now();
        await().atMost(Duration.ofMinutes(1)).until(() -> Orphans.now() > endedAt);
        Files.writeString(go, "go\n", StandardCharsets.US_ASCII); // its background sleep starts after the job's end
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(pidFile)
                && Files.readString(pidFile).endsWith("\n"));
        long daemon = SUBREAPER.leftBehind(Long.parseLong(Files.readString(pidFile).trim()));
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            ProcStat stat = ProcStat.of(daemon);
            return stat != null && stat.parent() == ProcessHandle.current().pid();
        });

        await().atMost(Duration.ofMinutes(2)).until(() -> {
            Orphans.reapAllNow();
            return ProcStat.of(late) == null;
        });
        // The late orphan is gone: the next looks end what it left, the background sleep too.
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            Orphans.reapAllNow();
            return ProcStat.of(daemon) == null;
        });
    }
}
