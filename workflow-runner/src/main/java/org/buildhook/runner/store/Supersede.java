package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.PlannedJob;

/**
 * Supersede keys, inside the transaction that stores a new job of a rule with a {@code supersede}
 * key: a newer build replaces the older builds' jobs that have not run yet, and an older build that
 * arrives after a newer one is superseded at once. Jobs are ordered by {@code build_id}, never by
 * arrival. The {@code supersede_keys} row of the key remembers the newest build seen (even after
 * retention removed its job) and, locked, serialises two deliveries of one key on two nodes.
 */
final class Supersede {

    private final Dialect dialect;
    private final JobQueue queue;
    private final Clock clock;
    private final SlotLine line;
    private final java.util.function.Supplier<RuleRenames> renames;

    /** @param renames the rules in force as far as renames go, at the moment ({@link ExecutionLedger#renames()}) */
    Supersede(Dialect dialect, JobQueue queue, Clock clock, java.util.function.Supplier<RuleRenames> renames) {
        this.dialect = dialect;
        this.queue = queue;
        this.clock = clock;
        this.line = new SlotLine(dialect, clock);
        this.renames = renames;
    }

    /**
     * The rules whose jobs a job of {@code rule} supersedes: the rule, and the names its {@code renamed-from} writes
     * (renames37: their jobs are the same rule's under its old name; before, {@code running: cancel} left the old name's
     * running job to run beside the newer build's), in name order.
     */
    java.util.SortedSet<String> supersedes(String rule) {
        java.util.SortedSet<String> rules = renames.get().renamedFrom(rule);
        rules.add(rule);
        return rules;
    }

    /**
     * PostgreSQL: takes the turn ({@link SlotLine#inTurn}) of each rule of {@code jobs} whose job may supersede a
     * job in its rule's line for a slot (a {@code concurrency} limit, a supersede key and a build), in the order of
     * their lock keys ({@link SlotLine#inTurns}). First in the transaction, before any row lock, as every taker of a rule's turn: the supersede then
     * passes the turn of a queued job it ends on ({@link #supersedeOlder}), as a cancel does. Nothing on SQLite.
     */
    void takeTurns(Connection c, List<PlannedJob> jobs) throws SQLException {
        java.util.SortedSet<String> rules = new java.util.TreeSet<>();
        for (PlannedJob job : jobs) {
            if (job.concurrency() > 0 && job.workflow().supersedeKey() != null && job.workflow().buildId() != null) {
                rules.addAll(supersedes(job.ruleName())); // the old names' lines too (renames37)
            }
        }
        line.inTurns(c, rules);
    }

    /**
     * PostgreSQL: as {@link #takeTurns}, for job {@code jobId} about to be approved ({@link #approved}), before
     * {@link #lockKeyOf}. Nothing on SQLite, nor for a job of a rule without a limit or a key.
     *
     * @return whether the turn was taken (always true on SQLite, whose one writer serialises every transaction): what
     *         {@link #approved} is to be told
     */
    boolean takeTurnOf(Connection c, String jobId) throws SQLException {
        if (dialect != Dialect.POSTGRESQL) {
            return true;
        }
        String rule = null;
        try (PreparedStatement p = c.prepareStatement("SELECT rule_name FROM jobs WHERE id = ? AND concurrency > 0"
                + " AND supersede_key IS NOT NULL AND build_id IS NOT NULL AND rerun_of IS NULL")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next()) {
                    rule = rs.getString(1);
                }
            }
        }
        if (rule != null) {
            line.inTurns(c, supersedes(rule)); // the old names' lines too (renames37), in their keys' order
        }
        return rule != null;
    }

    /**
     * A claim one transaction is about to make ({@link #claim}): a job of rule {@code rule} of build {@code buildId}
     * under key {@code key}, awaiting an approval or not.
     */
    record Claim(String rule, String key, long buildId, boolean awaitsApproval) {
    }

    /**
     * The order in which one transaction claims several keys ({@link DeliveryWriter}'s insert of a delivery's jobs) and
     * locks their rows ({@link #lockBeforeClaims}): by rule, then key, each compared by its UTF-8 bytes, unsigned, as
     * PostgreSQL's {@code "C"} collation orders them (the order of {@link #lockBeforeClaims}' statement too), whatever
     * the database's own collation. Every transaction taking two keys takes them in this one order, so one waits for
     * the other instead of each holding a key the other asks for (review50b R12).
     */
    static final java.util.Comparator<Claim> CLAIM_ORDER = java.util.Comparator
            .comparing((Claim claim) -> utf8(claim.rule()), java.util.Arrays::compareUnsigned)
            .thenComparing(claim -> utf8(claim.key()), java.util.Arrays::compareUnsigned);

    private static byte[] utf8(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * PostgreSQL, before two or more claims ({@link #claim}) in one transaction (a delivery whose jobs of several rules,
     * or of several runs, have supersede keys): locks the rows of their keys that exist, in (rule, key) order, then
     * every job those claims may supersede, of every key at once, in id order; the claims then find them locked. Each
     * claim locked its own key's jobs only when it came to it, in the order of the delivery's jobs: with the rules
     * listed the other way round since the older build (a reload), or a {@code match: each} build naming its runs in
     * another order, it locked the older build's second job before its first, while a cancel of that delivery
     * ({@link DeliveryWriter#cancelDelivery}), which locks them in id order, held the first and asked for the second:
     * PostgreSQL ended one with "deadlock detected" (delcancel50). In id order, as every other transaction locks
     * several jobs; the keys before any job, as {@link #lockKeyOf} takes one. The keys in {@link #CLAIM_ORDER}, the
     * order in which the claims follow. Nothing on SQLite.
     */
    void lockBeforeClaims(Connection c, List<Claim> claims) throws SQLException {
        if (dialect != Dialect.POSTGRESQL || claims.size() < 2) {
            return;
        }
        StringBuilder keys = new StringBuilder();
        for (int i = 0; i < claims.size(); i++) {
            keys.append(i == 0 ? "" : " OR ").append("(rule_name = ? AND supersede_key = ?)");
        }
        // In CLAIM_ORDER, the order of the claims that follow (a key may be claimed first by another transaction
        // between this statement and its claim here: then its row is locked by that claim, in that order too).
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM supersede_keys WHERE " + keys
                + " ORDER BY rule_name COLLATE \"C\", supersede_key COLLATE \"C\" FOR UPDATE")) {
            int i = 0;
            for (Claim claim : claims) {
                p.setString(++i, claim.rule());
                p.setString(++i, claim.key());
            }
            p.executeQuery().close();
        }
        StringBuilder older = new StringBuilder();
        List<Object> values = new ArrayList<>();
        for (Claim claim : claims) {
            java.util.SortedSet<String> rules = supersedes(claim.rule());
            older.append(older.length() == 0 ? "" : " OR ").append("(rule_name IN (")
                    .append(String.join(", ", java.util.Collections.nCopies(rules.size(), "?")))
                    .append(") AND supersede_key = ? AND build_id < ? AND state IN (?, ?, ?, ?))");
            values.addAll(rules);
            values.add(claim.key());
            values.add(claim.buildId());
            // The states supersedeOlder takes for this claim.
            boolean only = claim.awaitsApproval();
            values.add((only ? JobState.AWAITING_APPROVAL : JobState.QUEUED).name());
            values.add((only ? JobState.AWAITING_APPROVAL : JobState.WAITING).name());
            values.add(JobState.AWAITING_APPROVAL.name());
            values.add((only ? JobState.AWAITING_APPROVAL : JobState.RUNNING).name());
        }
        try (PreparedStatement p = c.prepareStatement("SELECT id FROM jobs WHERE " + older + " ORDER BY id FOR UPDATE")) {
            for (int i = 0; i < values.size(); i++) {
                p.setObject(i + 1, values.get(i));
            }
            p.executeQuery().close();
        }
    }

    /**
     * Records job {@code jobId} of build {@code buildId} under the key. Returns the id of the job of
     * a newer build that supersedes the new job at once, or null when the new job goes on; then
     * every older job of the key that has not run yet is superseded by it (and a running one
     * is asked to stop when {@code cancelRunning}). A new job that awaits an approval supersedes
     * only the older jobs that await one too: the approved ones (queued, waiting or running) go on
     * until it is approved ({@link #approved}), so that a build nobody approves yet, and may reject,
     * never stops or replaces a deploy someone approved.
     *
     * @param inTurn whether this transaction took the rule's turn ({@link #takeTurns}: the new job has a {@code
     *               concurrency} limit); see {@link #supersedeOlder}
     */
    String claim(Connection c, String rule, String key, long buildId, String jobId, boolean cancelRunning,
            boolean awaitsApproval, boolean inTurn) throws SQLException {
        String insert = dialect == Dialect.POSTGRESQL
                ? "INSERT INTO supersede_keys (rule_name, supersede_key, build_id, job_id) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT DO NOTHING"
                : "INSERT OR IGNORE INTO supersede_keys (rule_name, supersede_key, build_id, job_id) VALUES (?, ?, ?, ?)";
        boolean first;
        try (PreparedStatement p = c.prepareStatement(insert)) {
            p.setString(1, rule);
            p.setString(2, key);
            p.setLong(3, buildId);
            p.setString(4, jobId);
            first = p.executeUpdate() == 1;
        }
        if (!first) {
            String select = "SELECT build_id, job_id FROM supersede_keys WHERE rule_name = ? AND supersede_key = ?"
                    + (dialect == Dialect.POSTGRESQL ? " FOR UPDATE" : "");
            long newest;
            String newestJob;
            try (PreparedStatement p = c.prepareStatement(select)) {
                p.setString(1, rule);
                p.setString(2, key);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    newest = rs.getLong(1);
                    newestJob = rs.getString(2);
                }
            }
            if (newest > buildId) {
                return newestJob;
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE supersede_keys SET build_id = ?, job_id = ?"
                    + " WHERE rule_name = ? AND supersede_key = ?")) {
                p.setLong(1, buildId);
                p.setString(2, jobId);
                p.setString(3, rule);
                p.setString(4, key);
                p.executeUpdate();
            }
        }
        supersedeOlder(c, rule, key, buildId, jobId, cancelRunning, awaitsApproval, inTurn);
        return null;
    }

    /**
     * Job {@code jobId}, just approved in this transaction: if its rule has a supersede key (and it
     * is no re-run), it now supersedes the older builds' jobs of its key that were approved before
     * it (and stops a running one when its rule says {@code running: cancel}), as a job without an
     * approval does when it is stored.
     *
     * @param inTurn what {@link #takeTurnOf} answered for it in this transaction
     * @return what it superseded, each job in the state this transaction found it in, locked (the approval's answer and
     *         WARN say it: a read before the transaction named a job that started meanwhile as queued, review57a F3);
     *         empty when the job has no supersede key, no build or is a re-run
     */
    java.util.Optional<ApprovalSupersedes> approved(Connection c, String jobId, boolean inTurn) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT rule_name, supersede_key, build_id, supersede_running"
                + " FROM jobs WHERE id = ? AND supersede_key IS NOT NULL AND build_id IS NOT NULL AND rerun_of IS NULL")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return java.util.Optional.empty();
                }
                String key = rs.getString(2);
                boolean stopsRunning = rs.getInt(4) != 0;
                List<ApprovalSupersedes.Older> superseded = supersedeOlder(c, rs.getString(1), key, rs.getLong(3), jobId,
                        stopsRunning, false, inTurn);
                return java.util.Optional.of(new ApprovalSupersedes(key, stopsRunning, superseded));
            }
        }
    }

    /**
     * PostgreSQL: locks the {@code supersede_keys} row of job {@code jobId}'s key, when it has one and is no re-run
     * (the jobs {@link #approved} supersedes), in a transaction that has locked no job's row yet: the order of a
     * delivery of that key ({@link #claim}: the key's row, then its older jobs' rows in id order). Nothing on SQLite,
     * whose one writer serialises both.
     */
    void lockKeyOf(Connection c, String jobId) throws SQLException {
        if (dialect != Dialect.POSTGRESQL) {
            return;
        }
        try (PreparedStatement p = c.prepareStatement("SELECT k.build_id FROM supersede_keys k JOIN jobs j"
                + " ON k.rule_name = j.rule_name AND k.supersede_key = j.supersede_key WHERE j.id = ?"
                + " AND j.build_id IS NOT NULL AND j.rerun_of IS NULL FOR UPDATE OF k")) {
            p.setString(1, jobId);
            p.executeQuery().close();
        }
    }

    /**
     * Ends (or asks to stop) the older builds' jobs of the key; when a queued one of the rule's line ended, passes its
     * turn on ({@link SlotLine#wakeTurn}), but on PostgreSQL only when {@code inTurn}: the new job had no limit though
     * an older one has (a reload removed the rule's {@code concurrency} and {@link ExecutionLedger#applyLimits} has not
     * rewritten the stored jobs yet), so this transaction did not take the turn, and a wake outside it takes queue rows
     * in an order the turn otherwise rules out (review35 F3). Those jobs are woken by that {@code applyLimits}, which
     * takes the turn; SQLite's one writer needs no turn.
     *
     * @return the jobs ended or asked to stop, oldest build first, each in the state this transaction read it in (a
     *         running one left to end, without {@code cancelRunning}, is not among them)
     */
    private List<ApprovalSupersedes.Older> supersedeOlder(Connection c, String rule, String key, long buildId, String by,
            boolean cancelRunning, boolean onlyAwaiting, boolean inTurn) throws SQLException {
        List<String[]> older = new ArrayList<>();
        // PostgreSQL: the older jobs' rows locked first, in id order, before any queue entry (JobQueue.cancel): every
        // other transaction takes a job's row before its queue entry (a node recording a running job's end locks its
        // row, then wakes the job that superseded it). Taking a queued job's entry first and then a running job's row
        // deadlocked with that node (chaos33 F1). A row that ended while this waited for it is no longer selected.
        selectOlder(c, rule, key, buildId, onlyAwaiting, dialect == Dialect.POSTGRESQL, rs -> {
            // A queued job after an attempt, waiting for its retry (review51 L1), as DeliveryWriter.cancelRead.
            boolean waitsForRetry = JobState.QUEUED.name().equals(rs.getString(2)) && rs.getInt(5) > 0
                    && Job.retryDueIn(rs.getString(6)).isPresent();
            older.add(new String[] {rs.getString(1), rs.getString(2), rs.getInt(3) > 0 ? "line" : null,
                    rs.getString(4), waitsForRetry ? "retry" : null, Long.toString(rs.getLong(7))});
        });
        List<ApprovalSupersedes.Older> superseded = new ArrayList<>();
        // Each line a queued job left, with that job (the rule's own, or an old name's).
        java.util.SortedMap<String, String> leftLines = new java.util.TreeMap<>();
        for (String[] job : older) {
            JobState state = JobState.valueOf(job[1]);
            // One waiting for its retry ends at once even while its execution is still picked: its node is putting it
            // back for the retry (its record commits before db-scheduler's reschedule), or picks the retry, whose start
            // finds it final. Only flagged, it stayed queued for the whole backoff, and held a newer job of
            // `running: cancel` back all that time (review51 L1); the cancel ends it so already (flakes35).
            if (state == JobState.AWAITING_APPROVAL || (state != JobState.RUNNING && queue.cancel(c, job[0]))
                    || job[4] != null) {
                end(c, job[0], by, buildId);
                if (state != JobState.AWAITING_APPROVAL && job[2] != null) {
                    leftLines.put(job[3], job[0]);
                }
            } else if (state != JobState.RUNNING || cancelRunning) {
                // Picked by a node: that node sees the flag before the command, or kills its process tree.
                try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET cancel_requested = 1, superseded_by = ?"
                        + " WHERE id = ?")) {
                    p.setString(1, by);
                    p.setString(2, job[0]);
                    p.executeUpdate();
                }
            } else {
                continue; // running, and left to end
            }
            superseded.add(new ApprovalSupersedes.Older(job[0], state, Long.parseLong(job[5])));
        }
        if (inTurn || dialect != Dialect.POSTGRESQL) {
            // A queued (or waiting) job of the rule's line ended before any node picked it: it may be the one a freed
            // slot woke, and the next in line would wait for runner.slot-retry; it passes its turn on, as a cancel
            // does (DeliveryWriter.cancel, slots13). The turn was taken first in the transaction (takeTurns, takeTurnOf:
            // the old names' too): without it (inTurn false) the wake is left to applyLimits.
            for (java.util.Map.Entry<String, String> left : leftLines.entrySet()) {
                line.wakeTurn(c, left.getKey(), left.getValue());
            }
        }
        superseded.sort(java.util.Comparator.comparingLong(ApprovalSupersedes.Older::buildId)
                .thenComparing(ApprovalSupersedes.Older::id));
        return superseded;
    }

    /**
     * The older builds' jobs of {@code key} that a job of {@code rule} for build {@code buildId} supersedes, one row
     * each to {@code row} (columns: id, state, concurrency, rule_name, attempts, message, build_id): the rule's and its
     * old names' (renamed-from: the same rule before its rename; renames37), in one statement, in id order; their rows
     * locked when {@code lock} (PostgreSQL).
     */
    private void selectOlder(Connection c, String rule, String key, long buildId, boolean onlyAwaiting, boolean lock,
            OlderRow row) throws SQLException {
        java.util.SortedSet<String> rules = supersedes(rule);
        try (PreparedStatement p = c.prepareStatement("SELECT id, state, concurrency, rule_name, attempts, message,"
                + " build_id FROM jobs WHERE"
                + " rule_name IN (" + String.join(", ", java.util.Collections.nCopies(rules.size(), "?")) + ")"
                + " AND supersede_key = ? AND build_id < ? AND state IN (?, ?, ?, ?)"
                + (lock ? " ORDER BY id FOR UPDATE" : " ORDER BY build_id, id"))) {
            int i = 0;
            for (String name : rules) {
                p.setString(++i, name);
            }
            p.setString(++i, key);
            p.setLong(++i, buildId);
            p.setString(++i, (onlyAwaiting ? JobState.AWAITING_APPROVAL : JobState.QUEUED).name());
            p.setString(++i, (onlyAwaiting ? JobState.AWAITING_APPROVAL : JobState.WAITING).name());
            p.setString(++i, JobState.AWAITING_APPROVAL.name());
            p.setString(++i, (onlyAwaiting ? JobState.AWAITING_APPROVAL : JobState.RUNNING).name());
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    row.accept(rs);
                }
            }
        }
    }

    /** One row of {@link #selectOlder}. */
    @FunctionalInterface
    private interface OlderRow {
        void accept(ResultSet rs) throws SQLException;
    }

    /**
     * What {@link #approved} would supersede if job {@code jobId} were approved now, read without locking or
     * changing anything: empty when the job has no supersede key, no build or is a re-run (as {@link #approved}).
     */
    java.util.Optional<ApprovalSupersedes> wouldApprove(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT rule_name, supersede_key, build_id, supersede_running"
                + " FROM jobs WHERE id = ? AND supersede_key IS NOT NULL AND build_id IS NOT NULL AND rerun_of IS NULL")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return java.util.Optional.empty();
                }
                boolean stopsRunning = rs.getInt(4) != 0;
                List<ApprovalSupersedes.Older> older = new ArrayList<>();
                selectOlder(c, rs.getString(1), rs.getString(2), rs.getLong(3), false, false, row -> {
                    JobState state = JobState.valueOf(row.getString(2));
                    if (state != JobState.RUNNING || stopsRunning) {
                        older.add(new ApprovalSupersedes.Older(row.getString(1), state, row.getLong(7)));
                    }
                });
                return java.util.Optional.of(new ApprovalSupersedes(rs.getString(2), stopsRunning, older));
            }
        }
    }

    private void end(Connection c, String jobId, String by, long buildId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, superseded_by = ?, ended_at = ?,"
                + " message = ?, expires_at = NULL WHERE id = ?")) {
            p.setString(1, JobState.SUPERSEDED.name());
            p.setString(2, by);
            p.setLong(3, clock.millis());
            p.setString(4, "superseded by job " + by + " of build " + buildId);
            p.setString(5, jobId);
            p.executeUpdate();
        }
    }

    /**
     * A job stopped because it was superseded ends SUPERSEDED rather than CANCELLED, its message naming
     * the newer job and its build as {@link #end} does for a job that had not started; called in the
     * transaction that records it cancelled.
     */
    static void settle(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, message = 'superseded by job '"
                + " || superseded_by || COALESCE(' of build ' || (SELECT b.build_id FROM jobs b"
                + " WHERE b.id = jobs.superseded_by), '') WHERE id = ? AND state = ? AND superseded_by IS NOT NULL")) {
            p.setString(1, JobState.SUPERSEDED.name());
            p.setString(2, jobId);
            p.setString(3, JobState.CANCELLED.name());
            p.executeUpdate();
        }
    }
}
