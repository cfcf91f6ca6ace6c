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
 * here (no JVM is known for it): db-scheduler's dead-node detection revives it after the limit.
 */
public final class DeadNodeRelease {

    private final Database db;

    DeadNodeRelease(Database db) {
        this.db = db;
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
     */
    public record Released(String jobId, String node, long nodePid, String next) {

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
            String dead = "its node " + node + " (pid " + nodePid + " on this host) "
                    + (stopped ? "was stopped before it could record the job's end; "
                            : "was gone before the job's end was recorded, and what it left was killed; ");
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
        if (self.bootId().isEmpty()) {
            return List.of();
        }
        return db.inTransaction("release a dead node's jobs", Durability.DEFERRED, c -> {
            List<Candidate> dead = new ArrayList<>();
            boolean anyHostName = db.dialect() == Dialect.SQLITE;
            for (Candidate candidate : candidates(c, self.bootId())) {
                if (candidate.provablyDead(self, anyHostName)) {
                    dead.add(candidate);
                }
            }
            List<Released> released = new ArrayList<>();
            for (Candidate d : dead) {
                if (unpick(c, d)) {
                    free(c, "DELETE FROM rule_slots WHERE job_id = ? AND node = ?", d);
                    free(c, "DELETE FROM resource_holds WHERE job_id = ? AND node = ?", d);
                    released.add(new Released(d.jobId, d.node, d.nodePid,
                            ExecutionLedger.afterCutShort(c, d.jobId, d.attempt, null, inARow)));
                }
            }
            return released;
        });
    }

    /** A picked execution with the latest attempt of its job, if that attempt's node picked it. */
    private record Candidate(String jobId, long version, String node, String outcome, String host, long nodePid,
            long nodeStarted, int attempt) {

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
                + " a.host, a.node_pid, a.node_started, a.attempt FROM scheduled_tasks s JOIN job_attempts a"
                + " ON a.job_id = s.task_instance AND a.node = s.picked_by"
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
                    found.add(new Candidate(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getLong(6), nodeStarted, rs.getInt(8)));
                }
            }
        }
        return found;
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
