package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.exec.NodeWatchdog;
import org.buildhook.runner.exec.Watchdog;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's watchdog process on PostgreSQL (chaos15 F3): a node whose JVM alone is stopped
 * (SIGSTOP) has its running job's processes killed by its watchdog while it is still stopped, half
 * the dead-node limit after its last beat, before any other node may run the job again; the woken
 * node records the attempt as the watchdog's kill. A node killed with SIGKILL has its job's processes
 * killed at once (the watchdog's input ends). A watchdog that dies is reported and started again.
 *
 * <p>Real node JVMs ({@link EngineNode}), real commands, real PostgreSQL. Every wait is for an event;
 * the dead-node limits (20 s, or over an hour where only the node's death may kill) leave a loaded
 * machine's own stalls far behind.
 */
class PostgresWatchdogTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final StartedNodes nodes = new StartedNodes();

    @Test
    void aStoppedNodesJobIsKilledByItsWatchdogWhileTheNodeIsStillStoppedAndRecordedAsSuchOnWaking()
            throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        try (Store store = Store.open(config)) {
            // 1 s × 20: the watchdog kills after 10 s without a beat, another node could take over after 20 s.
            NodeProcess node = node("paused", config, go, events, "heartbeat=1000", "missed=20");
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") && started(events).size() == 1);
            long command = started(events).get(0);

            NodeProcess.signal("STOP", node.process.pid());

            await().atMost(Duration.ofMinutes(3)).until(() -> AbstractCrashTest.isGone(command));
            assertThat(state(node.process.pid())).as("the node is still stopped").isEqualTo('T');
            Instant continued = Instant.now();
            // Its account of what it killed follows the kill.
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(dir.resolve("paused.err"))
                    .contains(command + " sh"));
            assertThat(Files.readString(dir.resolve("paused.err")))
                    .contains("WARN buildhook watchdog: node paused (pid " + node.process.pid() + ") gave no sign of"
                            + " life for ")
                    .contains("so its 1 running attempt(s) are killed now")
                    .contains(command + " sh");

            NodeProcess.signal("CONT", node.process.pid());

            Job job = store.jobs(JobQuery.latest(10)).items().get(0);
            await().atMost(Duration.ofMinutes(3)).until(() -> attempt(store, job.id(), 1)
                    .filter(a -> a.outcome() != AttemptOutcome.RUNNING).isPresent());
            JobAttempt first = attempt(store, job.id(), 1).orElseThrow();
            assertThat(first.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
            assertThat(first.message()).startsWith("killed by the watchdog of node paused: its node gave no sign of"
                    + " life for ").contains("(its JVM was paused or stalled, not the store), and after 20s another"
                            + " node may run the job").endsWith("; run again").doesNotContain("the store does not answer");
            assertThat(first.endedAt()).as("when the watchdog killed it, not when the node woke").isBefore(continued);
            // The job runs again, once, after it.
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(3)).until(() -> store.job(job.id()).orElseThrow().job().state()
                    == JobState.SUCCEEDED);
            assertThat(store.job(job.id()).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                    .containsExactly(AttemptOutcome.INTERRUPTED, AttemptOutcome.SUCCEEDED);
        }
    }

    /**
     * tryout17 F6: a node of the same host took the job over before the paused node woke; its sweep found
     * nothing left (the watchdog had killed it all) and recorded "none of its processes was left", ended when it
     * looked. The paused node, woken, knows from its watchdog's report who killed the processes and when: its
     * record replaces the sweep's, and the attempt ends when the watchdog killed it, before the next started.
     */
    @Test
    void aJobTakenOverOnTheSameHostWhileItsNodeWasStoppedSaysItsWatchdogKilledIt() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        try (Store store = Store.open(config)) {
            NodeProcess node = node("paused", config, go, events, "heartbeat=1000", "missed=20");
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") && started(events).size() == 1);
            long command = started(events).get(0);
            Job job = store.jobs(JobQuery.latest(10)).items().get(0);

            NodeProcess.signal("STOP", node.process.pid());
            // The watchdog's kill first, then another node of this host: it takes the job over after the limit.
            await().atMost(Duration.ofMinutes(3)).until(() -> AbstractCrashTest.isGone(command)
                    && Files.readString(dir.resolve("paused.err")).contains(command + " sh"));
            NodeProcess taker = node("taker", config, go, events, "heartbeat=1000", "missed=20", "slow=0",
                    "data=" + dir.resolve("data-taker"));
            await().atMost(Duration.ofMinutes(3)).until(() -> attempt(store, job.id(), 2).isPresent());
            assertThat(state(node.process.pid())).as("the node is still stopped").isEqualTo('T');
            assertThat(attempt(store, job.id(), 1).orElseThrow().message())
                    .isEqualTo("its node paused stopped heart-beating before the attempt's end was recorded; none of its"
                            + " processes was found by its session or its marker; run again");

            NodeProcess.signal("CONT", node.process.pid());

            await().atMost(Duration.ofMinutes(3)).until(() -> attempt(store, job.id(), 1).orElseThrow().message()
                    .startsWith("killed by the watchdog"));
            JobAttempt first = attempt(store, job.id(), 1).orElseThrow();
            assertThat(first.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
            assertThat(first.message()).startsWith("killed by the watchdog of node paused: its node gave no sign of"
                    + " life for ").endsWith("; run again");
            assertThat(first.endedAt()).as("when the watchdog killed it")
                    .isBefore(attempt(store, job.id(), 2).orElseThrow().startedAt());
            assertThat(Files.readString(dir.resolve("paused.err"))).doesNotContain("came after the node had recorded");
            // The job runs on, once, on the node that took it over.
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(3)).until(() -> store.job(job.id()).orElseThrow().job().state()
                    == JobState.SUCCEEDED);
            assertThat(store.job(job.id()).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                    .containsExactly(AttemptOutcome.INTERRUPTED, AttemptOutcome.SUCCEEDED);
            assertThat(taker.process.isAlive()).isTrue();
        }
    }

    @Test
    void aKilledNodesJobIsKilledAtOnceByItsWatchdog() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path events = dir.resolve("events");
        try (Store store = Store.open(config)) {
            // 5 s × 1000: no silence bound is reached here; only the end of the watchdog's input kills.
            NodeProcess node = node("killed", config, dir.resolve("go"), events, "heartbeat=5000", "missed=1000");
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") && started(events).size() == 1);
            long command = started(events).get(0);

            node.kill();

            await().atMost(Duration.ofMinutes(2)).until(() -> AbstractCrashTest.isGone(command));
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(dir.resolve("killed.err"))
                    .contains(command + " sh"));
            assertThat(Files.readString(dir.resolve("killed.err")))
                    .contains("WARN buildhook watchdog: node killed (pid " + node.process.pid() + ") is gone; killing what"
                            + " its running jobs left")
                    .contains(command + " sh");
        }
    }

    @Test
    void aWatchdogThatDiesIsReportedByItsNodeAndStartedAgain() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path events = dir.resolve("events");
        try (Store store = Store.open(config)) {
            NodeProcess node = node("watched", config, dir.resolve("go"), events, "heartbeat=5000", "missed=1000");
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") && started(events).size() == 1);
            long command = started(events).get(0);
            ProcessHandle watchdog = watchdogOf(node).orElseThrow();
            // Killed once it has said it started: killed before, the node rightly says it "could not start" (the
            // process was there before its first words; on a loaded machine that took long enough to be seen).
            await().atMost(Duration.ofMinutes(3)).until(() -> Files.readString(dir.resolve("watched.err"))
                    .contains("watchdog of node watched started (pid " + watchdog.pid() + ")"));

            watchdog.destroyForcibly();

            await().atMost(Duration.ofMinutes(3)).until(() -> watchdogOf(node).filter(w -> w.pid() != watchdog.pid())
                    .isPresent() && Files.readString(dir.resolve("watched.err")).contains("watchdog of node watched started"
                            + " (pid " + watchdogOf(node).orElseThrow().pid() + ")"));
            assertThat(Files.readString(dir.resolve("watched.err"))).contains("WARN  [buildhook-watchdog-beat]"
                    + " o.b.r.exec.Watchdog - the watchdog of node watched (pid " + watchdog.pid() + ") ended (exit status"
                    + " 137): while it is away, a pause of this JVM longer than the dead-node limit (");
            assertThat(AbstractCrashTest.isGone(command)).as("the job runs on").isFalse();
            // The new watchdog knows the running job: the node's death kills it.
            node.kill();
            await().atMost(Duration.ofMinutes(2)).until(() -> AbstractCrashTest.isGone(command));
        }
    }

    /**
     * tryout49 F1: a command that exited by itself while its node's JVM alone was stopped, the job taken over by another
     * node after the dead-node limit, the stopped node woken after that: the attempt was recorded as ending at the wake,
     * after the later attempt began (a history of two copies at once that never ran), "recorded late … once the store
     * answered again" of a store that had answered all along. Its watchdog, which came to kill it and found nothing
     * left, bounds its end: it ends before that, and its message says it was seen on waking from the JVM's pause.
     */
    @Test
    void aCommandThatExitedWhileItsNodeWasStoppedEndsBeforeTheLaterAttemptAndSaysTheJvmWasPaused() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        try (Store store = Store.open(config)) {
            NodeProcess node = node("paused", config, go, events, "heartbeat=1000", "missed=20",
                    "debug=" + Watchdog.class.getName());
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") && started(events).size() == 1);
            Job job = store.jobs(JobQuery.latest(10)).items().get(0);
            // Stopped only once its watchdog knows the attempt's first process (it says so on its stderr, the node's,
            // when the node's Watchdog logger is at DEBUG). Stopped before, the watchdog cannot say the command ended
            // before its look, and the end is rightly "not known" (asleep50: failed once so at load 19). Not once the
            // process is recorded in the store (99b2d73e): the node tells its watchdog only after that statement
            // returns, and may be stopped in between (review50b R14).
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(dir.resolve("paused.err"))
                    .contains("buildhook watchdog of node paused: knows attempt " + job.id() + "/1's first process "));

            NodeProcess.signal("STOP", node.process.pid());
            // Its command ends by itself while the node is stopped; then the watchdog comes and finds nothing left.
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(events).contains("end w"));
            await().atMost(Duration.ofMinutes(3)).until(() -> Files.readString(dir.resolve("paused.err"))
                    .contains("nothing was left to kill"));
            NodeProcess taker = node("taker", config, go, events, "heartbeat=1000", "missed=20", "slow=0",
                    "data=" + dir.resolve("data-taker"));
            await().atMost(Duration.ofMinutes(3)).until(() -> attempt(store, job.id(), 2).isPresent());
            assertThat(state(node.process.pid())).as("the node is still stopped").isEqualTo('T');

            NodeProcess.signal("CONT", node.process.pid());

            await().atMost(Duration.ofMinutes(3)).until(() -> attempt(store, job.id(), 1).orElseThrow().outcome()
                    == AttemptOutcome.SUCCEEDED);
            JobAttempt first = attempt(store, job.id(), 1).orElseThrow();
            JobAttempt second = attempt(store, job.id(), 2).orElseThrow();
            assertThat(first.endedAt()).as("before the watchdog's look, not at the wake: before attempt 2 began")
                    .isNotNull().isBefore(second.startedAt());
            assertThat(first.message()).startsWith("exited with 0; it ended before " + first.endedAt()
                    + " (this node's watchdog found nothing of it left to kill then); its exit was seen at ")
                    .contains(", when this node ran again after its JVM was paused or stalled for ")
                    .contains("; recorded late, by its node paused when it ran again (its JVM had not run, the store"
                            + " had answered); meanwhile another node took the job over (its node was taken for gone)"
                            + " and ran it again: attempt 2 on node taker")
                    .doesNotContain("once the store answered").doesNotContain("is not known");
            assertThat(taker.process.isAlive()).isTrue();
        }
    }

    private NodeProcess node(String name, StoreConfig config, Path go, Path events, String... timing) throws IOException {
        Path slow = NodeProcess.slowScript(dir, events, go);
        List<String> args = new ArrayList<>(List.of("url=" + config.url(), "data=" + dir.resolve("data"), "threads=2",
                "slow=1", "slowScript=" + slow, "label=w", "watchdog=on"));
        args.addAll(List.of(timing));
        return nodes.start(dir, name, args.toArray(String[]::new));
    }

    private static Optional<ProcessHandle> watchdogOf(NodeProcess node) {
        return node.process.children().filter(c -> c.info().arguments().map(List::of).orElse(List.of())
                .contains(NodeWatchdog.class.getName())).filter(ProcessHandle::isAlive).findFirst();
    }

    private static Optional<JobAttempt> attempt(Store store, String jobId, int number) {
        List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
        return attempts.size() < number ? Optional.empty() : Optional.of(attempts.get(number - 1));
    }

    /** The pids of the commands started, in order ({@code start <label> <pid>} lines). */
    private static List<Long> started(Path events) throws IOException {
        return AbstractCrashTest.startLines(events).stream().map(l -> Long.parseLong(l.split(" ")[2])).toList();
    }

    private static char state(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }
}
