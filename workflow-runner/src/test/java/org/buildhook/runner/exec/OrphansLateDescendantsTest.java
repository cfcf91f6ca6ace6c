package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
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
 * orphan32 (review31 L1): when a late orphan ({@link Orphans#endLate}) goes, what it leaves is handed to this JVM;
 * the late look ends those processes as its job's, also the ones it started after the job ended, and nothing else.
 * Before, its going stretched the job's time to that moment for every process: one this JVM started after the
 * job's end, while no job ran (in a container whose PID 1 is the server: an operator's {@code podman exec}), was
 * ended as the job's. Real processes; the looks are the launcher's periodic look, called by the test.
 */
@EnabledOnOs(OS.LINUX)
class OrphansLateDescendantsTest {

    @RegisterExtension
    static final SubreaperOn SUBREAPER = new SubreaperOn();

    @TempDir
    Path dir;

    private static boolean alive(long pid) {
        ProcStat stat = ProcStat.of(pid);
        return stat != null && !stat.gone();
    }

    /** Job A ran and ended; its last look did not see what {@code late} (started while it ran) is. */
    private static void jobAEndedBefore(Object owner) {
        Orphans.ended(owner);
        long endedAt = Orphans.now();
        await().atMost(Duration.ofMinutes(1)).until(() -> Orphans.now() > endedAt); // a tick after the end
    }

    /** The periodic look until {@code pid} is gone and reaped. */
    private static void looksUntilGone(long pid) {
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            Orphans.reapAllNow();
            return ProcStat.of(pid) == null;
        });
    }

    private static long pidIn(Path file) {
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(file) && Files.readString(file).endsWith("\n"));
        try {
            return SUBREAPER.leftBehind(Long.parseLong(Files.readString(file).trim()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Path fifo(String name) throws Exception {
        Path fifo = dir.resolve(name);
        Process mkfifo = Orphans.spawn(null, () -> new ProcessBuilder("mkfifo", fifo.toString()).start());
        assertThat(mkfifo.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(mkfifo.exitValue()).isZero();
        return fifo;
    }

    @Test
    void aProcessStartedAfterTheJobEndedIsNotEndedWhenALateOrphanOfTheJobGoes() throws Exception {
        Object owner = SubreaperOn.owner("job-a");
        SUBREAPER.attempt(owner);
        long late = SUBREAPER.orphan();
        jobAEndedBefore(owner);
        long foreign = SUBREAPER.orphan(); // started while no job ran: nothing says it is a job's

        looksUntilGone(late);
        Orphans.reapAllNow();
        Orphans.reapAllNow();
        assertThat(alive(foreign)).as("not job-a's: started after its end, no child of its late orphan").isTrue();
    }

    @Test
    void whatALateOrphanStartedAfterTheJobEndedIsEndedWithIt() throws Exception {
        Path go = fifo("go");
        Path pidFile = dir.resolve("child.pid");
        Object owner = SubreaperOn.owner("job-a");
        SUBREAPER.attempt(owner);
        long late = SUBREAPER.orphan("/bin/sh -c 'read line < " + go + "; sleep 600 </dev/null >/dev/null 2>&1 &"
                + " echo $! > " + pidFile + "; wait'");
        jobAEndedBefore(owner);
        Files.writeString(go, "go\n", StandardCharsets.US_ASCII); // its child starts after the job's end
        long child = pidIn(pidFile);

        looksUntilGone(late);
        looksUntilGone(child);
    }

    @Test
    void whatALateOrphanStartsAsItIsEndedIsEndedWithIt() throws Exception {
        Path pidFile = dir.resolve("child.pid");
        Object owner = SubreaperOn.owner("job-a");
        SUBREAPER.attempt(owner);
        // Its SIGTERM (sent after the look that found it) starts a child no look saw, then it exits.
        long late = SUBREAPER.orphan("/bin/sh -c 'trap \"sleep 600 </dev/null >/dev/null 2>&1 &"
                + " echo \\$! > " + pidFile + "; exit 0\" TERM; sleep 600 & wait'");
        jobAEndedBefore(owner);

        looksUntilGone(late);
        long child = pidIn(pidFile);
        looksUntilGone(child);
    }
}
