package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.CALLS_REAL_METHODS;
import static org.mockito.Mockito.mockStatic;

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
import org.mockito.MockedStatic;

/**
 * orphan32 (review31 L1): when a late orphan ({@link Orphans#endLate}) goes, what it leaves is handed to this JVM;
 * the late look ends those processes as its job's, also the ones it started after the job ended, and nothing else.
 * Before, its going stretched the job's time to that moment for every process: one this JVM started after the
 * job's end, while no job ran (in a container whose PID 1 is the server: an operator's {@code podman exec}), was
 * ended as the job's. Real processes; the looks are the launcher's periodic look, called by the test.
 *
 * <p>And what a job's program, still there at the job's end (stuck in the kernel past its SIGKILL), leaves when it
 * goes at last is ended as the job's, also more than {@link Orphans#LATE_KEPT_TICKS} after the end: before, it
 * escaped. The clock of {@link Orphans} is moved on past that (Mockito, the one injected change).
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

    @Test
    void whatAJobsProgramLeavesWhenItGoesLongAfterTheJobEndedIsEnded() throws Exception {
        Path go = fifo("go");
        Path pidFile = dir.resolve("child.pid");
        Object owner = SubreaperOn.owner("job-a");
        // The job's program, still there when the job's end is recorded, as one stuck in the kernel would be; its
        // child left the session and cleared its environment: only its parent links name it.
        Process program = SUBREAPER.started(Orphans.spawn(owner, () -> new ProcessBuilder("/bin/sh", "-c",
                "setsid env -i sleep 600 </dev/null >/dev/null 2>&1 & echo $! > " + pidFile + "; read line < " + go)
                .start()));
        long child = pidIn(pidFile);
        Orphans.ended(owner);

        try (MockedStatic<Orphans> later = mockStatic(Orphans.class, CALLS_REAL_METHODS)) {
            later.when(Orphans::now).thenAnswer(call -> (long) call.callRealMethod() + Orphans.LATE_KEPT_TICKS + 100);
            Orphans.reapAllNow(); // a look more than 5 minutes after the end
            Files.writeString(go, "go\n", StandardCharsets.US_ASCII); // the program goes at last
            assertThat(program.waitFor(1, TimeUnit.MINUTES)).isTrue();
            // Looks on this thread: the moved clock is this thread's.
            await().pollInSameThread().atMost(Duration.ofMinutes(2)).until(() -> {
                Orphans.reapAllNow();
                return ProcStat.of(child) == null;
            });
        }
    }
}
