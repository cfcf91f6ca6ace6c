package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.kagkarlsson.scheduler.CurrentlyExecuting;
import com.github.kagkarlsson.scheduler.HeartbeatConfig;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.exec.AttemptMarker;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.exec.ProcessIdentity;
import org.buildhook.runner.exec.RunningJob;
import org.buildhook.runner.exec.Watchdog;
import org.buildhook.runner.exec.WatchdogProbe;
import org.junit.jupiter.api.Test;

/**
 * What self-fencing says it fenced for (chaos15 F5): a node whose own JVM did not run (SIGSTOP) must
 * not blame the store; a node whose heartbeats are merely late still says the store does not answer.
 * The heartbeat's age and this JVM's running are set through a clock and a nanosecond counter.
 */
class FencingWordingTest {

    private static final EngineConfig CONFIG = new EngineConfig("node-a", 1, Duration.ofSeconds(1),
            Duration.ofSeconds(1), 20, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100));

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T10:00:00Z"));
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AtomicReference<String> killedFor = new AtomicReference<>();

    @Test
    void aNodeWhoseJvmDidNotRunSaysSoAndDoesNotBlameTheStore() {
        Fencing fencing = fencing();
        fencing.check(); // every quarter second, as the node runs
        nanos.addAndGet(Duration.ofSeconds(25).toNanos()); // stopped for 25 s
        now.set(now.get().plusSeconds(25));

        fencing.check();

        assertThat(killedFor.get()).isEqualTo("killed by its own node: no heartbeat could be written for 25000 ms"
                + " (this node's JVM itself did not run for 25000 ms of that (paused or stalled), not necessarily the"
                + " store), and after 20000 ms another node may run the job");
        // What the node's status page names while the store does not answer (cluster27 F3), until it answers.
        assertThat(fencing.fenced()).containsOnlyKeys("J1");
        fencing.storeAnswered();
        assertThat(fencing.fenced()).isEmpty();
    }

    @Test
    void aNodeThatRanButCouldNotHeartbeatStillSaysTheStoreDoesNotAnswer() {
        Fencing fencing = fencing();
        for (int i = 0; i < 70; i++) { // 17.5 s, a check every 250 ms, no heartbeat written
            nanos.addAndGet(Duration.ofMillis(250).toNanos());
            now.set(now.get().plusMillis(250));
            fencing.check();
        }

        assertThat(killedFor.get()).isEqualTo("killed by its own node: no heartbeat could be written for 15000 ms"
                + " (the store does not answer), and after 20000 ms another node may run the job");
    }

    /**
     * tryout30 F5, as its node's log had it: after a pause, the first check fences one job (its watchdog's kill report
     * not read yet) and says the other was already killed; at the next check the first one's kill is known, its
     * heartbeat failed once (another node took it over meanwhile), and its line said "the store is unreachable".
     * Every line of the pause says how long this JVM did not run, whichever check says it.
     */
    @Test
    void everyLineOfOnePauseSaysTheJvmDidNotRunWhicheverCheckSaysIt() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                Fencing.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        CompletableFuture<JobOutcome> second = new CompletableFuture<>();
        second.complete(new JobOutcome(JobOutcome.Result.FAILED, null, now.get(), now.get(), "killed", null, false));
        CurrentlyExecuting one = executing("J1");
        CurrentlyExecuting two = executing("J2");
        RunningJobs running = new RunningJobs();
        running.add("J1", job(outcome));
        running.add("J2", job(second));
        Fencing fencing = new Fencing(() -> List.of(one, two), running, CONFIG, now::get, nanos::get);
        try {
            fencing.check(); // every quarter second, as the node runs
            nanos.addAndGet(Duration.ofSeconds(25).toNanos()); // stopped for 25 s
            now.set(now.get().plusSeconds(25));
            fencing.check(); // J1 fenced, J2 already gone
            outcome.complete(new JobOutcome(JobOutcome.Result.FAILED, null, now.get(), now.get(), "killed", null,
                    false));
            one.heartbeat(false, now.get()); // refused: another node took the job over
            for (int i = 0; i < 4; i++) { // a check every 250 ms after the wake
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                fencing.check();
            }
        } finally {
            logger.detachAppender(log);
        }

        List<String> lines = log.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .toList();
        // J1's kill, this node's own fencing, is said once: a later check no longer says its command "had already
        // ended (failed at …)" (tryout46 F4).
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("job J1: killed by its own node: no heartbeat could be written for 25000 ms"
                + " (this node's JVM itself did not run for 25000 ms of that");
        assertThat(lines.get(1)).startsWith("job J2: no heartbeat could be written for 25000 ms (this node's JVM"
                + " itself did not run for 25000 ms of that");
        assertThat(lines).noneMatch(l -> l.contains("the store is unreachable") || l.contains("does not answer"));
    }

    /**
     * tryout30 F5's first line (fence31): the node's real watchdog killed the job's real process while this JVM was
     * paused, and its report was still in the pipe when the first check after the wake fenced the job: that line said
     * "its processes are killed now (self-fencing)", and only the next one that the watchdog had killed them. Here the
     * watchdog's reports are held back until the node asks it something (as a report read late); the one line said
     * must be that the watchdog had already killed them, and the job is not counted among those this node fenced.
     */
    @Test
    void aJobWhoseProcessesTheWatchdogKilledDuringThePauseIsNotSaidToBeKilledNow() throws Exception {
        String jobId = "J1-" + java.util.UUID.randomUUID(); // the watchdog kills by marker: none of another test's
        AttemptMarker marker = AttemptMarker.of(jobId, 1);
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "--", "sleep", "600");
        builder.environment().put(AttemptMarker.VARIABLE, marker.value());
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                Fencing.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        // Its silence bound is 1 s (half of 2 s); the fencing's own limit stays CONFIG's 20 s, its pause a counter's.
        Watchdog watchdog = WatchdogProbe.holdingReportsUntilAsked().start("node-a", Duration.ofSeconds(2));
        Process command = builder.start();
        Fencing fencing;
        try {
            await().atMost(Duration.ofMinutes(2)).until(watchdog::isUp);
            watchdog.running(marker);
            watchdog.process(marker, ProcessIdentity.of(command.pid()));
            RunningJobs running = new RunningJobs();
            running.add(jobId, 1, job(outcome));
            CurrentlyExecuting current = executing(jobId);
            fencing = new Fencing(() -> List.of(current), running, CONFIG, now::get, nanos::get, () -> watchdog);
            fencing.check(); // every quarter second, as the node runs
            logger.addAppender(log);

            WatchdogProbe.beating(watchdog, false); // this JVM paused: no beat, no check
            await().atMost(Duration.ofMinutes(2)).until(() -> !command.isAlive());
            WatchdogProbe.beating(watchdog, true);
            assertThat(watchdog.killed(marker)).as("the watchdog's report is not read yet").isNull();
            nanos.addAndGet(Duration.ofSeconds(25).toNanos()); // stopped for 25 s
            now.set(now.get().plusSeconds(25));
            fencing.check();
            // Its line is said once the watchdog has answered, by the thread that reads the answer.
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                synchronized (log) {
                    return !log.list.isEmpty();
                }
            });
            for (int i = 0; i < 4; i++) { // a check every 250 ms after the wake
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                fencing.check();
            }
        } finally {
            logger.detachAppender(log);
            command.destroyForcibly();
            watchdog.close();
        }

        assertThat(log.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .singleElement().asString()
                .startsWith("job " + jobId + ": no heartbeat could be written for 25000 ms (this node's JVM itself did"
                        + " not run for 25000 ms of that (paused or stalled), not necessarily the store), and after"
                        + " 20000 ms another node may run the job; its processes were already killed by this node's"
                        + " watchdog at ")
                .contains(": nothing is left to kill, and its end is recorded now that this node runs again (or once"
                        + " the store answers, if it does not)")
                .doesNotContain("killed now");
        assertThat(fencing.fenced()).as("not among the jobs this node fenced").isEmpty();
    }

    /**
     * review31 L2: the check that fences a job asks the node's watchdog whether it had killed the job already, and
     * waited for the answer on the one fencing thread (up to 10 s with this dead-node limit): a watchdog that does not
     * answer held back the next check, and with it the fence of any other job whose heartbeat crossed the fence point
     * meanwhile (after another node may take it over, with a dead-node limit under about 5 s). Here the watchdog is a
     * real one that reads and never answers; J1 crosses the fence point, J2 five seconds (twenty checks) later: J2 must
     * be fenced at the check of its crossing, while J1's answer is still awaited (before: J1's check returned only
     * once the 10 s were over, its line said). J1's line comes when the wait is over, once, and says it was fenced.
     */
    @Test
    void aWatchdogThatDoesNotAnswerHoldsBackNoOtherJobsFence() throws Exception {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                Fencing.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        // Its answer's bound is 10 s (an eighth of 80 s, at most 10 s); the fencing's own limit stays CONFIG's 20 s.
        Watchdog watchdog = WatchdogProbe.neverAnswering().start("node-a", Duration.ofSeconds(80));
        List<String> killed = new java.util.concurrent.CopyOnWriteArrayList<>();
        RunningJobs running = new RunningJobs();
        List<CurrentlyExecuting> executing = new java.util.ArrayList<>();
        List<Process> commands = new java.util.ArrayList<>();
        String run = java.util.UUID.randomUUID().toString(); // the watchdog kills by marker: none of another test's
        try {
            await().atMost(Duration.ofMinutes(2)).until(watchdog::isUp);
            for (String job : List.of("J1-" + run, "J2-" + run)) {
                AttemptMarker marker = AttemptMarker.of(job, 1);
                ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "--", "sleep", "600");
                builder.environment().put(AttemptMarker.VARIABLE, marker.value());
                Process command = builder.start();
                commands.add(command);
                watchdog.running(marker);
                watchdog.process(marker, ProcessIdentity.of(command.pid()));
                running.add(job, 1, job(new CompletableFuture<>(), why -> {
                    killed.add(job);
                    command.destroyForcibly();
                }));
                executing.add(executing(job));
                now.set(now.get().plusSeconds(5)); // J2's last heartbeat 5 s after J1's
            }
            Fencing fencing = new Fencing(() -> List.copyOf(executing), running, CONFIG, now::get, nanos::get, () -> watchdog);
            logger.addAppender(log);
            // A check every 250 ms, as the node runs: J1 crosses 0.75 of the 20 s limit at 15 s, J2 at 20 s.
            while (killed.isEmpty()) {
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                fencing.check();
            }
            assertThat(killed).containsExactly("J1-" + run);
            int checks = 0;
            while (killed.size() < 2) {
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                fencing.check();
                checks++;
            }
            assertThat(checks).as("J2 fenced at the check of its crossing, 5 s of checks after J1").isEqualTo(20);
            synchronized (log) {
                assertThat(log.list).as("J1's line waits for the watchdog's answer; J2's fence did not").isEmpty();
            }
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                synchronized (log) {
                    return log.list.size() == 2;
                }
            });
            for (int i = 0; i < 8; i++) { // the checks after: J1 and J2 not fenced, nor said, again
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                fencing.check();
            }
            assertThat(killed).containsExactly("J1-" + run, "J2-" + run);
            assertThat(fencing.fenced()).containsOnlyKeys("J1-" + run, "J2-" + run);
        } finally {
            logger.detachAppender(log);
            commands.forEach(Process::destroyForcibly);
            watchdog.close();
        }
        List<String> lines;
        synchronized (log) {
            lines = log.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
        }
        // Each fence asked the watchdog on its own: their answers' bounds end in either order, so the lines may too.
        assertThat(lines).hasSize(2);
        for (String job : List.of("J1-" + run, "J2-" + run)) {
            assertThat(lines).filteredOn(line -> line.startsWith("job " + job + ": ")).singleElement()
                    .asString().startsWith("job " + job + ": killed by its own node: no heartbeat could be written"
                            + " for 15000 ms (the store does not answer)")
                    .contains("its processes are killed now (self-fencing)");
        }
    }

    /**
     * A command that exited by itself while its end waits for the store (cluster27 F4): nothing is killed, nor said to
     * be, and the line says it had ended and how; once, not at every check.
     */
    @Test
    void aCommandThatHadAlreadyEndedIsNeitherKilledNorSaidToBe() {
        outcome.complete(new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, now.get(), Instant.parse(
                "2026-12-01T10:00:02Z"), "exited 0", null, false));
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                Fencing.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        Fencing fencing = fencing();
        try {
            for (int i = 0; i < 80; i++) { // 20 s, a check every 250 ms, no heartbeat written
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                fencing.check();
            }
        } finally {
            logger.detachAppender(log);
        }

        assertThat(killedFor.get()).as("killed").isNull();
        assertThat(fencing.fenced()).as("fenced").isEmpty();
        assertThat(log.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .containsExactly("job J1: no heartbeat could be written for 15000 ms (the store does not answer), and"
                        + " after 20000 ms another node may run the job; its command had already ended (exited with 0"
                        + " at 2026-12-01T10:00:02Z) and its end could not be recorded: nothing is left to kill, and its"
                        + " end is recorded once the store answers");
    }

    /**
     * tryout34 F1: a node paused past half the dead-node limit while its job's command ended by itself (exit 0); on
     * waking, the first check ran before the JVM's process reaper had seen that exit (the command's outcome not known
     * yet), fenced the job and said "killed by its own node: …; its processes are killed now (self-fencing); it runs
     * again on the next pick", while its record said SUCCEEDED exit 0. Here the command is a real process that has
     * exited with 0; the kill's signal reaches nothing, and the attempt's outcome (its own exit, as a kill of a program
     * that had exited by itself keeps it) is completed only after the check. The one line said must be that it had
     * ended by itself, said once that outcome is known, and the job is not among those this node fenced. tryout45 F2:
     * it ended "its end is recorded once the store answers", blaming a store that was fine (the JVM alone was paused):
     * it says that the end is recorded now that the node runs again.
     */
    @Test
    void aCommandThatExitedDuringThePauseButWhoseEndIsSeenAfterTheCheckIsNotSaidToBeKilled() throws Exception {
        Process command = new ProcessBuilder("sh", "-c", "exit 0").start();
        assertThat(command.waitFor()).isZero(); // it ended by itself while the node was paused
        CompletableFuture<JobOutcome> ends = new CompletableFuture<>();
        List<String> kills = new java.util.concurrent.CopyOnWriteArrayList<>();
        RunningJobs running = new RunningJobs();
        running.add("J1", 1, job(ends, why -> {
            kills.add(why);
            command.destroyForcibly(); // reaches nothing: it has exited
        }));
        CurrentlyExecuting current = executing("J1");
        Fencing fencing = new Fencing(() -> List.of(current), running, CONFIG, now::get, nanos::get);
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                Fencing.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            fencing.check(); // every quarter second, as the node runs
            nanos.addAndGet(Duration.ofSeconds(25).toNanos()); // stopped for 25 s
            now.set(now.get().plusSeconds(25));
            fencing.check(); // its end not seen yet: fenced
            assertThat(kills).as("fenced: its end was not known").hasSize(1);
            // The reaper sees the exit after the check: the attempt keeps its own outcome, the program's exit status.
            int exit = command.exitValue();
            ends.complete(new JobOutcome(exit == 0 ? JobOutcome.Result.SUCCEEDED : JobOutcome.Result.FAILED, exit,
                    now.get().minusSeconds(30), now.get(), "exited with " + exit, null, false));
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                synchronized (log) {
                    return !log.list.isEmpty();
                }
            });
            for (int i = 0; i < 4; i++) { // a check every 250 ms after the wake: nothing said again
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                fencing.check();
            }
        } finally {
            logger.detachAppender(log);
        }

        List<String> lines;
        synchronized (log) {
            lines = log.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
        }
        assertThat(lines).singleElement().asString()
                .isEqualTo("job J1: no heartbeat could be written for 25000 ms (this node's JVM itself did not run for"
                        + " 25000 ms of that (paused or stalled), not necessarily the store), and after 20000 ms another"
                        + " node may run the job; its command had already ended by itself (exited with 0) before this"
                        + " node's kill: only what it left running, if anything, is killed, and its end is recorded"
                        + " now that this node runs again (or once the store answers, if it does not)");
        assertThat(fencing.fenced()).as("not among the jobs this node fenced").isEmpty();
    }

    /**
     * The fencing line waits for the kill's outcome, but for a bound (an eighth of the dead-node limit, 1 s to 10 s):
     * a command whose end never comes (a process that does not die) is still said to be killed.
     */
    @Test
    void aKillWhoseOutcomeNeverComesIsStillSaid() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                Fencing.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        RunningJobs running = new RunningJobs();
        running.add("J1", job(new CompletableFuture<>()));
        CurrentlyExecuting current = executing("J1");
        Fencing fencing = new Fencing(() -> List.of(current), running, CONFIG, now::get, nanos::get);
        try {
            fencing.check();
            nanos.addAndGet(Duration.ofSeconds(25).toNanos()); // stopped for 25 s
            now.set(now.get().plusSeconds(25));
            fencing.check();
            assertThat(killedFor.get()).isNotNull();
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                synchronized (log) {
                    return !log.list.isEmpty();
                }
            });
        } finally {
            logger.detachAppender(log);
        }
        synchronized (log) {
            assertThat(log.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .singleElement().asString().startsWith("job J1: killed by its own node: ")
                    .endsWith("; its processes are killed now (self-fencing); it runs again on the next pick");
        }
        assertThat(fencing.fenced()).containsOnlyKeys("J1");
    }

    /**
     * tryout46 F4: during a store outage the node fenced its job (one line: killed by its own node …); the next check
     * found the command ended (the kill's outcome, CANCELLED) and said a second line, "its command had already ended
     * (cancelled at …)", which an operator whose cancel had just been refused (503) read as that cancel gone through.
     * The fence is said once.
     */
    @Test
    void aJobThisNodeFencedIsNotSaidAfterwardsToHaveBeenCancelled() {
        List<String> lines = logged(running -> { }, 80);

        assertThat(lines).singleElement().asString()
                .startsWith("job J1: killed by its own node: no heartbeat could be written for ")
                .contains(" ms (the store is unreachable)")
                .endsWith("; its processes are killed now (self-fencing); it runs again once the store answers");
    }

    /**
     * tryout46 F4, the other way a node kills its own jobs: its node id taken over by another node ({@link
     * RunningJobs#fenceAll}, which the engine says). A check that then finds the command ended says it was this node's
     * kill, not "cancelled at …".
     */
    @Test
    void aJobKilledWhenItsNodesIdWasTakenOverIsSaidToBeThisNodesKill() {
        List<String> lines = logged(running -> running.fenceAll("node id node-a was taken over by another node"), 80);

        assertThat(lines).singleElement().asString()
                .startsWith("job J1: no heartbeat could be written for ")
                .endsWith("; its processes were already killed by this node (self-fencing) at 2026-12-01T10:00:00Z:"
                        + " nothing is left to kill, and its end is recorded once the store answers")
                .doesNotContain("cancelled");
    }

    /**
     * The lines of {@link Fencing} while job J1 (whose kill ends it CANCELLED) goes {@code checks} quarter seconds
     * with every heartbeat failing (the store unreachable), after {@code before} was done to the running jobs.
     */
    private List<String> logged(java.util.function.Consumer<RunningJobs> before, int checks) {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                Fencing.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        CurrentlyExecuting current = executing("J1");
        RunningJobs running = new RunningJobs();
        running.add("J1", job(outcome, why -> {
            killedFor.set(why);
            outcome.complete(new JobOutcome(JobOutcome.Result.CANCELLED, null, now.get(), now.get(), why, null,
                    false));
        }));
        before.accept(running);
        Fencing fencing = new Fencing(() -> List.of(current), running, CONFIG, now::get, nanos::get);
        try {
            for (int i = 0; i < checks; i++) {
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                current.heartbeat(false, now.get());
                fencing.check();
            }
        } finally {
            logger.detachAppender(log);
        }
        synchronized (log) {
            return log.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
        }
    }

    private final CompletableFuture<JobOutcome> outcome = new CompletableFuture<>();

    private CurrentlyExecuting executing(String id) {
        return new CurrentlyExecuting(new Execution(now.get(), new TaskInstance<Void>("job", id)), now::get,
                new HeartbeatConfig(CONFIG.heartbeatInterval(), CONFIG.missedHeartbeats(), CONFIG.deadNodeLimit()));
    }

    private RunningJob job(CompletableFuture<JobOutcome> ends) {
        return job(ends, killedFor::set);
    }

    /** A job whose command's outcome is {@code ends} and whose kill does {@code onKill} with its reason. */
    private static RunningJob job(CompletableFuture<JobOutcome> ends, java.util.function.Consumer<String> onKill) {
        return new RunningJob() {
            @Override
            public CompletableFuture<JobOutcome> outcome() {
                return ends;
            }

            @Override
            public void cancel() {
            }

            @Override
            public void kill(String why) {
                onKill.accept(why);
            }
        };
    }

    private Fencing fencing() {
        TaskInstance<Void> instance = new TaskInstance<>("job", "J1");
        CurrentlyExecuting current = new CurrentlyExecuting(new Execution(now.get(), instance), now::get,
                new HeartbeatConfig(CONFIG.heartbeatInterval(), CONFIG.missedHeartbeats(), CONFIG.deadNodeLimit()));
        RunningJobs running = new RunningJobs();
        running.add("J1", job(outcome, why -> {
            killedFor.set(why);
            // As a kill of a command still running ends: its own outcome, unless it had ended already.
            outcome.complete(new JobOutcome(JobOutcome.Result.CANCELLED, null, now.get(), now.get(), why, null,
                    false));
        }));
        return new Fencing(() -> List.of(current), running, CONFIG, now::get, nanos::get);
    }
}
