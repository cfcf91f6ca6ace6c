package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.store.ClusterNodes;
import org.buildhook.runner.store.NodeLeases;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * cluster27 F3: the store's list of the cluster's nodes ({@link ClusterNodes}) names each running node with its
 * host, pid, heartbeat age and running jobs, and a node gone silent (SIGSTOP) past the dead-node limit as silent,
 * with the job another node took over from it. Two real node JVMs ({@link EngineNode}) on real PostgreSQL; every
 * wait is for an event, and the dead-node limit (10 s) is only ever waited past, never bounded.
 */
class PostgresClusterNodesTest {

    /** 1 s × 10. */
    private static final Duration DEAD_LIMIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @RegisterExtension
    final StartedNodes nodes = new StartedNodes();

    @Test
    void listsTheRunningNodesAndANodeSilentPastTheLimitWithTheJobTakenOverFromIt() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path go = dir.resolve("go");
        try (Store store = Store.open(config)) {
            NodeProcess silent = silentWithItsJobAndTaker(store, config);
            NodeProcess taker = nodes.all().get(1);

            List<ClusterNodes.Node> running = store.nodeLeases().nodes(DEAD_LIMIT, "taker", reader);
            assertThat(running).extracting(ClusterNodes.Node::id).containsExactly("taker", "silent");
            ClusterNodes.Node before = running.get(1);
            assertThat(before.state()).isEqualTo(ClusterNodes.State.RUNNING);
            assertThat(before.pid()).isEqualTo(silent.process.pid());
            assertThat(before.host()).isNotBlank();
            assertThat(before.heartbeatAge()).isPresent();
            assertThat(before.takenOver()).isZero();
            assertThat(before.stopped()).isFalse();
            assertThat(running.get(0).state()).isEqualTo(ClusterNodes.State.SELF);
            assertThat(running.get(0).pid()).isEqualTo(taker.process.pid());
            assertThat(running.get(0).runningJobs()).isZero();

            NodeProcess.signal("STOP", silent.process.pid());

            // Past the limit the taker runs the job again: the list says so of the silent node.
            await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> assertThat(node(store, "silent")
                    .filter(n -> n.state() == ClusterNodes.State.SILENT && n.takenOver() == 1 && n.runningJobs() == 0)
                    .isPresent() && node(store, "taker").filter(n -> n.runningJobs() == 1).isPresent())
                    .as("taken over: %s", nodes(store)).isTrue());
            ClusterNodes.Node after = node(store, "silent").orElseThrow();
            assertThat(after.heartbeatAge().orElseThrow()).isGreaterThan(DEAD_LIMIT);
            assertThat(after.lastTakenOverAt()).isPresent();
            assertThat(after.lastTakenOverAt().orElseThrow()).isAfter(after.lastHeardAt().orElseThrow());
            assertThat(after.stopped()).as("tryout46 F10: a node of this host, its JVM stopped").isTrue();
            assertThat(node(store, "taker").orElseThrow().state()).isEqualTo(ClusterNodes.State.SELF);
            Files.createFile(go);
        }
    }

    /**
     * nodes28 L: a node killed and never started again stayed listed for ever. Forgotten once its job is taken over
     * (refused before, while it runs), it leaves the list and the counts, and the taker's run of its job goes on; a
     * node cut off from the store (paused, its session ended by the database) and forgotten meanwhile comes back as a
     * running node: its renewal found no claim, took that for "taken over by another node", put its jobs back and took
     * no more (red before the renewal claims a forgotten id again).
     */
    @Test
    void aKilledNodeIsForgottenOnceItsJobIsTakenOverAndAForgottenNodeThatComesBackIsListedAgain() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path go = dir.resolve("go");
        try (Store store = Store.open(config)) {
            NodeProcess killed = silentWithItsJobAndTaker(store, config);
            assertThat(store.nodeLeases().forget("silent", "taker", DEAD_LIMIT).outcome())
                    .isEqualTo(NodeLeases.ForgetOutcome.NOT_SILENT);
            assertThat(store.nodeLeases().counts(DEAD_LIMIT, "taker", reader))
                    .isEqualTo(new ClusterNodes.Counts(2, 0, 0));

            killed.kill();
            await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> assertThat(node(store, "silent")
                    .filter(n -> n.state() != ClusterNodes.State.RUNNING && n.takenOver() == 1 && n.runningJobs() == 0)
                    .isPresent() && node(store, "taker").filter(n -> n.runningJobs() == 1).isPresent())
                    .as("taken over: %s", nodes(store)).isTrue());
            NodeLeases.Forget forgotten = store.nodeLeases().forget("silent", "taker", DEAD_LIMIT);
            assertThat(forgotten.outcome()).as("%s", forgotten).isEqualTo(NodeLeases.ForgetOutcome.FORGOTTEN);
            assertThat(nodes(store)).extracting(ClusterNodes.Node::id).containsExactly("taker");
            assertThat(store.nodeLeases().counts(DEAD_LIMIT, "taker", reader))
                    .isEqualTo(new ClusterNodes.Counts(1, 0, 0));
            assertThat(node(store, "taker").orElseThrow().runningJobs()).as("the taker's run goes on").isEqualTo(1);

            NodeProcess cut = node("cut", config, dir.resolve("slow.sh"), "slow=0", "data=" + dir.resolve("data-cut"));
            await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> assertThat(cut.printed("READY")
                    && node(store, "cut").filter(n -> n.state() == ClusterNodes.State.RUNNING).isPresent())
                    .as("cut running: %s", nodes(store)).isTrue());
            NodeProcess.signal("STOP", cut.process.pid());
            endSessionsHoldingTheLockOf(config, "cut");
            await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> assertThat(node(store, "cut")
                    .filter(n -> n.state() == ClusterNodes.State.SILENT).isPresent()).as("silent: %s", nodes(store))
                    .isTrue());
            assertThat(store.nodeLeases().forget("cut", "taker", DEAD_LIMIT).outcome())
                    .isEqualTo(NodeLeases.ForgetOutcome.FORGOTTEN);
            assertThat(node(store, "cut")).isEmpty();
            NodeProcess.signal("CONT", cut.process.pid());

            await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> assertThat(node(store, "cut")
                    .filter(n -> n.state() == ClusterNodes.State.RUNNING).isPresent()).as("back: %s", nodes(store))
                    .isTrue());
            // The node says so right after its claim is back in the store, which the wait above saw: wait for the words
            // (at load 20 the one read that followed came between the two: ci53-f).
            Path cutErr = dir.resolve("cut.err");
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(Files.readString(cutErr))
                    .contains("its claim was no longer in the store"));
            assertThat(Files.readString(cutErr)).doesNotContain("was taken over by another node");
            assertThat(store.nodeLeases().counts(DEAD_LIMIT, "taker", reader))
                    .isEqualTo(new ClusterNodes.Counts(2, 0, 0));
            Files.createFile(go);
        }
    }

    /**
     * Starts node {@code silent} with one slow job running (until the file {@code go} exists), then node {@code taker};
     * returns {@code silent} once both run and it holds its job.
     */
    private NodeProcess silentWithItsJobAndTaker(Store store, StoreConfig config) throws Exception {
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path slow = NodeProcess.slowScript(dir, events, go);
        NodeProcess silent = node("silent", config, slow, "slow=1", "data=" + dir.resolve("data"));
        // The job started on its own node before the other starts (which would otherwise pick it as soon).
        await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> assertThat(silent.printed("ACCEPTED")
                && AbstractCrashTest.startLines(events).size() == 1).as("started: %s", nodes(store)).isTrue());
        NodeProcess taker = node("taker", config, slow, "slow=0", "data=" + dir.resolve("data-taker"));
        org.buildhook.runner.exec.NodeIdentity here = org.buildhook.runner.exec.NodeIdentity.current();
        reader = new org.buildhook.runner.exec.NodeIdentity(here.host(), here.bootId(),
                org.buildhook.runner.exec.ProcessIdentity.of(taker.process.pid()));
        await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> assertThat(taker.printed("READY")
                && node(store, "taker").isPresent() && node(store, "silent").filter(n -> n.runningJobs() == 1)
                        .isPresent()).as("both running: %s", nodes(store)).isTrue());
        return silent;
    }

    /** Ends (pg_terminate_backend) the database sessions holding {@code nodeId}'s advisory lock, as NodeLeases keys it. */
    private static void endSessionsHoldingTheLockOf(StoreConfig config, String nodeId) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(config.url());
                java.sql.PreparedStatement p = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_locks"
                        + " WHERE locktype = 'advisory' AND granted AND objsubid = 2"
                        + " AND objid = hashtext(current_schema() || '/' || ?)::oid")) {
            p.setString(1, nodeId);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                assertThat(rs.next() && rs.getBoolean(1)).as("a session held the lock and was ended").isTrue();
            }
        }
    }

    /**
     * Who reads the list: the taker node's JVM once it runs (its own row is the claim it wrote: tryout49 F2, a claim of
     * the reader's id by another JVM is that JVM's row), this JVM before.
     */
    private volatile org.buildhook.runner.exec.NodeIdentity reader = org.buildhook.runner.exec.NodeIdentity.current();

    private List<ClusterNodes.Node> nodes(Store store) {
        return store.nodeLeases().nodes(DEAD_LIMIT, "taker", reader);
    }

    private Optional<ClusterNodes.Node> node(Store store, String id) {
        return nodes(store).stream().filter(n -> n.id().equals(id)).findFirst();
    }

    private NodeProcess node(String name, StoreConfig config, Path slow, String... more) throws IOException {
        List<String> args = new ArrayList<>(List.of("url=" + config.url(), "threads=2", "slowScript=" + slow,
                "label=" + name, "watchdog=on", "heartbeat=1000", "missed=10"));
        args.addAll(List.of(more));
        return nodes.start(dir, name, args.toArray(String[]::new));
    }
}
