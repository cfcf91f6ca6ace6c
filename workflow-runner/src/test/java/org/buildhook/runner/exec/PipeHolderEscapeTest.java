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
        byte[] needle = ("/bin/sleep\0" + seconds + "\0").getBytes(StandardCharsets.ISO_8859_1);
        String wanted = new String(needle, StandardCharsets.ISO_8859_1);
        List<Long> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(entry.resolve("cmdline")),
                            StandardCharsets.ISO_8859_1);
                    long pid = Long.parseLong(name);
                    if (cmdline.equals(wanted) && !Fixtures.isGone(pid)) {
                        found.add(pid);
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return found;
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

    @Test
    void aTimeoutEndsAnEscapeWithoutEnvironmentAndSaysSo() throws Exception {
        Set<Thread> before = pumping();
        RunningJob job = launcher.start(request("pipe-timeout", escape() + "; exec sleep 300",
                Duration.ofSeconds(2)));
        long sleeper = awaitEscaped();
        Set<Thread> ours = oursSince(before);

        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.TIMED_OUT);
        assertThat(outcome.message()).startsWith("timed out after 2s; process tree terminated")
                .contains("1 had left the job's session: " + sleeper + " sleep (holding the job's pipe)")
                .doesNotContain("still open");
        assertThat(Fixtures.isGone(sleeper)).isTrue();
        noPumpLeft(ours);
    }

    @Test
    void aShutdownEndsAnEscapeWithoutEnvironment() throws Exception {
        Set<Thread> before = pumping();
        RunningJob job = launcher.start(request("pipe-shutdown", escape() + "; exec sleep 300",
                Duration.ofHours(1)));
        long sleeper = awaitEscaped();
        Set<Thread> ours = oursSince(before);

        launcher.close();

        assertThat(job.outcome()).isCompleted();
        assertThat(job.outcome().get().message()).startsWith("cancelled: the server is shutting down")
                .contains(sleeper + " sleep (holding the job's pipe)");
        assertThat(Fixtures.isGone(sleeper)).isTrue();
        noPumpLeft(ours);
    }

    /**
     * A process that is not the job's (started before it, in another session) gets the job's stdout over a unix
     * socket: it is not ended, but the outcome says what held the output, and the reader is let go.
     */
    @Test
    void anOutputHeldByAProcessOutsideTheJobIsNamedAndItsReaderLetGo() throws Exception {
        Path socket = dir.resolve("fd.sock");
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
        Set<Thread> before = pumping();

        RunningJob job = launcher.start(new JobRequest(Fixtures.jobId("pipe-outside"), 1, List.of("/usr/bin/python3",
                "-c", "import socket, sys\n"
                        + "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])\n"
                        + "socket.send_fds(s, [b'x'], [1])\n"
                        + "s.recv(1)\n",
                socket.toString()), Map.of(), null, null, Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(ready).contains("got 1"));
        Set<Thread> ours = oursSince(before);
        // The job waits for a byte that never comes: SIGTERM to its root alone, which exits with 143 (128 + 15).
        ProcessIdentity root = job.process().get(30, TimeUnit.SECONDS);
        ProcessHandle.of(root.pid()).ifPresent(ProcessHandle::destroy);

        // 2 × the kill grace of 1s + 15s for the output to end, then the attempt gives it up.
        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);

        assertThat(outcome.message()).startsWith("exited with 143; the job's output was still open 17s after it"
                + " exited, still held by " + receiver.pid() + " python3, not ended;");
        assertThat(receiver.isAlive()).isTrue();
        noPumpLeft(ours);
    }
}
