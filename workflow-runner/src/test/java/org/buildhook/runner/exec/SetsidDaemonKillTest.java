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
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 §4: a daemon started with setsid leaves the job's tree and session; it is still found
 * (by the attempt's marker) and ended at timeout, cancel and shutdown, and the attempt is not held
 * open by the daemon's stdout.
 */
class SetsidDaemonKillTest extends LauncherTest {

    /** The issue's input: the daemon is in a session of its own, its parent has exited. */
    static final List<String> DAEMON = List.of("/bin/sh", "-c", "(setsid sleep 300 &); sleep 300");

    String tag;

    @BeforeEach
    void tag() {
        tag = UUID.randomUUID().toString();
    }

    @AfterEach
    void noSleeperLeft() throws IOException {
        // Whatever the outcome, leave no sleep 300 behind for the other tests.
        tagged().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    private JobRequest request(String name, Duration timeout) {
        return new JobRequest(Fixtures.jobId(name), 1, DAEMON, Map.of("TEST_TAG", tag), null, null, timeout);
    }

    /** Live processes started with this test's tag in their environment, read from /proc by the test itself. */
    private List<Long> tagged() throws IOException {
        String needle = "TEST_TAG=" + tag;
        return Fixtures.liveWhere("environ", environ -> new String(environ, StandardCharsets.ISO_8859_1)
                .contains(needle));
    }

    /** Waits until the daemon runs in a session of its own, with init as its parent; returns its pid. */
    private long awaitEscapedDaemon() {
        long[] daemon = new long[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (long pid : tagged()) {
                ProcStat stat = ProcStat.of(pid);
                // The job's own root leads a session too, but it is this JVM's child.
                if (stat != null && stat.session() == pid && stat.parent() != ProcessHandle.current().pid()) {
                    daemon[0] = pid;
                    return true;
                }
            }
            return false;
        });
        return daemon[0];
    }

    @Test
    void aTimeoutEndsADaemonThatCalledSetsidAndSaysSo() throws Exception {
        // A kill-grace of a minute makes the pumps' wait for an output held open 2 × 1 min + 15 s = 2m15s (the
        // sh and sleeps end at SIGTERM, so the grace itself is not spent): a bound far above this test's work.
        launcher.close();
        launcher = fixtures.launcher(fixtures.config().withKillGrace(Duration.ofMinutes(1)));
        Duration pipeWait = Duration.ofMinutes(2).plusSeconds(15);
        long started = System.nanoTime();
        RunningJob job = launcher.start(request("setsid-timeout", Duration.ofSeconds(2)));
        long daemon = awaitEscapedDaemon();

        JobOutcome outcome = job.outcome().get(10, TimeUnit.MINUTES);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.TIMED_OUT);
        assertThat(outcome.message()).startsWith("timed out after 2s; process tree terminated")
                .contains("1 had left the job's session: " + daemon + " sleep");
        assertThat(Fixtures.isGone(daemon)).isTrue();
        assertThat(tagged()).isEmpty();
        // Not held open by the daemon's stdout: held, it ends only after the pumps' wait of 2m15s. Half of it is
        // over a minute of margin for a loaded machine over the 2 s timeout and the kill.
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(pipeWait.dividedBy(2));
    }

    @Test
    void aCancelEndsADaemonThatCalledSetsid() throws Exception {
        RunningJob job = launcher.start(request("setsid-cancel", Duration.ofHours(1)));
        long daemon = awaitEscapedDaemon();

        job.cancel();
        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.CANCELLED);
        assertThat(outcome.message()).contains("had left the job's session: " + daemon + " sleep");
        assertThat(tagged()).isEmpty();
    }

    @Test
    void aShutdownEndsADaemonThatCalledSetsid() throws Exception {
        RunningJob job = launcher.start(request("setsid-shutdown", Duration.ofHours(1)));
        awaitEscapedDaemon();

        launcher.close();

        assertThat(job.outcome()).isCompleted();
        assertThat(job.outcome().get().message()).startsWith("cancelled: the server is shutting down")
                .contains("had left the job's session");
        assertThat(tagged()).isEmpty();
    }

    @Test
    void aJobThatExitsLeavingASetsidDaemonHasItEnded() throws Exception {
        JobOutcome outcome = launcher.start(new JobRequest(Fixtures.jobId("setsid-exit"), 1,
                List.of("/bin/sh", "-c", "(setsid sleep 300 > /dev/null 2>&1 < /dev/null &); sleep 1; exit 0"),
                Map.of("TEST_TAG", tag), null, null, Duration.ofHours(1))).outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(outcome.message()).startsWith("exited with 0; 1 leftover process(es) terminated (1 had left");
        assertThat(tagged()).isEmpty();
    }

    /**
     * The threads of a daemon that left the session have pids of the range the look reads, carry its marker and hold
     * its descriptors: they are not counted as processes of their own (the look asks whether a pid it found is a
     * process last, of what it found only: docs/BENCHMARKS.md, "Twenty-second pass").
     */
    @Test
    void aSetsidDaemonWithThreadsIsOneLeftoverNotOnePerThread() throws Exception {
        Path ready = dir.resolve("daemon-ready");
        String daemon = String.join("\n",
                "import threading, time",
                "for _ in range(3): threading.Thread(target=time.sleep, args=(300,), daemon=True).start()",
                "open('" + ready + "', 'w').close()",
                "time.sleep(300)");
        JobOutcome outcome = launcher.start(new JobRequest(Fixtures.jobId("setsid-threads"), 1,
                List.of("/bin/sh", "-c", "(setsid /usr/bin/python3 -c \"$1\" > /dev/null 2>&1 < /dev/null &);"
                        + " while [ ! -e '" + ready + "' ]; do sleep 0.05; done; exit 0", "sh", daemon),
                Map.of("TEST_TAG", tag), null, null, Duration.ofHours(1))).outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(outcome.message()).matches("exited with 0; 1 leftover process\\(es\\) terminated \\(1 had left the"
                + " job's session: \\d+ python3\\)");
        assertThat(tagged()).isEmpty();
    }

    @Test
    void killEndsEveryProcessAtOnceWithSigkill() throws Exception {
        Path pids = dir.resolve("pids");
        Path stubborn = fixtures.script("stubborn.sh", "trap '' TERM\necho $$ >> '" + pids + "'\n"
                + "while [ -d '" + pids.getParent() + "' ]; do sleep 1; done");
        RunningJob job = launcher.start(new JobRequest(Fixtures.jobId("killed"), 1, List.of(stubborn.toString()), Map.of(), null, null,
                Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 1);
        assertThat(job.process().get(30, TimeUnit.SECONDS).pid()).isPositive();

        job.kill("killed: this node lost its lease");
        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.CANCELLED);
        assertThat(outcome.message()).startsWith("killed: this node lost its lease; process tree terminated (SIGKILL)");
        assertThat(Fixtures.pids(pids)).allMatch(Fixtures::isGone);
    }
}
