package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * scan33: the look for what a job left at its end reads no descriptors of the processes in the session of another
 * running job's program (that job's, by birth: {@link ProcessTree#running}). Proved on real processes both ways:
 * another job's program, or a process of its session, that holds this job's output is not ended with this job (it
 * was before: a process that is not the job's); and every escape of this job that holds its output is still found
 * and ended while other jobs run: {@code (setsid env -i cmd &)}, a double fork through a shell that exits, one that
 * carries the other running job's marker (an environment it chose), one that changes its environment by an exec
 * after leaving; a process outside every job started in the window is left alone; a registered program whose pid
 * is now another process's (another start time) spares nothing.
 */
class OtherAttemptsSessionsTest extends LauncherTest {

    /** Unique to this test: the sleeps it starts are found by their argument. */
    String seconds;
    final List<Process> outside = new ArrayList<>();
    final List<RunningJob> jobs = new ArrayList<>();

    @BeforeEach
    void seconds() {
        seconds = "300." + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
    }

    @AfterEach
    void noneLeft() throws Exception {
        jobs.forEach(RunningJob::cancel);
        for (RunningJob job : jobs) {
            job.outcome().get(2, TimeUnit.MINUTES);
        }
        sleeps().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        outside.forEach(Process::destroyForcibly);
    }

    private RunningJob start(String name, String script) {
        RunningJob job = launcher.start(new JobRequest(Fixtures.jobId(name), 1, List.of("/bin/sh", "-c", script),
                Map.of(), null, null, Duration.ofHours(1)));
        jobs.add(job);
        return job;
    }

    /** Live processes running {@code /bin/sleep <seconds>}. */
    private List<Long> sleeps() throws IOException {
        byte[] cmdline = ("/bin/sleep\0" + seconds + "\0").getBytes(StandardCharsets.ISO_8859_1);
        return Fixtures.liveWhere("cmdline", read -> java.util.Arrays.equals(read, cmdline));
    }

    /** The one live {@code /bin/sleep <seconds>}, once there. */
    private long awaitSleep() {
        long[] pid = new long[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<Long> found = sleeps();
            if (found.size() == 1) {
                pid[0] = found.get(0);
                return true;
            }
            return false;
        });
        return pid[0];
    }

    /** A job that runs until the file {@code go} appears, then exits 0 by itself; its program's pid. */
    private record Waiting(RunningJob job, long pid, Path go) {
    }

    private Waiting waiting(String name) throws Exception {
        Path go = dir.resolve(name + ".go");
        RunningJob job = start(name, "while [ ! -e '" + go + "' ]; do sleep 0.05; done; exit 0");
        return new Waiting(job, job.process().get(30, TimeUnit.SECONDS).pid(), go);
    }

    private static String pipe(long pid, int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/" + fd)).toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** A second job started after {@code first}'s program: its session is among those {@code first}'s look reads. */
    private RunningJob other(String name, long first) throws Exception {
        RunningJob other = start(name, "exec sleep 600");
        assertThat(other.process().get(30, TimeUnit.SECONDS).pid()).isGreaterThan(first);
        return other;
    }

    private void anotherJobsProcessHoldingTheOutputIsNotEnded(String script) throws Exception {
        Waiting first = waiting("first");
        RunningJob second = start("second", script.replace("FIRST", Long.toString(first.pid())));
        long holder = awaitSleep();
        String output = pipe(first.pid(), 1);
        assertThat(output).startsWith("pipe:[");
        await().atMost(Duration.ofSeconds(30)).until(() -> output.equals(pipe(holder, 3)));
        assertThat(ProcStat.of(holder).session()).isEqualTo(second.process().get().pid());

        Files.createFile(first.go()); // the first job's program exits by itself

        JobOutcome outcome = first.job().outcome().get(5, TimeUnit.MINUTES);
        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(outcome.message()).doesNotContain("terminated")
                .contains("still held by " + holder + " sleep, not ended");
        assertThat(Fixtures.isGone(holder)).isFalse();
        assertThat(second.outcome()).isNotDone();
    }

    /** Failed before: the first job's end took the second job's program for its own escape and ended it (143). */
    @Test
    void anotherJobsProgramHoldingThisJobsOutputIsNotEndedWithIt() throws Exception {
        anotherJobsProcessHoldingTheOutputIsNotEnded("exec /bin/sleep " + seconds + " 3>/proc/FIRST/fd/1");
    }

    /** As above, for a process born in the second job's session, not its program. */
    @Test
    void aProcessOfAnotherJobsSessionHoldingThisJobsOutputIsNotEndedWithIt() throws Exception {
        anotherJobsProcessHoldingTheOutputIsNotEnded("/bin/sleep " + seconds + " 3>/proc/FIRST/fd/1 & wait");
    }

    private void anEscapeIsEndedWhileAnotherJobRuns(String escape) throws Exception {
        Path go = dir.resolve("go");
        // Started before the second job, which is started before the escape: the escape's pid is above both.
        Path ready = dir.resolve("ready");
        RunningJob first = start("escaping", "while [ ! -e '" + ready + "' ]; do sleep 0.05; done; " + escape
                + "; while [ ! -e '" + go + "' ]; do sleep 0.05; done; exit 0");
        long firstPid = first.process().get(30, TimeUnit.SECONDS).pid();
        RunningJob second = other("running", firstPid);
        long secondPid = second.process().get().pid();
        String secondMarker = AttemptMarker.VARIABLE + "=" + Fixtures.jobId("running") + "/1";
        // The escape may carry the second job's marker: it is told it in the file it waits for.
        Files.writeString(ready, secondMarker);
        long sleeper = awaitSleep();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            ProcStat stat = ProcStat.of(sleeper);
            // Out of the job's session (its own, or a shell's that exited), holding the job's output.
            return stat != null && stat.session() > firstPid && stat.session() != secondPid && pipe(firstPid, 1) != null
                    && pipe(firstPid, 1).equals(pipe(sleeper, 1));
        });

        Files.createFile(go);

        JobOutcome outcome = first.outcome().get(5, TimeUnit.MINUTES);
        assertThat(outcome.message()).isEqualTo("exited with 0; 1 leftover process(es) terminated"
                + " (1 had left the job's session: " + sleeper + " sleep (holding the job's pipe))");
        assertThat(Fixtures.isGone(sleeper)).isTrue();
        assertThat(Fixtures.isGone(secondPid)).isFalse();
        assertThat(second.outcome()).isNotDone();
    }

    @Test
    void aSetsidEscapeWithoutEnvironmentIsEndedWhileAnotherJobRuns() throws Exception {
        anEscapeIsEndedWhileAnotherJobRuns("(setsid env -i /bin/sleep " + seconds + " &)");
    }

    @Test
    void aDoubleForkThroughAShellThatExitsIsEndedWhileAnotherJobRuns() throws Exception {
        anEscapeIsEndedWhileAnotherJobRuns("/bin/sh -c 'setsid env -i /bin/sh -c \"/bin/sleep " + seconds
                + " & exit 0\" & exit 0'");
    }

    /** The escape chose the second job's marker for its environment: a marker is no proof of whose it is. */
    @Test
    void anEscapeCarryingTheOtherRunningJobsMarkerIsEndedWithItsOwnJob() throws Exception {
        anEscapeIsEndedWhileAnotherJobRuns("(setsid env -i \"$(cat '" + dir.resolve("ready") + "')\" /bin/sleep "
                + seconds + " &)");
    }

    /** It carried the second job's marker, then changed its environment by an exec (to none), after leaving. */
    @Test
    void anEscapeThatChangesItsEnvironmentAfterLeavingIsEndedWithItsOwnJob() throws Exception {
        anEscapeIsEndedWhileAnotherJobRuns("(setsid env -i \"$(cat '" + dir.resolve("ready") + "')\" /bin/sh -c"
                + " 'exec env -i /bin/sleep " + seconds + "' &)");
    }

    /** A process of no job, started (in a session of its own) after the job's program: left alone. */
    @Test
    void aProcessOfNoJobStartedInTheWindowIsLeftAlone() throws Exception {
        Waiting first = waiting("window");
        RunningJob second = other("window-other", first.pid());
        Process foreign = new ProcessBuilder("setsid", "/bin/sleep", seconds).start();
        outside.add(foreign);
        long sleeper = awaitSleep();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            ProcStat stat = ProcStat.of(sleeper);
            return stat != null && stat.session() == sleeper;
        });

        Files.createFile(first.go());

        assertThat(first.job().outcome().get(5, TimeUnit.MINUTES).message()).isEqualTo("exited with 0");
        assertThat(foreign.isAlive()).isTrue();
        assertThat(second.outcome()).isNotDone();
    }

    /**
     * A program registered as running whose pid is now another process's (another start time: the pid used again)
     * spares nothing of its session: here the job's own escape, which leads a session whose id is that pid.
     */
    @Test
    void aRegisteredProgramWhosePidIsAnotherProcessNowSparesNothing() throws Exception {
        Path go = dir.resolve("go");
        RunningJob first = start("reused", "(setsid env -i /bin/sleep " + seconds + " &); while [ ! -e '" + go
                + "' ]; do sleep 0.05; done; exit 0");
        long sleeper = awaitSleep();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            ProcStat stat = ProcStat.of(sleeper);
            return stat != null && stat.session() == sleeper;
        });
        long started = ProcStat.startTime(sleeper);
        assertThat(started).isPositive();
        ProcessIdentity stale = new ProcessIdentity(sleeper, sleeper, started - 1);
        ProcessTree.running(stale);
        try {
            Files.createFile(go);

            JobOutcome outcome = first.outcome().get(5, TimeUnit.MINUTES);
            assertThat(outcome.message()).isEqualTo("exited with 0; 1 leftover process(es) terminated"
                    + " (1 had left the job's session: " + sleeper + " sleep (holding the job's pipe))");
            assertThat(Fixtures.isGone(sleeper)).isTrue();
        } finally {
            ProcessTree.notRunning(stale);
        }
    }
}
