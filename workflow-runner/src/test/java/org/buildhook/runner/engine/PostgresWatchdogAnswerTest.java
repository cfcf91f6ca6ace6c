package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.AdditionalAnswers.delegatesTo;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.AttemptMarker;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.exec.Watchdog;
import org.buildhook.runner.exec.WatchdogProbe;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job engine's use of its watchdog's answer (kline19 K1, left item): an attempt whose command ended by
 * SIGKILL makes the node ask its watchdog ({@code Q}) whether it killed it and wait for the answer ({@code A})
 * or its report ({@code K}) before the attempt's outcome is recorded. Through the engine on PostgreSQL, with a
 * real watchdog process and real commands; the conversation is seen, and the watchdog's report held back, by
 * {@link WatchdogProbe}. Without the question, a SIGKILL by someone else is recorded without a word to the
 * watchdog, and a watchdog's kill whose report the node reads late is recorded as the job's own failure.
 */
class PostgresWatchdogAnswerTest {

    @TempDir
    Path dir;

    private Store store;
    private CommonsExecLauncher launcher;
    private JobEngine engine;

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.stop();
        }
        if (launcher != null) {
            launcher.close();
        }
        if (store != null) {
            store.close();
        }
    }

    /** A SIGKILL by anyone else (the OOM killer, an operator): one round trip to the watchdog, then the job's own failure. */
    @Test
    void aCommandKilledBySomeoneElseIsTheJobsOwnFailureAfterOneQuestionToTheWatchdog() throws Exception {
        WatchdogProbe probe = WatchdogProbe.recording();
        // 5 s × 1000: the watchdog never finds the node silent here; it only answers.
        start(probe, Duration.ofSeconds(5), 1000);
        String jobId = accept(0);
        long command = awaitStarted(1);

        NodeProcess.signal("KILL", command); // from outside the watchdog

        await().atMost(Duration.ofMinutes(2)).until(() -> store.job(jobId).orElseThrow().job().state() == JobState.FAILED);
        JobAttempt attempt = store.job(jobId).orElseThrow().attempts().get(0);
        assertThat(attempt.outcome()).isEqualTo(AttemptOutcome.FAILED);
        assertThat(attempt.message()).contains("exited with 137").doesNotContain("watchdog");
        assertThat(probe.written()).as("the node asked its watchdog once").filteredOn(l -> l.startsWith("Q "))
                .hasSize(1).allSatisfy(q -> assertThat(q).contains(jobId));
        String asked = probe.written().stream().filter(l -> l.startsWith("Q ")).findFirst().orElseThrow().substring(2);
        assertThat(probe.read()).as("and had its answer").contains("A " + asked)
                .noneMatch(l -> l.startsWith("K "));
    }

    /**
     * The watchdog kills the attempt of a node that gave no sign of life (its beats stopped here, as in a paused
     * JVM) and writes its report, which the node reads only once it asks: the attempt is the watchdog's kill,
     * recorded INTERRUPTED and run again, not the job's own failure.
     */
    @Test
    void aWatchdogKillWhoseReportTheNodeReadsLateIsRecordedAsInterrupted() throws Exception {
        WatchdogProbe probe = WatchdogProbe.holdingReportsUntilAsked();
        // 1 s × 20: the watchdog kills after 10 s without a beat; the beats stop only when the test says so.
        start(probe, Duration.ofSeconds(1), 20);
        String jobId = accept(0);
        long command = awaitStarted(1);
        Files.createFile(dir.resolve("go")); // the next attempt ends at once

        WatchdogProbe.beating(engine.watchdog(), false);
        await().atMost(Duration.ofMinutes(2)).until(() -> AbstractCrashTest.isGone(command));
        WatchdogProbe.beating(engine.watchdog(), true);

        // Ended either way: run again after the watchdog's kill, or failed when it was taken for the job's own.
        await().atMost(Duration.ofMinutes(2)).until(() -> List.of(JobState.SUCCEEDED, JobState.FAILED)
                .contains(store.job(jobId).orElseThrow().job().state()));
        List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
        assertThat(attempts).extracting(JobAttempt::outcome)
                .containsExactly(AttemptOutcome.INTERRUPTED, AttemptOutcome.SUCCEEDED);
        assertThat(attempts.get(0).message()).startsWith("killed by the watchdog of node answer-node: its node gave no"
                + " sign of life for ").endsWith("; run again");
        // Attempt 1, whose end the stopped beats hid, is asked about once. Attempt 2 may be asked about too: told
        // before the first beat after the gap marks the pause's end, it counts as running during the pause.
        assertThat(probe.written()).filteredOn(l -> l.startsWith("Q ") && l.endsWith("/1")).hasSize(1);
        assertThat(probe.read()).anyMatch(l -> l.startsWith("K ") && l.contains(jobId));
    }

    /**
     * tryout34 F2: the watchdog reports a kill ({@code K}) when it finds processes of the attempt, then sends its
     * SIGKILL; a command's leader that exited by itself between the two (or was already a zombie of the paused JVM)
     * is reaped with its own exit. The report, read as the attempt ends, must not replace that exit: a command that
     * succeeded is recorded SUCCEEDED once, not INTERRUPTED "killed by the watchdog …; run again" and run again.
     * The report's order is the seam: the engine's watchdog answers {@code ended} once with a kill, after it has
     * really forgotten the attempt.
     */
    @Test
    void aCommandThatExitedByItselfKeepsItsOwnOutcomeThoughTheWatchdogReportsAKill() throws Exception {
        AtomicInteger reported = new AtomicInteger();
        start(WatchdogProbe.recording(), Duration.ofSeconds(5), 1000, reportingAKillOnce(false, reported));
        String jobId = accept(List.of("/bin/sh", "-c", "exit 0"), 0);

        await().atMost(Duration.ofMinutes(2)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        assertThat(reported).as("the watchdog's kill was reported as the attempt ended").hasValue(1);
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
        List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
        assertThat(attempts).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
        assertThat(attempts.get(0).exitCode()).isZero();
        assertThat(attempts.get(0).message()).doesNotContain("watchdog");
    }

    /** As above for a command that failed by itself: its own failure (exited with 3), not a kill to run again. */
    @Test
    void aCommandThatFailedByItselfIsItsOwnFailureThoughTheWatchdogReportsAKill() throws Exception {
        AtomicInteger reported = new AtomicInteger();
        start(WatchdogProbe.recording(), Duration.ofSeconds(5), 1000, reportingAKillOnce(false, reported));
        String jobId = accept(List.of("/bin/sh", "-c", "exit 3"), 0);

        await().atMost(Duration.ofMinutes(2)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        assertThat(reported).hasValue(1);
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.FAILED);
        List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
        assertThat(attempts).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.FAILED);
        assertThat(attempts.get(0).message()).contains("exited with 3").doesNotContain("watchdog");
    }

    /** The other side of tryout34 F2: a command ended by SIGKILL (137) with a kill report is the watchdog's kill. */
    @Test
    void aSigkilledCommandWithAKillReportIsStillTheWatchdogsKill() throws Exception {
        AtomicInteger reported = new AtomicInteger();
        start(WatchdogProbe.recording(), Duration.ofSeconds(5), 1000, reportingAKillOnce(true, reported));
        Path once = dir.resolve("killed-once");
        // The first attempt kills itself by SIGKILL (exit 137); the next one succeeds.
        String jobId = accept(List.of("/bin/sh", "-c", "[ -f " + once + " ] && exit 0; touch " + once
                + "; kill -KILL $$"), 0);

        await().atMost(Duration.ofMinutes(2)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        assertThat(reported).hasValue(1);
        List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
        assertThat(attempts).extracting(JobAttempt::outcome)
                .containsExactly(AttemptOutcome.INTERRUPTED, AttemptOutcome.SUCCEEDED);
        assertThat(attempts.get(0).message()).startsWith("killed by the watchdog of node answer-node: its node gave no"
                + " sign of life for 10s").endsWith("; run again");
    }

    /**
     * Starts the real watchdog (through {@code probe}), wrapped so that the first {@code endOf(marker, sigkilled)} (what the engine asks as an attempt ends)
     * forgets the attempt as the real one does and then answers a kill, as a report read as the attempt ends.
     */
    private static Function<Watchdog, Watchdog> reportingAKillOnce(boolean sigkilled,
            AtomicInteger reported) {
        return real -> {
            Watchdog wrapped = mock(Watchdog.class, delegatesTo(real));
            doAnswer(call -> {
                real.endOf(call.getArgument(0, AttemptMarker.class), sigkilled);
                reported.incrementAndGet();
                return new Watchdog.End(new Watchdog.Kill("killed by the watchdog of node answer-node: its node gave no"
                        + " sign of life for 10s", Instant.now()), null, 0, null);
            }).doAnswer(call -> real.endOf(call.getArgument(0, AttemptMarker.class), call.getArgument(1, Boolean.class)))
                    .when(wrapped).endOf(any(), eq(sigkilled));
            return wrapped;
        };
    }

    private void start(WatchdogProbe probe, Duration heartbeat, int missed) {
        start(probe, heartbeat, missed, Function.identity());
    }

    private void start(WatchdogProbe probe, Duration heartbeat, int missed,
            Function<Watchdog, Watchdog> wrap) {
        store = Store.open(TestStores.postgres(dir.resolve("data")));
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        EngineConfig config = new EngineConfig("answer-node", 2, Duration.ofMillis(250), heartbeat, missed,
                Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(200)).withWatchdog(true);
        engine = JobEngine.create(store, launcher, config);
        BiFunction<String, Duration, Watchdog> watchdogs = (node, limit) -> wrap.apply(probe.start(node, limit));
        engine.startWatchdogsWith(watchdogs);
        engine.start();
        // The engine does not wait for its watchdog's JVM to start, and the node asks only a watchdog it has heard
        // say H (one that has not started has killed nothing). On a loaded machine that JVM took longer to start
        // than the job took to start and be killed: then nothing was asked, and the first test saw no Q.
        await().atMost(Duration.ofMinutes(5)).until(() -> engine.watchdog() != null && engine.watchdog().isUp());
    }

    /** A job whose command writes its pid, then waits (as long as no {@code go} file exists) until it is killed. */
    private String accept(int retries) throws IOException {
        Path script = Files.writeString(dir.resolve("job.sh"), "#!/bin/sh\necho $$ >> " + dir.resolve("pids")
                + "\n[ -f " + dir.resolve("go") + " ] && exit 0\nexec sleep 600\n");
        // Its timeout is an upper bound only a hung test reaches, however slow the machine.
        return accept(List.of("/bin/sh", script.toString()), retries);
    }

    private String accept(List<String> argv, int retries) {
        PlannedJob job = new PlannedJob("answer", "name: answer", argv, Map.of(), null, false, Duration.ofMinutes(30),
                retries, Duration.ofMillis(100), 0, null);
        return store.accept(Plans.delivery(Plans.fixture()), List.of(job)).jobIds().get(0);
    }

    /** The pid of the {@code n}th command started (its {@code sleep}, which it execs). */
    private long awaitStarted(int n) {
        Path pids = dir.resolve("pids");
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(pids) && Files.readAllLines(pids).size() >= n);
        try {
            long pid = Long.parseLong(Files.readAllLines(pids).get(n - 1).trim());
            // The shell has exec'd its sleep: what the watchdog was told is the process that is killed.
            await().atMost(Duration.ofMinutes(1)).until(() -> ProcessHandle.of(pid).flatMap(p -> p.info().command())
                    .orElse("").endsWith("sleep"));
            return pid;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
