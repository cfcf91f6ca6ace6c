package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * tryout45 F7: a node frozen whole (its JVM and its job's processes stopped, as {@code podman pause} or {@code systemctl
 * freeze} do; its watchdog off here, frozen with it there) while its job runs, and the job cancelled meanwhile (as a
 * newer build's supersede under {@code running: cancel} cancels the older one). The other node of the same host takes
 * the job over after the dead-node limit and ends it CANCELLED: that end frees its concurrency slot and lets the newer
 * job and the job's {@code on-cancel} start, so the frozen command must be ended first, as before a re-run. Before,
 * the job was ended CANCELLED while its command was still there (stopped, state T), and a thaw let it run on beside
 * what came after it. Real node JVMs ({@link EngineNode}), real commands, real PostgreSQL; every wait is for an event.
 */
class PostgresFrozenNodeCancelTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final StartedNodes nodes = new StartedNodes();

    @Test
    void aJobCancelledWhileItsNodeIsFrozenEndsOnlyOnceTheOtherNodeOfItsHostHasEndedItsCommand() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        try (Store store = Store.open(config)) {
            Frozen frozen = frozenWithItsJobBesideATaker(store, config, dir.resolve("events"));
            Job job = frozen.job();
            long command = frozen.command();
            assertThat(store.cancel(job.id())).as("its cancel is asked for").isTrue();

            await().atMost(Duration.ofMinutes(5)).until(() -> store.job(job.id()).map(d -> d.job().state())
                    .filter(JobState::isFinal).isPresent());
            boolean gone = AbstractCrashTest.isGone(command);
            assertThat(store.job(job.id()).map(d -> d.job().state())).as("the job").contains(JobState.CANCELLED);
            assertThat(gone).as("the frozen command was ended before its job ended (pid %d)", command).isTrue();
            assertThat(Files.readString(dir.resolve("taker.err"))).as("the taker says what it ended")
                    .contains("job " + job.id() + " attempt 1: its node frozen stopped heart-beating");
        }
    }

    /**
     * tryout45 F6: the same freeze without a cancel. The taker ends the frozen node's attempt (it kills the command that
     * attempt left: exit 137 to the frozen node), records that, and runs the job again. Thawed, the frozen node sees its
     * command's exit and must leave the taker's record as it is: the first record of an attempt's end stays. Before, it
     * wrote "exited with 137 … recorded late, by its node frozen" over it, as if the command had failed by itself.
     */
    @Test
    void aThawedNodeLeavesTheTakersRecordOfItsAttemptAsItIs() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path events = dir.resolve("events");
        try (Store store = Store.open(config)) {
            Frozen frozen = frozenWithItsJobBesideATaker(store, config, events);
            Job job = frozen.job();

            await().atMost(Duration.ofMinutes(5)).until(() -> AbstractCrashTest.startLines(events).size() == 2);
            JobAttempt swept = store.job(job.id()).orElseThrow().attempts().get(0);
            assertThat(swept.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
            assertThat(swept.message()).contains("node taker killed what it left");
            NodeProcess.signal("CONT", frozen.node().process.pid());
            Path said = dir.resolve("frozen.err");
            await().atMost(Duration.ofMinutes(5)).until(() -> Files.readString(said).contains("job " + job.id()
                    + ": another node "));

            JobAttempt first = store.job(job.id()).orElseThrow().attempts().get(0);
            assertThat(first.outcome()).as(first.message()).isEqualTo(AttemptOutcome.INTERRUPTED);
            assertThat(first.exitCode()).isNull();
            assertThat(first.message()).isEqualTo(swept.message());
            assertThat(first.endedAt()).isEqualTo(swept.endedAt());
        }
    }

    /**
     * tryout46 F8: the same freeze, the job with one retry. The taker's sweep of the frozen node's attempt uses none of
     * the job's retries, so once the thawed node has looked at its attempt and the taker's attempt 2 fails, the retry
     * runs (attempt 3). Before 81019b97 the thawed node's "exited with 137" over the sweep's record made attempt 1 a
     * failed try of the command: the job ended FAILED after attempt 2, its retry never made.
     */
    @Test
    void aThawedNodeLeavesItsJobTheRetryTheTakersSweepDidNotUse() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path events = dir.resolve("events");
        // Each attempt's command runs until the folder of its go file is removed, then ends with 1 (a new one at once).
        Path attempts = Files.createDirectory(dir.resolve("attempts"));
        Path fails = NodeProcess.slowScript(dir, events, attempts.resolve("go"));
        try (Store store = Store.open(config)) {
            Frozen frozen = frozenWithItsJobBesideATaker(store, config, events, fails, "retryScript=" + fails,
                    "retryBackoff=100");
            Job job = frozen.job();

            await().atMost(Duration.ofMinutes(5)).until(() -> AbstractCrashTest.startLines(events).size() == 2);
            NodeProcess.signal("CONT", frozen.node().process.pid());
            Path said = dir.resolve("frozen.err");
            await().atMost(Duration.ofMinutes(5)).until(() -> Files.readString(said).contains("job " + job.id()
                    + ": another node "));
            Files.delete(attempts);

            await().atMost(Duration.ofMinutes(5)).until(() -> store.job(job.id()).map(d -> d.job().state())
                    .filter(JobState::isFinal).isPresent());
            List<JobAttempt> made = store.job(job.id()).orElseThrow().attempts();
            assertThat(made).as("its attempts: %s", made).extracting(JobAttempt::outcome)
                    .containsExactly(AttemptOutcome.INTERRUPTED, AttemptOutcome.FAILED, AttemptOutcome.FAILED);
            assertThat(made.get(0).message()).contains("node taker killed what it left");
            assertThat(AbstractCrashTest.startLines(events)).as("its commands").hasSize(3);
        }
    }

    /** The frozen node, the command of its job's attempt (stopped with it), and that job. */
    private record Frozen(NodeProcess node, long command, Job job) {
    }

    /**
     * Starts node {@code frozen} with one slow job (its command runs until the file {@code go} exists), then node
     * {@code taker} of the same host; once the command runs and the taker is ready, freezes the first whole: its JVM
     * and the command (SIGSTOP).
     */
    private Frozen frozenWithItsJobBesideATaker(Store store, StoreConfig config, Path events) throws Exception {
        Path slow = NodeProcess.slowScript(dir, events, dir.resolve("go"));
        return frozenWithItsJobBesideATaker(store, config, events, slow, "slow=1");
    }

    /**
     * As {@link #frozenWithItsJobBesideATaker(Store, StoreConfig, Path)}, with the nodes' script {@code slow} (a
     * {@link NodeProcess#slowScript} on {@code events}) and node {@code frozen}'s one job given by {@code job}
     * ({@link EngineNode}'s arguments, e.g. {@code slow=1}).
     */
    private Frozen frozenWithItsJobBesideATaker(Store store, StoreConfig config, Path events, Path slow, String... job)
            throws Exception {
        List<String> frozenArgs = new ArrayList<>(List.of(job));
        frozenArgs.add("data=" + dir.resolve("data"));
        NodeProcess frozen = node("frozen", config, slow, frozenArgs.toArray(String[]::new));
        await().atMost(Duration.ofMinutes(5)).until(() -> frozen.printed("ACCEPTED")
                && AbstractCrashTest.startLines(events).size() == 1);
        long command = Long.parseLong(AbstractCrashTest.startLines(events).get(0).split(" ")[2]);
        NodeProcess taker = node("taker", config, slow, "slow=0", "data=" + dir.resolve("data-taker"));
        await().atMost(Duration.ofMinutes(5)).until(() -> taker.printed("READY"));

        // The freeze: the node's JVM and its command together.
        NodeProcess.signal("STOP", frozen.process.pid());
        NodeProcess.signal("STOP", command);
        return new Frozen(frozen, command, store.jobs(JobQuery.latest(10)).items().get(0));
    }

    private NodeProcess node(String name, StoreConfig config, Path slow, String... more) throws IOException {
        // 1 s × 10: the dead-node limit 10 s; no watchdog (frozen with the node by a freeze, so never in time).
        List<String> args = new ArrayList<>(List.of("url=" + config.url(), "threads=2", "slowScript=" + slow,
                "label=" + name, "heartbeat=1000", "missed=10"));
        args.addAll(List.of(more));
        return nodes.start(dir, name, args.toArray(String[]::new));
    }
}
