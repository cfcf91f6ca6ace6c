package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;

/**
 * Puts back in the queue, at once, the db-scheduler executions held by a node whose JVM is
 * provably dead, instead of letting them wait for the dead-node limit (heartbeat interval × missed
 * heartbeats, 3 minutes by default) that db-scheduler needs for a node it cannot see.
 *
 * <p>An execution is released only when every one of these holds: it is picked by the node that
 * started its job's latest attempt; that attempt was started on this very host (same host name),
 * boot and PID namespace ({@link NodeIdentity#bootId()}) — on SQLite the host name may differ, as
 * below; the JVM recorded with it (pid and start time
 * in clock ticks) is not this one and no longer runs — its pid is gone, or used by a process that
 * started at another time; and the attempt is no longer marked running, i.e. the
 * {@code LeftoverSweep} has already killed what it left and recorded it. A live node, a node of
 * another host or PID namespace (its pids mean nothing here) and an attempt
 * whose leftovers were not swept are never touched. The per-rule slot and the shared-resource units
 * the dead node held for the job are freed with it.
 *
 * <p>The host name guards a PostgreSQL cluster against a machine cloned from another's running image
 * (a VM snapshot keeps the kernel's boot id, and so the same boot id and PID namespace with pids that
 * mean nothing here). On SQLite no other node can be alive at all (one node per database, held by
 * the store lock), and a container re-created on the same volume has a new host name, its id: there
 * the host name is not required, so its job runs again at once instead of after the dead-node limit
 * (tryout16 F7).
 *
 * <p>An execution the dead node picked but whose attempt it had not yet recorded is not released
 * here (no JVM is known for it): db-scheduler's dead-node detection revives it after the limit; on SQLite,
 * where no other node can be alive, {@link #releaseOtherNodesPicks} puts it back at the start instead.
 */
public final class DeadNodeRelease {

    /** {@link Released#left} when the sweep killed what the node left. */
    static final String KILLED = "what it left was killed";
    /** {@link Released#left} when the sweep found nothing of it left ({@link ExecutionLedger#NONE_LEFT}). */
    static final String NONE_LEFT = "nothing of it was found";
    /** {@link Released#left} of an attempt of an earlier run in another PID namespace, which had ended. */
    static final String NAMESPACE_ENDED = "its processes ended with that namespace";

    /**
     * What a pick's time and a claim's time may be off by on one clock: the rounding of the claim's time to the
     * millisecond, a clock slewed since the claim, and for a claim without its own host time (written before V19) the
     * error of the offset between this host's clock and the database's, measured at the release.
     */
    static final java.time.Duration SKEW_MARGIN = java.time.Duration.ofSeconds(1);

    private final Database db;
    private final com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization jdbc;
    /** This host's clock, as db-scheduler stamps its picks and heartbeats ({@code last_heartbeat}). */
    private final java.time.Clock hostClock;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DeadNodeRelease.class);

    /** What wakes the jobs waiting for the units a release frees ({@link UnitWake}), and tells they are due. */
    private final UnitWake unitWake;
    /** What wakes the next jobs of a rule whose concurrency slot a release frees ({@link #wakeLines}). */
    private final SlotLine line;
    private final Runnable madeDue;
    /** The rules in force as far as renames go ({@link ExecutionLedger#renames()}): whose lines a freed slot wakes too. */
    private final java.util.function.Supplier<RuleRenames> renames;

    DeadNodeRelease(Database db) {
        this(db, java.time.Clock.systemUTC());
    }

    /**
     * @param hostClock this host's clock, the one db-scheduler stamps picks with (the system clock; another only in
     *                  tests, to stand for a host whose clock is off the database's)
     */
    DeadNodeRelease(Database db, java.time.Clock hostClock) {
        this(db, hostClock, java.time.Clock.systemUTC(), () -> { }, () -> RuleRenames.NONE);
    }

    /**
     * @param clock   the store's clock, for the jobs a release wakes ({@link UnitWake})
     * @param madeDue tells the store's jobs-queued listeners, after a commit, that a release made jobs due now
     * @param renames the rules in force as far as renames go, at the moment of a release ({@link #wakeLines})
     */
    DeadNodeRelease(Database db, java.time.Clock hostClock, java.time.Clock clock, Runnable madeDue,
            java.util.function.Supplier<RuleRenames> renames) {
        this.db = db;
        this.jdbc = JobQueue.customization(db.dialect());
        this.hostClock = java.util.Objects.requireNonNull(hostClock, "hostClock");
        this.unitWake = new UnitWake(db.dialect(), clock);
        this.line = new SlotLine(db.dialect(), clock);
        this.madeDue = java.util.Objects.requireNonNull(madeDue, "madeDue");
        this.renames = java.util.Objects.requireNonNull(renames, "renames");
    }

    /**
     * One execution put back in the queue.
     *
     * @param jobId   the job
     * @param node    the dead node that held it
     * @param nodePid that node's JVM's pid
     * @param next    what becomes of the job, as {@link ExecutionLedger#afterCutShort} says it: {@code "run
     *                again"}, {@code "not run again: it was superseded by job …"}, {@code "retried as its rule
     *                says: …"}
     * @param where   where that node ran, after its id: {@code "pid 4242 on this host"}, or {@code "in PID namespace
     *                pid:[…] of an earlier run"}
     * @param left    what the sweep found of what it left, as its attempt's record says: {@code "what it left was
     *                killed"}, {@code "nothing of it was found"} (tryout23 F5), {@code "its processes ended with that
     *                namespace"}
     */
    public record Released(String jobId, String node, long nodePid, String next, String where, String left) {

        /** A release of a node of this host and PID namespace whose leftovers were killed. */
        public Released(String jobId, String node, long nodePid, String next) {
            this(jobId, node, nodePid, next, "pid " + nodePid + " on this host", KILLED);
        }

        /**
         * The log line's text after the job id: the dead node, and what the release means for the job.
         * Only a job that is run again is "put back in the queue" for the operator: one that was
         * cancelled or superseded, or whose attempt had come to its outcome, has its execution put back
         * only so that a node records its end and its follow-ups (tryout13 F2).
         *
         * @param deadNodeLimit the time it would have waited otherwise (heartbeat interval × missed heartbeats)
         */
        public String describe(java.time.Duration deadNodeLimit) {
            return describe(deadNodeLimit, false);
        }

        /**
         * As {@link #describe(java.time.Duration)}; {@code stopped}: the node's JVM ended by a graceful stop that
         * could not record the job's end (the store could not be reached), as that node's own next start knows from
         * its data folder, rather than by a death (tryout20 F2).
         */
        public String describe(java.time.Duration deadNodeLimit, boolean stopped) {
            String limit = org.buildhook.runner.rules.Durations.describe(deadNodeLimit);
            String dead = "its node " + node + " (" + where + ") "
                    + (stopped ? "was stopped before it could record the job's end; "
                            : "was gone before the job's end was recorded, and " + left + "; ");
            if (next.equals("run again")) {
                return dead + "the job is put back in the queue now, to run again, instead of after the dead-node limit ("
                        + limit + ")";
            }
            String end = next.startsWith(ExecutionLedger.RETRIED) ? "its outcome and its retry are recorded now"
                    : "its end is recorded now";
            return dead + next + " (" + end + " instead of after the dead-node limit, " + limit + ")";
        }
    }

    /**
     * Releases the executions held by dead JVMs of {@code self}'s host and boot (see the class
     * comment for the exact conditions). Each is released only if its row did not change meanwhile
     * (db-scheduler's version), so a node that has just picked it keeps it.
     *
     * @param self this JVM, its host and boot
     * @return what was released; empty when the host has no boot id (no {@code /proc})
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<Released> release(NodeIdentity self) {
        return release(self, ExecutionLedger.InARow.DEFAULT);
    }

    /**
     * As {@link #release(NodeIdentity)}, saying of a job whose attempt's end makes the row of its node's ends that
     * {@code inARow} refuses (the node picking it next ends it {@code FAILED}) that it is not run again (tryout22 F1).
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<Released> release(NodeIdentity self, ExecutionLedger.InARow inARow) {
        return release(self, inARow, null, null);
    }

    /**
     * As {@link #release(NodeIdentity, ExecutionLedger.InARow)}, leaving alone the picks of the JVMs that hold a node
     * id now: a pick of node id {@code ownNode} made at or after {@code ownPicksSince} (this JVM's own, when it
     * started no pick before that instant), and on PostgreSQL a pick made since the live JVM named in {@code
     * node_leases} took its node id, other than the dead one. A node started again with the same id (always so on
     * SQLite, and on PostgreSQL with a set {@code runner.node-id}) picks a job whose latest attempt its dead
     * predecessor made: the pick is the live JVM's, not the dead one's. Released, the live pick's thread lost it,
     * and the rule slot and units it had just taken were freed under it; db-scheduler then logged an ERROR "Expected
     * one execution to be updated, but updated 0. Indicates a bug." with a stack trace, and the release's WARN told
     * again that the long-gone JVM had left the job (chaos31 F1).
     *
     * @param ownNode       this node's id, or {@code null} to leave no pick alone by this rule
     * @param ownPicksSince when this JVM could first pick (any instant before its scheduler started), or {@code null}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<Released> release(NodeIdentity self, ExecutionLedger.InARow inARow, String ownNode,
            java.time.Instant ownPicksSince) {
        return release(self, inARow, ownNode, ownPicksSince, null);
    }

    /**
     * As {@link #release(NodeIdentity, ExecutionLedger.InARow, String, java.time.Instant)}, with the clocks told apart
     * (review31 L3). A pick's time ({@code last_heartbeat}) is the picking JVM's host's clock, a claim's time ({@code
     * node_leases.acquired_at}) the database's: compared as they were, a database clock a few seconds ahead of this
     * host's made a live JVM's fresh pick look older than its claim, and another node of the host released it (chaos31
     * F1 again); one behind made a dead JVM's pick look newer, and it waited for the dead-node limit. So the pick is
     * compared with the claim on the clock the pick carries:
     * <ul>
     * <li>a claim written by this build (since V19): by its own time on its JVM's host's clock ({@code
     * node_leases.acquired_host_at}, read as it was written, the clock that JVM stamps its picks with), less {@link
     * #SKEW_MARGIN}, whatever host it is on. No clock set or slewed after the claim moves either time (review32 F2: the
     * offset between the clocks read at the release, as below, made a live pick look older than its claim when this
     * host's clock was set forward, or the database's back, by more than {@link #SKEW_MARGIN} since the pick). A pick
     * older than that is not the live holder's unless its host's clock was set back between its claim and its pick.</li>
     * <li>a claim written before V19, or by a node of an older build (no such time, or another claim's, {@code
     * acquired_host_instance} not its instance), of a JVM of this host (same host name and kernel boot: one clock): by
     * the offset between this host's clock and the database's, read now in the same transaction (its lower bound: the
     * host's time before the database's was read), less {@link #SKEW_MARGIN}. Any constant skew is so told apart; a
     * clock of this host set forward, or the database's set back, by more than {@link #SKEW_MARGIN} since the pick can
     * still make a live pick look older than its claim (that JVM's attempt start then finds its pick gone and does not
     * run the job under it).</li>
     * <li>such a claim of a JVM of another host, whose clock this node cannot read: less {@code deadNodeLimit}; the
     * pick is then left to db-scheduler's dead-node detection (which itself needs the hosts' clocks within the limit)
     * unless it is older than the claim by more than the limit. With {@code deadNodeLimit} null, always left alone.</li>
     * </ul>
     * A dead JVM's pick is released at once when it is older than the claim by more than {@link #SKEW_MARGIN} (and,
     * for a claim without its own host time, the read's round trip).
     * A pick of this JVM's own ({@code ownPicksSince}) is compared on this JVM's clock alone.
     *
     * @param deadNodeLimit the dead-node limit (heartbeat interval × missed heartbeats), or {@code null}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<Released> release(NodeIdentity self, ExecutionLedger.InARow inARow, String ownNode,
            java.time.Instant ownPicksSince, java.time.Duration deadNodeLimit) {
        if (self.bootId().isEmpty()) {
            return List.of();
        }
        int[] woken = new int[1];
        java.util.SortedMap<String, String> lines = new java.util.TreeMap<>();
        return woke(woken, lines, db.inTransaction("release a dead node's jobs", Durability.DEFERRED, c -> {
            woken[0] = 0;
            lines.clear();
            List<Candidate> dead = new ArrayList<>();
            boolean anyHostName = db.dialect() == Dialect.SQLITE;
            java.time.Duration hostAhead = null; // this host's clock less the database's, its lower bound
            for (Candidate candidate : candidates(c, self.bootId())) {
                if (candidate.pickedSince != null && ownNode != null && ownPicksSince != null
                        && ownNode.equals(candidate.node) && !candidate.pickedSince.isBefore(ownPicksSince)) {
                    continue; // this JVM's own pick
                }
                if (candidate.pickedSince != null && candidate.heldSince != null) {
                    java.time.Instant heldSince; // the claim, on the picking host's clock, at its earliest
                    if (candidate.heldSinceHost != null) {
                        // V19: the claim as its JVM's host's clock read it, the clock its picks are stamped with.
                        heldSince = candidate.heldSinceHost.minus(SKEW_MARGIN);
                    } else if (candidate.holderOnThisHost(self)) {
                        if (hostAhead == null && db.dialect() == Dialect.POSTGRESQL) {
                            java.time.Instant before = hostClock.instant();
                            hostAhead = java.time.Duration.between(NodeLeases.databaseNow(c), before);
                        } else if (hostAhead == null) {
                            hostAhead = java.time.Duration.ZERO; // SQLite: every time is this host's
                        }
                        heldSince = candidate.heldSince.plus(hostAhead).minus(SKEW_MARGIN);
                    } else {
                        heldSince = deadNodeLimit == null ? null : candidate.heldSince.minus(deadNodeLimit);
                    }
                    if (heldSince == null || !candidate.pickedSince.isBefore(heldSince)) {
                        continue; // the pick of the live JVM that holds its node id now, or may be
                    }
                }
                if (candidate.provablyDead(self, anyHostName)) {
                    dead.add(candidate);
                }
            }
            List<Released> released = new ArrayList<>();
            Units units = lockUnits(c, dead);
            for (Candidate d : dead) {
                if (freed(c, d, lines)) {
                    released.add(new Released(d.jobId, d.node, d.nodePid,
                            ExecutionLedger.afterCutShort(c, d.jobId, d.attempt, null, inARow),
                            "pid " + d.nodePid + " on this host",
                            d.message != null && (d.message.contains(ExecutionLedger.NONE_LEFT)
                                    || d.message.contains(ExecutionLedger.NONE_LEFT_BEFORE)) ? NONE_LEFT : KILLED));
                }
            }
            units.wake(c, woken);
            return released;
        }));
    }

    /**
     * Releases the executions of the attempts {@code ended} that {@code LeftoverSweep#sweepEarlierRuns} has just ended:
     * of an earlier run of this node in another PID namespace of this host (tryout23 F4), whose pids mean nothing here.
     * Each only while its node still holds it, the attempt is its job's latest and no longer marked running; called at
     * the start before this node picks anything, so a pick of the same node id is the earlier run's.
     *
     * @param ended  the attempts the sweep recorded
     * @param inARow this node's bounds on ends in a row, for the words of a job whose row they end
     * @return what was released
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<Released> releaseEarlierRuns(List<RunningAttempt> ended, ExecutionLedger.InARow inARow) {
        if (ended.isEmpty()) {
            return List.of();
        }
        int[] woken = new int[1];
        java.util.SortedMap<String, String> lines = new java.util.TreeMap<>();
        return woke(woken, lines, db.inTransaction("release an earlier run's jobs", Durability.DEFERRED, c -> {
            woken[0] = 0;
            lines.clear();
            List<Released> released = new ArrayList<>();
            // The units of the earlier run's attempts locked first, before any row lock (lockUnits).
            List<Candidate> held = new ArrayList<>();
            for (RunningAttempt attempt : ended) {
                held.add(new Candidate(attempt.jobId(), -1, attempt.node(), null, null, 0, -1, attempt.attempt(), null,
                        null, null, null, null, null));
            }
            Units units = lockUnits(c, held);
            for (RunningAttempt attempt : ended) {
                Candidate d = null;
                try (PreparedStatement p = c.prepareStatement("SELECT s.version, a.outcome FROM scheduled_tasks s"
                        + " JOIN job_attempts a ON a.job_id = s.task_instance AND a.node = s.picked_by"
                        + " WHERE s.task_name = ? AND s.task_instance = ? AND s.picked = ? AND s.picked_by = ?"
                        + " AND a.attempt = ? AND a.attempt = (SELECT MAX(b.attempt) FROM job_attempts b"
                        + " WHERE b.job_id = s.task_instance)")) {
                    p.setString(1, JobQueue.TASK_NAME);
                    p.setString(2, attempt.jobId());
                    p.setBoolean(3, true);
                    p.setString(4, attempt.node());
                    p.setInt(5, attempt.attempt());
                    try (ResultSet rs = p.executeQuery()) {
                        if (rs.next() && !AttemptOutcome.RUNNING.name().equals(rs.getString(2))) {
                            d = new Candidate(attempt.jobId(), rs.getLong(1), attempt.node(), rs.getString(2), null,
                                    0, -1, attempt.attempt(), null, null, null, null, null, null);
                        }
                    }
                }
                if (d != null && freed(c, d, lines)) {
                    released.add(new Released(d.jobId, d.node, 0,
                            ExecutionLedger.afterCutShort(c, d.jobId, d.attempt, null, inARow),
                            "in PID namespace " + NodeIdentity.pidNamespace(attempt.bootId()) + " of an earlier run",
                            NAMESPACE_ENDED));
                }
            }
            units.wake(c, woken);
            return released;
        }));
    }

    /**
     * A pick of another node id put back in the queue at a SQLite start ({@link #releaseOtherNodesPicks}).
     *
     * @param jobId     the job
     * @param node      the node id that had picked it
     * @param cancelled whether a cancel or a supersede of the job was asked for: its next pick records that, and
     *                  it does not run
     */
    public record OtherNodesPick(String jobId, String node, boolean cancelled) {

        /**
         * The log line's text after the job id.
         *
         * @param deadNodeLimit the time it would have waited otherwise (heartbeat interval × missed heartbeats)
         */
        public String describe(java.time.Duration deadNodeLimit) {
            return "picked by node " + node + ", which no longer runs (this server holds the SQLite database's lock,"
                    + " so no other server can be using it: a node stopped or killed before it started an attempt of"
                    + " it, an earlier run under another runner.node-id, or a data folder moved or restored here); "
                    + (cancelled ? "its cancel or supersede is recorded now" : "put back in the queue now, in its place,"
                            + " to run") + " instead of after the dead-node limit ("
                    + org.buildhook.runner.rules.Durations.describe(deadNodeLimit) + ")";
        }
    }

    /**
     * SQLite only, at the start, after the sweeps and {@link #release} and before this node picks anything: puts back
     * in the queue every execution picked by a node id other than {@code ownNode} on which no attempt of its job is
     * marked running, and frees the concurrency slot and the shared units that node held for it. This JVM holds the
     * database's lock ({@link StoreLock}), so no other node can be alive on it: such a pick is over (tryout33 F9: a
     * job picked by the server whose data folder was moved away, with no attempt started, waited the whole dead-node
     * limit after the restart, and so did the newer build's job that superseded it). Without this, only db-scheduler's
     * dead-node detection revives it, after the dead-node limit.
     *
     * <p>A job with an attempt marked running is left to the sweeps, which end what its node left on this host and
     * release it ({@link #release}); one of another host or boot (its processes cannot be looked for from here) waits
     * for the dead-node limit as before. Each pick is released only if its row did not change meanwhile.
     *
     * @param ownNode this node's id; its own picks (of an earlier run under the same id) are left to its look for
     *                stale picks, which puts them back within two heartbeat intervals
     * @return what was put back, in job id order
     * @throws IllegalStateException on PostgreSQL, where other nodes may be alive
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<OtherNodesPick> releaseOtherNodesPicks(String ownNode) {
        if (db.dialect() != Dialect.SQLITE) {
            throw new IllegalStateException("only SQLite's one node can tell another node's pick is over");
        }
        java.util.Objects.requireNonNull(ownNode, "ownNode");
        int[] woken = new int[1];
        java.util.SortedMap<String, String> lines = new java.util.TreeMap<>();
        return woke(woken, lines, db.inTransaction("release the picks of other node ids", Durability.DEFERRED, c -> {
            woken[0] = 0;
            lines.clear();
            List<Candidate> picks = new ArrayList<>();
            List<Boolean> cancelled = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT s.task_instance, s.version, s.picked_by,"
                    + " j.cancel_requested FROM scheduled_tasks s LEFT JOIN jobs j ON j.id = s.task_instance"
                    + " WHERE s.task_name = ? AND s.picked = ? AND s.picked_by IS NOT NULL AND s.picked_by <> ?"
                    + " AND NOT EXISTS (SELECT 1 FROM job_attempts a WHERE a.job_id = s.task_instance"
                    + " AND a.outcome = ?) ORDER BY s.task_instance")) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setBoolean(2, true);
                p.setString(3, ownNode);
                p.setString(4, AttemptOutcome.RUNNING.name());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        picks.add(new Candidate(rs.getString(1), rs.getLong(2), rs.getString(3), null, null, 0, -1,
                                0, null, null, null, null, null, null));
                        cancelled.add(rs.getInt(4) != 0);
                    }
                }
            }
            List<OtherNodesPick> released = new ArrayList<>();
            Units units = lockUnits(c, picks); // SQLite: nothing to lock, one writer
            for (int i = 0; i < picks.size(); i++) {
                Candidate d = picks.get(i);
                if (freed(c, d, lines)) {
                    released.add(new OtherNodesPick(d.jobId, d.node, cancelled.get(i)));
                }
            }
            units.wake(c, woken);
            return released;
        }));
    }

    /**
     * A picked execution with the latest attempt of its job, if that attempt's node picked it. {@code pickedSince}:
     * the execution's {@code last_heartbeat} (set by the pick, renewed while it runs); {@code heldSince}: when the
     * JVM that holds the node id now in {@code node_leases} took it, if that JVM is not the attempt's; else null: the
     * database's clock on PostgreSQL, where pickedSince is the picking host's ({@link #release(NodeIdentity,
     * ExecutionLedger.InARow, String, java.time.Instant, java.time.Duration)}). {@code holderHost}, {@code
     * holderBoot}: that JVM's host name and boot id.
     */
    private record Candidate(String jobId, long version, String node, String outcome, String host, long nodePid,
            long nodeStarted, int attempt, String message, java.time.Instant pickedSince, java.time.Instant heldSince,
            java.time.Instant heldSinceHost, String holderHost, String holderBoot) {

        /**
         * Whether the JVM that holds the node id now ({@code heldSince}) runs on this host: same host name and kernel
         * boot (any PID namespace: containers of a host share its clock), so that its picks carry this host's clock.
         */
        boolean holderOnThisHost(NodeIdentity self) {
            return self.host().equals(holderHost)
                    && (self.sameBoot(holderBoot) || self.sameBootOtherNamespace(holderBoot));
        }

        /** @param anyHostName whether the recorded host name may differ from this one's (SQLite) */
        boolean provablyDead(NodeIdentity self, boolean anyHostName) {
            if (nodePid <= 0 || !(anyHostName || self.host().equals(host))
                    || AttemptOutcome.RUNNING.name().equals(outcome)) {
                return false;
            }
            ProcessIdentity jvm = new ProcessIdentity(nodePid, -1, nodeStarted);
            boolean thisJvm = self.process().sameProcess(jvm);
            // Without a recorded start time a pid in use proves nothing either way: not released.
            return !thisJvm && nodeStarted >= 0 && !jvm.isAlive();
        }
    }

    private List<Candidate> candidates(Connection c, String bootId) throws SQLException {
        List<Candidate> found = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT s.task_instance, s.version, s.picked_by, a.outcome,"
                + " a.host, a.node_pid, a.node_started, a.attempt, a.message, s.last_heartbeat, l.acquired_at,"
                + " l.node_pid, l.node_started, l.host, l.boot_id, CASE WHEN l.acquired_host_instance = l.instance"
                + " THEN l.acquired_host_at END FROM scheduled_tasks s JOIN job_attempts a"
                + " ON a.job_id = s.task_instance AND a.node = s.picked_by"
                + " LEFT JOIN node_leases l ON l.node_id = s.picked_by"
                + " WHERE s.task_name = ? AND s.picked = ? AND a.boot_id = ? AND a.node_pid IS NOT NULL"
                + " AND a.attempt = (SELECT MAX(b.attempt) FROM job_attempts b WHERE b.job_id = s.task_instance)")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setBoolean(2, true);
            p.setString(3, bootId);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    // wasNull() right after its own column: read among the arguments below, it asked about
                    // node_pid (never NULL here), so a start time nobody recorded stood in as 0 and the
                    // execution of a pid in use was released (wording15).
                    long started = rs.getLong(7);
                    long nodeStarted = rs.wasNull() ? -1 : started;
                    java.time.Instant pickedSince = jdbc.getInstant(rs, "last_heartbeat");
                    long acquired = rs.getLong(11);
                    boolean leased = !rs.wasNull();
                    // The lease of another JVM than the attempt's: a live node holds that node id now.
                    java.time.Instant heldSince = leased && !(rs.getLong(12) == rs.getLong(6)
                            && rs.getLong(13) == nodeStarted) ? java.time.Instant.ofEpochMilli(acquired) : null;
                    // V19: the same claim by its JVM's host's clock; NULL for a claim written before V19 or by a
                    // node of an older version (another instance's time, or none).
                    long acquiredHost = rs.getLong(16);
                    java.time.Instant heldSinceHost = heldSince != null && !rs.wasNull()
                            ? java.time.Instant.ofEpochMilli(acquiredHost) : null;
                    found.add(new Candidate(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getLong(6), nodeStarted, rs.getInt(8), rs.getString(9), pickedSince,
                            heldSince, heldSinceHost, rs.getString(14), rs.getString(15)));
                }
            }
        }
        return found;
    }

    /**
     * The resources the dead nodes hold units of for {@code candidates}, their {@code resource_locks} rows locked in
     * name order ({@link ResourceLedger#lock(Connection, Dialect, java.util.Set)}): first, before the release locks any
     * execution's or job's row, as every transaction that takes or gives back units. Freed under those locks, the units
     * go to the job waiting for them at once ({@link Units#wake}); before, it waited for its next try, {@code
     * runner.slot-retry} (wake36), and a job refused them at that moment and put back under the locks
     * ({@link ResourceLedger#putBackWaiting}) either saw them free or is woken here.
     */
    private Units lockUnits(Connection c, List<Candidate> candidates) throws SQLException {
        java.util.Set<String> names = new java.util.TreeSet<>();
        if (!candidates.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement("SELECT resource FROM resource_holds WHERE job_id = ?"
                    + " AND node = ?")) {
                for (Candidate d : candidates) {
                    p.setString(1, d.jobId);
                    p.setString(2, d.node);
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            names.add(rs.getString(1));
                        }
                    }
                }
            }
        }
        ResourceLedger.lock(c, db.dialect(), names);
        return new Units(names);
    }

    /** The resources a release locked ({@link #lockUnits}) and frees units of; how many jobs it woke. */
    private final class Units {
        private final java.util.Set<String> names;

        Units(java.util.Set<String> names) {
            this.names = names;
        }

        /**
         * Wakes the jobs waiting for the units freed, at the end of the release's transaction ({@link UnitWake});
         * {@code woken[0]} gets how many, for {@link #woke} after the commit.
         */
        void wake(Connection c, int[] woken) throws SQLException {
            woken[0] = unitWake.wake(c, names);
        }
    }

    /**
     * After the commit: tells the store's jobs-queued listeners of jobs a release woke, and wakes the lines of the rules
     * whose slots it freed ({@link #wakeLines}); returns {@code result}.
     */
    private <T> T woke(int[] woken, java.util.SortedMap<String, String> lines, T result) {
        int more = wakeLines(lines);
        if (woken[0] + more > 0) {
            madeDue.run();
        }
        return result;
    }

    /**
     * Wakes the next jobs of each rule whose concurrency slot a release freed ({@code lines}: the rule, to a job whose
     * slot it was), as a job's own give-back does ({@link SlotLine#wakeTurn}): before, the slot freed woke nobody, and
     * when the released job was not run again (its cancel or supersede asked for) the rule's next job waited for its
     * next try, {@code runner.slot-retry} (wake36's note, renames37). With them the lines of the rules that share the
     * slot by a rename ({@link RuleRenames#linked}), as a give-back wakes them ({@code ExecutionLedger.releaseSlot}):
     * before, a {@code deploy-v2} job waiting for the slot a dead node's old-name {@code deploy} job held waited for its
     * next try (review38 F8). In a transaction of its own after the release's commit, which takes those rules' turns
     * first, in their keys' order, before any row lock ({@link SlotLine#inTurns}), as a give-back does: the release's
     * own keeps its order (resource_locks rows first, in name order, then the jobs' and executions' rows), and takes no
     * turn. A job of those rules refused the slot before the commit was put back under its turn, so it is woken here;
     * one refused after it saw the slot free. A failure is only logged: the jobs start at their next try, and the
     * release is committed.
     *
     * @return how many were made due
     */
    private int wakeLines(java.util.SortedMap<String, String> lines) {
        if (lines.isEmpty()) {
            return 0;
        }
        RuleRenames renames = this.renames.get();
        try {
            return db.inTransaction("wake the next jobs of the rules whose slots a release freed", Durability.DEFERRED,
                    c -> {
                        // Each freed rule's linked lines; a rule not in force by its job's snapshot, read before the
                        // turns, without a row lock (SlotLine.inTurn comes before any).
                        java.util.Map<String, java.util.SortedSet<String>> linked = new java.util.TreeMap<>();
                        java.util.SortedSet<String> turns = new java.util.TreeSet<>(lines.keySet());
                        for (java.util.Map.Entry<String, String> rule : lines.entrySet()) {
                            java.util.SortedSet<String> others = ExecutionLedger.linkedLines(c, renames, rule.getKey(),
                                    rule.getValue());
                            linked.put(rule.getKey(), others);
                            turns.addAll(others);
                        }
                        line.inTurns(c, turns);
                        int n = 0;
                        for (java.util.Map.Entry<String, String> rule : lines.entrySet()) {
                            n += line.wakeTurn(c, rule.getKey(), rule.getValue());
                            for (String other : linked.getOrDefault(rule.getKey(), java.util.Collections.emptySortedSet())) {
                                n += line.wakeTurn(c, other, rule.getValue());
                            }
                        }
                        return n;
                    });
        } catch (StoreUnavailableException e) {
            LOG.warn("the next jobs of rule(s) {} start at their next try: {}", String.join(", ", lines.keySet()),
                    e.getMessage());
            return 0;
        }
    }

    /**
     * Puts {@code d} back in the queue and frees its slot and units, if its row did not change; returns whether. The
     * rule of a slot freed goes to {@code lines}, with the job ({@link #wakeLines}).
     */
    private boolean freed(Connection c, Candidate d, java.util.Map<String, String> lines) throws SQLException {
        if (!unpick(c, d)) {
            return false;
        }
        try (PreparedStatement p = c.prepareStatement("SELECT rule_name FROM rule_slots WHERE job_id = ? AND node = ?")) {
            p.setString(1, d.jobId);
            p.setString(2, d.node);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    lines.putIfAbsent(rs.getString(1), d.jobId);
                }
            }
        }
        free(c, "DELETE FROM rule_slots WHERE job_id = ? AND node = ?", d);
        free(c, "DELETE FROM resource_holds WHERE job_id = ? AND node = ?", d);
        return true;
    }

    private boolean unpick(Connection c, Candidate d) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = NULL,"
                + " last_heartbeat = NULL, version = version + 1"
                + " WHERE task_name = ? AND task_instance = ? AND version = ? AND picked_by = ?")) {
            // Its execution_time is kept: the time it was due, so that it runs before the jobs queued after
            // it (the pick takes the earliest due first), not behind them as when put back "now" (tryout19 F8).
            p.setBoolean(1, false);
            p.setString(2, JobQueue.TASK_NAME);
            p.setString(3, d.jobId);
            p.setLong(4, d.version);
            p.setString(5, d.node);
            return p.executeUpdate() == 1;
        }
    }

    private static void free(Connection c, String sql, Candidate d) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, d.jobId);
            p.setString(2, d.node);
            p.executeUpdate();
        }
    }
}
