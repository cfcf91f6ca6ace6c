package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;
import org.buildhook.runner.rules.RulesFingerprint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout17 F4: each node records the fingerprint of its rules with its claim of its node id (V15), and
 * the running nodes whose rules differ are found; nodes of an older buildhook, which record none, never
 * differ. On SQLite and PostgreSQL by the subclasses (on SQLite no engine claims an id, but the table
 * and its statements are the same).
 */
abstract class AbstractNodeRulesTest {

    static final Duration DEAD_LIMIT = Duration.ofMinutes(3);
    private static final RulesFingerprint X = new RulesFingerprint("a1".repeat(32));
    private static final RulesFingerprint Y = new RulesFingerprint("b2".repeat(32));
    private static final Instant LOADED = Instant.parse("2026-12-01T20:01:18Z");

    @TempDir
    Path dir;
    StoreConfig config;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        config = config(dir);
        store = Store.open(config);
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void eachNodeRecordsItsRulesWithItsClaimAndTheNodesWithOtherRulesAreFound() {
        claim("node-a", "instance-a");
        claim("node-b", "instance-b");

        assertThat(store.nodeLeases().recordRules("node-a", NodeIdentity.current(), X, LOADED)).isTrue();
        assertThat(store.nodeLeases().recordRules("node-b", NodeIdentity.current(), Y, LOADED.plusSeconds(11)))
                .isTrue();

        List<NodeLeases.NodeRules> nodes = store.nodeLeases().runningNodesRules(DEAD_LIMIT);
        assertThat(nodes).extracting(NodeLeases.NodeRules::nodeId).containsExactly("node-a", "node-b");
        assertThat(nodes).extracting(NodeLeases.NodeRules::fingerprint).containsExactly(Optional.of(X), Optional.of(Y));
        assertThat(nodes.get(1).loadedAt()).contains(LOADED.plusSeconds(11));
        assertThat(nodes.get(1).pid()).isEqualTo(ProcessHandle.current().pid());

        RulesDisagreement seenByA = RulesDisagreement.among("node-a", X, nodes).orElseThrow();
        assertThat(seenByA.otherNodeIds()).containsExactly("node-b");
        assertThat(seenByA.describeOthers()).startsWith("node-b (host " + NodeIdentity.current().host() + ", pid ")
                .endsWith(" has rules b2b2b2b2b2b2, loaded at 2026-12-01T20:01:29Z");
        assertThat(RulesDisagreement.among("node-b", Y, nodes).orElseThrow().otherNodeIds()).containsExactly("node-a");
        // A file that neither node runs differs from both (buildhook check compares as no node).
        RulesFingerprint z = new RulesFingerprint("c3".repeat(32));
        assertThat(RulesDisagreement.among(null, z, nodes).orElseThrow().otherNodeIds())
                .containsExactly("node-a", "node-b");

        // node-b reloads node-a's rules: they agree.
        assertThat(store.nodeLeases().recordRules("node-b", NodeIdentity.current(), X, LOADED.plusSeconds(60)))
                .isTrue();
        nodes = store.nodeLeases().runningNodesRules(DEAD_LIMIT);
        assertThat(RulesDisagreement.among("node-a", X, nodes)).isEmpty();
        assertThat(RulesDisagreement.among("node-b", X, nodes)).isEmpty();
    }

    @Test
    void aNodeOfAnOlderBuildhookRecordsNoFingerprintAndNeverDiffers() throws SQLException {
        claim("node-a", "instance-a");
        store.nodeLeases().recordRules("node-a", NodeIdentity.current(), X, LOADED);
        claim("node-old", "instance-old"); // an older node: claims, records nothing
        // An older node takes node-a's id over (node-a was killed): it writes its claim as before V15, which
        // leaves node-a's fingerprint in the row.
        olderNodeClaims("node-a", "instance-older");

        List<NodeLeases.NodeRules> nodes = store.nodeLeases().runningNodesRules(DEAD_LIMIT);

        assertThat(nodes).extracting(NodeLeases.NodeRules::nodeId).containsExactly("node-a", "node-old");
        assertThat(nodes).allSatisfy(n -> {
            assertThat(n.fingerprint()).as(n.nodeId()).isEmpty();
            assertThat(n.loadedAt()).as(n.nodeId()).isEmpty();
        });
        assertThat(RulesDisagreement.among("node-new", Y, nodes)).isEmpty();
        assertThat(RulesDisagreement.among(null, Y, nodes)).isEmpty();
    }

    @Test
    void onlyThisJvmsClaimRecordsItsRulesAndANodeSilentPastTheDeadLimitIsNotRunning() throws SQLException {
        claim("node-a", "instance-a");
        claim("node-b", "instance-b");
        store.nodeLeases().recordRules("node-b", NodeIdentity.current(), Y, LOADED);
        NodeIdentity another = new NodeIdentity("elsewhere", "", new ProcessIdentity(4242, -1, 7));

        assertThat(store.nodeLeases().recordRules("node-a", another, X, LOADED)).as("not that JVM's claim").isFalse();
        assertThat(store.nodeLeases().recordRules("node-z", NodeIdentity.current(), X, LOADED)).as("no claim").isFalse();
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement p = c.prepareStatement("UPDATE node_leases SET renewed_at = renewed_at - ?"
                        + " WHERE node_id = 'node-b'")) {
            p.setLong(1, DEAD_LIMIT.plusMinutes(1).toMillis());
            p.executeUpdate();
        }

        assertThat(store.nodeLeases().runningNodesRules(DEAD_LIMIT)).extracting(NodeLeases.NodeRules::nodeId)
                .containsExactly("node-a");
    }

    /**
     * tryout22 F4: a node of this host stopped without giving its claim back (the store could not be reached during
     * its stop); its claim is younger than the dead-node limit, but its JVM is gone: the next start on the host did
     * call it "the other running node", and with other rules raised the banner for a node that is gone.
     */
    @Test
    void aNodeOfThisHostWhoseJvmIsGoneIsNotRunningThoughItsClaimIsYoung() throws Exception {
        claim("node-a", "instance-a");
        store.nodeLeases().recordRules("node-a", NodeIdentity.current(), X, LOADED);
        Process ended = new ProcessBuilder("/bin/true").start();
        assertThat(ended.waitFor()).isZero();
        NodeIdentity self = NodeIdentity.current();
        NodeIdentity gone = new NodeIdentity(self.host(), self.bootId(), new ProcessIdentity(ended.pid(), -1, 7));
        assertThat(store.nodeLeases().claim("node-gone", "instance-gone", gone, DEAD_LIMIT, true)).isEmpty();
        assertThat(store.nodeLeases().recordRules("node-gone", gone, Y, LOADED)).isTrue();
        // A node of another host, its JVM not to be seen from here: running as long as its claim is young.
        NodeIdentity elsewhere = new NodeIdentity("elsewhere", "other-boot/pid:4026531836",
                new ProcessIdentity(ended.pid(), -1, 7));
        assertThat(store.nodeLeases().claim("node-elsewhere", "instance-elsewhere", elsewhere, DEAD_LIMIT, true))
                .isEmpty();

        List<NodeLeases.NodeRules> nodes = store.nodeLeases().runningNodesRules(DEAD_LIMIT);

        assertThat(nodes).extracting(NodeLeases.NodeRules::nodeId).containsExactly("node-a", "node-elsewhere");
        assertThat(RulesDisagreement.among("node-a", X, nodes)).as("no banner for a node that is gone").isEmpty();
    }

    /**
     * V15 on a store where nodes of version 14 hold their ids: it only adds nullable columns, their claims
     * stay and are shown without a fingerprint, and their way of writing a claim still works.
     */
    @Test
    void anUpgradeFromVersion14KeepsTheOlderNodesClaimsAndTheirWrites() throws Exception {
        store.close();
        store = null;
        try (Connection c = java.sql.DriverManager.getConnection(config.url()); Statement s = c.createStatement()) {
            for (String column : List.of("rules_fingerprint", "rules_loaded_at", "rules_instance")) {
                s.execute("ALTER TABLE node_leases DROP COLUMN " + column);
            }
            s.execute("ALTER TABLE job_attempts DROP COLUMN node_died");
            s.execute("ALTER TABLE resource_holds DROP COLUMN unit_numbers");
            s.execute("DROP INDEX job_attempts_given_back_idx");
            s.execute("ALTER TABLE node_leases DROP COLUMN acquired_host_at");
            s.execute("ALTER TABLE node_leases DROP COLUMN acquired_host_instance");
            s.execute("ALTER TABLE job_attempts DROP COLUMN unit_numbers");
            s.execute("ALTER TABLE node_leases DROP COLUMN data_dir");
            s.execute("DROP INDEX jobs_run_idx");
            s.execute("DELETE FROM schema_version WHERE version >= 15");
        }
        store = Store.open(config);
        olderNodeClaims("node-14", "instance-14");
        claim("node-15", "instance-15");
        store.nodeLeases().recordRules("node-15", NodeIdentity.current(), X, LOADED);
        store.close();
        store = null;

        store = Store.open(config);
        // A node of version 14 still running beside: its claim's writes are as before.
        olderNodeClaims("node-14", "instance-14b");
        assertThat(store.nodeLeases().renew("node-14", "instance-14b")).isTrue();

        List<NodeLeases.NodeRules> nodes = store.nodeLeases().runningNodesRules(DEAD_LIMIT);
        assertThat(nodes).extracting(NodeLeases.NodeRules::nodeId).containsExactly("node-14", "node-15");
        assertThat(nodes).extracting(NodeLeases.NodeRules::fingerprint).containsExactly(Optional.empty(), Optional.of(X));
        assertThat(RulesDisagreement.among("node-15", X, nodes)).isEmpty();
    }

    /**
     * nodes28 L: a node killed and never started again stayed listed silent for ever. It can be forgotten, but only a
     * node silent past the dead-node limit (by the claims' clock) that holds no picked job and no resource units not
     * yet taken over, never the asking node; the gauge's counts follow; a forgotten node that comes back claims its
     * id again at its next renewal (it did take that for "taken over by another node" and stopped taking jobs).
     */
    @Test
    void onlyANodeSilentPastTheLimitThatHoldsNothingIsForgottenAndOneThatComesBackIsListedAgain() throws SQLException {
        for (String id : List.of("node-a", "node-b", "node-c", "node-d", "node-e")) {
            claim(id, "instance-" + id);
        }
        silence("node-c", "node-d", "node-e");
        try (Connection c = java.sql.DriverManager.getConnection(config.url());
                PreparedStatement job = c.prepareStatement("INSERT INTO scheduled_tasks (task_name, task_instance,"
                        + " execution_time, picked, picked_by, version) VALUES (?, 'job-d', ?, ?, 'node-d', 1)");
                PreparedStatement units = c.prepareStatement("INSERT INTO resource_holds (job_id, resource, units,"
                        + " node, acquired_at) VALUES ('job-e', 'db', 2, 'node-e', 1)")) {
            job.setString(1, JobQueue.TASK_NAME);
            job.setTimestamp(2, new java.sql.Timestamp(System.currentTimeMillis()));
            job.setBoolean(3, true);
            job.executeUpdate();
            units.executeUpdate();
        }
        NodeLeases leases = store.nodeLeases();
        assertThat(leases.counts(DEAD_LIMIT, "node-a")).isEqualTo(new ClusterNodes.Counts(2, 3, 0));

        assertThat(leases.forget("node-a", "node-a", DEAD_LIMIT).outcome()).isEqualTo(NodeLeases.ForgetOutcome.SELF);
        assertThat(leases.forget("node-x", "node-a", DEAD_LIMIT).outcome()).isEqualTo(NodeLeases.ForgetOutcome.UNKNOWN);
        NodeLeases.Forget live = leases.forget("node-b", "node-a", DEAD_LIMIT);
        assertThat(live.outcome()).isEqualTo(NodeLeases.ForgetOutcome.NOT_SILENT);
        assertThat(live.silentFor()).isLessThan(DEAD_LIMIT);
        NodeLeases.Forget jobs = leases.forget("node-d", "node-a", DEAD_LIMIT);
        assertThat(jobs.outcome()).isEqualTo(NodeLeases.ForgetOutcome.HOLDS_WORK);
        assertThat(jobs.pickedJobs()).isEqualTo(1);
        NodeLeases.Forget units = leases.forget("node-e", "node-a", DEAD_LIMIT);
        assertThat(units.outcome()).isEqualTo(NodeLeases.ForgetOutcome.HOLDS_WORK);
        assertThat(units.heldUnits()).isEqualTo(2);
        assertThat(leases.nodes(DEAD_LIMIT, "node-a")).extracting(ClusterNodes.Node::id)
                .containsExactly("node-a", "node-b", "node-c", "node-d", "node-e");

        NodeLeases.Forget forgotten = leases.forget("node-c", "node-a", DEAD_LIMIT);
        assertThat(forgotten.outcome()).isEqualTo(NodeLeases.ForgetOutcome.FORGOTTEN);
        assertThat(forgotten.silentFor()).isGreaterThan(DEAD_LIMIT);
        assertThat(forgotten.holder().orElseThrow().instance()).isEqualTo("instance-node-c");
        assertThat(leases.nodes(DEAD_LIMIT, "node-a")).extracting(ClusterNodes.Node::id)
                .containsExactly("node-a", "node-b", "node-d", "node-e");
        assertThat(leases.counts(DEAD_LIMIT, "node-a")).isEqualTo(new ClusterNodes.Counts(2, 2, 0));
        assertThat(leases.forget("node-c", "node-a", DEAD_LIMIT).outcome())
                .isEqualTo(NodeLeases.ForgetOutcome.UNKNOWN);

        // It was only cut off: without its id's lock it does not claim it (a node starting with it may hold that) ...
        assertThat(leases.renew("node-c", "instance-node-c", NodeIdentity.current(), false))
                .isEqualTo(NodeLeases.Renewal.LOST);
        // ... with it, it claims it again and is listed again; a renewal of a claim held is as before.
        assertThat(leases.renew("node-c", "instance-node-c", NodeIdentity.current(), true))
                .isEqualTo(NodeLeases.Renewal.CLAIMED_AGAIN);
        assertThat(leases.renew("node-c", "instance-node-c", NodeIdentity.current(), true))
                .isEqualTo(NodeLeases.Renewal.RENEWED);
        assertThat(leases.renew("node-b", "instance-other", NodeIdentity.current(), true))
                .as("another's claim is never overwritten").isEqualTo(NodeLeases.Renewal.LOST);
        assertThat(leases.nodes(DEAD_LIMIT, "node-a")).filteredOn(n -> n.id().equals("node-c")).singleElement()
                .extracting(ClusterNodes.Node::state).isEqualTo(ClusterNodes.State.RUNNING);
        assertThat(leases.counts(DEAD_LIMIT, "node-a")).isEqualTo(new ClusterNodes.Counts(3, 2, 0));
    }

    /**
     * lock30 (nodes29): a forget and its audit row are one transaction. An audit row that cannot be written (a real
     * failure of the store: a trigger refuses it) leaves the node listed, so the error answered is true; once it can be
     * written, the node is forgotten and the trail says so.
     */
    @Test
    void aForgetWhoseAuditRowCannotBeWrittenForgetsNothing() throws SQLException {
        claim("node-a", "instance-a");
        claim("node-c", "instance-c");
        silence("node-c");
        refuseAuditRows(true);
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.forgetNode("node-c", "node-a", DEAD_LIMIT,
                    "tester", f -> "node node-c, silent")).isInstanceOf(RuntimeException.class);
        } finally {
            refuseAuditRows(false);
        }
        assertThat(store.nodeLeases().nodes(DEAD_LIMIT, "node-a")).extracting(ClusterNodes.Node::id)
                .as("not forgotten: its audit row was not written").containsExactly("node-a", "node-c");
        assertThat(auditDetails()).isEmpty();

        NodeLeases.Forget f = store.forgetNode("node-c", "node-a", DEAD_LIMIT, "tester",
                done -> "node node-c (" + done.holder().orElseThrow().instance() + ")");
        assertThat(f.outcome()).isEqualTo(NodeLeases.ForgetOutcome.FORGOTTEN);
        assertThat(store.nodeLeases().nodes(DEAD_LIMIT, "node-a")).extracting(ClusterNodes.Node::id)
                .containsExactly("node-a");
        assertThat(auditDetails()).containsExactly("tester forget-node node node-c (instance-c)");
        // Refused: nothing recorded.
        assertThat(store.forgetNode("node-c", "node-a", DEAD_LIMIT, "tester", done -> "x").outcome())
                .isEqualTo(NodeLeases.ForgetOutcome.UNKNOWN);
        assertThat(auditDetails()).hasSize(1);
    }

    /** Makes the store refuse (a trigger that fails) or accept rows of the audit trail. */
    abstract void refuseAuditRows(boolean refuse) throws SQLException;

    /** The audit trail's rows, "actor action detail". */
    private List<String> auditDetails() throws SQLException {
        List<String> rows = new java.util.ArrayList<>();
        try (Connection c = java.sql.DriverManager.getConnection(config.url());
                PreparedStatement p = c.prepareStatement("SELECT actor, action, detail FROM admin_actions");
                java.sql.ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3));
            }
        }
        return rows;
    }

    /**
     * tryout29 F7: between the revival of a silent node's execution (db-scheduler's dead-execution look puts it back
     * in the queue, unpicked) and another node's start of the job again (which ends the silent node's attempt {@code
     * INTERRUPTED}), the node held no pick and had nothing taken over yet: the list said "none of its jobs was left to
     * take over" for about a polling interval while a take-over ran. Its attempt still running, of a job still in the
     * queue, is a job being taken over; once counted, whether picked by it or not, never twice.
     */
    @Test
    void aSilentNodesJobPutBackInTheQueueButNotYetStartedAgainIsBeingTakenOver() throws SQLException {
        claim("node-a", "instance-a");
        claim("node-s", "instance-s");
        silence("node-s");
        String jobId = store.accept(Plans.delivery("{\"build_id\": 1}"),
                List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
        assertThat(store.ledger().startAttempt(jobId, "node-s")).isEqualTo(1);
        // Its node picked it (as db-scheduler does) and went silent: one job to take over.
        pick(jobId, "node-s");
        assertThat(silentNode().runningJobs()).isEqualTo(1);

        // Revived by a dead-execution look (OwnExecutionsKept: reschedule): unpicked, its attempt still running.
        pick(jobId, null);
        ClusterNodes.Node revived = silentNode();
        assertThat(revived.runningJobs()).as("%s", revived).isEqualTo(1);
        assertThat(revived.takenOver()).isZero();
        // Picked by another node, which has not started it yet: still being taken over.
        pick(jobId, "node-a");
        assertThat(silentNode().runningJobs()).isEqualTo(1);

        // Started again by the other node: taken over, no longer pending.
        assertThat(store.ledger().startAttempt(jobId, "node-a")).isEqualTo(2);
        ClusterNodes.Node taken = silentNode();
        assertThat(taken.runningJobs()).isZero();
        assertThat(taken.takenOver()).isEqualTo(1);
    }

    private ClusterNodes.Node silentNode() {
        ClusterNodes.Node n = store.nodeLeases().nodes(DEAD_LIMIT, "node-a").stream()
                .filter(x -> x.id().equals("node-s")).findFirst().orElseThrow();
        assertThat(n.state()).isEqualTo(ClusterNodes.State.SILENT);
        return n;
    }

    /** Marks job {@code jobId}'s execution picked by {@code node}, or not picked when {@code null}. */
    private void pick(String jobId, String node) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = ?"
                        + " WHERE task_name = ? AND task_instance = ?")) {
            p.setBoolean(1, node != null);
            p.setString(2, node);
            p.setString(3, JobQueue.TASK_NAME);
            p.setString(4, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /** Makes the claims of {@code nodeIds} older than the dead-node limit, by a minute. */
    void silence(String... nodeIds) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement p = c.prepareStatement("UPDATE node_leases SET renewed_at = renewed_at - ?"
                        + " WHERE node_id = ?")) {
            for (String id : nodeIds) {
                p.setLong(1, DEAD_LIMIT.plusMinutes(1).toMillis());
                p.setString(2, id);
                p.executeUpdate();
            }
        }
    }

    void claim(String nodeId, String instance) {
        assertThat(store.nodeLeases().claim(nodeId, instance, NodeIdentity.current(), DEAD_LIMIT, true)).isEmpty();
    }

    /** A claim written as a buildhook of version 14 writes it (NodeLeases.write before V15), now by this store's clock. */
    private void olderNodeClaims(String nodeId, String instance) throws SQLException {
        long now = now();
        try (Connection c = java.sql.DriverManager.getConnection(config.url());
                PreparedStatement p = c.prepareStatement("INSERT INTO node_leases (node_id, instance, host, boot_id,"
                + " node_pid, node_started, acquired_at, renewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (node_id) DO UPDATE SET instance = excluded.instance, host = excluded.host,"
                + " boot_id = excluded.boot_id, node_pid = excluded.node_pid, node_started = excluded.node_started,"
                + " acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at")) {
            p.setString(1, nodeId);
            p.setString(2, instance);
            p.setString(3, "old-host");
            p.setString(4, "");
            p.setLong(5, 99);
            p.setLong(6, 1);
            p.setLong(7, now);
            p.setLong(8, now);
            p.executeUpdate();
        }
    }

    /** Now as NodeLeases measures claims: PostgreSQL's clock, or this JVM's on SQLite. */
    private long now() throws SQLException {
        if (store.dialect() != Dialect.POSTGRESQL) {
            return System.currentTimeMillis();
        }
        try (Connection c = java.sql.DriverManager.getConnection(config.url())) {
            return NodeLeases.databaseNow(c).toEpochMilli();
        }
    }
}
