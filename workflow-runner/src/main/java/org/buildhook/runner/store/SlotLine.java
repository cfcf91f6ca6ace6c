package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The turns of a rule's concurrency slots, for every transaction that takes or frees a slot
 * ({@link ExecutionLedger}) or takes a job out of the rule's line ({@link ExecutionLedger#inLine}): a
 * cancel, before or after a node picked the job. Each of them passes the turn on: the jobs whose turn
 * it is now are woken in the same transaction, so that a free slot never waits for
 * {@code runner.slot-retry}.
 */
final class SlotLine {

    /** The advisory lock class of rules' slots ("bhrs"); the key is a hash of the schema and the rule. */
    private static final int SLOTS_LOCK_CLASS = 0x62687273;

    private final Dialect dialect;
    private final JdbcCustomization jdbc;
    private final Clock clock;

    SlotLine(Dialect dialect, Clock clock) {
        this.dialect = dialect;
        this.jdbc = JobQueue.customization(dialect);
        this.clock = clock;
    }

    /**
     * PostgreSQL: waits for the turn of this transaction among those that take or free the rule's slots,
     * or take a job out of its line (a lock held until it ends), so that they run one after another, as
     * on SQLite, whose one writer runs every transaction: a release (or a cancel) then sees a job refused
     * meanwhile put back, or the refusal sees the slot free (or the cancelled job gone), never neither
     * (review12 L1). First in the transaction, before any row lock, so that a wait for it holds nothing up.
     */
    void inTurn(Connection c, String ruleName) throws SQLException {
        if (dialect != Dialect.POSTGRESQL) {
            return;
        }
        try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(current_schema()"
                + " || '/' || ?))")) {
            p.setInt(1, SLOTS_LOCK_CLASS);
            p.setString(2, ruleName);
            p.executeQuery().close();
        }
    }

    /**
     * In a transaction that took its turn ({@link #inTurn}) and then freed a slot of the rule or took job
     * {@code jobId} out of its line: wakes the first jobs of the line, one for each slot free (the limit in
     * force, or {@code jobId}'s when the rule has no job left to run, less the slots held by jobs still
     * picked), that wait in the queue for a later time ({@link #wake}).
     *
     * @return how many were made due
     */
    int wakeTurn(Connection c, String ruleName, String jobId) throws SQLException {
        String free = (dialect == Dialect.POSTGRESQL ? "GREATEST" : "MAX") + "(0, "
                + ExecutionLedger.currentLimit("(SELECT concurrency FROM jobs WHERE id = ?)")
                + " - (SELECT COUNT(*) FROM rule_slots r WHERE r.rule_name = ? AND "
                + ExecutionLedger.executionExists("r.job_id", " AND s.picked = ?", dialect) + "))";
        List<String> turn = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(ExecutionLedger.FIRST_IN_LINE.formatted(
                ExecutionLedger.inLine(dialect), free))) {
            p.setString(1, ruleName);
            p.setString(2, JobQueue.TASK_NAME);
            p.setString(3, ruleName);
            p.setString(4, jobId);
            p.setString(5, ruleName);
            p.setString(6, JobQueue.TASK_NAME);
            p.setBoolean(7, true);
            readIds(p, turn);
        }
        return wake(c, turn);
    }

    static void readIds(PreparedStatement p, List<String> into) throws SQLException {
        try (ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                into.add(rs.getString(1));
            }
        }
    }

    /**
     * Makes due now those of {@code jobs} whose execution waits in the queue for a later time (they found
     * no slot and were put back for their next try); those picked at the moment try on their own, and due
     * ones are picked soon. Each execution by its whole key, in one batch: with {@code task_instance IN
     * (SELECT …)} PostgreSQL's planner read every execution in the queue and matched it against the jobs.
     *
     * @return how many were made due
     */
    int wake(Connection c, List<String> jobs) throws SQLException {
        if (jobs.isEmpty()) {
            return 0;
        }
        Instant now = clock.instant();
        try (PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET execution_time = ? WHERE"
                + " task_name = ? AND task_instance = ? AND picked = ? AND execution_time > ?")) {
            for (String job : jobs) {
                jdbc.setInstant(p, 1, now);
                p.setString(2, JobQueue.TASK_NAME);
                p.setString(3, job);
                p.setBoolean(4, false);
                jdbc.setInstant(p, 5, now);
                p.addBatch();
            }
            int woken = 0;
            for (int n : p.executeBatch()) {
                woken += Math.max(n, 0);
            }
            return woken;
        }
    }
}
