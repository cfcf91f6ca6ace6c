package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;
import org.buildhook.runner.rules.RulesFingerprint;

/**
 * The nodes of the cluster as the store knows them (cluster27 F3: no page, command or API said which node is alive,
 * which is cut off since when, and whose jobs were taken over): each claim of a node id ({@code node_leases}) with
 * its last renewal, how many jobs it holds picked (db-scheduler's {@code scheduled_tasks.picked_by}) and, for a node
 * silent past the dead-node limit, how many of its attempts were ended {@code INTERRUPTED} after it was last heard
 * from: by another node, which took the job over (whether it counts as a death, {@code job_attempts.node_died},
 * depends on whether its JVM is known gone; both are a take-over). Read in one transaction; every age is by one clock: the database's on
 * PostgreSQL, whose clock writes the claims' renewals ({@link NodeLeases#renew}), this JVM's on SQLite.
 *
 * <p>On SQLite no node claims an id (one server at a time); the list then has this node alone, as it does for a
 * PostgreSQL node that has not (or no longer) claimed its id.
 */
public final class ClusterNodes {

    /** What the list says of a node. */
    public enum State {
        /** This node (whatever its claim says: it answers). */
        SELF,
        /** Its claim was renewed within the dead-node limit. */
        RUNNING,
        /** Its claim was not renewed for longer than the dead-node limit: other nodes take its jobs over. */
        SILENT,
        /** A node of this host whose JVM no longer runs (it ended without giving its id back). */
        GONE
    }

    /**
     * One node.
     *
     * @param id             its {@code runner.node-id}
     * @param host           its host name; {@code "unknown"} for a node that picks jobs but claims no id (SQLite)
     * @param pid            its JVM's process id; -1 when not known
     * @param state          what the list says of it
     * @param lastHeardAt    its claim's last renewal (the database's clock on PostgreSQL); empty when it has no claim
     * @param heartbeatAge   how long ago that was, by the same clock, never negative; empty with {@code lastHeardAt}
     * @param runningJobs    the jobs it holds picked now; for a silent or gone node, the ones still to be taken over:
     *                       those it holds picked, and those put back in the queue (or picked by another node) whose
     *                       attempt of it is still running, which no other node has started again yet
     * @param rules          the fingerprint of the rules it recorded for this claim; empty when it recorded none
     * @param rulesLoadedAt  when it loaded them (its clock); empty with {@code rules}
     * @param takenOver      for a silent or gone node: its attempts ended {@code INTERRUPTED} since its last renewal,
     *                       by another node that took the job over to run it again; 0 otherwise
     * @param lastTakenOverAt when the last of those was ended; empty when none
     * @param stopped        a node of this host (this boot) whose JVM is stopped now ({@code /proc/<pid>/stat} state
     *                       {@code T} or {@code t}: SIGSTOP, SIGTSTP, a debugger), so that it renews nothing until it
     *                       gets SIGCONT; false for this node, a node of another host, or one not known to be stopped
     */
    public record Node(String id, String host, long pid, State state, Optional<Instant> lastHeardAt,
            Optional<Duration> heartbeatAge, int runningJobs, Optional<RulesFingerprint> rules,
            Optional<Instant> rulesLoadedAt, int takenOver, Optional<Instant> lastTakenOverAt, boolean stopped) {

        /** A node not known to be stopped (see {@link #stopped}). */
        public Node(String id, String host, long pid, State state, Optional<Instant> lastHeardAt,
                Optional<Duration> heartbeatAge, int runningJobs, Optional<RulesFingerprint> rules,
                Optional<Instant> rulesLoadedAt, int takenOver, Optional<Instant> lastTakenOverAt) {
            this(id, host, pid, state, lastHeardAt, heartbeatAge, runningJobs, rules, rulesLoadedAt, takenOver,
                    lastTakenOverAt, false);
        }

        public Node {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(lastHeardAt, "lastHeardAt");
            heartbeatAge = heartbeatAge.map(a -> a.isNegative() ? Duration.ZERO : a);
            Objects.requireNonNull(rules, "rules");
            Objects.requireNonNull(rulesLoadedAt, "rulesLoadedAt");
            Objects.requireNonNull(lastTakenOverAt, "lastTakenOverAt");
        }
    }

    private ClusterNodes() {
    }

    /**
     * The nodes: this one first, then the others by id.
     *
     * @param c         a connection in a read transaction
     * @param now       now by the clock of the claims ({@link NodeLeases}: the database's on PostgreSQL)
     * @param deadLimit the dead-node limit ({@code runner.heartbeat-interval × runner.missed-heartbeats})
     * @param selfId    this node's id
     * @param self      this JVM and its host
     */
    static List<Node> read(Connection c, Instant now, Duration deadLimit, String selfId, NodeIdentity self)
            throws SQLException {
        Map<String, Integer> picked = picked(c);
        List<Node> nodes = new ArrayList<>();
        Node own = null;
        try (PreparedStatement p = c.prepareStatement("SELECT node_id, host, node_pid, boot_id, node_started,"
                + " renewed_at, CASE WHEN rules_instance = instance THEN rules_fingerprint END,"
                + " CASE WHEN rules_instance = instance THEN rules_loaded_at END FROM node_leases WHERE node_id <> ?"
                + " ORDER BY node_id")) {
            p.setString(1, SqliteServer.KEY); // no node's claim
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    String id = rs.getString(1);
                    long started = rs.getLong(5);
                    ProcessIdentity process = new ProcessIdentity(rs.getLong(3), -1, rs.wasNull() ? -1 : started);
                    Instant renewed = Instant.ofEpochMilli(rs.getLong(6));
                    Optional<RulesFingerprint> rules = fingerprint(rs.getString(7));
                    long loaded = rs.getLong(8);
                    Optional<Instant> loadedAt = rules.isEmpty() || rs.wasNull() ? Optional.empty()
                            : Optional.of(Instant.ofEpochMilli(loaded));
                    Duration age = Duration.between(renewed, now);
                    State state = state(id, rs.getString(2), rs.getString(4), process, age, deadLimit, selfId, self);
                    int takenOver = 0;
                    Optional<Instant> lastTakenOver = Optional.empty();
                    int held = picked.getOrDefault(id, 0);
                    if (state == State.SILENT || state == State.GONE) {
                        held += beingTakenOver(c, id);
                        try (PreparedStatement t = c.prepareStatement("SELECT COUNT(*), MAX(ended_at) FROM job_attempts"
                                + " WHERE outcome = ? AND node = ? AND ended_at >= ?")) {
                            t.setString(1, AttemptOutcome.INTERRUPTED.name());
                            t.setString(2, id);
                            t.setLong(3, renewed.toEpochMilli());
                            try (ResultSet r = t.executeQuery()) {
                                r.next();
                                takenOver = r.getInt(1);
                                long at = r.getLong(2);
                                lastTakenOver = r.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(at));
                            }
                        }
                    }
                    boolean stopped = state != State.SELF && state != State.GONE && self.sameBoot(rs.getString(4))
                            && !self.process().sameProcess(process) && process.isStopped();
                    Node node = new Node(id, rs.getString(2), process.pid(), state, Optional.of(renewed),
                            Optional.of(age), held, rules, loadedAt, takenOver, lastTakenOver, stopped);
                    if (state == State.SELF) {
                        own = node;
                    } else {
                        nodes.add(node);
                    }
                }
            }
        }
        if (own == null) {
            // SQLite (no claims), or a node whose claim is not written: it answers, so it is running. Or a node whose
            // id's claim is another JVM's (taken over while this one was stopped, or held while this one waits for it):
            // this JVM is listed as itself, the claim's holder after it (nodes49: the holder's row was this node's, and
            // the JVM that answered was listed nowhere). The jobs picked under the id are then the holder's.
            boolean heldElsewhere = nodes.stream().anyMatch(n -> n.id().equals(selfId));
            own = new Node(selfId, self.host(), self.process().pid(), State.SELF, Optional.empty(), Optional.empty(),
                    heldElsewhere ? 0 : picked.getOrDefault(selfId, 0), Optional.empty(), Optional.empty(), 0,
                    Optional.empty());
        }
        nodes.add(0, own);
        return List.copyOf(nodes);
    }

    /**
     * What the list says of one claim (see {@link State}): {@link State#SELF} for this node's id when this JVM holds
     * the claim; a claim of this node's id by another JVM is said as any other node's.
     */
    private static State state(String id, String host, String bootId, ProcessIdentity process, Duration age,
            Duration deadLimit, String selfId, NodeIdentity self) {
        return id.equals(selfId) && thisJvm(host, bootId, process, self) ? State.SELF
                : self.sameBoot(bootId) && !self.process().sameProcess(process) && !process.isAlive() ? State.GONE
                : age.compareTo(deadLimit) > 0 ? State.SILENT : State.RUNNING;
    }

    /**
     * Whether a claim was written by this JVM: of this host's boot and PID namespace and this very process; where
     * either boot id is not known, of this host name and pid.
     */
    private static boolean thisJvm(String host, String bootId, ProcessIdentity process, NodeIdentity self) {
        if (!self.bootId().isEmpty() && bootId != null && !bootId.isEmpty()) {
            return self.sameBoot(bootId) && (self.process().sameProcess(process)
                    || process.startTicks() < 0 && self.process().pid() == process.pid());
        }
        return self.host().equals(host) && self.process().pid() == process.pid();
    }

    /**
     * How many nodes are in each state, for the {@code buildhook_cluster_nodes} gauge: one small read of the claims
     * alone (one row per node id; no job or attempt is read), by the same clock and rules as {@link #read}.
     *
     * @param running the running nodes, this one included (it answers): at least 1
     * @param silent  the nodes silent past the dead-node limit, whose jobs the others take over
     * @param gone    the nodes of this host whose JVM ended without giving their id back
     */
    public record Counts(int running, int silent, int gone) {
    }

    /**
     * The {@link Counts} of the nodes {@link #read} lists.
     *
     * @param c         a connection in a read transaction
     * @param now       now by the clock of the claims ({@link NodeLeases}: the database's on PostgreSQL)
     * @param deadLimit the dead-node limit
     * @param selfId    this node's id
     * @param self      this JVM and its host
     */
    static Counts counts(Connection c, Instant now, Duration deadLimit, String selfId, NodeIdentity self)
            throws SQLException {
        int running = 1; // this node, whether or not its claim is written (SQLite: none)
        int silent = 0;
        int gone = 0;
        try (PreparedStatement p = c.prepareStatement("SELECT node_id, boot_id, node_pid, node_started, renewed_at,"
                + " host FROM node_leases WHERE node_id <> '" + SqliteServer.KEY + "'"); ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                long started = rs.getLong(4);
                ProcessIdentity process = new ProcessIdentity(rs.getLong(3), -1, rs.wasNull() ? -1 : started);
                Duration age = Duration.between(Instant.ofEpochMilli(rs.getLong(5)), now);
                switch (state(rs.getString(1), rs.getString(6), rs.getString(2), process, age, deadLimit, selfId,
                        self)) {
                    case RUNNING -> running++;
                    case SILENT -> silent++;
                    case GONE -> gone++;
                    case SELF -> { }
                }
            }
        }
        return new Counts(running, silent, gone);
    }

    /**
     * The jobs of silent or gone node {@code nodeId} that it no longer holds picked but that are not taken over yet
     * (tryout29 F7): its attempt is still running (no other node has started the job again, which ends it {@code
     * INTERRUPTED}) and the job is still in the queue, put back by a dead-execution look or picked by another node
     * that has not started it yet. Without them, the list said "none of its jobs was left to take over" for that
     * while, about a polling interval. An attempt whose job is no longer in the queue is nobody's to take over.
     */
    private static int beingTakenOver(Connection c, String nodeId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM job_attempts a WHERE a.outcome = ?"
                + " AND a.node = ? AND EXISTS (SELECT 1 FROM scheduled_tasks s WHERE s.task_name = ?"
                + " AND s.task_instance = a.job_id AND (s.picked = ? OR s.picked_by IS NULL OR s.picked_by <> ?))")) {
            p.setString(1, AttemptOutcome.RUNNING.name());
            p.setString(2, nodeId);
            p.setString(3, JobQueue.TASK_NAME);
            p.setBoolean(4, false);
            p.setString(5, nodeId);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** The jobs each node holds picked now, by node id. */
    private static Map<String, Integer> picked(Connection c) throws SQLException {
        Map<String, Integer> picked = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT picked_by, COUNT(*) FROM scheduled_tasks"
                + " WHERE task_name = ? AND picked = ? AND picked_by IS NOT NULL GROUP BY picked_by")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setBoolean(2, true);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    picked.put(rs.getString(1), rs.getInt(2));
                }
            }
        }
        return picked;
    }

    private static Optional<RulesFingerprint> fingerprint(String hex) {
        if (hex == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new RulesFingerprint(hex));
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // not one this version writes: shown as none
        }
    }
}
