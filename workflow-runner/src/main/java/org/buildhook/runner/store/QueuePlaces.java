package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gives back their place in the queue to the jobs that a build from before 2026-12-02 put behind the jobs queued
 * after them (upgrade32, tryout32 F2).
 *
 * <p>A job cut short (its node's stop, its node's death, a pick not started) is put back due when it was due at its
 * pick, so that it starts before the jobs queued after it (tryout19 F8). Builds before that fix put it back due
 * <em>at the moment of the cut</em>, and an upgrade carries such rows into a store the current build runs: their jobs
 * then start after every job stored while the old build stopped. Where the due time the current build would have
 * kept can be told from the job's own rows, it is written back, once per such row.
 *
 * <p>That is a job whose due time never moved but by a cut: stored {@code QUEUED} (its first due time is its
 * {@code created_at}, written in the same transaction), of a rule without {@code concurrency} (no slot waits), without
 * {@code resources} (no unit waits), without {@code supersede: running} (no wait for an older build's job), without
 * {@code approval} unless its one approval is in the audit trail (then due from that approval's moment, which the
 * {@code approve} entry keeps), whose attempts were all cut short ({@code INTERRUPTED}: no retry's
 * backoff), the last one not decided by its stopped node's next start. For such a job the current build keeps the
 * due time at its {@code created_at} (or its approval's) through every put-back, so a later one is an older build's. Any other job's due
 * time may be later for a reason of its own (a slot retry, a backoff) that its rows do not keep: it is left alone, and
 * deploying.md#upgrading says so.
 *
 * <p>Idempotent (a repaired row matches no more), and safe for two nodes at once: each row is written only at the
 * version read and while not picked, so a pick or the other node's repair in between leaves it as it is.
 */
public final class QueuePlaces {

    private final Database db;
    private final JdbcCustomization jdbc;

    QueuePlaces(Database db) {
        this.db = db;
        this.jdbc = JobQueue.customization(db.dialect());
    }

    /**
     * Writes back the due time of each waiting job an older build put behind the jobs queued after it, as the class
     * says.
     *
     * @return the ids of the jobs given back their place, oldest first, possibly none
     * @throws StoreUnavailableException when the store cannot be reached
     * @throws org.buildhook.runner.RunnerException when the store refuses the statements
     */
    public List<String> restore() {
        return db.inTransaction("give jobs cut short by an older build their place in the queue back", c -> {
            Map<String, long[]> found = new LinkedHashMap<>();
            // A job of a rule with an approval was queued by its approval, due at its moment, which its 'approve'
            // entry of the audit trail keeps to the millisecond (Approvals.decide: one instant for both, in one
            // transaction, in every build since approvals exist); one approval only (a job is approved once).
            try (PreparedStatement p = c.prepareStatement("SELECT s.task_instance, s.version, s.execution_time,"
                    + " CASE WHEN j.approval_expiry_ms IS NULL THEN j.created_at ELSE (SELECT MAX(x.at) FROM"
                    + " admin_actions x WHERE x.job_id = j.id AND x.action = 'approve') END AS kept,"
                    + " CASE WHEN j.approval_expiry_ms IS NULL THEN 1 ELSE (SELECT COUNT(*) FROM admin_actions x"
                    + " WHERE x.job_id = j.id AND x.action = 'approve') END AS approvals"
                    + " FROM scheduled_tasks s JOIN jobs j ON j.id = s.task_instance"
                    + " JOIN job_attempts a ON a.job_id = j.id AND a.attempt = j.attempts"
                    + " WHERE s.task_name = ? AND s.picked = ? AND j.state = 'QUEUED' AND j.attempts > 0"
                    + " AND j.concurrency = 0 AND j.resources IS NULL AND j.supersede_running = 0"
                    + " AND a.outcome = 'INTERRUPTED' AND a.decided IS NULL"
                    + " AND NOT EXISTS (SELECT 1 FROM job_attempts o WHERE o.job_id = j.id"
                    + " AND o.outcome <> 'INTERRUPTED') ORDER BY j.id")) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setBoolean(2, false);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        Instant due = jdbc.getInstant(rs, "execution_time");
                        long kept = rs.getLong("kept");
                        boolean known = !rs.wasNull() && rs.getLong("approvals") == 1;
                        // Written with the job (or its approval), its due time is that instant to the millisecond
                        // (PostgreSQL keeps the microseconds of the same instant).
                        if (known && due != null && due.toEpochMilli() > kept) {
                            found.put(rs.getString("task_instance"), new long[] {rs.getLong("version"), kept});
                        }
                    }
                }
            }
            List<String> restored = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET execution_time = ?,"
                    + " version = version + 1 WHERE task_name = ? AND task_instance = ? AND picked = ? AND version = ?")) {
                for (Map.Entry<String, long[]> e : found.entrySet()) {
                    jdbc.setInstant(p, 1, Instant.ofEpochMilli(e.getValue()[1]));
                    p.setString(2, JobQueue.TASK_NAME);
                    p.setString(3, e.getKey());
                    p.setBoolean(4, false);
                    p.setLong(5, e.getValue()[0]);
                    if (p.executeUpdate() == 1) {
                        restored.add(e.getKey());
                    }
                }
            }
            return restored;
        });
    }
}
