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
     * As {@link #inTurn} for each of {@code ruleNames} (PostgreSQL; nothing on SQLite), in the order of their lock keys,
     * as every transaction that takes several turns takes them (review38 F3). The key is a 32-bit hash of the schema and
     * the name: two names whose keys are the same take one lock, and by name order two transactions could take the same
     * two keys in opposite order (X &lt; Y &lt; Z by name with X's key Z's: {X, Y} locked X's key then Y's, {Y, Z} Y's
     * then X's), and PostgreSQL ended one with SQLSTATE 40P01. The keys are sorted by the server that computes them
     * ({@code hashtext}), in one statement; one name takes {@link #inTurn}'s statement, as before. The keys are the
     * ones {@link #inTurn} locks, so that every taker of a rule's turn still waits for every other.
     */
    void inTurns(Connection c, java.util.Collection<String> ruleNames) throws SQLException {
        if (dialect != Dialect.POSTGRESQL || ruleNames.isEmpty()) {
            return;
        }
        if (ruleNames.size() == 1) {
            inTurn(c, ruleNames.iterator().next());
            return;
        }
        // The array is read in its order by the function scan, each lock taken as its row is made: no sort after.
        try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_xact_lock(?, k) FROM unnest(ARRAY(SELECT"
                + " DISTINCT hashtext(current_schema() || '/' || n) FROM unnest(?::text[]) AS n ORDER BY 1)) AS k")) {
            p.setInt(1, SLOTS_LOCK_CLASS);
            p.setArray(2, c.createArrayOf("text", ruleNames.toArray()));
            p.executeQuery().close();
        }
    }

    /**
     * In a transaction that took its turn ({@link #inTurn}) and then freed a slot of the rule or took job
     * {@code jobId} out of its line: wakes the first jobs of the line ({@link ExecutionLedger#firstInLine}: those
     * waiting for shared units first), one for each slot free (the limit in
     * force, or {@code jobId}'s when the rule has no job left to run, less the slots held by jobs still
     * picked or kept by a job revived with its attempt still marked running: {@link ExecutionLedger#SLOT_KEPT}),
     * that wait in the queue for a later time ({@link #wake}).
     *
     * @return how many were made due
     */
    int wakeTurn(Connection c, String ruleName, String jobId) throws SQLException {
        String free = (dialect == Dialect.POSTGRESQL ? "GREATEST" : "MAX") + "(0, "
                + ExecutionLedger.currentLimit("(SELECT concurrency FROM jobs WHERE id = ?)")
                + " - (SELECT COUNT(*) FROM rule_slots r WHERE r.rule_name = ? AND "
                + ExecutionLedger.executionExists("r.job_id", ExecutionLedger.SLOT_KEPT, dialect) + "))";
        List<String> turn = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(ExecutionLedger.firstInLine(dialect, free))) {
            int i = 0;
            for (int part = 0; part < 2; part++) {
                p.setString(++i, ruleName);
                p.setString(++i, JobQueue.TASK_NAME);
            }
            p.setString(++i, ruleName);
            p.setString(++i, jobId);
            p.setString(++i, ruleName);
            p.setString(++i, JobQueue.TASK_NAME);
            p.setBoolean(++i, true);
            readIds(p, turn);
        }
        return wake(c, turn);
    }

    /**
     * In a transaction that took its turn ({@link #inTurn}) and gave the rule's newest job a limit the rule did
     * not have ({@link ExecutionLedger#applyLimits}): gives a slot to each job of the rule picked by a node at the
     * moment that holds none, as held by that node, whatever limit its row says (the older jobs are given theirs
     * after this, review57b F2). Such a job was read without a limit, so it runs (or starts) without asking for a
     * slot, and the limit just set would let as many more start beside it (review15). Its slot is freed when its attempt is recorded ({@link ExecutionLedger#finishAttempt}),
     * as a limited job's is; one that asks for a slot after all (read after the change) frees it first
     * ({@link ExecutionLedger#tryAcquireSlot}). There may be more of them than the limit: the slots beyond it
     * count as held too, so that nothing starts until fewer run than the limit.
     *
     * @return how many slots were given
     */
    int holdForPicked(Connection c, String ruleName) throws SQLException {
        List<String[]> running = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT j.id, s.picked_by FROM scheduled_tasks s JOIN jobs j"
                + " ON j.id = s.task_instance WHERE s.task_name = ? AND s.picked = ? AND j.rule_name = ?"
                + " AND j.state IN ('QUEUED', 'WAITING', 'RUNNING')"
                + " AND NOT EXISTS (SELECT 1 FROM rule_slots r WHERE r.job_id = j.id) ORDER BY j.id")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setBoolean(2, true);
            p.setString(3, ruleName);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    running.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
        }
        if (running.isEmpty()) {
            return 0;
        }
        java.util.Set<Integer> taken = new java.util.HashSet<>();
        try (PreparedStatement p = c.prepareStatement("SELECT slot FROM rule_slots WHERE rule_name = ?")) {
            p.setString(1, ruleName);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    taken.add(rs.getInt(1));
                }
            }
        }
        int slot = 0;
        try (PreparedStatement p = c.prepareStatement("INSERT INTO rule_slots (rule_name, slot, job_id, node,"
                + " acquired_at) VALUES (?, ?, ?, ?, ?)")) {
            for (String[] job : running) {
                while (taken.contains(slot)) {
                    slot++;
                }
                p.setString(1, ruleName);
                p.setInt(2, slot++);
                p.setString(3, job[0]);
                p.setString(4, job[1] == null ? "" : job[1]);
                p.setLong(5, clock.millis());
                p.addBatch();
            }
            p.executeBatch();
        }
        return running.size();
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
