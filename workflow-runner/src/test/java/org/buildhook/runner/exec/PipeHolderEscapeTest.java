package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * escape27 F1: a process that leaves the job's session AND clears its environment ({@code setsid env -i sleep})
 * carries no marker, yet it holds the job's output pipe. It is found by that pipe and ended at the program's
 * exit, at the timeout and at the server's stop, and said so; the attempt is not held open, and no thread stays
 * blocked reading the output. A process outside the job that holds the output (here one the job handed its
 * stdout to, over a unix socket) is named in the outcome, and the output's reader is let go.
 */
class PipeHolderEscapeTest extends LauncherTest {

    /** Unique to this test: the escaped sleep is found by its argument (it has no environment to tag). */
    String seconds;
    Process receiver;

    @BeforeEach
    void seconds() {
        seconds = "300." + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
    }

    @AfterEach
    void noneLeft() throws IOException {
        escaped().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        if (receiver != null) {
            receiver.destroyForcibly();
        }
    }

    /** Leaves the session, drops its environment, keeps stdout and stderr (the job's pipe). */
    private String escape() {
        return "(setsid env -i /bin/sleep " + seconds + " &)";
    }

    private JobRequest request(String name, String script, Duration timeout) {
        return new JobRequest(Fixtures.jobId(name), 1, List.of("/bin/sh", "-c", script), Map.of(), null, null,
                timeout);
    }

    /** Live processes running {@code sleep <seconds>}. */
    private List<Long> escaped() throws IOException {
        byte[] cmdline = ("/bin/sleep\0" + seconds + "\0").getBytes(StandardCharsets.ISO_8859_1);
        return Fixtures.liveWhere("cmdline", read -> java.util.Arrays.equals(read, cmdline));
    }

    /** The escaped sleep, once it runs in a session of its own without the marker; its pid. */
    private long awaitEscaped() {
        long[] pid = new long[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (long found : escaped()) {
                ProcStat stat = ProcStat.of(found);
                if (stat != null && stat.session() == found) {
                    pid[0] = found;
                    return true;
                }
            }
            return false;
        });
        assertThat(Files.exists(Path.of("/proc/" + pid[0] + "/environ"))).isTrue();
        return pid[0];
    }

    /** Threads now reading some attempt's output. */
    private static Set<Thread> pumping() {
        Set<Thread> found = new HashSet<>();
        Thread.getAllStackTraces().forEach((thread, frames) -> {
            for (StackTraceElement frame : frames) {
                if (frame.getClassName().equals(PooledStreamHandler.class.getName())
                        && frame.getMethodName().equals("copyOutput")) {
                    found.add(thread);
                }
            }
        });
        return found;
    }

    private static void noPumpLeft(Set<Thread> ours) {
        assertThat(ours).isNotEmpty();
        // The pump ends as the outcome completes, or just after: an event, not a time.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            Set<Thread> still = pumping();
            still.retainAll(ours);
            return still.isEmpty();
        });
    }

    private Set<Thread> oursSince(Set<Thread> before) {
        Set<Thread> ours = pumping();
        ours.removeAll(before);
        return ours;
    }

    @Test
    void aProgramThatExitsLeavingAnEscapeWithoutEnvironmentOnItsOutputHasItEnded() throws Exception {
        Path go = dir.resolve("go");
        Set<Thread> before = pumping();
        RunningJob job = launcher.start(request("pipe-exit",
                escape() + "; while [ ! -e '" + go + "' ]; do sleep 0.05; done; exit 0", Duration.ofHours(1)));
        long sleeper = awaitEscaped();
        Set<Thread> ours = oursSince(before);
        Files.createFile(go); // the program exits by itself, leaving the sleep on its output

        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(outcome.message()).isEqualTo("exited with 0; 1 leftover process(es) terminated"
                + " (1 had left the job's session: " + sleeper + " sleep (holding the job's pipe))");
        assertThat(Fixtures.isGone(sleeper)).isTrue();
        noPumpLeft(ours);
    }

    /** A job that escapes, then runs on; once the sleep escaped, with the threads reading its output. */
    private record Escaping(RunningJob job, long sleeper, Set<Thread> ours) {
    }

    private Escaping startEscaping(String name, Duration timeout) {
        Set<Thread> before = pumping();
        RunningJob job = launcher.start(request(name, escape() + "; exec sleep 300", timeout));
        long sleeper = awaitEscaped();
        return new Escaping(job, sleeper, oursSince(before));
    }

    @Test
    void aTimeoutEndsAnEscapeWithoutEnvironmentAndSaysSo() throws Exception {
        Escaping started = startEscaping("pipe-timeout", Duration.ofSeconds(2));
        long sleeper = started.sleeper();

        JobOutcome outcome = started.job().outcome().get(5, TimeUnit.MINUTES);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.TIMED_OUT);
        assertThat(outcome.message()).startsWith("timed out after 2s; process tree terminated")
                .contains("1 had left the job's session: " + sleeper + " sleep (holding the job's pipe)")
                .doesNotContain("still open");
        assertThat(Fixtures.isGone(sleeper)).isTrue();
        noPumpLeft(started.ours());
    }

    @Test
    void aShutdownEndsAnEscapeWithoutEnvironment() throws Exception {
        Escaping started = startEscaping("pipe-shutdown", Duration.ofHours(1));
        long sleeper = started.sleeper();

        launcher.close();

        assertThat(started.job().outcome()).isCompleted();
        assertThat(started.job().outcome().get().message()).startsWith("cancelled: the server is shutting down")
                .contains(sleeper + " sleep (holding the job's pipe)");
        assertThat(Fixtures.isGone(sleeper)).isTrue();
        noPumpLeft(started.ours());
    }

    /**
     * A process that is not the job's (started before it, in another session) that the job hands its stdout to
     * over a unix socket; started here, its pid returned once it waits for the descriptor.
     */
    private long startReceiver(Path socket) throws Exception {
        Path ready = dir.resolve("receiver.out");
        receiver = new ProcessBuilder("/usr/bin/python3", "-c", String.join("\n",
                "import socket, sys, time",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
                "s.bind(sys.argv[1]); s.listen(1)",
                "print('ready', flush=True)",
                "c, _ = s.accept()",
                "msg, fds, flags, addr = socket.recv_fds(c, 16, 4)",
                "print('got', len(fds), flush=True)",
                "time.sleep(600)"), socket.toString())
                .redirectErrorStream(true).redirectOutput(ready.toFile()).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(ready).contains("ready"));
        return receiver.pid();
    }

    /** A job that hands its stdout to the receiver at {@code socket}, then waits for a byte that never comes. */
    private JobRequest handsItsOutput(String name, Path socket, Duration timeout) {
        return new JobRequest(Fixtures.jobId(name), 1, List.of("/usr/bin/python3", "-c",
                "import socket, sys\n"
                        + "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])\n"
                        + "socket.send_fds(s, [b'x'], [1])\n"
                        + "s.recv(1)\n",
                socket.toString()), Map.of(), null, null, timeout);
    }

    /**
     * The job's output, held by a process outside it, is named in the outcome and not waited for long: a minute's
     * kill grace made the wait 2 × 1 min + 15 s = 2m15s after the program's exit (escape27 F3: the stop's wait
     * for the outcome is shorter); the wait is now {@link PooledStreamHandler#DRAIN} once the job's processes are
     * gone. Less than a minute is a margin of many times that for a loaded machine, and half the old wait.
     */
    /** A job that handed its output to the receiver; with the receiver's pid and the threads reading that output. */
    private record Handed(RunningJob job, long outside, Set<Thread> ours) {
    }

    /** With a kill grace of a minute: the old wait for a held output was 2 × 1 min + 15 s = 2m15s. */
    private Handed handOutput(String name, Duration timeout) throws Exception {
        launcher.close();
        launcher = fixtures.launcher(fixtures.config().withKillGrace(Duration.ofMinutes(1)));
        Path socket = dir.resolve("fd.sock");
        long outside = startReceiver(socket);
        Set<Thread> before = pumping();
        RunningJob job = launcher.start(handsItsOutput(name, socket, timeout));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(dir.resolve("receiver.out"))
                .contains("got 1"));
        return new Handed(job, outside, oursSince(before));
    }

    @Test
    void anOutputHeldByAProcessOutsideTheJobIsNamedAndItsReaderLetGo() throws Exception {
        Handed handed = handOutput("pipe-outside", Duration.ofHours(1));
        RunningJob job = handed.job();
        long outside = handed.outside();
        Set<Thread> ours = handed.ours();
        // SIGTERM to the job's root alone, which exits with 143 (128 + 15) by itself.
        ProcessIdentity root = job.process().get(30, TimeUnit.SECONDS);
        long exited = System.nanoTime();
        ProcessHandle.of(root.pid()).ifPresent(ProcessHandle::destroy);

        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);

        assertThat(Duration.ofNanos(System.nanoTime() - exited)).isLessThan(Duration.ofMinutes(1));
        assertThat(outcome.message()).matches("exited with 143; the job's output was still open \\d+s after it"
                + " exited, still held by " + outside + " python3, not ended; its output after that is not in the log");
        assertThat(receiver.isAlive()).isTrue();
        noPumpLeft(ours);
    }

    /** As above, at a timeout: the attempt ends once its tree is gone, not 2 × the kill grace + 15 s later. */
    @Test
    void aTimedOutJobWhoseOutputIsHeldOutsideEndsWithItsTree() throws Exception {
        long started = System.nanoTime();
        Handed handed = handOutput("pipe-outside-timeout", Duration.ofSeconds(2));
        RunningJob job = handed.job();
        long outside = handed.outside();
        Set<Thread> ours = handed.ours();
        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.TIMED_OUT);
        assertThat(outcome.message()).matches("timed out after 2s; process tree terminated; the job's output was"
                + " still open \\d+s after it exited, still held by " + outside + " python3, not ended; its output"
                + " after that is not in the log");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMinutes(1));
        assertThat(receiver.isAlive()).isTrue();
        noPumpLeft(ours);
    }
}
