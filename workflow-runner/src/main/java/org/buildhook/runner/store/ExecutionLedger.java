package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;

/**
 * What the execution engine writes about jobs: attempts, states and per-rule slots. Every method
 * is one short transaction; none is held while a command runs. Their commits are
 * {@link Durability#DEFERRED}: on SQLite a power cut may undo the last of them (and kills the commands
 * too), and then the job runs again, as after any crash; on PostgreSQL they wait for the WAL flush, so
 * a crash of the server alone undoes none that the node acted on.
 */
public final class ExecutionLedger {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ExecutionLedger.class);

    private final Database db;
    private final StoreReader reader;
    private final Clock clock;
    private final JdbcCustomization jdbc;
    private final Runnable jobsDue;
    private final SlotLine line;
    private volatile RuleRenames renames = RuleRenames.NONE;
    private final java.util.concurrent.atomic.AtomicLong renamedReads = new java.util.concurrent.atomic.AtomicLong();
    /** The ids of the audit trail's entries this writes ({@link #GATED}). */
    private final Ids ids;

    /** @param jobsDue told when a job was made due now ({@link #releaseSlot(String, String, String)}) */
    ExecutionLedger(Database db, StoreReader reader, Clock clock, Runnable jobsDue) {
        this.jobsDue = jobsDue;
        this.jdbc = JobQueue.customization(db.dialect());
        this.db = db;
        this.reader = reader;
        this.clock = clock;
        this.line = new SlotLine(db.dialect(), clock);
        this.ids = new Ids(clock);
    }

    /** The job with its real environment, or empty when retention removed it. */
    public Optional<Job> job(String jobId) {
        return reader.jobUnredacted(jobId);
    }

    /**
     * A job to run and, when it need not wait for anything first, its delivery's exact body.
     *
     * @param job      the job with its real environment
     * @param body     the delivery's body; null when the delivery is gone or the body was not read
     * @param bodyRead whether {@code body} was read: not for a job with a concurrency limit or
     *                 shared resources, which may have to wait for them and is then read again
     *                 after every wait; it reads its body ({@link #body}) once it holds them
     * @param started  the attempt started for it by {@link #jobToStart} in the same statement as
     *                 the read (then 1: only a first attempt is), or 0 when none was and the caller
     *                 decides what to do with the job as read
     */
    public record JobToRun(Job job, byte[] body, boolean bodyRead, int started) {
    }

    /**
     * The job with its real environment and, unless it may wait for a slot or a resource, its
     * delivery's body, in one read; empty when retention removed the job.
     */
    public Optional<JobToRun> jobToRun(String jobId) {
        return reader.jobToRun(jobId);
    }

    /**
     * As {@link #jobToRun}, and on PostgreSQL, when the job can start at once, its first attempt
     * started under the pick in the same statement as the read ({@link JobToRun#started} 1): one
     * round trip instead of the read's and the start's (docs/BENCHMARKS.md, "Eighth pass"). A job
     * can start at once when it has no attempt yet, is not final, has no cancellation asked, and
     * takes neither a concurrency slot nor shared resources; the start is then exactly
     * {@link #startAttempt(String, String, long)}'s, under the same lease and lock order. Any other
     * job (and every job on SQLite, whose writes go through its one writer while reads do not) is
     * only read, with {@code started} 0, and the caller goes on as after {@link #jobToRun}.
     *
     * <p>The job's columns are as they were when the statement began: a cancellation asked while
     * it waited for the job's row lock stops the start (the lock re-reads the row) but is not in the
     * returned row; a caller given a job not started that looked startable reads it again.
     *
     * @param version the version of the execution as this node picked it; negative: only read
     * @return the job, empty when retention removed it
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<JobToRun> jobToStart(String jobId, String node, long version) {
        if (db.dialect() != Dialect.POSTGRESQL || version < 0) {
            return jobToRun(jobId);
        }
        NodeIdentity owner = NodeIdentity.current();
        Instant now = clock.instant();
        return db.inOneStatement("read and start a job", Durability.DEFERRED, c -> {
            try (PreparedStatement p = c.prepareStatement(READ_AND_START)) {
                p.setString(1, jobId);
                int next = bindLease(p, 2, jobId, version, now);
                bindFirstAttempt(p, next, jobId, node, owner, now, null);
                p.setString(next + 12, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<JobToRun>empty();
                    }
                    return Optional.of(StoreReader.jobToRun(rs, rs.getInt(StoreReader.JOB_TO_RUN_COLUMNS + 1)));
                }
            }
        });
    }

    /** The exact body of the delivery, or empty when it is gone. */
    public Optional<byte[]> body(String deliveryId) {
        return reader.body(deliveryId);
    }

    /**
     * What ends an {@code EXISTS} sub-query that must look its row up once per outer row by key:
     * on PostgreSQL {@code OFFSET 0}, without which the planner may turn it into a hashed sub-plan
     * that reads every row of the sub-query's condition once (for db-scheduler's table, the whole
     * queue, whenever its statistics are those of a short one); nothing on SQLite, which looks it up.
     */
    static String lookUpEach(Dialect dialect) {
        return dialect == Dialect.POSTGRESQL ? " OFFSET 0" : "";
    }

    /**
     * {@code EXISTS} of an execution in db-scheduler's queue of the job {@code job} (a column of the outer
     * row) meeting {@code also} (further conditions on {@code s}, the execution; empty for none), looked up
     * once per outer row ({@link #lookUpEach}). Its parameters: the task name ({@link JobQueue#TASK_NAME}),
     * then those of {@code also}.
     */
    static String executionExists(String job, String also, Dialect dialect) {
        return "EXISTS (SELECT 1 FROM scheduled_tasks s WHERE s.task_name = ? AND s.task_instance = " + job + also
                + lookUpEach(dialect) + ")";
    }

    /**
     * The condition, for {@link #executionExists}, of an execution whose job's concurrency slot stays held: picked
     * (its job runs, or is about to), or put back in the queue with its job still {@code RUNNING}, i.e. revived
     * after its node stopped heart-beating (dead, paused, or cut off from the store and fenced) and not yet picked
     * by the node that takes it over. That job keeps its slot, and so its place in its rule's line, until it is
     * picked again ({@link #tryAcquireSlot}): freed by the next look of any job of the rule, it went to a younger
     * job, whose command could start while the silent node's still ran (slot28, as fence28 found for shared
     * units). One parameter: {@code true} (picked).
     */
    static final String SLOT_KEPT = " AND (s.picked = ? OR EXISTS (SELECT 1 FROM jobs k WHERE k.id = s.task_instance"
            + " AND k.state = 'RUNNING'))";

    /** What taking a concurrency slot or shared units under a pick came to. */
    public enum Take {
        /** Taken: held by this node for the job until given back. */
        TAKEN,
        /** Not free now; the job tries again later. Nothing was taken. */
        NOT_FREE,
        /**
         * Not free now, and the job's execution was put back in the queue for its next try in the same
         * transaction ({@link #tryAcquireSlot(String, int, String, String, long, Instant)}): nothing was
         * taken, and the execution is no longer this node's to complete.
         */
        PUT_BACK,
        /**
         * The job's execution is no longer picked at the version this node picked it (released as a
         * stale pick, or revived): nothing was taken or freed, and whoever picks the job next takes
         * what it needs.
         */
        PICK_LOST
    }

    /**
     * Takes one of the rule's {@code limit} slots for {@code jobId} under the pick this node made,
     * first come, first served: only when a slot is free for it after one for each job of the rule
     * created before it that is still in the rule's line ({@link #inLine}), whichever node runs
     * which. So the rule's jobs held back by its limit start in the order they were created, and
     * none waits for ever behind a younger one. A job not given a slot is put in the line (a first
     * attempt is in it from its creation; a retry joins it here, at its place by creation); a job
     * given one leaves it.
     *
     * <p>Slots held by jobs that are no longer executing anywhere (their db-scheduler execution is gone,
     * or put back in the queue) are freed first, so a crash never leaks a slot; but not that of a job
     * revived with its attempt still marked running ({@link #SLOT_KEPT}), which keeps it until it is
     * picked again. So is any slot the job itself still holds from an earlier pick, unless the job is such
     * a job: it starts again in that slot, ahead of the rule's line (it had its turn; the jobs waiting
     * came after it took the slot), unless a lowered limit is still used up by the other jobs' slots
     * (then it keeps the slot and waits). That last is right only
     * while this node holds the job's pick: so the same transaction checks the pick, and renews its
     * heartbeat ({@link #holdLease}), and is rolled back when the pick is no longer this node's. A
     * thread whose pick was put back in the queue and taken by another node must not free that node's
     * slot and take one itself. Two nodes racing for the last slot: the primary key lets exactly one in.
     *
     * <p>A job refused a slot only because older jobs are ahead of it for the free ones (a reload raised
     * the limit while they waited) makes those of them that wait for their next try due now: nobody else
     * would (review12 L1).
     *
     * @param asked   the limit the job was stored with, from 1; the one used is that of the rule's newest
     *                job still to run (after a reload changed it, the rules' current one), this one only
     *                when there is none
     * @param version the version of the execution as this node picked it; negative for no check
     * @return {@link Take#TAKEN}, {@link Take#NOT_FREE} when all {@code limit} slots are held or the
     *         free ones are older jobs' turn, or {@link Take#PICK_LOST}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Take tryAcquireSlot(String ruleName, int asked, String jobId, String node, long version) {
        return tryAcquireSlot(ruleName, asked, jobId, node, version, null);
    }

    /**
     * As {@link #tryAcquireSlot(String, int, String, String, long)}; a job not given a slot under the
     * pick at {@code version} has its execution put back in the queue for {@code retryAt} in the same
     * transaction ({@link Take#PUT_BACK}), instead of its heartbeat renewed for the caller to put it
     * back. Put back afterwards, in a transaction of its own, a job refused while a slot was being freed
     * was still picked when the release looked for a job to wake, and waited for its next try; in one,
     * the release sees either the slot taken or the job waiting (review12 L1). On PostgreSQL the tries
     * and the releases of one rule's slots take turns ({@link SlotLine#inTurn}), as SQLite's one writer makes them.
     *
     * @param retryAt when a job refused a slot tries again; null, or a negative {@code version}: the
     *                caller puts it back ({@link Take#NOT_FREE})
     */
    public Take tryAcquireSlot(String ruleName, int asked, String jobId, String node, long version, Instant retryAt) {
        String insert = db.dialect() == Dialect.POSTGRESQL
                ? "INSERT INTO rule_slots (rule_name, slot, job_id, node, acquired_at) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT DO NOTHING"
                : "INSERT OR IGNORE INTO rule_slots (rule_name, slot, job_id, node, acquired_at) VALUES (?, ?, ?, ?, ?)";
        boolean putBack = retryAt != null && version >= 0;
        int[] woken = new int[1];
        Take result;
        RuleRenames renames = this.renames;
        // A rule in force counts only running jobs of rules not in force: counted first, read only when there are any.
        // A job of a rule no longer in force (review36) reads every other rule's running jobs, as before.
        boolean gated = renames.any() && renames.inForce(ruleName);
        RunningNotInForce notCounted = new RunningNotInForce(gated ? renames.namesInForce() : List.of(), db.dialect());
        try {
            result = db.inTransaction("take a concurrency slot", Durability.DEFERRED, c -> {
                woken[0] = 0;
                // The job's rule snapshot, when its rule is no longer in force: which rules took its name over. Read
                // before the turns, without a row lock (SlotLine.inTurn comes before any).
                String own = renames.any() && !renames.inForce(ruleName) ? snapshotOf(c, jobId) : null;
                // The turns of its rule and of the rules it shares its slots with by a rename (renames37, review36
                // F4), in their keys' order, as every transaction that takes several turns (SlotLine.inTurns): two
                // names' takes each counted only the other's slots already committed, and under two different turns
                // both could start. The old name's take locks the line of each rule in force that took it over, which
                // every take of that rule locks too.
                java.util.SortedSet<String> turns = new java.util.TreeSet<>(renames.linked(ruleName, own));
                turns.add(ruleName);
                line.inTurns(c, turns);
                // Each slot's holder looked up by its execution's key: "job_id NOT IN (SELECT task_instance
                // FROM scheduled_tasks …)" read the whole queue at every start of a limited rule's job.
                try (PreparedStatement p = c.prepareStatement("DELETE FROM rule_slots WHERE rule_name = ? AND"
                        + " job_id <> ? AND NOT " + executionExists("rule_slots.job_id", SLOT_KEPT, db.dialect()))) {
                    p.setString(1, ruleName);
                    p.setString(2, jobId);
                    p.setString(3, JobQueue.TASK_NAME);
                    p.setBoolean(4, true);
                    p.executeUpdate();
                }
                // The job's own slot from an earlier pick: freed, and the job takes its turn in the line as any
                // other; but a job cut short and taken over with its attempt still marked running (RUNNING) keeps
                // it, and starts again in it, ahead of the jobs of its line (slot28).
                boolean cutShort;
                try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM rule_slots WHERE job_id = ? AND"
                        + " rule_name = ? AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = rule_slots.job_id AND"
                        + " j.state = 'RUNNING')")) {
                    p.setString(1, jobId);
                    p.setString(2, ruleName);
                    try (ResultSet rs = p.executeQuery()) {
                        rs.next();
                        cutShort = rs.getInt(1) > 0;
                    }
                }
                if (!cutShort) {
                    try (PreparedStatement p = c.prepareStatement("DELETE FROM rule_slots WHERE job_id = ?"
                            + " AND rule_name = ?")) {
                        p.setString(1, jobId);
                        p.setString(2, ruleName);
                        p.executeUpdate();
                    }
                }
                int limit;
                int held;
                int ahead;
                boolean waiting;
                String message;
                boolean maybeRenamed;
                // The limit in force, the slots held, and the jobs ahead counted up to the limit only (no
                // more can matter: a long line costs each of its jobs' tries no more than a short one), in
                // one statement.
                // Its place among the jobs waiting for shared units, if it has one (chaos32 F2): those go before
                // the rest of the line, in the units' order (waitingForUnitsAhead).
                Long unitsPlace = unitsPlace(c, jobId);
                try (PreparedStatement p = c.prepareStatement("WITH in_force AS (SELECT " + currentLimit("?")
                        + " AS n) SELECT (SELECT n FROM in_force), (SELECT COUNT(*) FROM rule_slots WHERE rule_name = ?)"
                        + " + " + runningWithoutASlot(db.dialect()) + ","
                        + (unitsPlace != null ? " 0" : " (SELECT COUNT(*) FROM (SELECT 1 FROM jobs j WHERE "
                                + inLine(db.dialect()) + " AND j.id < ? LIMIT (SELECT n FROM in_force)) ahead)")
                        + ", (SELECT COUNT(*) FROM (SELECT 1 FROM jobs j WHERE " + waitingForUnits(db.dialect())
                        + " AND j.id <> ?" + (unitsPlace != null ? " AND (j.waiting_since < ? OR (j.waiting_since = ?"
                                + " AND j.id < ?))" : "") + " LIMIT (SELECT n FROM in_force)) waiters),"
                        + " (SELECT slot_waiting FROM jobs WHERE id = ?), (SELECT message FROM jobs WHERE id = ?)"
                        + (gated ? ", " + notCounted.countSql() : ""))) {
                    int i = 0;
                    p.setString(++i, ruleName);
                    p.setInt(++i, asked);
                    p.setString(++i, ruleName);
                    p.setString(++i, ruleName);
                    p.setString(++i, jobId);
                    p.setString(++i, JobQueue.TASK_NAME);
                    p.setBoolean(++i, true);
                    if (unitsPlace == null) {
                        p.setString(++i, ruleName);
                        p.setString(++i, JobQueue.TASK_NAME);
                        p.setString(++i, jobId);
                    }
                    p.setString(++i, ruleName);
                    p.setString(++i, JobQueue.TASK_NAME);
                    p.setString(++i, jobId);
                    if (unitsPlace != null) {
                        p.setLong(++i, unitsPlace);
                        p.setLong(++i, unitsPlace);
                        p.setString(++i, jobId);
                    }
                    p.setString(++i, jobId);
                    p.setString(++i, jobId);
                    if (gated) {
                        notCounted.bindCount(p, i, ruleName);
                    }
                    try (ResultSet rs = p.executeQuery()) {
                        rs.next();
                        limit = rs.getInt(1);
                        held = rs.getInt(2);
                        ahead = rs.getInt(3) + rs.getInt(4);
                        waiting = rs.getInt(5) == 1;
                        message = rs.getString(6);
                        maybeRenamed = renames.any() && (!gated || rs.getInt(7) > 0);
                    }
                }
                // The jobs of the names it was renamed from hold slots of it too (rename35), from their slot take on,
                // not only once recorded running (renames37), and a job of a rule no longer in force counts those of
                // the rules that took its name over (review36). For a rule in force, the rule snapshots are read and
                // compared only when a running or slot-holding job's rule is not in force (perf36): the same
                // statement counted those, and a take where every such job's rule is in force reads none.
                if (maybeRenamed) {
                    held += renamedRunning(c, ruleName, own, renames, notCounted);
                }
                Take take = Take.NOT_FREE;
                if (cutShort) {
                    // Its own slot counts among those held: it starts again in it unless a lowered limit is still
                    // used up by the others (then it keeps it, and so its place, until fewer run).
                    if (held <= limit) {
                        try (PreparedStatement p = c.prepareStatement("UPDATE rule_slots SET node = ? WHERE job_id = ?"
                                + " AND rule_name = ?")) {
                            p.setString(1, node);
                            p.setString(2, jobId);
                            p.setString(3, ruleName);
                            p.executeUpdate();
                        }
                        take = Take.TAKEN;
                    }
                } else if (held + ahead < limit) {
                    try (PreparedStatement p = c.prepareStatement(insert)) {
                        for (int slot = 0; slot < limit && take == Take.NOT_FREE; slot++) {
                            p.setString(1, ruleName);
                            p.setInt(2, slot);
                            p.setString(3, jobId);
                            p.setString(4, node);
                            p.setLong(5, clock.millis());
                            if (p.executeUpdate() == 1) {
                                take = Take.TAKEN;
                            }
                        }
                    }
                }
                boolean refused = take == Take.NOT_FREE;
                String why = slotWait(limit);
                if (refused ? !waiting || !showsWait(message, why) : waiting) {
                    // Written only when it changes: a job that takes a slot at once writes nothing more.
                    // The wait says why a job stays QUEUED (buildhook jobs, the status page). It follows the
                    // job's own message, not over it: a retry keeps showing why its last attempt failed
                    // (review12 L3). Taken, the wait goes and that message stays (the attempt's start clears
                    // it anyway). A job marked waiting without showing it is written too: one interrupted
                    // by a stop or its node's death keeps its place in the line (recordInterrupted), and
                    // showed only its interruption while the limit held it back (review13 L10).
                    String rest = withoutSlotWait(db.dialect());
                    try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET slot_waiting = ?, message = "
                            + (refused ? "CASE WHEN " + rest + " IS NULL THEN ? ELSE " + rest + " || '; ' || ? END" : rest)
                            + " WHERE id = ?")) {
                        int i = 0;
                        p.setInt(++i, refused ? 1 : 0);
                        if (refused) {
                            p.setString(++i, why);
                            p.setString(++i, why);
                        }
                        p.setString(++i, jobId);
                        p.executeUpdate();
                    }
                }
                if (take == Take.NOT_FREE && held < limit) {
                    // Free slots, older jobs' turn: those of them waiting for their next try go now.
                    List<String> turn = new ArrayList<>();
                    // Not those waiting for units ahead of it: put back after they were refused units, not the slot,
                    // they would be woken by every try of the jobs behind them while the units stay held elsewhere.
                    try (PreparedStatement p = c.prepareStatement(FIRST_IN_LINE.formatted(inLine(db.dialect()), "?"))) {
                        p.setString(1, ruleName);
                        p.setString(2, JobQueue.TASK_NAME);
                        p.setInt(3, limit - held);
                        SlotLine.readIds(p, turn);
                    }
                    woken[0] = line.wake(c, turn);
                }
                if (take == Take.NOT_FREE && putBack) {
                    putBack(c, jobId, version, retryAt);
                    return Take.PUT_BACK;
                }
                holdLease(c, jobId, version);
                return take;
            });
        } catch (PickLost e) {
            return Take.PICK_LOST;
        }
        if (woken[0] > 0) {
            jobsDue.run();
        }
        return result;
    }

    /**
     * SQL, in {@link #tryAcquireSlot}'s statement, added to the slots held: how many jobs of the rule (parameter 1) other
     * than the asking one (parameter 2) run without a limit and hold no slot, their execution picked (parameter 3, the
     * task name; parameter 4, {@code true}). Such a job started while its rule had no limit, and a limit set since
     * ({@link #changeLimits}, or a job planned under the new rules stored before that change, or after it failed) counts
     * it: rules.md promises that no job starts until fewer than the new limit run. Before, only the slot
     * {@link SlotLine#holdForPicked} gives it counted, and a take between the limit's coming into force and that slot
     * (the change's loop over the rule's jobs, or for good when that loop failed) started a newer job beside it
     * (review57b F2). Picked only: its node runs it (a live node's pick, heart-beating; a dead node's until the
     * dead-node look puts it back), or a take of it is under way, which takes a slot or puts it back. One put back in
     * the queue still marked {@code RUNNING} (revived after its node died) runs nothing and asks its slot itself before
     * its next attempt (then it counts, picked): counted while it waited, two such jobs counted each other and a newer
     * job both, every take refused for good, until a start or reload rewrote their rows (review58 F2). Read by {@code
     * jobs_state_idx} (the jobs running, a few) and the queue's key, within the statement that counts the slots: no
     * statement more per start.
     */
    static String runningWithoutASlot(Dialect dialect) {
        return "(SELECT COUNT(*) FROM jobs j WHERE j.state = 'RUNNING' AND j.concurrency = 0 AND j.rule_name = ?"
                + " AND j.id <> ? AND NOT EXISTS (SELECT 1 FROM rule_slots r WHERE r.job_id = j.id) AND "
                + executionExists("j.id", " AND s.picked = ?", dialect) + ")";
    }

    /**
     * The rules in force as far as renames go (rename35): which other rules' running jobs each rule's {@code
     * concurrency} counts ({@link RuleRenames}). Given by the application at every start and reload, with the
     * limits ({@link #applyLimits}).
     */
    public void renames(RuleRenames inForce) {
        this.renames = java.util.Objects.requireNonNull(inForce, "inForce");
    }

    /** What {@link #renames(RuleRenames)} gave last; {@link RuleRenames#NONE} before. */
    public RuleRenames renames() {
        return renames;
    }

    /**
     * How many jobs of other rules that {@code ruleName} counts as its own ({@link RuleRenames}: the names it was
     * renamed from, or a rule no longer in force with its {@code run}) hold one of its slots: each from its slot take
     * (a slot of its own rule whose execution still exists, {@link #SLOT_KEPT}, as the rule's own count has it) to its
     * end, and a running job of a rule that had no limit while it runs. Counted from the running jobs only, a job of the
     * other name between its slot take and its start record was not seen, and both started (renames37, review36 F4). A
     * job of a rule no longer in force (the old name's retry or re-run after a rename) counts, the other way round,
     * those of the rule in force that took its name over (review36). Read from the jobs holding slots or running only
     * (at most what the nodes run at once).
     *
     * @param own the job's rule snapshot when {@code ruleName} is not in force, else null
     */
    private int renamedRunning(Connection c, String ruleName, String own, RuleRenames renames,
            RunningNotInForce which) throws SQLException {
        java.util.Set<String> counted = new java.util.HashSet<>();
        try (PreparedStatement p = c.prepareStatement(which.readSql())) {
            which.bindRead(p, ruleName);
            renamedReads.incrementAndGet();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    if (renames.counts(ruleName, own, rs.getString(2), rs.getString(3))) {
                        counted.add(rs.getString(1));
                    }
                }
            }
        }
        return counted.size();
    }

    /**
     * The rules whose lines share {@code ruleName}'s slots by a rename ({@link RuleRenames#linked}); the job's rule
     * snapshot is read (a plain read, no row lock) only for a rule no longer in force. Empty, without a read, when no
     * rule is in force. A give-back's and a dead node's release's ({@code DeadNodeRelease.wakeLines}) alike.
     */
    static java.util.SortedSet<String> linkedLines(Connection c, RuleRenames renames, String ruleName,
            String jobId) throws SQLException {
        if (!renames.any()) {
            return java.util.Collections.emptySortedSet();
        }
        return renames.linked(ruleName, renames.inForce(ruleName) ? null : snapshotOf(c, jobId));
    }

    /** The rule snapshot of job {@code jobId}; null when it has none. */
    private static String snapshotOf(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT rule_snapshot FROM jobs WHERE id = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** How many times a slot take read other rules' running jobs to see whether it counts them (perf36's test). */
    long renamedReads() {
        return renamedReads.get();
    }

    /**
     * The jobs a slot take of a rule in force may count as renamed ({@link RuleRenames}): those running, or holding a
     * slot of their rule whose execution still exists ({@link #SLOT_KEPT}: taken, not yet recorded started; renames37),
     * whose rule is not in force ({@code inForce}), since a rule a {@code renamed-from} names never is, and a rule whose
     * run counts must not be. Empty (a job of a rule no longer in force, which counts the jobs of the rules in force
     * that took its name over), or more names than a statement's parameters can safely hold (SQLite's oldest limit is
     * 999): those of every other rule, as before the filter.
     */
    private record RunningNotInForce(List<String> inForce, Dialect dialect) {

        private static final int MAX_NAMES = 900;

        private String others(String column) {
            return column + (inForce.isEmpty() || inForce.size() > MAX_NAMES ? " <> ?"
                    : " NOT IN (" + String.join(", ", java.util.Collections.nCopies(inForce.size(), "?")) + ")");
        }

        private String running() {
            return "SELECT j.id, j.rule_name, j.rule_snapshot FROM jobs j WHERE j.state = 'RUNNING' AND "
                    + others("j.rule_name");
        }

        /** SQL: {@code from} (naming rule_slots {@code r}) where {@code r} is a slot held of another rule. */
        private String holding(String from) {
            return from + " WHERE " + others("r.rule_name") + " AND " + executionExists("r.job_id", SLOT_KEPT, dialect);
        }

        /** SQL: how many such jobs there may be (one holding a slot while it runs counts twice: only 0 matters). */
        String countSql() {
            return "(SELECT COUNT(*) FROM jobs j WHERE j.state = 'RUNNING' AND " + others("j.rule_name")
                    + ") + (SELECT COUNT(*) FROM " + holding("rule_slots r") + ")";
        }

        /** SQL: the jobs, their rule and rule snapshot; one may come twice (a slot held while it runs). */
        String readSql() {
            return running() + " UNION ALL SELECT j.id, j.rule_name, j.rule_snapshot FROM "
                    + holding("rule_slots r JOIN jobs j ON j.id = r.job_id");
        }

        /** Binds {@link #countSql()}'s parameters after the {@code after}th; returns the last one's index. */
        int bindCount(PreparedStatement p, int after, String ruleName) throws SQLException {
            return bindHolding(p, bindNames(p, after, ruleName), ruleName);
        }

        /** Binds {@link #readSql()}'s parameters. */
        void bindRead(PreparedStatement p, String ruleName) throws SQLException {
            bindHolding(p, bindNames(p, 0, ruleName), ruleName);
        }

        private int bindHolding(PreparedStatement p, int after, String ruleName) throws SQLException {
            int i = bindNames(p, after, ruleName);
            p.setString(++i, JobQueue.TASK_NAME);
            p.setBoolean(++i, true);
            return i;
        }

        private int bindNames(PreparedStatement p, int after, String ruleName) throws SQLException {
            int i = after;
            if (inForce.isEmpty() || inForce.size() > MAX_NAMES) {
                p.setString(++i, ruleName);
            } else {
                for (String name : inForce) {
                    p.setString(++i, name);
                }
            }
            return i;
        }
    }

    /**
     * Puts a picked execution back in the queue for a later time, as db-scheduler's reschedule does,
     * only while it is still picked at the version this node picked it.
     */
    private static final String PUT_BACK = "UPDATE scheduled_tasks SET picked = ?, picked_by = NULL,"
            + " last_heartbeat = NULL, execution_time = ?, version = version + 1 WHERE task_name = ?"
            + " AND task_instance = ? AND picked = ? AND version = ?";

    /**
     * In the transaction of {@code c}: puts the job's execution, picked by this node at {@code version},
     * back in the queue for {@code retryAt} ({@link #PUT_BACK}); for {@link #tryAcquireSlot} and
     * {@link #putBackWhileSupersededRuns}, which put a job back in the transaction that refused it.
     *
     * @throws PickLost when the execution is no longer picked at {@code version}
     */
    void putBack(Connection c, String jobId, long version, Instant retryAt) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(PUT_BACK)) {
            p.setBoolean(1, false);
            jdbc.setInstant(p, 2, retryAt);
            p.setString(3, JobQueue.TASK_NAME);
            p.setString(4, jobId);
            p.setBoolean(5, true);
            p.setLong(6, version);
            if (p.executeUpdate() != 1) {
                throw new PickLost();
            }
        }
    }

    /** The first jobs of a rule's line not waiting for units ({@link #inLine}, then a limit: SQL), by creation. */
    static final String FIRST_IN_LINE = "SELECT j.id FROM jobs j WHERE %s ORDER BY j.id LIMIT %s";

    /**
     * SQL: the first {@code limit} (SQL) jobs of a rule's line for its slots: those waiting for shared units
     * ({@link #waitingForUnits}, since when they wait, then id), then the others ({@link #inLine}, by creation).
     * Parameters: the rule and the task name for each of the two, then the limit's.
     */
    static String firstInLine(Dialect dialect, String limit) {
        return "SELECT t.id FROM (SELECT j.id, 0 AS k, j.waiting_since AS w FROM jobs j WHERE "
                + waitingForUnits(dialect)
                + " UNION ALL SELECT j.id, 1 AS k, 0 AS w FROM jobs j WHERE " + inLine(dialect)
                + ") t ORDER BY t.k, t.w, t.id LIMIT " + limit;
    }

    /** How the message of a job waiting for the older job it superseded to stop begins ({@link #supersededWait}). */
    private static final String SUPERSEDED_WAIT = "waiting for the older build's job it superseded (";

    /**
     * The message of a job waiting, under its rule's {@code supersede: {running: cancel}}, for the older build's job
     * {@code older} it superseded to stop.
     */
    static String supersededWait(String older) {
        return SUPERSEDED_WAIT + older + ") to stop before it starts (its node stops it within runner.cancel-check"
                + " and runner.kill-grace; one whose node is gone, once another node takes it over)";
    }

    /** How the message of a job waiting for a slot begins ({@link #slotWait}). */
    private static final String SLOT_WAIT = "waiting for a concurrency slot of its rule (";

    /** The message of a job waiting for a slot of a rule with {@code limit} slots. */
    static String slotWait(int limit) {
        return SLOT_WAIT + limit + " at once; its older jobs first)";
    }

    /** Whether {@code message} ends with the wait {@code why}, alone or after the job's own message. */
    private static boolean showsWait(String message, String why) {
        return message != null && (message.equals(why) || message.endsWith("; " + why));
    }

    /**
     * SQL: the job's message without the wait {@link #tryAcquireSlot} added to it, whatever limit that
     * wait named (a reload may have changed it since), nor the wait for its retry's backoff ({@link
     * Job#retryWait}), which is over once it asks for a slot, nor the wait for the older job it superseded ({@link
     * #supersededWait}), over once it asks for a slot too; NULL when the message is only a wait. The
     * retry's wait comes first when both are there (the slot's follows it only in a message written before
     * this took it out too), so what comes before the first of them is the job's own message.
     */
    private static String withoutSlotWait(Dialect dialect) {
        String find = dialect == Dialect.POSTGRESQL ? "strpos" : "instr";
        StringBuilder sql = new StringBuilder("(CASE");
        for (String wait : List.of(Job.RETRY_WAIT, SUPERSEDED_WAIT, SLOT_WAIT)) {
            sql.append(" WHEN ").append(find).append("(message, '").append(wait.replace("'", "''"))
                    .append("') = 1 THEN NULL");
        }
        for (String wait : List.of(Job.RETRY_WAIT, SUPERSEDED_WAIT, SLOT_WAIT)) {
            String after = find + "(message, '; " + wait.replace("'", "''") + "')";
            sql.append(" WHEN ").append(after).append(" > 0 THEN substr(message, 1, ").append(after).append(" - 1)");
        }
        return sql.append(" ELSE message END)").toString();
    }

    /**
     * Gives the jobs still to run of each rule in {@code limits} that rule's limit, as the rules file
     * now says it: the limit in force is that of the rule's newest job still to run ({@link
     * #currentLimit}), so without this a reload or a restart that lowered a rule's {@code concurrency}
     * took effect only once a new delivery stored a job of that rule, and a job stored before it
     * started beside the running ones under the old, higher limit (chaos15 F1). A job that awaits an
     * approval is given it too: approved, it would be the newest job still to run.
     *
     * <p>A limit set on a rule that had none counts too: its jobs stored without one take a slot when
     * they start (review15: they were left as they were, and every queued job of a rule just given
     * {@code concurrency: 1} started at once); a job already running without one (or picked, read without
     * one) is given a slot, held by the node that picked it ({@link SlotLine#holdForPicked}), so that no job
     * starts until fewer than the limit run (crash16: one more started beside it). A limit removed (0) lets
     * the jobs still to run start without a slot, and wakes those of them that had been refused one
     * ({@code slot_waiting}; a retry in its backoff waits on), which no freed slot would wake any more. A
     * job picked at the moment keeps the limit it was read with for that attempt.
     *
     * <p>Jobs are written one by one, newest first (the newest is the one that decides), each in a
     * statement of its own, so no transaction holds more than one job's row. A limit set on a rule that had
     * none is in force from its newest job's (a job stored without one is read with it, and a take counts the jobs
     * running without a slot), and the picked jobs are given their slots in that job's transaction: whatever the
     * loop has reached, or left when it failed, no job starts until fewer than the limit run (review57b F2). Re-runs
     * keep their plan
     * (they go by the limit of the rule's other jobs). A rule whose jobs were given a new limit, above 0,
     * then passes its turn on ({@link SlotLine#wakeTurn}): a raised limit frees slots at once, and the
     * jobs it lets in waited for their next try, {@code runner.slot-retry}, with the slots free (crash15).
     *
     * @param limits each rule's {@code concurrency} in the rules now loaded (0: no limit), by rule name;
     *               negative entries are ignored, the jobs of a rule not in it are left as they are
     * @return how many jobs were given a new limit
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public int applyLimits(Map<String, Integer> limits) {
        return changeLimits(limits).stream().mapToInt(LimitChange::jobs).sum();
    }

    /**
     * What {@link #applyLimits} changed for one rule.
     *
     * @param rule the rule's name
     * @param from the limit its newest job still to run was stored with (0: none), the one in force before
     * @param to   the limit it was given (0: none)
     * @param jobs how many of its jobs still to run were given it, at least 1
     */
    public record LimitChange(String rule, int from, int to, int jobs) {
    }

    /**
     * {@link #applyLimits}, saying per rule what changed: from which limit to which, for how many jobs,
     * in the order of the rules' newest jobs (newest first). A start or reload whose rules file differs
     * from the one the jobs were stored with changes them; in a cluster a node with another file than the
     * others' does so at every start (tryout17 F4), which this makes visible.
     *
     * @param limits as for {@link #applyLimits}
     * @return one entry per rule whose jobs were given a new limit; empty when none was
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<LimitChange> changeLimits(Map<String, Integer> limits) {
        // One read of the jobs still to run (few, by jobs_state_idx), not one per rule over all its jobs.
        Map<String, String> ruleOf = new java.util.HashMap<>();
        // The limit each of them was stored with.
        Map<String, Integer> fromOf = new java.util.HashMap<>();
        // Of the jobs given no limit: those refused a slot under the old one, put back for their next try.
        List<String> slotWaiters = new ArrayList<>();
        // The rules of the jobs that had no limit and are given one: some may run holding no slot.
        Set<String> limitSet = new java.util.HashSet<>();
        List<Map.Entry<String, Integer>> toChange = db.inTransaction("read the jobs whose rule's limit changed",
                Durability.DEFERRED, c -> {
                    slotWaiters.clear();
                    limitSet.clear();
                    List<Map.Entry<String, Integer>> found = new ArrayList<>();
                    try (PreparedStatement p = c.prepareStatement("SELECT id, rule_name, concurrency, state, slot_waiting"
                            + " FROM jobs WHERE rerun_of IS NULL AND state IN " + STILL_TO_RUN + " ORDER BY id DESC");
                            ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            Integer limit = limits.get(rs.getString(2));
                            if (limit != null && limit >= 0 && rs.getInt(3) != limit) {
                                found.add(Map.entry(rs.getString(1), limit));
                                ruleOf.put(rs.getString(1), rs.getString(2));
                                fromOf.put(rs.getString(1), rs.getInt(3));
                                if (limit == 0 && rs.getInt(5) == 1 && JobState.QUEUED.name().equals(rs.getString(4))) {
                                    slotWaiters.add(rs.getString(1));
                                }
                                if (limit > 0 && rs.getInt(3) == 0) {
                                    limitSet.add(rs.getString(2));
                                }
                            }
                        }
                    }
                    return found;
                });
        Map<String, LimitChange> changes = new java.util.LinkedHashMap<>();
        // The rules given a limit they did not have whose running jobs have not been given their slots yet.
        Set<String> toHold = new java.util.HashSet<>(limitSet);
        for (Map.Entry<String, Integer> job : toChange) {
            String rule = ruleOf.get(job.getKey());
            boolean hold = job.getValue() > 0 && toHold.contains(rule);
            int changed = db.inTransaction("give a job its rule's new limit", Durability.DEFERRED, c -> {
                if (hold) {
                    // The limit comes into force with the rule's newest job (currentLimit; a job read without one reads
                    // it then, StoreReader.JOB_TO_RUN): in the same transaction, under the rule's turn, each job of the
                    // rule picked at the moment and holding no slot is given one (crash16), whatever limit its row
                    // still says. Given after the loop, a take in between started a newer job beside the one running
                    // without a slot, and nothing gave that one its slot when the loop failed midway (review57b F2).
                    line.inTurn(c, rule);
                }
                int n;
                try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET concurrency = ? WHERE id = ?"
                        + " AND concurrency <> ? AND rerun_of IS NULL AND state IN " + STILL_TO_RUN)) {
                    p.setInt(1, job.getValue());
                    p.setString(2, job.getKey());
                    p.setInt(3, job.getValue());
                    n = p.executeUpdate();
                }
                if (hold && n > 0) {
                    line.holdForPicked(c, rule);
                }
                return n;
            });
            if (hold && changed > 0) {
                toHold.remove(rule);
            }
            if (changed > 0) {
                // Newest first: the first job of a rule is its newest, whose limit was the one in force.
                changes.merge(ruleOf.get(job.getKey()), new LimitChange(ruleOf.get(job.getKey()),
                        fromOf.get(job.getKey()), job.getValue(), changed),
                        (a, b) -> new LimitChange(a.rule(), a.from(), a.to(), a.jobs() + b.jobs()));
            }
        }
        // The rules whose jobs were given a limit above 0, each with its newest job (read first): a raised
        // limit has free slots for the jobs that waited under the old one.
        Map<String, String> newest = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Integer> job : toChange) {
            if (job.getValue() > 0) {
                newest.putIfAbsent(ruleOf.get(job.getKey()), job.getKey());
            }
        }
        int woken = 0;
        for (Map.Entry<String, String> rule : newest.entrySet()) {
            woken += db.inTransaction("wake the jobs a new limit lets in", Durability.DEFERRED, c -> {
                line.inTurn(c, rule.getKey());
                return line.wakeTurn(c, rule.getKey(), rule.getValue());
            });
        }
        if (!slotWaiters.isEmpty()) {
            // A limit removed: nothing holds them back any more, and they are no longer in any line that a
            // freed slot would wake (crash15). Only those refused a slot: a retry in its backoff waits on.
            woken += db.inTransaction("wake the jobs a removed limit lets in", Durability.DEFERRED,
                    c -> line.wake(c, slotWaiters));
        }
        if (woken > 0) {
            jobsDue.run();
        }
        return List.copyOf(changes.values());
    }

    /** The states of a job that may still run an attempt ({@link #applyLimits}). */
    private static final String STILL_TO_RUN = "('QUEUED', 'WAITING', 'RUNNING', 'AWAITING_APPROVAL')";

    /**
     * Whether a job that {@code jobId} superseded under {@code running: cancel} is not final yet: picked or
     * running somewhere, its cancellation asked but its process tree not yet gone (its node kills it within
     * {@code runner.cancel-check}, then gives it up to {@code runner.kill-grace} to end). The newer job waits
     * for that, or the two builds' commands would run at once (chaos15 F2). An older job whose node died
     * stays so until another node takes it over and records it; one without an execution in the queue (no
     * node will ever end it) does not count.
     *
     * <p>When such a job is found, puts the job's execution, picked
     * by this node at {@code version}, back in the queue for {@code retryAt} in the same transaction. The
     * older job's end wakes it then ({@link #wakeSuperseding(Connection, String)}): put back in a
     * transaction of its own, after the look, a job whose older one ended in between was still picked
     * when the end looked for it to wake, and waited for its next try. On PostgreSQL the older jobs' rows
     * are locked for the look, in id order as every transaction locking several jobs' rows does, so that their
     * end waits for the put back, or the look for their end.
     *
     * @param rule    the jobs' rule
     * @param key     their rendered supersede key
     * @param retryAt when the job looks again
     * @return {@link Take#TAKEN} when no job it superseded still runs (it may start);
     *         {@link Take#PUT_BACK} when one does and the execution was put back; {@link Take#NOT_FREE}
     *         when one does and {@code version} is negative (the caller puts it back);
     *         {@link Take#PICK_LOST} when the execution is no longer picked at {@code version}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Take putBackWhileSupersededRuns(String jobId, String rule, String key, long version, Instant retryAt) {
        // The old names' jobs too, which a job of a rule with renamed-from supersedes as its own (renames37).
        java.util.SortedSet<String> rules = renames.renamedFrom(rule);
        rules.add(rule);
        try {
            return db.inTransaction("look for the jobs it superseded", Durability.DEFERRED, c -> {
                String older = null;
                try (PreparedStatement p = c.prepareStatement("SELECT id FROM jobs WHERE rule_name IN ("
                        + String.join(", ", java.util.Collections.nCopies(rules.size(), "?")) + ")"
                        + " AND supersede_key = ? AND state IN ('QUEUED', 'WAITING', 'RUNNING') AND superseded_by = ?"
                        // Only while some node will end it: one whose execution is gone never would.
                        + " AND " + executionExists("jobs.id", "", db.dialect())
                        // In id order, as a delivery superseding them locks them (Supersede.supersedeOlder): in the
                        // scan's order (by state, then where the row lies) the two deadlocked (review33 L, loose34).
                        // On SQLite too: the message names the oldest (tryout33 F9 c).
                        + " ORDER BY id" + (db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : ""))) {
                    int i = 0;
                    for (String name : rules) {
                        p.setString(++i, name);
                    }
                    p.setString(++i, key);
                    p.setString(++i, jobId);
                    p.setString(++i, JobQueue.TASK_NAME);
                    try (ResultSet rs = p.executeQuery()) {
                        if (rs.next()) {
                            older = rs.getString(1);
                        }
                    }
                }
                String rest = withoutSlotWait(db.dialect());
                if (older == null) {
                    // The wait is over: its words go (written only when they are there).
                    try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET message = " + rest
                            + " WHERE id = ? AND message LIKE ?")) {
                        p.setString(1, jobId);
                        p.setString(2, "%" + SUPERSEDED_WAIT + "%");
                        p.executeUpdate();
                    }
                    return Take.TAKEN;
                }
                if (version < 0) {
                    return Take.NOT_FREE;
                }
                putBack(c, jobId, version, retryAt);
                // Said where the job is shown (buildhook jobs, job show, the API, the status page), as the log says
                // it, after the job's own message (tryout33 F9 c: its MESSAGE was "-" for minutes).
                String why = supersededWait(older);
                try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET message = CASE WHEN " + rest
                        + " IS NULL THEN ? ELSE " + rest + " || '; ' || ? END WHERE id = ?")) {
                    p.setString(1, why);
                    p.setString(2, why);
                    p.setString(3, jobId);
                    p.executeUpdate();
                }
                return Take.PUT_BACK;
            });
        } catch (PickLost e) {
            return Take.PICK_LOST;
        }
    }

    /**
     * The rule's concurrency as its newest job still to run was stored with, which the rules in force
     * gave it; {@code otherwise} (SQL: the asking job's own) when there is none; the rule parameter 1. After a
     * reload changed the limit, the older jobs go by the new one too: kept at the old, lower one, they
     * waited while any slot was held, and the younger jobs, having room, kept them busy (review12 L10). A
     * re-run is not asked: it keeps the plan of the job it re-runs, whose limit may be from before the
     * reload, and after a reload that lowered the limit every job of the rule went by the old, higher one
     * (review12). A sub-query of the statement that counts the slots held and the jobs ahead, not a
     * statement of its own (review12 L16).
     */
    static String currentLimit(String otherwise) {
        return "COALESCE((SELECT concurrency FROM jobs WHERE rule_name = ? AND concurrency > 0 AND state IN"
                + " ('QUEUED', 'WAITING', 'RUNNING') AND rerun_of IS NULL ORDER BY id DESC LIMIT 1), " + otherwise + ")";
    }

    /**
     * The condition (on {@code jobs j}) of a job in the line of a rule's slots: of the rule (parameter
     * 1), with a limit, not final, no cancellation asked (a cancelled or superseded job leaves the line
     * at once, not when it is next picked), holding no slot, with an execution in the queue (parameter
     * 2, the task name: a job whose execution is gone can never take its turn), and either a first
     * attempt or marked {@code slot_waiting}. A job in its retry's backoff is not in it: it would hold
     * the younger jobs up for the whole backoff. Names the condition of {@code jobs_slot_line_idx}, so
     * that only the rule's jobs that may still run are read. A job whose node died while it was
     * picked stays in the line until the dead-node limit puts its execution back in the queue.
     *
     * <p>Nor is a job {@code WAITING} for shared resources: it had the slot and gave it back for want of
     * them, and its resources' line orders it (by when it began to wait, not by id); such jobs go before
     * these, in that order ({@link #waitingForUnits}, chaos32 F2). In both lines, two
     * jobs of a rule in opposite orders (a younger one approved first, ids from two nodes' clocks) held
     * each other back for ever, and with them the rule and every job needing those resources (review12 H1).
     * The {@code IN} list stays whole so that the planner sees the index's condition.
     */

    static String inLine(Dialect dialect) {
        return "j.rule_name = ? AND j.concurrency > 0 AND j.state IN ('QUEUED', 'WAITING', 'RUNNING')"
                + " AND j.state <> 'WAITING' AND j.cancel_requested = 0 AND (j.attempts = 0 OR j.slot_waiting = 1)"
                + " AND NOT EXISTS (SELECT 1 FROM rule_slots r WHERE r.job_id = j.id)"
                + " AND " + executionExists("j.id", "", dialect);
    }

    /**
     * The condition (on {@code jobs j}) of a job of the rule (parameter 1) waiting for shared units, in their line
     * ({@link ResourceLedger}: {@code WAITING}, or cut short and waiting in its place, {@code RUNNING} with {@code
     * waiting_since}), with a limit, no cancellation asked, holding no slot of the rule, its execution in the queue
     * (parameter 2, the task name). Such a job gave its slot back for want of units; in its rule's line for a slot it
     * goes before every job not waiting for units, in the units' order ({@code waiting_since}, then id), which
     * is the one it gets them in (chaos32 F2): a younger job of the rule, or one not waiting yet, that took the slot
     * would be refused the units (this one waits before it) and give it back, and the first job waiting for them,
     * finding the slot held by one of those at each of its tries, waited for minutes. One order for both lines, so
     * that no two jobs hold each other back (review12 H1). Within {@code jobs_slot_line_idx}'s condition.
     */
    static String waitingForUnits(Dialect dialect) {
        return "j.rule_name = ? AND j.concurrency > 0 AND j.state IN ('QUEUED', 'WAITING', 'RUNNING')"
                + " AND (j.state = 'WAITING' OR (j.state = 'RUNNING' AND j.waiting_since IS NOT NULL))"
                + " AND j.cancel_requested = 0 AND NOT EXISTS (SELECT 1 FROM rule_slots r WHERE r.job_id = j.id)"
                + " AND " + executionExists("j.id", "", dialect);
    }

    /**
     * Since when the job waits for shared units (epoch ms), as {@link #waitingForUnits} places it: its
     * {@code waiting_since} when it is {@code WAITING}, or {@code RUNNING} with one; else {@code null}.
     */
    private static Long unitsPlace(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT waiting_since FROM jobs WHERE id = ? AND"
                + " (state = 'WAITING' OR (state = 'RUNNING' AND waiting_since IS NOT NULL))")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long since = rs.getLong(1);
                return rs.wasNull() ? null : since;
            }
        }
    }

    /**
     * The last step of a transaction that must hold the job's pick ({@link #tryAcquireSlot},
     * {@link ResourceLedger#tryAcquire}): renews the execution's heartbeat if it is still picked at
     * {@code version}, else throws {@link PickLost}, which rolls the transaction back. Last, so that on
     * PostgreSQL the execution's row is locked only for the end of the transaction: locked earlier, a
     * wait for another row (a slot another transaction is taking, a resource's lock) would hold up
     * db-scheduler's heartbeats, which the node writes one after another, and a node whose heartbeats
     * stop kills its own jobs (fencing). Nothing when {@code version} is negative.
     *
     * @throws PickLost when the pick is no longer this node's
     */
    void holdLease(Connection c, String jobId, long version) throws SQLException {
        if (version >= 0 && !renewLease(c, jobId, version)) {
            throw new PickLost();
        }
    }

    /** Thrown by {@link #holdLease} to roll its transaction back; caught by its caller, never further. */
    static final class PickLost extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PickLost() {
            super("the job's execution is no longer picked at this node's version", null, false, false);
        }
    }

    /**
     * In the transaction of {@code c}: renews the heartbeat of the job's execution if it is still
     * picked at {@code version} ({@link #LEASE}), and says whether it was. On PostgreSQL this takes
     * the execution's row lock until the transaction ends: a concurrent release waits for it, then
     * finds the heartbeat renewed.
     */
    boolean renewLease(Connection c, String jobId, long version) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(LEASE)) {
            bindLease(p, 1, jobId, version, clock.instant());
            return p.executeUpdate() == 1;
        }
    }

    /**
     * Whether {@code node} still holds the job's execution as it picked it ({@code version}) with a heartbeat no older
     * than {@code maxAge} by this host's clock; if so, renews that heartbeat now, in the same statement (chaos33 F2,
     * RELIABILITY bug 10). Asked just before and just after a command's process is created when the job's thread went
     * on late since its last look: another node revives an execution whose heartbeat is older than the dead-node limit,
     * so one this young cannot have been taken (clocks apart by less than the limit less {@code maxAge}), and once
     * renewed it cannot be until the limit has passed again. A taker's revival changes the version; db-scheduler's own
     * heartbeats, which renew the row meanwhile, count. The version is not changed (db-scheduler's completion of the
     * execution checks it).
     *
     * @param jobId   the job's id (its execution's task instance)
     * @param node    this node's id, as it picked the execution
     * @param version the execution's version at this node's pick
     * @param maxAge  how old its heartbeat may be, over 0
     * @return true when the hold was confirmed and renewed; false when the execution is gone, no longer picked by
     *         {@code node} at {@code version}, or its heartbeat is older than {@code maxAge}
     * @throws org.buildhook.runner.RunnerException as any write, when the store cannot be reached
     */
    public boolean confirmLease(String jobId, String node, long version, Duration maxAge) {
        Instant now = clock.instant();
        return db.inTransaction("confirm this node's hold on a job before its command is created",
                Durability.DEFERRED, c -> {
                    try (PreparedStatement p = c.prepareStatement(LEASE + " AND picked_by = ? AND last_heartbeat >= ?")) {
                        int next = bindLease(p, 1, jobId, version, now);
                        p.setString(next, node);
                        jdbc.setInstant(p, next + 1, now.minus(maxAge));
                        return p.executeUpdate() == 1;
                    }
                });
    }

    /**
     * Frees the slot {@code node} holds for the job. Only its own: when another node has taken the
     * job over meanwhile (this one stopped heart-beating), the slot it took is left alone.
     */
    public void releaseSlot(String jobId, String node) {
        db.inTransaction("free a concurrency slot", Durability.DEFERRED, c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM rule_slots WHERE job_id = ? AND node = ?")) {
                p.setString(1, jobId);
                p.setString(2, node);
                p.executeUpdate();
            }
            return null;
        });
    }

    /** Tells the store's jobs-queued listeners, once a transaction that made jobs due now has committed. */
    void madeDue() {
        jobsDue.run();
    }

    /**
     * As {@link #releaseSlot(String, String)}, and wakes the jobs whose turn it is now, in the same
     * transaction: the first of the rule's line ({@link #inLine}), one for each slot free (the limit in
     * force less the slots held by jobs still picked), that wait in the queue for a later time (they
     * found no slot and were put back for {@code runner.slot-retry}) are made due now
     * ({@link SlotLine#wakeTurn}).
     * One picked at the moment tries on its own: it sees the slot free, or it was put back before this
     * release, which then wakes it ({@link #tryAcquireSlot(String, int, String, String, long, Instant)}).
     * Before, only the first in line was woken, and only when it waited for its next try: with two slots
     * freed before the job the first woke had taken its own, or with that job refused a moment before,
     * the next start waited for {@code runner.slot-retry} (review12 L1). Jobs woken are told to the
     * store's jobs-queued listeners once committed, so that this node's engine picks them at once rather
     * than at its next poll.
     *
     * @return whether a job was woken
     */
    public boolean releaseSlot(String jobId, String ruleName, String node) {
        RuleRenames renames = this.renames;
        boolean woken = db.inTransaction("free a concurrency slot", Durability.DEFERRED, c -> {
            // The rules that share the rule's slots by a rename count this slot too (renames37): their lines are woken
            // with its own, their turns taken with its own in their keys' order (SlotLine.inTurns), before any row lock
            // (tryAcquireSlot).
            java.util.SortedSet<String> linked = linkedLines(c, renames, ruleName, jobId);
            java.util.SortedSet<String> turns = new java.util.TreeSet<>(linked);
            turns.add(ruleName);
            line.inTurns(c, turns);
            try (PreparedStatement p = c.prepareStatement("DELETE FROM rule_slots WHERE job_id = ? AND node = ?")) {
                p.setString(1, jobId);
                p.setString(2, node);
                p.executeUpdate();
            }
            int n = line.wakeTurn(c, ruleName, jobId);
            for (String other : linked) {
                n += line.wakeTurn(c, other, jobId);
            }
            return n > 0;
        });
        if (woken) {
            jobsDue.run();
        }
        return woken;
    }

    /**
     * Records the start of the next attempt and marks the job running on {@code node}; returns the
     * attempt number, or 0 when the job is already final (an outcome recorded meanwhile: it must
     * not run again). An attempt still marked running (its node stopped heart-beating) is recorded
     * as interrupted first. The job's row is locked for the transaction, so that this and
     * {@link #finishAttempt} never both succeed for the same attempt. Where it runs (this JVM, its
     * host and boot: {@link NodeIdentity#current()}) is recorded with it, so that its leftovers can
     * be found if this node dies.
     *
     * <p>Without a check that the node still holds the job's execution: for the engine, see
     * {@link #startAttempt(String, String, long)}.
     */
    public int startAttempt(String jobId, String node) {
        return startAttempt(jobId, node, -1);
    }

    /** What {@link #startAttempt(String, String, long)} returns when the pick is no longer this node's. */
    public static final int LOST_PICK = -1;

    /**
     * How many attempts in a row cut short by their node's death ({@code job_attempts.node_died}: their end
     * recorded by another node, because their own one had died or stopped heart-beating) make a job a poison
     * pill that is not run again, unless {@code runner.deaths-in-a-row} says otherwise: 3, as Sidekiq Pro's
     * super_fetch counts a job recovered after 3 crashes.
     */
    public static final int DEATHS_IN_A_ROW = 3;

    /**
     * What {@link #startAttempt(String, String, long)} returns, starting nothing, when the job's last
     * {@code deathsInARow} attempts were each cut short by their node's death: the job is to end
     * {@code FAILED} ({@link #finishWithoutAttempt}), not run again (review20 R3).
     */
    public static final int NODE_DIED_IN_A_ROW = -2;

    /**
     * How many attempts in a row cut short by their node's graceful stop (or its death, at least one of them a stop:
     * {@link NodeEnd#STOPPED}) make a job end {@code FAILED} instead of running again, unless
     * {@code runner.stops-in-a-row} says otherwise: 10. A command that stops or restarts its own server gracefully
     * ({@code systemctl restart buildhook}, {@code kill} of the server, {@code podman restart}) is cut short by that
     * stop and would run first again after every start, for ever (review21 R2); an operator's deploys during one long
     * job are real stops too, hence a bound larger than {@link #DEATHS_IN_A_ROW}.
     */
    public static final int STOPS_IN_A_ROW = 10;

    /**
     * What {@link #startAttempt(String, String, long, InARow)} returns, starting nothing, when the job's last
     * {@link InARow#stops()} attempts were each cut short by its node's end, a graceful stop or a death, at least one
     * of them a stop: the job is to end {@code FAILED} ({@link #finishWithoutAttempt}), not run again (review21 R2).
     */
    public static final int NODE_STOPPED_IN_A_ROW = -3;

    /**
     * What {@link #startAttempt(String, String, long, InARow)} returns, starting nothing, when the job's latest attempt,
     * recorded cut short ({@code INTERRUPTED}) or still running, has what it came to recorded since the caller looked
     * ({@link #decided}): its node's next start wrote it ({@link #recordKnownOutcome}) between the pick's look and
     * this start. The job is to be concluded from it, its command not run again (review29 R4). Answered before
     * {@link #CANCEL_ASKED} when both came since the caller looked, as the caller's read looks at what the attempt came
     * to before the cancel (supersede21): the caller reads the flag again ({@link #cancelRequested}) and concludes the
     * job cancelled or superseded, keeping that exit (review50b R8).
     */
    public static final int DECIDED_MEANWHILE = -4;

    /**
     * What {@link #startAttempt(String, String, long, InARow)} returns, starting nothing, when the job was asked to
     * await the approval its rule asks for since it was queued while this node had it picked ({@code
     * DeliveryWriter.gate}, tryout33 F11): it is {@code AWAITING_APPROVAL} now, its execution removed in the same
     * transaction; the caller frees what it took for it (its slot, its units) and leaves the execution alone.
     */
    public static final int GATED = -5;

    /**
     * What {@link #startAttempt(String, String, long, InARow)} returns, starting nothing and writing nothing but the
     * pick's lease, when a cancel (or a newer build's supersede) of the job was asked after the caller read it: its
     * execution was picked at the moment, so the cancel only flagged it ({@code cancel_requested}) and left the job to
     * this node. The caller ends it as it ends a job read flagged ({@link #markCancelled}; a supersede's flag makes it
     * {@code SUPERSEDED}), and frees what it took for it. Before, the start did not look at the flag: the command of a
     * job with a concurrency slot or shared units, read before its cancel and started after it, ran until the node's
     * next cancel check, after the operator was told it would not start (delcancel50).
     */
    public static final int CANCEL_ASKED = -6;

    /**
     * The job as {@code DeliveryWriter.gate} leaves one it could move at once: {@code AWAITING_APPROVAL}, expiring its
     * {@code approval_expiry_ms} from {@code now}, its execution (this pick's, or any unpicked one with no pick to go
     * by) removed, recorded in the audit trail; in the transaction that holds its row.
     */
    private void gateAtStart(Connection c, String jobId, long version, Instant now) throws SQLException {
        String why = "awaiting the approval its rule asks for since a reload that came after it was queued (it was"
                + " planned without one, and asked to await one as a node was about to start it)";
        try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, expires_at = ? + approval_expiry_ms,"
                + " message = ?, waiting_since = NULL WHERE id = ?")) {
            p.setString(1, JobState.AWAITING_APPROVAL.name());
            p.setLong(2, now.toEpochMilli());
            p.setString(3, why);
            p.setString(4, jobId);
            p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("DELETE FROM scheduled_tasks WHERE task_name = ?"
                + " AND task_instance = ?" + (version >= 0 ? " AND version = ?" : " AND picked = ?"))) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setString(2, jobId);
            if (version >= 0) {
                p.setLong(3, version);
            } else {
                p.setBoolean(3, false);
            }
            p.executeUpdate();
        }
        String deliveryId;
        try (PreparedStatement p = c.prepareStatement("SELECT delivery_id FROM jobs WHERE id = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                deliveryId = rs.getString(1);
            }
        }
        DeliveryWriter.insertAction(c, new AdminAction(ids.next(), now, Approvals.SYSTEM_ACTOR,
                DeliveryWriter.GATE_ACTION, deliveryId, jobId, why));
    }

    /**
     * Tests only: run with the job's id when {@link #startAttempt(String, String, long, InARow)} begins, before it
     * writes or locks anything; null otherwise.
     */
    static volatile java.util.function.Consumer<String> beforeStart;

    /**
     * Tests only: run with the job's id inside the transaction of {@link #startAttempt(String, String, long, InARow)}
     * once it holds the job's row and found nothing that stops the start, just before the attempt is written (a
     * later attempt only, not a job's first); null otherwise.
     */
    static volatile java.util.function.Consumer<String> afterStartLook;

    private static void seam(java.util.function.Consumer<String> seam, String jobId) {
        if (seam != null) {
            seam.accept(jobId);
        }
    }

    /**
     * The bounds on attempts in a row cut short by their node's end, as the node that would start the job again
     * has them ({@code runner.deaths-in-a-row}, {@code runner.stops-in-a-row}).
     *
     * @param deaths attempts in a row each ended by its node's death ({@link NodeEnd#DIED}), 1 or more
     * @param stops  attempts in a row each ended by its node's stop or death ({@link NodeEnd#STOPPED},
     *               {@link NodeEnd#DIED}), at least one of them a stop, 1 or more; a row of deaths only is
     *               {@code deaths}' to judge
     */
    public record InARow(int deaths, int stops) {

        /** {@link #DEATHS_IN_A_ROW} and {@link #STOPS_IN_A_ROW}. */
        public static final InARow DEFAULT = new InARow(DEATHS_IN_A_ROW, STOPS_IN_A_ROW);

        /** @throws IllegalArgumentException when a bound is below 1 */
        public InARow {
            if (deaths < 1 || stops < 1) {
                throw new IllegalArgumentException("deaths and stops in a row must be 1 or more, got " + deaths + " and "
                        + stops);
            }
        }
    }

    /** Whether the last {@code deaths} of the job's {@code attempts} attempts were each ended by a death. */
    private static boolean diedInARow(Connection c, String jobId, int attempts, int deaths) throws SQLException {
        return endsInARow(c, jobId, attempts - deaths, attempts)[0] == deaths;
    }

    /**
     * Whether the last {@code stops} of the job's {@code attempts} attempts were each ended by its node's stop or
     * death, at least one of them a stop.
     */
    private static boolean stoppedInARow(Connection c, String jobId, int attempts, int stops) throws SQLException {
        int[] ends = endsInARow(c, jobId, attempts - stops, attempts);
        return ends[0] + ends[1] == stops && ends[1] > 0;
    }

    /**
     * Of the job's attempts after {@code after} up to {@code upTo}: how many were cut short by their node's death
     * ({@code [0]}) and by its graceful stop ({@code [1]}).
     */
    private static int[] endsInARow(Connection c, String jobId, int after, int upTo) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT node_died, COUNT(*) FROM job_attempts WHERE job_id = ?"
                + " AND attempt > ? AND attempt <= ? AND outcome = ? AND node_died IS NOT NULL GROUP BY node_died")) {
            p.setString(1, jobId);
            p.setInt(2, after);
            p.setInt(3, upTo);
            p.setString(4, AttemptOutcome.INTERRUPTED.name());
            int[] ends = new int[2];
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    ends[rs.getInt(1) == 1 ? 0 : 1] += rs.getInt(2);
                }
            }
            return ends;
        }
    }

    /**
     * How many of the job's last {@code last} attempts were cut short by their node's death, for the words of a job
     * ended by {@link #NODE_STOPPED_IN_A_ROW}.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public int deathsAmongLast(String jobId, int last) {
        return db.read("count the deaths among a job's last attempts", c -> {
            int attempts;
            try (PreparedStatement p = c.prepareStatement("SELECT attempts FROM jobs WHERE id = ?")) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return 0;
                    }
                    attempts = rs.getInt(1);
                }
            }
            return endsInARow(c, jobId, attempts - last, attempts)[0];
        });
    }

    /**
     * As {@link #startAttempt(String, String)}, under the pick this node made: the attempt starts
     * only if the job's execution is still picked at {@code version} — db-scheduler raises the
     * version at every pick, and every release and revival raises it too — and then its heartbeat is
     * renewed in the same transaction (PostgreSQL: the same statement for a first attempt). So the
     * pick is the attempt's lease: a release of it and the start of an attempt under it never both
     * succeed, whichever comes first. A release first: this returns {@link #LOST_PICK} and nothing
     * is written. The start first: the renewed heartbeat makes the pick no longer stale (see
     * {@link #releaseStalePicks}), and db-scheduler's dead-execution check no longer finds it old.
     *
     * @param version the version of the execution as this node picked it; negative for no check
     * @return the attempt number (from 1), 0 when the job is already final, {@link #LOST_PICK}, or
     *         {@link #NODE_DIED_IN_A_ROW} (nothing started) when its node's death ended each of its last
     *         {@link #DEATHS_IN_A_ROW} attempts (the last maybe ended just now, as above), or
     *         {@link #NODE_STOPPED_IN_A_ROW} when its node's stop or death ended each of its last
     *         {@link #STOPS_IN_A_ROW}, at least one of them a stop, or {@link #DECIDED_MEANWHILE} (nothing started)
     *         when its latest attempt, cut short or still running, has what it came to recorded, or
     *         {@link #CANCEL_ASKED} (nothing started) when a cancel or supersede of it was asked, or {@link #GATED}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public int startAttempt(String jobId, String node, long version) {
        return startAttempt(jobId, node, version, InARow.DEFAULT);
    }

    /**
     * As {@link #startAttempt(String, String, long)}, with {@code deathsInARow} (1 or more) attempts in a row
     * cut short by their node's death making the job a poison pill ({@link #NODE_DIED_IN_A_ROW}) instead of
     * {@link #DEATHS_IN_A_ROW} ({@code runner.deaths-in-a-row}).
     */
    public int startAttempt(String jobId, String node, long version, int deathsInARow) {
        return startAttempt(jobId, node, version, new InARow(deathsInARow, STOPS_IN_A_ROW));
    }

    /**
     * As {@link #startAttempt(String, String, long)}, with the bounds of {@code inARow}: {@link #NODE_DIED_IN_A_ROW}
     * when its node's death ended each of the job's last {@link InARow#deaths()} attempts, else
     * {@link #NODE_STOPPED_IN_A_ROW} when its node's graceful stop or death ended each of its last
     * {@link InARow#stops()}, at least one of them a stop (nothing started in either case). Any other end of an
     * attempt between them (an outcome, a retried failure, its node's self-fencing, a start it could not make) starts
     * both counts again.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public int startAttempt(String jobId, String node, long version, InARow inARow) {
        return startAttempt(jobId, node, version, inARow, Map.of());
    }

    /**
     * As {@link #startAttempt(String, String, long, InARow)}, recording on the attempt started which units of shared
     * resources it holds ({@code job_attempts.unit_numbers}, V20, as {@link #unitNumbersText}): shown with the attempt,
     * and preferred when the job, cut short, takes units again after its own were freed ({@link ResourceLedger}).
     *
     * @param units the numbers of the units the job took under this pick ({@link ResourceLedger.Acquired#units()}), by
     *              resource; empty for a job that needs none (nothing recorded)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public int startAttempt(String jobId, String node, long version, InARow inARow, Map<String, List<Integer>> units) {
        String unitNumbers = unitNumbersText(units);
        int deathsInARow = inARow.deaths();
        NodeIdentity owner = NodeIdentity.current();
        Instant now = clock.instant();
        seam(beforeStart, jobId);
        if (db.dialect() == Dialect.POSTGRESQL) {
            boolean started = db.inOneStatement("start an attempt", Durability.DEFERRED, c -> {
                try (PreparedStatement p = c.prepareStatement(version < 0 ? FIRST_ATTEMPT : LEASED_FIRST_ATTEMPT)) {
                    int next = 1;
                    if (version >= 0) {
                        p.setString(1, jobId);
                        next = bindLease(p, 2, jobId, version, now);
                    }
                    bindFirstAttempt(p, next, jobId, node, owner, now, unitNumbers);
                    return p.executeUpdate() == 1;
                }
            });
            if (started) {
                return 1;
            }
            // Not a first attempt, final, gone or no longer this node's pick: the transaction below
            // tells which, and ends an earlier attempt still marked running.
        }
        String lock = db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : "";
        return db.inTransaction("start an attempt", Durability.DEFERRED, c -> {
            boolean leased = false;
            if (db.dialect() == Dialect.SQLITE) {
                // A first attempt without reading the job's row first (docs/BENCHMARKS.md, "Twentieth pass: the job's
                // bookkeeping"): SQLite's one writer makes the lease, the job's update and the attempt's insert one
                // step, as PostgreSQL's statement of FIRST_ATTEMPT does; anything else takes the way below.
                leased = version < 0 || renewLease(c, jobId, version);
                if (leased) {
                    try (PreparedStatement p = c.prepareStatement(SQLITE_FIRST_ATTEMPT)) {
                        p.setString(1, JobState.RUNNING.name());
                        p.setLong(2, now.toEpochMilli());
                        p.setString(3, node);
                        p.setString(4, jobId);
                        if (p.executeUpdate() == 1) {
                            insertAttempt(c, jobId, 1, node, owner, now, unitNumbers);
                            return 1;
                        }
                    }
                }
            }
            int attempts;
            boolean isFinal;
            boolean gate;
            boolean cancelAsked;
            // The job's row first, then the execution's (the lease): the order in which every other
            // writer of both takes them (finishAttempt, interruptLeftover). Taken the other way round,
            // a lease waiting here for a job's row held by another transaction would hold the
            // execution's row meanwhile, and db-scheduler's heartbeats, written one after another,
            // would all wait behind it.
            try (PreparedStatement p = c.prepareStatement("SELECT attempts, state, CASE WHEN "
                    + DeliveryWriter.GATEABLE + " AND expires_at IS NOT NULL THEN 1 ELSE 0 END, cancel_requested"
                    + " FROM jobs WHERE id = ?" + lock)) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        throw new RunnerException("no job " + jobId);
                    }
                    attempts = rs.getInt(1);
                    isFinal = JobState.valueOf(rs.getString(2)).isFinal();
                    gate = rs.getInt(3) == 1;
                    cancelAsked = rs.getInt(4) != 0;
                }
            }
            if (version >= 0 && !leased && !renewLease(c, jobId, version)) {
                return LOST_PICK;
            }
            if (isFinal) {
                return 0;
            }
            // What its attempt cut short came to, recorded since the pick looked (recordKnownOutcome, which takes the
            // job's row first too): the job is concluded from it, not run again. Looked at under the job's row, so
            // that record and this start never both go through as if the other had not been (review29 R4). Before
            // its cancel, as the pick's read looks (supersede21): a cancel asked meanwhile too wins all the same
            // when the caller concludes the job, which keeps that exit (review50b R8: CANCEL_ASKED first ended it
            // "cancelled while attempt N ran; its node stopped before the attempt ended", the exit lost).
            if (attempts > 0 && decidedWhileCutShort(c, jobId, attempts)) {
                return DECIDED_MEANWHILE;
            }
            if (cancelAsked) {
                // Cancelled (or superseded) after the caller read it, as its node had it picked: never started now,
                // whatever the answer to the cancel said (CANCEL_ASKED). Before an approval asked at its start.
                return CANCEL_ASKED;
            }
            if (gate) {
                // Asked to await the approval its rule asks for since it was queued, while this node had it picked
                // (DeliveryWriter.gate, tryout33 F11): it awaits one instead of starting, its execution removed here.
                gateAtStart(c, jobId, version, now);
                return GATED;
            }
            if (attempts > 0) {
                seam(afterStartLook, jobId);
            }
            // A job's first attempt has no earlier one to end (attempts are counted in the same
            // transactions that add them): one statement less per job on the writer.
            if (attempts > 0) {
                // One this very process started is no death of its node, nor did it stop heart-beating: this process
                // handles a job on one thread at a time, and that thread left only once it had recorded the attempt's
                // end, so the store lost that record (a crash of its server, a restore, a failover): said so.
                try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET outcome = ?, ended_at = ?,"
                        + " message = CASE WHEN " + THIS_PROCESS + " THEN ? ELSE ? END, node_died = CASE WHEN "
                        + THIS_PROCESS + " THEN 0 ELSE 1 END WHERE job_id = ? AND outcome = ?")) {
                    p.setString(1, AttemptOutcome.INTERRUPTED.name());
                    p.setLong(2, now.toEpochMilli());
                    bindThisProcess(p, 3, node, owner);
                    p.setString(7, LOST_END + node);
                    p.setString(8, UNSWEPT_END + node);
                    bindThisProcess(p, 9, node, owner);
                    p.setString(13, jobId);
                    p.setString(14, AttemptOutcome.RUNNING.name());
                    p.executeUpdate();
                }
                // Its node's deaths ended its last attempts one after another: its command may be what ends
                // the node, and running it again would end this one too (review20 R3).
                if (attempts >= deathsInARow && diedInARow(c, jobId, attempts, deathsInARow)) {
                    return NODE_DIED_IN_A_ROW;
                }
                // Its node's graceful stops (or stops and deaths) ended them: a command that stops or restarts its own
                // server would be cut short by that stop after every start, for ever (review21 R2).
                if (attempts >= inARow.stops() && stoppedInARow(c, jobId, attempts, inARow.stops())) {
                    return NODE_STOPPED_IN_A_ROW;
                }
            }
            int attempt = attempts + 1;
            insertAttempt(c, jobId, attempt, node, owner, now, unitNumbers);
            // The exit code and end of the attempt before are its own (tryout16 F10), not the job's while this runs.
            // Its wait for units is over (it holds them): a late record of the attempt before, by its node that was
            // cut off meanwhile, may have marked it waiting again after this node took them (fence28).
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, attempts = ?, started_at = ?,"
                    + " node = ?, message = NULL, exit_code = NULL, ended_at = NULL, waiting_since = NULL"
                    + " WHERE id = ?")) {
                p.setString(1, JobState.RUNNING.name());
                p.setInt(2, attempt);
                p.setLong(3, now.toEpochMilli());
                p.setString(4, node);
                p.setString(5, jobId);
                p.executeUpdate();
            }
            return attempt;
        });
    }

    /**
     * Whether attempt {@code attempt} of {@code jobId} is recorded cut short ({@code INTERRUPTED}) or still running with
     * what it came to ({@link #recordKnownOutcome}, {@link #recordDecidedLater}): the attempts {@link #decided} reads
     * too. A running one counts as well: its stopped node's next start records into it before its own sweep marks it
     * cut short (recheck29).
     */
    private static boolean decidedWhileCutShort(Connection c, String jobId, int attempt) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM job_attempts WHERE job_id = ? AND attempt = ?"
                + " AND outcome IN (?, ?) AND decided IS NOT NULL")) {
            p.setString(1, jobId);
            p.setInt(2, attempt);
            p.setString(3, AttemptOutcome.INTERRUPTED.name());
            p.setString(4, AttemptOutcome.RUNNING.name());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Inserts attempt {@code attempt} of {@code jobId}, running on {@code node} since {@code now}, holding the units
     * {@code unitNumbers} ({@link #unitNumbersText}, null for none).
     */
    private static void insertAttempt(Connection c, String jobId, int attempt, String node, NodeIdentity owner,
            Instant now, String unitNumbers) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO job_attempts (job_id, attempt, outcome,"
                + " started_at, node, host, boot_id, node_pid, node_started, unit_numbers)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, jobId);
            p.setInt(2, attempt);
            bindRunningAttempt(p, 3, node, owner, now, unitNumbers);
            p.executeUpdate();
        }
    }

    /**
     * SQLite: the job's row of a first attempt, updated only when it has no attempt yet and is not final (as
     * {@link #FIRST_ATTEMPT}'s CTE {@code job}); the attempt's row is inserted when it matched.
     */
    private static final String SQLITE_FIRST_ATTEMPT = "UPDATE jobs SET state = ?, attempts = 1, started_at = ?,"
            + " node = ?, message = NULL, exit_code = NULL, ended_at = NULL WHERE id = ? AND attempts = 0"
            + " AND state NOT IN (" + finalStates() + ") AND expires_at IS NULL AND cancel_requested = 0";

    /** The first attempt's row, inserted for the job that CTE {@code job} returns. */
    private static final String FIRST_ATTEMPT_INSERT = "INSERT INTO job_attempts (job_id, attempt, outcome,"
            + " started_at, node, host, boot_id, node_pid, node_started, unit_numbers)"
            + " SELECT id, 1, ?, ?, ?, ?, ?, ?, ?, ? FROM job";

    /**
     * PostgreSQL: a job's first attempt started in one statement (docs/BENCHMARKS.md, "Fifth pass:
     * PostgreSQL"). The job's {@code UPDATE} locks its row, as the transaction's
     * {@code SELECT … FOR UPDATE} does, and matches only a job that is not final, has no attempt
     * yet and no cancel asked (the transaction then says {@link #CANCEL_ASKED}), so there is no earlier attempt to end; the attempt's row is inserted {@code FROM} its
     * result, so exactly when the job's row was updated. Two nodes starting the same job at once:
     * the second waits for the first's row lock, then finds {@code attempts} no longer 0, matches
     * nothing and takes the transaction, which sees the first's attempt and ends it as the
     * transaction always did.
     */
    private static final String FIRST_ATTEMPT = firstAttempt("WITH ", "");

    /**
     * Renews the heartbeat of the job's execution if it is still picked at the version this node
     * picked it: one row when this node still holds the pick, none when it was released or revived
     * (and perhaps picked again) meanwhile.
     */
    private static final String LEASE = "UPDATE scheduled_tasks SET last_heartbeat = ? WHERE task_name = ?"
            + " AND task_instance = ? AND picked = ? AND version = ?";

    /**
     * {@link #FIRST_ATTEMPT} under the pick: the job's row is updated only if {@link #LEASE}
     * renewed the execution's heartbeat, in the same statement. The job's row is locked first
     * ({@code locked}, which the lease reads), then the lease takes the execution's row lock (the
     * job's update reads the lease): the order of every other writer of both (the transaction of
     * {@link #startAttempt}, {@link #finishAttempt}, {@link ResourceLedger#tryAcquire(Job, String,
     * long)}), so two of them never wait for each other's row; and a lease waiting for the job's row
     * holds no execution row meanwhile. A concurrent release waits for the lease's row lock, then
     * finds the heartbeat renewed.
     */
    private static final String LEASED_FIRST_ATTEMPT = firstAttempt("WITH locked AS (SELECT id FROM jobs WHERE id = ?"
            + " FOR UPDATE), lease AS (" + LEASE + " AND EXISTS (SELECT 1 FROM locked) RETURNING 1), ",
            " AND EXISTS (SELECT 1 FROM lease)");

    /**
     * The first attempt's statement: {@code with} opens its CTEs (a CTE before the job's ends with a
     * comma), {@code condition} is added to the job's {@code WHERE}.
     */
    private static String firstAttempt(String with, String condition) {
        return with + firstAttemptJob(condition) + " " + FIRST_ATTEMPT_INSERT;
    }

    /** The first attempt's CTE {@code job}: the job's update, {@code condition} added to its {@code WHERE}. */
    private static String firstAttemptJob(String condition) {
        return "job AS (UPDATE jobs SET state = ?, attempts = 1,"
                + " started_at = ?, node = ?, message = NULL WHERE id = ? AND attempts = 0 AND state NOT IN ("
                + finalStates() + ") AND expires_at IS NULL AND cancel_requested = 0" + condition + " RETURNING id)";
    }

    /**
     * {@link #jobToStart}'s statement: {@link #LEASED_FIRST_ATTEMPT} for a job that can start at once
     * (its row locked only then), and the job as {@link StoreReader#jobToRun} reads it, with the
     * number of attempts started (0 or 1) as its last column. The read sees the job as it was when
     * the statement began (PostgreSQL runs a statement's parts on one snapshot), never the start.
     */
    private static final String READ_AND_START = "WITH locked AS (SELECT id FROM jobs WHERE id = ?"
            + " AND cancel_requested = 0 AND " + StoreReader.RUNS_WITHOUT_WAITING_CONDITION + " FOR UPDATE),"
            + " lease AS (" + LEASE + " AND EXISTS (SELECT 1 FROM locked) RETURNING 1), "
            + firstAttemptJob(" AND EXISTS (SELECT 1 FROM lease)") + ", attempt AS (" + FIRST_ATTEMPT_INSERT
            + " RETURNING 1) " + StoreReader.JOB_TO_RUN + ", (SELECT count(*) FROM attempt) FROM jobs WHERE id = ?";

    /** Binds {@link #LEASE}'s 5 parameters from index {@code first}; returns the next index. */
    private int bindLease(PreparedStatement p, int first, String jobId, long version, Instant now)
            throws SQLException {
        jdbc.setInstant(p, first, now);
        p.setString(first + 1, JobQueue.TASK_NAME);
        p.setString(first + 2, jobId);
        p.setBoolean(first + 3, true);
        p.setLong(first + 4, version);
        return first + 5;
    }

    private static void bindFirstAttempt(PreparedStatement p, int first, String jobId, String node,
            NodeIdentity owner, Instant now, String unitNumbers) throws SQLException {
        p.setString(first, JobState.RUNNING.name());
        p.setLong(first + 1, now.toEpochMilli());
        p.setString(first + 2, node);
        p.setString(first + 3, jobId);
        bindRunningAttempt(p, first + 4, node, owner, now, unitNumbers);
    }

    /**
     * Binds a running attempt's columns {@code outcome, started_at, node, host, boot_id, node_pid,
     * node_started, unit_numbers}, in that order, to the 8 parameters from index {@code first} (1-based) on.
     */
    private static void bindRunningAttempt(PreparedStatement p, int first, String node, NodeIdentity owner,
            Instant now, String unitNumbers) throws SQLException {
        p.setString(first, AttemptOutcome.RUNNING.name());
        p.setLong(first + 1, now.toEpochMilli());
        p.setString(first + 2, node);
        p.setString(first + 3, owner.host());
        p.setString(first + 4, owner.bootId());
        p.setLong(first + 5, owner.process().pid());
        p.setLong(first + 6, owner.process().startTicks());
        p.setString(first + 7, unitNumbers);
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper UNITS_JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /**
     * The units an attempt holds as {@code job_attempts.unit_numbers} keeps them (V20): a JSON object of each
     * resource's unit numbers, ascending, by name ({@code {"lab-boards":[2]}}); null when it holds none.
     */
    static String unitNumbersText(Map<String, List<Integer>> units) {
        if (units == null || units.isEmpty()) {
            return null;
        }
        try {
            return UNITS_JSON.writeValueAsString(new java.util.TreeMap<>(units));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("unit numbers not written as JSON", e);
        }
    }

    /** The final job states as SQL literals: constants of this code, never input. */
    private static String finalStates() {
        StringBuilder states = new StringBuilder();
        for (JobState state : JobState.values()) {
            if (state.isFinal()) {
                states.append(states.length() == 0 ? "" : ", ").append('\'').append(state.name()).append('\'');
            }
        }
        return states.toString();
    }

    /**
     * Records which processes attempt {@code attempt} is, once its command has started. On
     * PostgreSQL one statement in autocommit mode: one round trip, not a transaction's three; its
     * commit does not wait for the WAL flush ({@link #recordingProcess}).
     */
    public void recordProcess(String jobId, int attempt, ProcessIdentity process) {
        if (db.dialect() == Dialect.POSTGRESQL) {
            db.inOneStatement("record an attempt's process", Durability.DEFERRED,
                    recordingProcess(jobId, attempt, process, true));
        } else {
            db.inTransaction("record an attempt's process", Durability.DEFERRED,
                    recordingProcess(jobId, attempt, process, false));
        }
    }

    /**
     * As {@link #recordProcess}, without waiting for SQLite's writer to commit it (PostgreSQL
     * records it before returning, in one statement): the future ends once it is recorded, or with
     * why not (it never throws). Whatever the calling thread writes after waiting for it is committed
     * after it.
     */
    public java.util.concurrent.CompletableFuture<Void> recordProcessLater(String jobId, int attempt,
            ProcessIdentity process) {
        return db.inOneStatementLater("record an attempt's process", Durability.DEFERRED,
                recordingProcess(jobId, attempt, process, db.dialect() == Dialect.POSTGRESQL));
    }

    /**
     * The record of an attempt's processes. On PostgreSQL ({@code withoutFlushWait}) its commit does not wait for
     * the WAL flush: the statement sets {@code synchronous_commit} off for its own transaction
     * ({@code set_config(…, true)}, no round trip of its own). It is the one record of a job's bookkeeping no node
     * acts on when it is lost: the command was spawned on the attempt's start, which waited for the flush; what
     * the attempt came to is recorded after it by a commit that waits for the flush, and PostgreSQL flushes its WAL
     * in order, so that commit (or any later one on any session that waits) flushes this record too. Only a crash
     * of the server within its WAL writer's delay ({@code wal_writer_delay}, 200 ms by default; at most three
     * times that) after this commit, with no flushed commit since, loses it: the attempt then shows no pid. Its own
     * node still knows its processes and ends them as ever; only if that node also dies before the attempt's end
     * does a node sweeping what it left go by the processes' marker ({@code BUILDHOOK_ATTEMPT}, {@link
     * org.buildhook.runner.exec.AttemptMarker}) alone, as for an attempt whose process was never recorded. The
     * command neither runs twice nor loses its outcome (PostgresServerCrashTest; docs/BENCHMARKS.md, "Twenty-fifth
     * pass").
     */
    private static Database.Work<Void> recordingProcess(String jobId, int attempt, ProcessIdentity process,
            boolean withoutFlushWait) {
        String sql = "UPDATE job_attempts SET pid = ?, session_id = ?, process_started = ? WHERE job_id = ? AND attempt = ?"
                + (withoutFlushWait ? " AND set_config('synchronous_commit', 'off', true) = 'off'" : "");
        return c -> {
            try (PreparedStatement p = c.prepareStatement(sql)) {
                p.setLong(1, process.pid());
                p.setLong(2, process.session());
                p.setLong(3, process.startTicks());
                p.setString(4, jobId);
                p.setInt(5, attempt);
                p.executeUpdate();
            }
            return null;
        };
    }

    /**
     * Records, without waiting, what attempt {@code attempt} of {@code jobId} came to while its
     * processes are still being ended ({@link org.buildhook.runner.exec.RunningJob#decided()}), so
     * that a node taking the job over after this one died records that outcome instead of running the
     * command again ({@link #decided}). Changes nothing once the attempt has its outcome.
     */
    public java.util.concurrent.CompletableFuture<Void> recordDecidedLater(String jobId, int attempt,
            org.buildhook.runner.exec.Decision decision) {
        return db.inOneStatementLater("record what an attempt came to", Durability.DEFERRED, c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET decided = ?, decided_exit = ?,"
                    + " log_path = ? WHERE job_id = ? AND attempt = ? AND outcome = ?")) {
                p.setString(1, decision.result().name());
                Rows.setInteger(p, 2, decision.exitCode());
                p.setString(3, decision.logFile() == null ? null : decision.logFile().toString());
                p.setString(4, jobId);
                p.setInt(5, attempt);
                p.setString(6, AttemptOutcome.RUNNING.name());
                p.executeUpdate();
            }
            return null;
        });
    }

    /**
     * Keeps the execution of {@code jobId} picked by {@code node}, its heartbeat renewed now, while {@code node} holds
     * what attempt {@code attempt} came to (kept by the last stop of node {@code by} in its data folder) and the store
     * refuses to record it with an error that is no outage (a trigger, a constraint, the role's privileges). Handed
     * back to the queue, as each pick of the job did, a node of another host picked it, found the attempt running with
     * nothing recorded of its end, recorded it cut short and ran the command again, though this node was alive and
     * heart-beating (fix55a, review54 N1). Held, no other node picks it, and no dead-execution look takes it for dead.
     * Taken as it is: this node's own pick (its heartbeat renewed, its version kept: a thread of this node may run it),
     * an execution not picked (back in the queue), or the pick of node {@code by}, whose stop kept the outcome (an
     * earlier run of this data folder under another id). Only while the store still shows that attempt as the job's
     * latest, running on {@code by}, with nothing of its end recorded: never over a node that took the job over.
     *
     * @return the execution's version as held by {@code node}, or -1 when it is not held (another node's pick, the
     *         execution gone, the attempt ended or the job gone on)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public long holdKeptOutcomesPick(String jobId, int attempt, String by, String node) {
        Instant now = clock.instant();
        return db.inTransaction("keep a job whose kept outcome the store refuses picked by its node",
                Durability.DEFERRED, c -> {
                    try (PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = ?,"
                            + " last_heartbeat = ?, version = CASE WHEN picked = ? AND picked_by = ? THEN version"
                            + " ELSE version + 1 END WHERE task_name = ? AND task_instance = ?"
                            + " AND (picked = ? OR picked_by = ? OR picked_by = ?)"
                            + " AND EXISTS (SELECT 1 FROM job_attempts a JOIN jobs j ON j.id = a.job_id"
                            + " WHERE a.job_id = ? AND a.attempt = ? AND a.node = ? AND a.outcome = ?"
                            + " AND a.decided IS NULL AND j.attempts = a.attempt AND j.state = ?)")) {
                        p.setBoolean(1, true);
                        p.setString(2, node);
                        jdbc.setInstant(p, 3, now);
                        p.setBoolean(4, true);
                        p.setString(5, node);
                        p.setString(6, JobQueue.TASK_NAME);
                        p.setString(7, jobId);
                        p.setBoolean(8, false);
                        p.setString(9, node);
                        p.setString(10, by);
                        p.setString(11, jobId);
                        p.setInt(12, attempt);
                        p.setString(13, by);
                        p.setString(14, AttemptOutcome.RUNNING.name());
                        p.setString(15, JobState.RUNNING.name());
                        if (p.executeUpdate() != 1) {
                            return -1L;
                        }
                    }
                    try (PreparedStatement p = c.prepareStatement("SELECT version FROM scheduled_tasks"
                            + " WHERE task_name = ? AND task_instance = ?")) {
                        p.setString(1, JobQueue.TASK_NAME);
                        p.setString(2, jobId);
                        try (ResultSet rs = p.executeQuery()) {
                            return rs.next() ? rs.getLong(1) : -1L;
                        }
                    }
                });
    }

    /**
     * Puts back in the queue, due now at the latest, the execution of {@code jobId} that {@code node} held at {@code
     * version} ({@link #holdKeptOutcomesPick}) once the outcome it kept is recorded: the next pick concludes the job
     * from it ({@link #decided}). Left as it is when it changed since (a pick, an end).
     *
     * @return whether it was put back
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean releaseKeptOutcomesPick(String jobId, String node, long version) {
        Instant now = clock.instant();
        boolean released = db.inTransaction("put back a job whose kept outcome is recorded now", Durability.DEFERRED,
                c -> {
                    try (PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?,"
                            + " picked_by = NULL, last_heartbeat = NULL, version = version + 1, execution_time = CASE"
                            + " WHEN execution_time > ? THEN ? ELSE execution_time END WHERE task_name = ?"
                            + " AND task_instance = ? AND picked = ? AND picked_by = ? AND version = ?")) {
                        p.setBoolean(1, false);
                        jdbc.setInstant(p, 2, now);
                        jdbc.setInstant(p, 3, now);
                        p.setString(4, JobQueue.TASK_NAME);
                        p.setString(5, jobId);
                        p.setBoolean(6, true);
                        p.setString(7, node);
                        p.setLong(8, version);
                        return p.executeUpdate() == 1;
                    }
                });
        if (released) {
            madeDue();
        }
        return released;
    }

    /**
     * Records what attempt {@code attempt} of {@code jobId} had come to before node {@code node} stopped without
     * recording it (its store could not be reached; the node kept it in its data folder): as
     * {@link #recordDecidedLater}, with the command's end, so that the next pick records that outcome
     * ({@link #decided}) instead of running the command again (tryout21 F3). Only while the store still shows that
     * attempt as the job's latest and of that node, running, or recorded cut short ({@code INTERRUPTED}: another node
     * took it for gone) while the job waits to run again, not run again yet: never over another node's newer attempt
     * (then {@link #recordLateOutcome}). The job's row is locked first, as {@link #startAttempt(String, String, long,
     * InARow)} locks it: a start that looked at the attempt before this record is committed, and found nothing to
     * conclude from, has its attempt written before this looks (this then returns {@code false}); one that looks after
     * finds the record ({@link #DECIDED_MEANWHILE}) (review29 R4).
     *
     * @param ended when the command ended, or {@code null} when unknown
     * @return whether it was recorded; {@code false} when the attempt had been ended or the job taken over meanwhile
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean recordKnownOutcome(String jobId, int attempt, String node,
            org.buildhook.runner.exec.Decision decision, Instant ended) {
        return db.inTransaction("record what an attempt came to before its node stopped", Durability.DEFERRED, c -> {
            if (db.dialect() == Dialect.POSTGRESQL) {
                // SQLite's one writer runs this and a start one after the other already.
                try (PreparedStatement p = c.prepareStatement("SELECT attempts FROM jobs WHERE id = ? FOR UPDATE")) {
                    p.setString(1, jobId);
                    p.executeQuery().close();
                }
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET decided = ?, decided_exit = ?,"
                    + " log_path = COALESCE(?, log_path), ended_at = COALESCE(?, ended_at) WHERE job_id = ?"
                    + " AND attempt = ? AND node = ? AND (outcome = ? OR (outcome = ? AND EXISTS (SELECT 1 FROM jobs j"
                    + " WHERE j.id = job_attempts.job_id AND j.state IN (?, ?)))) AND attempt = (SELECT j.attempts"
                    + " FROM jobs j WHERE j.id = ?)")) {
                p.setString(1, decision.result().name());
                Rows.setInteger(p, 2, decision.exitCode());
                p.setString(3, decision.logFile() == null ? null : decision.logFile().toString());
                if (ended == null) {
                    p.setNull(4, java.sql.Types.BIGINT);
                } else {
                    p.setLong(4, ended.toEpochMilli());
                }
                p.setString(5, jobId);
                p.setInt(6, attempt);
                p.setString(7, node);
                p.setString(8, AttemptOutcome.RUNNING.name());
                p.setString(9, AttemptOutcome.INTERRUPTED.name());
                p.setString(10, JobState.QUEUED.name());
                p.setString(11, JobState.WAITING.name());
                p.setString(12, jobId);
                return p.executeUpdate() == 1;
            }
        });
    }

    /**
     * Records, late, how attempt {@code attempt} of {@code jobId} really ended, as its node {@code node} knew before it
     * stopped without recording it (its store could not be reached; the node kept it in its data folder: tryout21 F3),
     * when another node had meanwhile recorded the attempt as cut short ({@code INTERRUPTED}: it took the node for
     * gone, and took the job over) and the job has gone on from there (a later attempt, or its end): the attempt's
     * row gets the outcome, the exit code ({@code null} for a timeout or a cancel), the command's end and its log file,
     * and counts no longer as interrupted, nor as its node's death or stop (cluster27 F11), as the attempt's own node
     * records it when it stayed up and the store answered again ({@link #finishAttempt}). The job's row is not
     * touched: its state, exit code and message stay what its later attempt, or its end, made them; nothing runs
     * again or is followed up. Only an {@code INTERRUPTED} attempt of {@code node}.
     *
     * @param decision what the command came to: its result, exit code and log file (either may be null)
     * @param ended    when the command ended, or {@code null} when unknown (the recorded end then stays)
     * @param message  the attempt's new message, from the one recorded (the other node's account, or null)
     * @return the message recorded, or empty when the attempt is not an {@code INTERRUPTED} one of {@code node}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<String> recordLateOutcome(String jobId, int attempt, String node,
            org.buildhook.runner.exec.Decision decision, Instant ended,
            java.util.function.UnaryOperator<String> message) {
        return db.inTransaction("record late how an attempt taken over had ended", Durability.DEFERRED, c -> {
            String was;
            try (PreparedStatement p = c.prepareStatement("SELECT message FROM job_attempts WHERE job_id = ?"
                    + " AND attempt = ? AND node = ? AND outcome = ?")) {
                p.setString(1, jobId);
                p.setInt(2, attempt);
                p.setString(3, node);
                p.setString(4, AttemptOutcome.INTERRUPTED.name());
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<String>empty();
                    }
                    was = rs.getString(1);
                }
            }
            String now = message.apply(was);
            // Unless another writer changed the row since the read (PostgreSQL: read committed).
            try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET outcome = ?, exit_code = ?,"
                    + " ended_at = COALESCE(?, ended_at), log_path = COALESCE(?, log_path), message = ?,"
                    + " node_died = NULL, decided = NULL, decided_exit = NULL WHERE job_id = ? AND attempt = ?"
                    + " AND node = ? AND outcome = ? AND " + (was == null ? "message IS NULL" : "message = ?"))) {
                p.setString(1, AttemptOutcome.of(decision.result()).name());
                Rows.setInteger(p, 2, decision.exitCode());
                Rows.setInstant(p, 3, ended);
                p.setString(4, decision.logFile() == null ? null : decision.logFile().toString());
                p.setString(5, now);
                p.setString(6, jobId);
                p.setInt(7, attempt);
                p.setString(8, node);
                p.setString(9, AttemptOutcome.INTERRUPTED.name());
                if (was != null) {
                    p.setString(10, was);
                }
                return p.executeUpdate() == 1 ? Optional.of(now) : Optional.<String>empty();
            }
        });
    }

    /**
     * Takes back the death that another node recorded of attempt {@code attempt} of {@code jobId}
     * ({@code node_died = 1}: its own guess, or a sweep of this host that did not know) when that attempt's own node
     * {@code node} noted that it had only been stopped (or had fenced itself) before it could record the attempt's
     * end: it is then not counted among the deaths in a row that end a job ({@link #DEATHS_IN_A_ROW}; review21 R3),
     * but as {@code as} says: {@link NodeEnd#STOPPED} for a stop (counted among the stops in a row,
     * {@link #STOPS_IN_A_ROW}), {@link NodeEnd#NONE} for the node's self-fencing. Only an {@code INTERRUPTED} attempt
     * of {@code node}; any other value of {@code node_died} is left as it is.
     *
     * @param as how the attempt counts instead: {@link NodeEnd#STOPPED} or {@link NodeEnd#NONE}
     * @return whether a death was taken back
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean notADeath(String jobId, int attempt, String node, NodeEnd as) {
        return db.inTransaction("take back a death recorded of a stopped node's attempt", Durability.DEFERRED, c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET node_died = " + as.sql
                    + " WHERE job_id = ? AND attempt = ? AND node = ? AND outcome = ? AND node_died = 1")) {
                p.setString(1, jobId);
                p.setInt(2, attempt);
                p.setString(3, node);
                p.setString(4, AttemptOutcome.INTERRUPTED.name());
                return p.executeUpdate() == 1;
            }
        });
    }

    /**
     * Records when attempt {@code attempt} of {@code jobId} ended ({@code ended}: its process tree was killed), as its
     * node {@code node} noted before it stopped without recording it (tryout22 F5), so that the record of its end
     * ({@link #interruptLeftover}) keeps that time instead of the time it is written, which may be hours later. Only
     * while the attempt is still running, of that node, and without an end.
     *
     * @return whether it was recorded
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean recordNotedEnd(String jobId, int attempt, String node, Instant ended) {
        return db.inTransaction("record when an attempt its node could not record ended", Durability.DEFERRED, c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET ended_at = ? WHERE job_id = ?"
                    + " AND attempt = ? AND node = ? AND outcome = ? AND ended_at IS NULL")) {
                p.setLong(1, ended.toEpochMilli());
                p.setString(2, jobId);
                p.setInt(3, attempt);
                p.setString(4, node);
                p.setString(5, AttemptOutcome.RUNNING.name());
                return p.executeUpdate() == 1;
            }
        });
    }

    /**
     * The job's latest attempt as recorded: its number, its node and its outcome ({@code RUNNING}, …), or empty for
     * a job without attempts or gone.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<LatestAttempt> latestAttempt(String jobId) {
        return db.read("read a job's latest attempt", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT a.attempt, a.node, a.outcome FROM job_attempts a"
                    + " JOIN jobs j ON j.id = a.job_id AND a.attempt = j.attempts WHERE a.job_id = ?")) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(new LatestAttempt(rs.getInt(1), rs.getString(2), rs.getString(3)))
                            : Optional.<LatestAttempt>empty();
                }
            }
        });
    }

    /** A job's latest attempt ({@link #latestAttempt}): its number, node and outcome. */
    public record LatestAttempt(int attempt, String node, String outcome) {
    }

    /**
     * Attempt {@code attempt} of {@code jobId} when a try of this node's start under its pick at {@code version} made it
     * and the store's answer to that try was lost (a connection cut after PostgreSQL committed it: storage.md's server
     * crash; an answer not come within {@link Store#lookBound}), so that the start tried again goes on with it: it is
     * the job's latest, still running, of this very process ({@code node}, boot, pid and start), with no process and no
     * outcome recorded, and the job running; the execution still picked at {@code version}, whose heartbeat this renews
     * as a start does. Tried again, {@link #startAttempt} recorded that attempt cut short, "the store lost that record
     * (a database server that crashed and lost commits it had acknowledged …)", and started the next (review51 S1).
     * The caller has not launched it: this process handles a job on one thread at a time, and only asks this after its
     * own try of the start failed with an outage. A cancel (or a newer build's supersede) asked since that try, only
     * flagged ({@code cancel_requested}) as the execution was picked, is answered as {@link #startAttempt} answers it,
     * {@link #CANCEL_ASKED}: the attempt is recorded {@code CANCELLED}, never launched, in the same transaction, and
     * the caller ends the job as for a start that found the flag (review52 F1: the command ran until the node's next
     * cancel check, after the operator was told it would not start).
     *
     * @param version the version of the execution as this node picked it; negative for no check
     * @return {@code attempt}, {@link #LOST_PICK} when the execution is no longer picked at {@code version},
     *         {@link #CANCEL_ASKED} when the attempt is there but a cancel or supersede of the job was asked (the attempt
     *         then recorded ended, not launched), or 0 when there is no such attempt (the lost try did not go through:
     *         start one)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public int ownStartNotLaunched(String jobId, String node, long version, int attempt) {
        NodeIdentity owner = NodeIdentity.current();
        String lock = db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : "";
        return db.inTransaction("look for an attempt this node started", Durability.DEFERRED, c -> {
            // The job's row first, then the lease: startAttempt's order. Its cancel flag read under that lock, as
            // startAttempt reads it.
            boolean cancelAsked = false;
            try (PreparedStatement p = c.prepareStatement("SELECT cancel_requested FROM jobs WHERE id = ?" + lock)) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    cancelAsked = rs.next() && rs.getInt(1) != 0;
                }
            }
            if (version >= 0 && !renewLease(c, jobId, version)) {
                return LOST_PICK;
            }
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM job_attempts WHERE job_id = ? AND attempt = ?"
                    + " AND outcome = ? AND pid IS NULL AND decided IS NULL AND " + THIS_PROCESS + " AND attempt ="
                    + " (SELECT j.attempts FROM jobs j WHERE j.id = ? AND j.state = ?)")) {
                p.setString(1, jobId);
                p.setInt(2, attempt);
                p.setString(3, AttemptOutcome.RUNNING.name());
                bindThisProcess(p, 4, node, owner);
                p.setString(8, jobId);
                p.setString(9, JobState.RUNNING.name());
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return 0;
                    }
                }
            }
            if (cancelAsked) {
                // Not launched, and never now: ended here, else it stayed RUNNING under the job its caller ends
                // CANCELLED (the sweep leaves this very process's attempts alone).
                updateAttempt(c, jobId, attempt, AttemptOutcome.CANCELLED, null, clock.instant(), null,
                        NOT_LAUNCHED_CANCELLED);
                return CANCEL_ASKED;
            }
            return attempt;
        });
    }

    /**
     * The message of an attempt recorded started, whose start's answer was lost, ended by the start tried again
     * because a cancel or supersede of its job was asked meanwhile ({@link #ownStartNotLaunched}).
     */
    static final String NOT_LAUNCHED_CANCELLED = "not launched: its cancel (or a newer build's supersede) was asked"
            + " while the answer to its start was lost";

    /**
     * The job's queue entry (its db-scheduler execution) as it is now: its version and the node that has it
     * picked, or empty when there is none (the job's execution was removed: it ended, or was never queued).
     * Read after a node's completion of its pick failed, to tell a pick another node took over (a new version,
     * or no entry) from a fault of the completion itself (noise31).
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<QueueEntry> queueEntry(String jobId) {
        return db.read("read a job's queue entry", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT version, picked, picked_by FROM scheduled_tasks"
                    + " WHERE task_name = ? AND task_instance = ?")) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setString(2, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<QueueEntry>empty();
                    }
                    long version = rs.getLong(1);
                    boolean picked = rs.getBoolean(2);
                    String by = rs.getString(3);
                    return Optional.of(new QueueEntry(version, picked ? by : null));
                }
            }
        });
    }

    /**
     * A job's queue entry ({@link #queueEntry}).
     *
     * @param version  db-scheduler's version of the execution, raised by every pick, put-back and revival
     * @param pickedBy the node that has it picked, or null while it waits in the queue
     */
    public record QueueEntry(long version, String pickedBy) {
    }

    /**
     * What an attempt that did not end on its node had come to before (see
     * {@link #recordDecidedLater}).
     *
     * @param result      timed out, succeeded or failed
     * @param exitCode    the program's exit code, null for a timeout
     * @param logPath     the attempt's log file, or null
     * @param node        the node that ran it
     * @param interrupted the message a node that killed what it left recorded, or null when none did
     * @param startedAt   when the attempt started
     * @param endedAt     when its processes were gone, as the record of its interruption says (its node's
     *                    graceful stop, or the sweep that killed what it left), or, for an attempt still marked
     *                    running, when its command ended as kept with it ({@link #recordKnownOutcome}: dropped, the
     *                    job's record from it wrote "unknown" over that end: review54 F2); null when none was recorded
     */
    public record Decided(org.buildhook.runner.exec.JobOutcome.Result result, Integer exitCode, String logPath,
            String node, String interrupted, Instant startedAt, Instant endedAt) {
    }

    /**
     * The outcome attempt {@code attempt} of {@code jobId} had come to before its node stopped, when
     * it has one and is still marked running or interrupted; empty otherwise (the command is then run
     * again, as for any attempt cut short).
     */
    public Optional<Decided> decided(String jobId, int attempt) {
        return db.read("read what an attempt came to", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT decided, decided_exit, log_path, node, outcome,"
                    + " message, started_at, ended_at FROM job_attempts WHERE job_id = ? AND attempt = ?"
                    + " AND decided IS NOT NULL")) {
                p.setString(1, jobId);
                p.setInt(2, attempt);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<Decided>empty();
                    }
                    String outcome = rs.getString(5);
                    boolean interrupted = AttemptOutcome.INTERRUPTED.name().equals(outcome);
                    if (!interrupted && !AttemptOutcome.RUNNING.name().equals(outcome)) {
                        return Optional.<Decided>empty();
                    }
                    int exit = rs.getInt(2);
                    Integer exitCode = rs.wasNull() ? null : exit;
                    return Optional.of(new Decided(org.buildhook.runner.exec.JobOutcome.Result.valueOf(rs.getString(1)),
                            exitCode, rs.getString(3), rs.getString(4), interrupted ? rs.getString(6) : null,
                            Rows.instant(rs, "started_at"), Rows.instant(rs, "ended_at")));
                }
            }
        });
    }

    /** What becomes of a job cut short that is to run again ({@link #afterCutShort}). */
    public static final String RUN_AGAIN = "run again";

    /**
     * Why a graceful stop of node {@code node} cut an attempt short, as its message begins (then "; " and
     * {@link #afterCutShort}'s answer).
     */
    public static String stoppedByShutdownOf(String node) {
        return "stopped by the shutdown of " + node;
    }

    /**
     * A job whose latest attempt a graceful stop of its node cut short, and which is to run again.
     *
     * @param node the node whose stop cut it short
     */
    public record CutShortByStop(String jobId, String rule, Long buildId, int attempt, String node) {
    }

    /**
     * The jobs still to run (queued or waiting) whose latest attempt the last graceful stop of node
     * {@code node} cut short ("stopped by the shutdown of {@code node}; run again"), oldest first, at most
     * {@code limit}: what a start of that node says runs again (tryout18 F6).
     *
     * <p>With {@code node} null, the stops of any node: on SQLite, where the data folder is one node's at a time, those
     * are its earlier runs' whatever their {@code runner.node-id} (the default one is new at every start: tryout23 F2).
     *
     * @param node  the node id, or null for any node
     * @param limit how many at most, positive
     * @return the jobs, possibly none
     * @throws org.buildhook.runner.RunnerException when the store cannot be read
     */
    public List<CutShortByStop> cutShortByStopOf(String node, int limit) {
        return db.read("read the jobs the last stop cut short", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT j.id, j.rule_name, j.build_id, j.attempts, a.node"
                    + " FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.attempt = j.attempts WHERE j.state IN"
                    + " ('QUEUED', 'WAITING') AND a.outcome = ? AND "
                    + (node == null ? "a.message = ? || a.node || ?" : "a.node = ? AND a.message = ?")
                    + " ORDER BY j.id LIMIT ?")) {
                p.setString(1, AttemptOutcome.INTERRUPTED.name());
                if (node == null) {
                    p.setString(2, stoppedByShutdownOf(""));
                    p.setString(3, "; " + RUN_AGAIN);
                } else {
                    p.setString(2, node);
                    p.setString(3, stoppedByShutdownOf(node) + "; " + RUN_AGAIN);
                }
                p.setInt(4, limit);
                List<CutShortByStop> found = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        long build = rs.getLong(3);
                        found.add(new CutShortByStop(rs.getString(1), rs.getString(2), rs.wasNull() ? null : build,
                                rs.getInt(4), rs.getString(5)));
                    }
                }
                return found;
            }
        });
    }

    /**
     * Whether the job is run again after attempt {@code attempt} was cut short by its node's end:
     * {@code "run again"}, why not ({@code "not run again: it was cancelled"}, {@code "not run again:
     * it was superseded by job …"}, {@code "not run again: it had timed out"}, …), or, when the attempt
     * had failed or timed out before its node ended and its rule has a retry left for it,
     * {@code "retried as its rule says: it had exited with 3"}: for the messages that say so.
     */
    public String afterCutShort(String jobId, int attempt) {
        return db.read("read whether a job runs again", c -> afterCutShort(c, jobId, attempt));
    }

    /**
     * As {@link #afterCutShort(String, int)}, for an attempt cut short by its node's end ({@code end}; {@code null}:
     * as recorded already): when that end is the last of a row that ends the job by {@code inARow} (the node that
     * picks it next ends it {@code FAILED} instead of running it again), says so instead of {@link #RUN_AGAIN}
     * ({@link #endsItsRow}): the attempt's and the log's words no longer promise a run that the next pick refuses
     * (tryout22 F1).
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public String afterCutShort(String jobId, int attempt, NodeEnd end, InARow inARow) {
        return db.read("read whether a job runs again", c -> afterCutShort(c, jobId, attempt, end, inARow));
    }

    /** {@link #afterCutShort(String, int, NodeEnd, InARow)} in the transaction of {@code c}. */
    static String afterCutShort(Connection c, String jobId, int attempt, NodeEnd end, InARow inARow)
            throws SQLException {
        String next = afterCutShort(c, jobId, attempt);
        if (!next.equals(RUN_AGAIN) || inARow == null) {
            return next;
        }
        return endsItsRow(c, jobId, attempt, end == null ? recordedEnd(c, jobId, attempt) : end, inARow)
                .orElse(next);
    }

    /** How attempt {@code attempt} of {@code jobId} was recorded as cut short ({@code node_died}). */
    private static NodeEnd recordedEnd(Connection c, String jobId, int attempt) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT node_died FROM job_attempts WHERE job_id = ?"
                + " AND attempt = ? AND outcome = ?")) {
            p.setString(1, jobId);
            p.setInt(2, attempt);
            p.setString(3, AttemptOutcome.INTERRUPTED.name());
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return NodeEnd.NONE;
                }
                int died = rs.getInt(1);
                return rs.wasNull() ? NodeEnd.NONE : died == 1 ? NodeEnd.DIED : NodeEnd.STOPPED;
            }
        }
    }

    /**
     * What the end of the job's attempt {@code attempt} by {@code end} comes to when it makes the row of its node's
     * ends that {@link #startAttempt(String, String, long, InARow)} refuses ({@link #NODE_DIED_IN_A_ROW} first, then
     * {@link #NODE_STOPPED_IN_A_ROW}): {@code not run again: its node died before each of its last 3 attempts ended
     * (runner.deaths-in-a-row: 3); the node that picks it next ends it FAILED}; empty when the job runs again.
     */
    private static Optional<String> endsItsRow(Connection c, String jobId, int attempt, NodeEnd end, InARow inARow)
            throws SQLException {
        if (end == NodeEnd.NONE) {
            return Optional.empty();
        }
        if (end == NodeEnd.DIED && attempt >= inARow.deaths()
                && endsInARow(c, jobId, attempt - inARow.deaths(), attempt - 1)[0] == inARow.deaths() - 1) {
            return Optional.of("not run again: its node died before " + eachOfLast(inARow.deaths())
                    + " ended (runner.deaths-in-a-row: " + inARow.deaths() + "); " + ENDS_FAILED_AT_PICK);
        }
        if (attempt >= inARow.stops()) {
            int[] before = endsInARow(c, jobId, attempt - inARow.stops(), attempt - 1);
            if (before[0] + before[1] == inARow.stops() - 1 && (end == NodeEnd.STOPPED || before[1] > 0)) {
                boolean deaths = end == NodeEnd.DIED || before[0] > 0;
                return Optional.of("not run again: its node was stopped" + (deaths ? " or died" : "") + " before "
                        + eachOfLast(inARow.stops()) + " ended (runner.stops-in-a-row: " + inARow.stops() + "); "
                        + ENDS_FAILED_AT_PICK);
            }
        }
        return Optional.empty();
    }

    /** How the words of {@link #afterCutShort(String, int, NodeEnd, InARow)} end when the row ends the job. */
    public static final String ENDS_FAILED_AT_PICK = "the node that picks it next ends it FAILED";

    /** {@code its attempt} (1) or {@code each of its last 3 attempts}. */
    public static String eachOfLast(int attempts) {
        return attempts == 1 ? "its attempt" : "each of its last " + attempts + " attempts";
    }

    /**
     * "not run again: it was superseded by job {@code by}" when a newer build's job ended it, else "not run
     * again: " and {@code otherwise}: one text for both ways a superseded job's attempt is cut short.
     */
    private static String notRunAgain(String by, String otherwise) {
        return "not run again: " + (by == null ? otherwise : "it was superseded by job " + by);
    }

    /** {@link #afterCutShort(String, int)} in the transaction of {@code c}. */
    static String afterCutShort(Connection c, String jobId, int attempt) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT j.state, j.cancel_requested, a.decided,"
                + " a.decided_exit, j.superseded_by, j.retries FROM jobs j LEFT JOIN job_attempts a"
                + " ON a.job_id = j.id AND a.attempt = ? WHERE j.id = ?")) {
            p.setInt(1, attempt);
            p.setString(2, jobId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return RUN_AGAIN;
                }
                JobState state = JobState.valueOf(rs.getString(1));
                if (state == JobState.SUPERSEDED) {
                    return notRunAgain(rs.getString(5), "it was superseded");
                }
                if (state.isFinal()) {
                    return "not run again: the job had ended " + state;
                }
                if (rs.getInt(2) != 0) {
                    // A newer build's job asked for it (running: cancel), not an operator (tryout13 F2).
                    return notRunAgain(rs.getString(5), "it was cancelled");
                }
                String decided = rs.getString(3);
                if (decided == null) {
                    return RUN_AGAIN;
                }
                int exit = rs.getInt(4);
                String had = "it had " + (decided.equals("TIMED_OUT") ? "timed out"
                        : "exited with " + (rs.wasNull() ? "?" : String.valueOf(exit)));
                int retries = rs.getInt(6);
                boolean failed = !decided.equals(org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED.name())
                        && !decided.equals(org.buildhook.runner.exec.JobOutcome.Result.CANCELLED.name());
                // As the engine decides once it records the outcome: this attempt's failure counted with
                // the earlier ones (wording15: "not run again" was said of a job then retried).
                return failed && failedAttempts(c, jobId) + 1 <= retries ? RETRIED + had : "not run again: " + had;
            }
        }
    }

    /** How {@link #afterCutShort} begins when a failed attempt's job is retried as its rule says. */
    public static final String RETRIED = "retried as its rule says: ";

    /** The attempts marked running that were started on the host boot {@code bootId}. */
    public List<RunningAttempt> runningAttempts(String bootId) {
        return db.read("list running attempts", c -> {
            try (PreparedStatement p = c.prepareStatement(RUNNING_ATTEMPTS + " AND boot_id = ?")) {
                p.setString(1, AttemptOutcome.RUNNING.name());
                p.setString(2, bootId);
                return runningAttempts(p);
            }
        });
    }

    /**
     * An attempt recorded by a node process (whatever its outcome): the latest one that process recorded on a host boot
     * ({@link #latestAttemptPerNodeProcess}).
     *
     * @param jobId       the job
     * @param attempt     the attempt number, from 1
     * @param outcome     the attempt's outcome as stored ({@link AttemptOutcome} name: RUNNING, FAILED …)
     * @param node        the node id that recorded it
     * @param nodeProcess that node's JVM (pid and start time in clock ticks since boot; no session id)
     */
    public record NodeProcessAttempt(String jobId, int attempt, String outcome, String node,
            ProcessIdentity nodeProcess) {
    }

    /**
     * Of each node process (JVM: pid and start time) that recorded attempts on the host boot {@code bootId}, its latest
     * attempt (by start time), whatever its outcome. Read once at a SQLite start (tryout34 F6); through
     * {@code job_attempts_outcome_idx} (outcome, boot_id), one look per outcome: the attempts of that boot, not the
     * whole table. Attempts recorded without a node process (before version 3) are not among them.
     *
     * @param bootId the host's boot id (with its PID namespace), as {@link NodeIdentity#bootId()}
     * @return one attempt per node process, in no particular order; empty when none was recorded on that boot
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<NodeProcessAttempt> latestAttemptPerNodeProcess(String bootId) {
        String outcomes = String.join(", ", java.util.Collections.nCopies(AttemptOutcome.values().length, "?"));
        return db.read("list the node processes of this host boot's attempts", c -> {
            List<long[]> latest = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT node_pid, node_started, MAX(started_at)"
                    + " FROM job_attempts WHERE outcome IN (" + outcomes + ") AND boot_id = ?"
                    + " AND node_pid IS NOT NULL AND node_started IS NOT NULL GROUP BY node_pid, node_started")) {
                int i = 1;
                for (AttemptOutcome o : AttemptOutcome.values()) {
                    p.setString(i++, o.name());
                }
                p.setString(i, bootId);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        latest.add(new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)});
                    }
                }
            }
            List<NodeProcessAttempt> found = new ArrayList<>();
            for (long[] l : latest) {
                try (PreparedStatement p = c.prepareStatement("SELECT job_id, attempt, outcome, node FROM job_attempts"
                        + " WHERE outcome IN (" + outcomes + ") AND boot_id = ? AND node_pid = ? AND node_started = ?"
                        + " AND started_at = ? ORDER BY job_id, attempt")) {
                    int i = 1;
                    for (AttemptOutcome o : AttemptOutcome.values()) {
                        p.setString(i++, o.name());
                    }
                    p.setString(i++, bootId);
                    p.setLong(i++, l[0]);
                    p.setLong(i++, l[1]);
                    p.setLong(i, l[2]);
                    try (ResultSet rs = p.executeQuery()) {
                        if (rs.next()) {
                            found.add(new NodeProcessAttempt(rs.getString(1), rs.getInt(2), rs.getString(3),
                                    rs.getString(4), new ProcessIdentity(l[0], -1, l[1])));
                        }
                    }
                }
            }
            return found;
        });
    }

    /**
     * A job of this store that is not final ({@link JobState#isFinal}): queued (a first run or a retry due), waiting
     * for units, running or awaiting an approval; any one (the first {@code jobs_state_idx} gives: no sort).
     *
     * @return its id and state, or empty when every job has ended
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<Map.Entry<String, JobState>> aJobNotEnded() {
        List<JobState> open = java.util.Arrays.stream(JobState.values()).filter(s -> !s.isFinal()).toList();
        return db.read("look for a job not ended", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT id, state FROM jobs WHERE state IN ("
                    + String.join(", ", java.util.Collections.nCopies(open.size(), "?")) + ") LIMIT 1")) {
                for (int i = 0; i < open.size(); i++) {
                    p.setString(i + 1, open.get(i).name());
                }
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(Map.entry(rs.getString(1), JobState.valueOf(rs.getString(2))))
                            : Optional.<Map.Entry<String, JobState>>empty();
                }
            }
        });
    }

    /**
     * The attempts marked running that an earlier run of this node started on this host and boot but in another PID
     * namespace (tryout23 F4: a container started again gets a new one): recorded with {@code self}'s host name and
     * kernel boot id and another namespace, and, on PostgreSQL, by node {@code node} (this node holds that id's lock,
     * so that run is over); on SQLite by any node (this node holds the database's lock: one server per database).
     *
     * @param self this JVM; none when its boot id could not be read
     * @param node this node's id
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<RunningAttempt> runningAttemptsOfEarlierRuns(NodeIdentity self, String node) {
        int slash = self.bootId().indexOf('/');
        if (slash <= 0) {
            return List.of();
        }
        boolean anyNode = db.dialect() == Dialect.SQLITE;
        List<RunningAttempt> found = db.read("list running attempts of earlier runs", c -> {
            try (PreparedStatement p = c.prepareStatement(RUNNING_ATTEMPTS + " AND host = ? AND boot_id <> ?"
                    + (anyNode ? "" : " AND node = ?"))) {
                p.setString(1, AttemptOutcome.RUNNING.name());
                p.setString(2, self.host());
                p.setString(3, self.bootId());
                if (!anyNode) {
                    p.setString(4, node);
                }
                return runningAttempts(p);
            }
        });
        return found.stream().filter(a -> self.sameBootOtherNamespace(a.bootId())).toList();
    }

    /** The attempt of {@code jobId} marked running, if any. */
    public Optional<RunningAttempt> runningAttempt(String jobId) {
        return db.read("read a running attempt", c -> {
            try (PreparedStatement p = c.prepareStatement(RUNNING_ATTEMPTS + " AND job_id = ?")) {
                p.setString(1, AttemptOutcome.RUNNING.name());
                p.setString(2, jobId);
                return runningAttempts(p).stream().findFirst();
            }
        });
    }

    private static final String RUNNING_ATTEMPTS = "SELECT job_id, attempt, node, boot_id, node_pid, node_started,"
            + " pid, session_id, process_started FROM job_attempts WHERE outcome = ?";

    private static List<RunningAttempt> runningAttempts(PreparedStatement p) throws SQLException {
        List<RunningAttempt> found = new ArrayList<>();
        try (ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                found.add(runningAttempt(rs));
            }
        }
        return found;
    }

    /** The attempt of the current row of a {@link #RUNNING_ATTEMPTS}-shaped query (its first nine columns). */
    private static RunningAttempt runningAttempt(ResultSet rs) throws SQLException {
        long nodePid = rs.getLong(5);
        ProcessIdentity nodeProcess = rs.wasNull() ? null : new ProcessIdentity(nodePid, -1, rs.getLong(6));
        long pid = rs.getLong(7);
        ProcessIdentity process = rs.wasNull() ? null : new ProcessIdentity(pid, rs.getLong(8), rs.getLong(9));
        return new RunningAttempt(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4), nodeProcess,
                process);
    }

    /** Ends a dead node's attempt: kills what it left and says what was killed. */
    @FunctionalInterface
    public interface LeftoverKill {
        /**
         * Kills the attempt's leftovers; returns the message to record (what was killed).
         *
         * @throws InterruptedException when the thread was interrupted while it waited for them to go
         */
        String kill() throws InterruptedException;
    }

    /**
     * Ends a running attempt whose node is gone, once across every node of the store: runs
     * {@code kill} and records the attempt as interrupted with the message it returns, and the job as
     * queued again if that attempt is still its latest. On PostgreSQL the attempt's row is locked
     * (with its job's, {@code FOR UPDATE}) while {@code kill} runs, so a second node sweeping the same attempt waits
     * for the first and then finds it recorded, instead of finding the processes already gone and
     * recording "none left" over the first's "killed"; on SQLite (one node per data-dir) one lock of
     * this JVM does the same. Does nothing, and does not call {@code kill}, when the attempt was
     * recorded meanwhile.
     *
     * @return the recorded message, or empty when the attempt was no longer running
     * @throws InterruptedException when interrupted while {@code kill} waited; nothing is recorded
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<String> interruptLeftover(String jobId, int attempt, LeftoverKill kill) throws InterruptedException {
        return interruptLeftover(jobId, attempt, kill, NodeEnd.DIED);
    }

    /**
     * As {@link #interruptLeftover(String, int, LeftoverKill)}; {@code end}: how the attempt counts ({@code node_died},
     * {@link InARow}): {@link NodeEnd#DIED}, or {@link NodeEnd#STOPPED} when its own node's next start knows that it
     * was stopped and could not record the attempt's end (the store could not be reached, or the stop was killed by a
     * stop timeout: tryout20 F2, review21 R1), or {@link NodeEnd#NONE}.
     */
    public Optional<String> interruptLeftover(String jobId, int attempt, LeftoverKill kill, NodeEnd end)
            throws InterruptedException {
        if (db.dialect() != Dialect.POSTGRESQL) {
            synchronized (SQLITE_SWEEPS) {
                if (runningAttempt(jobId).filter(a -> a.attempt() == attempt).isEmpty()) {
                    return Optional.empty();
                }
                String message = kill.kill();
                return db.inTransaction("record an interrupted attempt", Durability.DEFERRED,
                        c -> recordInterrupted(c, jobId, attempt, message, end)) ? Optional.of(message)
                        : Optional.empty();
            }
        }
        try {
            return db.inTransaction("record an interrupted attempt", Durability.DEFERRED, c -> {
                // The job's row first, as startAttempt locks it: the same order, so no deadlock.
                try (PreparedStatement p = c.prepareStatement("SELECT state FROM jobs WHERE id = ? FOR UPDATE")) {
                    p.setString(1, jobId);
                    p.executeQuery().close();
                }
                try (PreparedStatement p = c.prepareStatement("SELECT outcome FROM job_attempts WHERE job_id = ?"
                        + " AND attempt = ? FOR UPDATE")) {
                    p.setString(1, jobId);
                    p.setInt(2, attempt);
                    try (ResultSet rs = p.executeQuery()) {
                        if (!rs.next() || !AttemptOutcome.RUNNING.name().equals(rs.getString(1))) {
                            return Optional.<String>empty();
                        }
                    }
                }
                String message;
                try {
                    message = kill.kill();
                } catch (InterruptedException e) {
                    throw new InterruptedWhileLocked(e);
                }
                return recordInterrupted(c, jobId, attempt, message, end) ? Optional.of(message)
                        : Optional.<String>empty();
            });
        } catch (InterruptedWhileLocked e) {
            Thread.currentThread().interrupt();
            throw (InterruptedException) e.getCause();
        }
    }

    /** Carries an interrupt out of a transaction, which it rolls back. */
    private static final class InterruptedWhileLocked extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InterruptedWhileLocked(InterruptedException cause) {
            super(cause);
        }
    }

    /**
     * How {@link #startAttempt} ends an earlier attempt that no sweep ended (its node is on another
     * host, whose processes no other node can see); the node's name follows. Such a record is the
     * taker's guess, so the attempt's own node replaces it when it records, late, what it did
     * ({@link #interruptAttempt}); a sweep's record (it saw, and killed, what was left) it does not.
     */
    static final String UNSWEPT_END = "its node stopped heart-beating before the attempt's end was recorded;"
            + " run again on ";

    /**
     * What follows {@link #UNSWEPT_END} and the picking node's name in the record of an attempt ended by a pick of its
     * job that gave the job's shared units back ({@link ResourceLedger}): that pick's node could not end what the attempt
     * left (its node is on another host), so a node of the attempt's host ends it before any job there takes units its
     * job needs ({@link #givenBackUnswept}, place31).
     */
    static final String GIVEN_BACK = ", once its units are free";

    /**
     * The terms that tell an attempt given back unswept ({@link #GIVEN_BACK}) from every other attempt, as SQL with
     * its values written in (no parameters), for table alias {@code a}: the WHERE of the partial index
     * {@code job_attempts_given_back_idx} (V18), which {@link #givenBackUnswept} repeats word for word, as SQLite and
     * PostgreSQL use a partial index only for a query whose WHERE names its terms (a bound parameter in their place
     * would not do: the plan is made before its value is known). Without the index that read matched the message of
     * every interrupted attempt of the host's boot (index32, review31 L6).
     */
    static final String GIVEN_BACK_UNSWEPT_WHERE = "a.outcome = 'INTERRUPTED' AND a.message LIKE '"
            + (UNSWEPT_END + "%" + GIVEN_BACK).replace("'", "''") + "'";

    /** {@link #givenBackUnswept}'s query; its one parameter is the boot id. */
    static final String GIVEN_BACK_UNSWEPT_SQL = "SELECT a.job_id, a.attempt, a.node, a.boot_id, a.node_pid,"
            + " a.node_started, a.pid, a.session_id, a.process_started, j.resources FROM job_attempts a JOIN jobs j"
            + " ON j.id = a.job_id WHERE " + GIVEN_BACK_UNSWEPT_WHERE + " AND a.boot_id = ?";

    /**
     * The attempts of host boot {@code bootId} (host, kernel boot and PID namespace, as {@link NodeIdentity#bootId()}
     * says them) ended unswept as their job gave its shared units back at a pick of another host's node ({@link
     * #GIVEN_BACK}), whose job needs any of {@code resources}: what they left here may still run (their node paused,
     * {@code runner.watchdog: off}) until a node of this host ends it ({@link #recordGivenBackSwept}). Empty for a
     * boot id without that identity (unreadable): nothing recorded so can be told to be of this host.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<RunningAttempt> givenBackUnswept(String bootId, Set<String> resources) {
        return db.read("list attempts given back unswept", c -> givenBackUnswept(c, bootId, resources));
    }

    static List<RunningAttempt> givenBackUnswept(Connection c, String bootId, Set<String> resources)
            throws SQLException {
        List<RunningAttempt> found = new ArrayList<>();
        if (bootId == null || !bootId.contains("/pid:") || resources.isEmpty()) {
            return found;
        }
        // job_attempts_given_back_idx (V18): only the attempts given back and not yet swept, of this host boot.
        try (PreparedStatement p = c.prepareStatement(GIVEN_BACK_UNSWEPT_SQL)) {
            p.setString(1, bootId);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    String needs = rs.getString(10);
                    if (needs == null || Rows.resourceMap(needs).keySet().stream().noneMatch(resources::contains)) {
                        continue;
                    }
                    found.add(runningAttempt(rs));
                }
            }
        }
        return found;
    }

    /**
     * Records that a node of its host ended what attempt {@code attempt} of {@code jobId} left, after its job gave its
     * units back at another host's pick ({@link #givenBackUnswept}): its message becomes {@code message}, so that it
     * no longer holds units back from this host's takers. Only while it is still recorded so (a second sweeper of the
     * host, or the attempt's own node's late account, may have recorded it first).
     *
     * @return whether it was recorded by this call
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean recordGivenBackSwept(String jobId, int attempt, String message) {
        return db.inTransaction("record what an attempt given back unswept left", Durability.DEFERRED, c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET message = ? WHERE job_id = ?"
                    + " AND attempt = ? AND outcome = ? AND message LIKE ?")) {
                p.setString(1, message);
                p.setString(2, jobId);
                p.setInt(3, attempt);
                p.setString(4, AttemptOutcome.INTERRUPTED.name());
                p.setString(5, UNSWEPT_END + "%" + GIVEN_BACK);
                return p.executeUpdate() == 1;
            }
        });
    }

    /**
     * How {@link #startAttempt} ends an earlier attempt still marked running that this very process started (same node,
     * host boot, pid and process start): the store lost the record of its end (fence32, as pgcrash31 words a lost start);
     * the node's name follows. Before 2026-12-03 it was {@link #UNSWEPT_END}, counted as a death of its node.
     */
    static final String LOST_END = "its end is not in the store, yet the very process of its node that started it"
            + " runs the job again now, which it does only once it has recorded that end: the store lost that record (a"
            + " database server that crashed and lost commits it had acknowledged, a database restored from a backup,"
            + " or a failover to a copy that had not received it); its node did not stop heart-beating. What the"
            + " command came to is not known here; run again on ";

    /**
     * How a pick that gives its job's shared units back ({@link ResourceLedger}) ends an earlier attempt still marked
     * running that this very process started, as {@link #LOST_END} says it for a start; the node's name and {@link
     * #GIVEN_BACK} follow. Before 2026-12-04 it was {@link #UNSWEPT_END}, counted as a death of its node, and it held
     * the units back from every taker of this host ({@link #givenBackUnswept}) until this process ended.
     */
    static final String LOST_END_PICKED = "its end is not in the store, yet the very process of its node that started"
            + " it picked the job again, which it does only once it has recorded that end: the store lost that record (a"
            + " database server that crashed and lost commits it had acknowledged, a database restored from a backup,"
            + " or a failover to a copy that had not received it); its node did not stop heart-beating, and nothing of"
            + " the attempt is left running. What the command came to is not known here; run again on ";

    /**
     * The SQL terms (4 parameters, for {@link #bindThisProcess}) that tell an attempt of {@code job_attempts} started
     * by this very process: the same node, host boot, pid and process start.
     */
    static final String THIS_PROCESS = "node = ? AND boot_id = ? AND node_pid = ? AND node_started = ?";

    /** Binds {@code node}, and this process's boot id, pid and start, to the 4 parameters from {@code first} on. */
    static void bindThisProcess(PreparedStatement p, int first, String node, NodeIdentity owner)
            throws SQLException {
        p.setString(first, node);
        p.setString(first + 1, owner.bootId());
        p.setLong(first + 2, owner.process().pid());
        p.setLong(first + 3, owner.process().startTicks());
    }

    /** {@link #UNSWEPT_END} as written before 2026-12-02, still in the records of that time (tryout21 F3). */
    static final String UNSWEPT_END_BEFORE = "its node stopped heart-beating before the attempt ended; run again on ";

    /**
     * What a sweep's record says ({@link #interruptLeftover}) when it found nothing of the attempt left to kill,
     * between its "its node … before the attempt ended" and what becomes of the job. Such a record knows
     * nothing of how the processes ended; the attempt's own node, woken after its watchdog killed them,
     * replaces it with the watchdog's kill ({@link #interruptAttempt(String, int, JobOutcome, String, boolean)}).
     * It says how they were looked for: a process that left the job's session and lost its marker (a daemon started
     * with {@code setsid} and an empty environment) is not found, and may still run (tryout46 F3: before 2026-12-06
     * it said {@link #NONE_LEFT_BEFORE}, flatly).
     */
    public static final String NONE_LEFT = "none of its processes was found by its session or its marker";

    /** {@link #NONE_LEFT} as written before 2026-12-06, still in the records of that time. */
    static final String NONE_LEFT_BEFORE = "none of its processes was left";

    /** One SQLite sweep at a time in this JVM (a data-dir has one node). */
    private static final Object SQLITE_SWEEPS = new Object();

    private boolean recordInterrupted(Connection c, String jobId, int attempt, String message, NodeEnd end)
            throws SQLException {
        // ended_at is already set only by recordKnownOutcome (the command's own end, which its node knew: tryout21 F3)
        // and by recordNotedEnd (the kill of its process tree, as its node noted it: tryout22 F5).
        try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET outcome = ?,"
                + " ended_at = COALESCE(ended_at, ?), message = ?, node_died = " + end.sql
                + " WHERE job_id = ? AND attempt = ? AND outcome = ?")) {
            p.setString(1, AttemptOutcome.INTERRUPTED.name());
            p.setLong(2, clock.millis());
            p.setString(3, message);
            p.setString(4, jobId);
            p.setInt(5, attempt);
            p.setString(6, AttemptOutcome.RUNNING.name());
            if (p.executeUpdate() == 0) {
                return false;
            }
        }
        // A job that holds shared resources keeps its place among the jobs waiting for them: it waits
        // again as from just before it took them, ahead of every job that started waiting while it held
        // them (tryout9, F1: after a kill -9 a later build's job took the board of the half-done one);
        // its attempt's start when its holds are gone. Any other job is queued again, and keeps its place
        // in its rule's concurrency line (slot_waiting, as a retry that asked for a slot): with attempts > 0
        // and not marked it was out of the line, and a younger job took the slot first (tryout12 F4).
        try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET " + BACK_IN_ITS_PLACE + ", message = ?"
                + " WHERE id = ? AND attempts = ? AND state = ?")) {
            p.setString(1, message);
            p.setString(2, jobId);
            p.setInt(3, attempt);
            p.setString(4, JobState.RUNNING.name());
            p.executeUpdate();
        }
        return true;
    }

    /**
     * A scalar subquery: when the first attempt of the current run of the job aliased {@code job} started (epoch ms),
     * {@code NULL} when it has no attempt. A run is the attempts since the latest one that ended other than cut short
     * ({@code INTERRUPTED}) or is still {@code RUNNING}: a job cut short any number of times is one run; a retry after
     * a failure or a timeout begins another (it waits again).
     *
     * @param job the alias (or table name) of the {@code jobs} row in the enclosing statement
     */
    static String runStarted(String job) {
        return "(SELECT MIN(a.started_at) FROM job_attempts a WHERE a.job_id = " + job + ".id AND a.attempt > COALESCE("
                + "(SELECT MAX(b.attempt) FROM job_attempts b WHERE b.job_id = " + job + ".id AND b.outcome NOT IN"
                + " ('INTERRUPTED', 'RUNNING')), 0))";
    }

    /**
     * The columns of a job whose attempt was cut short (its node's death, stop, self-fencing or watchdog, or a start
     * its node could not make), set so that it keeps its place: a job that needs shared resources is {@code WAITING}
     * as from just before it took its units ({@code resource_holds.acquired_at} - 1 ms, while its holds are still
     * there; else the start of the first attempt of this run of it, {@link #runStarted}, which came right after),
     * ahead of every job that started waiting for them while it held them (tryout9 F1, cluster27 F12). Units taken
     * again after a cut keep the time it first took them ({@code ResourceLedger}), so the place holds across any
     * number of cuts (tryout30 F4). Any other job is {@code QUEUED} and marked waiting in its rule's concurrency line
     * ({@code slot_waiting}, tryout12 F4). No parameters; its {@code jobs} row is the one updated.
     */
    static final String BACK_IN_ITS_PLACE = "state = CASE WHEN resources IS NULL THEN 'QUEUED' ELSE 'WAITING' END,"
            + " waiting_since = CASE WHEN resources IS NULL THEN waiting_since ELSE COALESCE((SELECT MIN(h.acquired_at)"
            + " - 1 FROM resource_holds h WHERE h.job_id = jobs.id), " + runStarted("jobs") + ") END,"
            + " slot_waiting = CASE WHEN resources IS NULL THEN 1 ELSE slot_waiting END";

    /**
     * Records how attempt {@code attempt} ended and moves the job to {@code next} — unless a later
     * attempt has started meanwhile (another node took the job over after this one stopped
     * heart-beating), or that node ended the job without one (a final state, which this record does not
     * overwrite but with the same state: review31): then only the attempt's own row gets its outcome, and
     * false is returned. An outcome without an end time ({@link JobOutcome#ended()} null: nobody recorded when the attempt
     * ended) is stored without one, for the attempt and, when {@code next} is final, for the job. Every
     * outcome recorded here (none is a cut) ends the job's place among the jobs waiting for shared resources
     * ({@code waiting_since} cleared): a retry waits again from when it asks for its units, also one concluded
     * from what an attempt cut short had come to ({@link #finishConcluded}; place31).
     */
    public boolean finishAttempt(String jobId, int attempt, JobOutcome outcome, JobState next) {
        return finishAttempt(jobId, attempt, outcome, next, -1) != Finished.SUPERSEDED;
    }

    /** What {@link #finishAttempt(String, int, JobOutcome, JobState, long)} did. */
    public enum Finished {
        /**
         * A later attempt has started meanwhile, or another node ended the job meanwhile without one (a final state
         * this record does not overwrite): only the attempt's own row got its outcome.
         */
        SUPERSEDED,
        /** The attempt and the job are recorded; the job's queue entry is left as it was. */
        RECORDED,
        /** The attempt and the final job are recorded, and the job's queue entry is removed with them. */
        RECORDED_AND_DEQUEUED,
        /**
         * The attempt is recorded as it ended, but a cancel or a supersede had been asked for before: the job
         * ended {@link JobState#CANCELLED} or {@link JobState#SUPERSEDED} instead (see
         * {@link ExecutionLedger#endedAfterStopAsked}); its queue entry is left as it was.
         */
        STOPPED_AS_ASKED,
        /** As {@link #STOPPED_AS_ASKED}, and the job's queue entry is removed with it. */
        STOPPED_AS_ASKED_AND_DEQUEUED;

        /** Whether the job's queue entry was removed with its record. */
        public boolean dequeued() {
            return this == RECORDED_AND_DEQUEUED || this == STOPPED_AS_ASKED_AND_DEQUEUED;
        }

        /** Whether the job ended cancelled or superseded, as asked before its end was recorded. */
        public boolean stoppedAsAsked() {
            return this == STOPPED_AS_ASKED || this == STOPPED_AS_ASKED_AND_DEQUEUED;
        }
    }

    /**
     * The message of a job whose command ended by itself ({@code outcome}, not {@link JobState#CANCELLED}) after
     * a cancel or a supersede had been asked for, but before its node had stopped it (it looks at the cancel flag
     * only every {@code runner.cancel-check}): the job keeps its exit code and its attempt's record, and ends
     * CANCELLED, or SUPERSEDED when {@code supersededBy} is set (tryout21 F5).
     *
     * @param outcome      how the command ended, as its attempt records it
     * @param next         what that outcome would have made of the job ({@link JobState#SUCCEEDED}, a retry's
     *                     {@link JobState#QUEUED}, {@link JobState#FAILED} or {@link JobState#TIMED_OUT})
     * @param supersededBy the job of the newer build that superseded it, or null for a cancel
     * @param build        that job's build, or null when unknown
     */
    public static String endedAfterStopAsked(JobOutcome outcome, JobState next, String supersededBy, Long build) {
        String after = supersededBy == null ? "after its cancel was asked for, before the cancel stopped it"
                : "after it was superseded by " + newer(supersededBy, build) + ", before the stop reached it";
        return outcome.message() + "; it ended by itself " + after + "; it counts as "
                + (supersededBy == null ? "cancelled" : "superseded") + ": " + notStarted(next)
                + " (its on-cancel is, if its rule has one)";
    }

    /**
     * The message of a job concluded from what its dead node's last attempt had come to ({@code outcome}: its
     * exit or timeout, then how its node stopped) when a cancel or a supersede had been asked for before that
     * end was recorded: it ends CANCELLED or SUPERSEDED and keeps the exit (supersede21). Whether the command
     * ended before or after the cancel is not known: the node that saw it is gone.
     */
    static String concludedAfterStopAsked(JobOutcome outcome, JobState next, String supersededBy, Long build) {
        return outcome.message() + "; " + (supersededBy == null ? "its cancel was asked for"
                : "it was superseded by " + newer(supersededBy, build)) + " before that end was recorded; it counts as "
                + (supersededBy == null ? "cancelled" : "superseded") + ": " + notStarted(next)
                + " (its on-cancel is, if its rule has one)";
    }

    /**
     * The message of a job its node's deaths end ({@link #finishWithoutAttempt}: {@code outcome} says why it is
     * not run again) when a cancel or a supersede had been asked for before that end was recorded: it ends
     * CANCELLED or SUPERSEDED, not FAILED, and starts no on-failure (supersede21).
     */
    static String notRunAgainAfterStopAsked(JobOutcome outcome, String supersededBy, Long build) {
        return (supersededBy == null ? "cancelled" : "superseded by " + newer(supersededBy, build))
                + ", as asked before this end was recorded, instead of FAILED: " + outcome.message()
                + "; its on-failure is not started (its on-cancel is, if its rule has one)";
    }

    private static String newer(String supersededBy, Long build) {
        return "job " + supersededBy + (build == null ? "" : " of build " + build);
    }

    private static String notStarted(JobState next) {
        return next == JobState.SUCCEEDED ? "its on-success is not started"
                : "it is not retried and its on-failure is not started";
    }

    /** How the end that a cancel or a supersede asked for before its record wins over came about. */
    private enum EndSeen {
        /** The command ended by itself on its node, which records it ({@link #endedAfterStopAsked}). */
        OWN,
        /** Concluded from what a dead node's attempt had come to ({@link #concludedAfterStopAsked}). */
        CONCLUDED,
        /** Not run again after its node's deaths, without an attempt ({@link #notRunAgainAfterStopAsked}). */
        WITHOUT_ATTEMPT
    }

    /**
     * As {@link #finishAttempt(String, int, JobOutcome, JobState)}; when {@code next} is final and
     * the attempt is still the job's latest, it also removes the job's db-scheduler execution in the
     * same transaction — only if that row is still at {@code executionVersion} (the version this
     * node picked; db-scheduler's own remove checks the same). One write transaction per finished
     * job instead of two, and none of them on db-scheduler's own connections, which on SQLite meet
     * the writer on the database's one write lock (docs/BENCHMARKS.md).
     *
     * @param executionVersion the picked execution's version, or a negative number to leave the
     *                         queue entry to the caller
     */
    public Finished finishAttempt(String jobId, int attempt, JobOutcome outcome, JobState next,
            long executionVersion) {
        return finishAttempt(jobId, attempt, outcome, next, executionVersion, null, false, EndSeen.OWN, null);
    }

    /**
     * As {@link #finishAttempt(String, int, JobOutcome, JobState, long)}, for a job of a rule with a
     * concurrency limit ({@code slotRule}): the job ends (a final state) or goes to a retry's backoff
     * ({@link JobState#QUEUED}) holding no slot, whichever node took the slot it had, and the rule's next
     * jobs in line are woken in the same transaction ({@link SlotLine#wakeTurn}); a retry in its backoff
     * leaves the line too (not {@code slot_waiting}), as {@link #inLine} says. Before, the slot was freed
     * only by the node that ran the attempt, in a transaction of its own after this one: a job concluded
     * by another node from what its attempt came to before its node died ({@link #decided}) left the dead
     * node's slot counted as held while its execution was picked, and once that was removed nobody woke
     * the next job, which waited for {@code runner.slot-retry} with the slot free (review14 F2); so did
     * every job whose node died between the two transactions. Nothing of the slots changes when a later attempt has started
     * ({@link Finished#SUPERSEDED}): that attempt's node holds the slot now; nor is the slot of a node that picked the
     * job since ({@code executionVersion} no longer the pick's) and took it for its coming attempt (review15).
     *
     * <p>A job read without a limit ({@code slotRule} null) may hold a slot all the same: one a reload
     * that set its rule's limit gave it while it ran ({@link SlotLine#holdForPicked}). That slot is freed
     * with the outcome too, and its rule's line woken after the commit, in a transaction that takes the
     * rule's turn first (this one took none).
     *
     * @param slotRule the job's rule when it has a concurrency limit, else null
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Finished finishAttempt(String jobId, int attempt, JobOutcome outcome, JobState next,
            long executionVersion, String slotRule) {
        return finishAttempt(jobId, attempt, outcome, next, executionVersion, slotRule, slotRule == null, EndSeen.OWN,
                null);
    }

    /**
     * As {@link #finishAttempt(String, int, JobOutcome, JobState, long, String)}, for an attempt whose end is
     * concluded from what it had come to before its node stopped ({@link #decided}), by the node that picked
     * the job since: a cancel or a supersede asked for before this record still wins, and the job's message
     * then keeps the attempt's exit ({@link #concludedAfterStopAsked}).
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Finished finishConcluded(String jobId, int attempt, JobOutcome outcome, JobState next,
            long executionVersion, String slotRule) {
        return finishAttempt(jobId, attempt, outcome, next, executionVersion, slotRule, slotRule == null,
                EndSeen.CONCLUDED, null);
    }

    /**
     * As {@link #finishAttempt(String, int, JobOutcome, JobState, long, String)} with {@link JobState#QUEUED},
     * for an attempt whose job waits for its retry's backoff: the attempt's message is {@code outcome}'s, the
     * job's is that followed by {@code wait} ({@link Job#retryWait}), as the wait for a slot follows it
     * ({@link #tryAcquireSlot}); the retry's start takes it out again (tryout21 F6).
     *
     * @param wait what the job waits for, {@link Job#retryWait}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Finished finishForRetry(String jobId, int attempt, JobOutcome outcome, long executionVersion,
            String slotRule, String wait) {
        return finishAttempt(jobId, attempt, outcome, JobState.QUEUED, executionVersion, slotRule, slotRule == null,
                EndSeen.OWN, java.util.Objects.requireNonNull(wait, "wait"));
    }

    /**
     * As {@link #finishAttempt(String, int, JobOutcome, JobState, long, String)}, for a job that ends without a
     * new attempt, its latest being {@code attempts}: the job's row gets {@code outcome} and {@code next}, its
     * execution, slot and wake-ups go as for any outcome, and every attempt keeps its own record (a job whose
     * node died under it {@link #DEATHS_IN_A_ROW} times in a row ends {@code FAILED}, its attempts
     * {@code INTERRUPTED} as they were: review20 R3). A cancel or a supersede asked for before this record wins:
     * the job then ends {@code CANCELLED} or {@code SUPERSEDED} ({@link #notRunAgainAfterStopAsked}).
     *
     * @param attempts         the job's latest attempt, 1-based; nothing is recorded when a later one has started
     * @param outcome          the job's message, exit code (null), end and log file
     * @param next             the job's state, final
     * @param executionVersion the picked execution's version, or a negative number to leave the queue entry
     * @param slotRule         the job's rule when it has a concurrency limit, else null
     * @return what was recorded
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Finished finishWithoutAttempt(String jobId, int attempts, JobOutcome outcome, JobState next,
            long executionVersion, String slotRule) {
        return finishAttempt(jobId, attempts, outcome, next, executionVersion, slotRule, slotRule == null,
                EndSeen.WITHOUT_ATTEMPT, null);
    }

    /**
     * @param freeHeld   whether a slot the job holds without {@code slotRule} is freed ({@link SlotLine#holdForPicked})
     * @param seen       how the end came about; {@link EndSeen#WITHOUT_ATTEMPT}: only the job's row gets the outcome,
     *                   attempt {@code attempt}'s keeps its own
     * @param wait       what the job waits for now, after its message in the job's row only; null for nothing
     */
    private Finished finishAttempt(String jobId, int attempt, JobOutcome outcome, JobState next,
            long executionVersion, String slotRule, boolean freeHeld, EndSeen seen, String wait) {
        boolean attemptToo = seen != EndSeen.WITHOUT_ATTEMPT;
        String jobMessage = wait == null ? outcome.message()
                : outcome.message() == null ? wait : outcome.message() + "; " + wait;
        // An end nobody recorded (the attempt's node died on another host before the sweep could say when)
        // stays unknown (NULL), for the attempt and for the job it ends: "now" made the attempt seem to
        // have run through the downtime (wording15). Every surface says "unknown" for it.
        Instant ended = outcome.ended();
        String log = outcome.logFile() == null ? null : outcome.logFile().toString();
        // The rule of a slot the job held without a limit, and the newer job that superseded it.
        String[] heldSlot = new String[2];
        if (db.dialect() == Dialect.POSTGRESQL && next != JobState.CANCELLED && slotRule == null && attemptToo) {
            Finished finished = finishInOneStatement(jobId, attempt, outcome, next, executionVersion, ended, log,
                    freeHeld, heldSlot, jobMessage);
            if (finished != null) {
                wakeAfterHeldSlot(heldSlot[0], jobId);
                wakeSuperseding(heldSlot[1]);
                return finished;
            }
            // A later attempt started, a cancel was asked for, or another node ended the job: the transaction below
            // says which, with the
            // job's row locked (the attempt's row, written already, is written again with the same outcome).
        }
        int[] woken = new int[1];
        Finished finished = db.inTransaction("record an attempt", Durability.DEFERRED, c -> {
            woken[0] = 0;
            heldSlot[0] = null;
            if (slotRule != null) {
                // Before any row lock (SlotLine.inTurn).
                line.inTurn(c, slotRule);
            }
            if (seen == EndSeen.OWN) {
                // First record wins (tryout45 F6): not over the end another node recorded meanwhile, a sweep that ended
                // what the attempt left (its node frozen or cut off past the dead-node limit; on the same host the
                // sweep's kill is what this node sees as the command's exit, 137). Neither the job's row: that sweep
                // put it back in its place, or its node ran it again or ended it.
                if (!recordOwnEnd(c, jobId, attempt, AttemptOutcome.of(outcome.result()), outcome.exitCode(), ended,
                        log, outcome.message())) {
                    return Finished.SUPERSEDED;
                }
            } else if (attemptToo) {
                updateAttempt(c, jobId, attempt, AttemptOutcome.of(outcome.result()), outcome.exitCode(), ended, log,
                        outcome.message());
            }
            // A cancel or a supersede asked for before this end is recorded, by any node, wins over the outcome
            // (read with the job's row locked; one asked for later finds the job final): the command ended by
            // itself before its node looked at the flag, and its on-success must not start (tryout21 F5).
            // So does one asked for before a job is concluded from its dead node's attempt or ended after its node's
            // deaths: it ended FAILED with its on-failure, or cancelled without the exit it had (supersede21).
            // One read of the job's row gives what the rest of this transaction asks of it (SQLite: and of its slot).
            EndRead read = next != JobState.CANCELLED && next != JobState.SUPERSEDED
                    ? endRead(c, jobId, attempt, executionVersion, slotRule == null && freeHeld) : null;
            StopAsked stopped = read == null ? null : read.stopAsked(outcome, next, seen);
            JobState state = stopped == null ? next : stopped.state();
            // No place kept among the jobs waiting for units: an attempt that ended (not cut short) ends its run, and
            // a retry waits again from when it asks (place31: one concluded from what its cut-short attempt had come
            // to kept the cut's waiting_since, and its retry waited in the cut's place).
            // Never over a job another node ended meanwhile without a later attempt (its node's deaths in a row, a
            // cancel): this node paused past the dead-node limit, and its late record of its command's own end turned
            // that FAILED job SUCCEEDED, or QUEUED for a retry with no execution left to run it, QUEUED for ever
            // (review31, chaos31 F2's kind). The same state again (a cancel or a supersede asked for) is written as before.
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, exit_code = ?, ended_at = ?,"
                    + " log_path = ?, message = ?, waiting_since = NULL" + (slotRule != null ? ", slot_waiting = 0" : "")
                    + " WHERE id = ? AND attempts = ? AND (state = ? OR state NOT IN (" + finalStates() + "))")) {
                p.setString(1, state.name());
                Rows.setInteger(p, 2, outcome.exitCode());
                Rows.setInstant(p, 3, state.isFinal() ? ended : null);
                p.setString(4, log);
                // Asked to stop, it is not retried: nothing of a retry's wait in its message.
                p.setString(5, stopped != null ? stopped.message() : jobMessage);
                p.setString(6, jobId);
                p.setInt(7, attempt);
                p.setString(8, state.name());
                if (p.executeUpdate() != 1) {
                    if (seen == EndSeen.OWN) {
                        saidLate(c, jobId, attempt, outcome.message());
                    }
                    return Finished.SUPERSEDED;
                }
            }
            if (next == JobState.CANCELLED) {
                // Only a cancelled job can have been cancelled by a newer build (its final state
                // then reads superseded): for any other state the statement would change nothing.
                Supersede.settle(c, jobId);
            }
            if (state.isFinal()) {
                // superseded_by as read above: this transaction changed it not, and no other could meanwhile (the job's
                // row is locked on PostgreSQL; SQLite has one writer).
                woken[0] += read != null ? wakeNewer(c, read.supersededBy()) : wakeSuperseding(c, jobId);
            }
            boolean dequeued = false;
            if (executionVersion >= 0 && state.isFinal()) {
                try (PreparedStatement p = c.prepareStatement("DELETE FROM scheduled_tasks WHERE task_name = ?"
                        + " AND task_instance = ? AND version = ?")) {
                    p.setString(1, JobQueue.TASK_NAME);
                    p.setString(2, jobId);
                    p.setLong(3, executionVersion);
                    dequeued = p.executeUpdate() == 1;
                }
            }
            Finished done = stopped != null
                    ? (dequeued ? Finished.STOPPED_AS_ASKED_AND_DEQUEUED : Finished.STOPPED_AS_ASKED)
                    : (dequeued ? Finished.RECORDED_AND_DEQUEUED : Finished.RECORDED);
            if (slotRule != null && (state.isFinal() || state == JobState.QUEUED)) {
                // Any node's, the attempt is over (a later one would have made this a SUPERSEDED), but that
                // of a node whose pick of the job is not the one this outcome came with: that node took the
                // job over and its slot, and may start the next attempt before this outcome shows, which then
                // ran holding no slot beside the next job of the line (review15, on review14 F2).
                try (PreparedStatement p = c.prepareStatement("DELETE FROM rule_slots WHERE job_id = ?"
                        + ofThisPick())) {
                    p.setString(1, jobId);
                    bindOfThisPick(p, 2, executionVersion);
                    p.executeUpdate();
                }
                woken[0] += line.wakeTurn(c, slotRule, jobId);
            } else if (freeHeld) {
                if (read != null && read.slotRead()) {
                    heldSlot[0] = read.heldSlot();
                } else {
                    try (PreparedStatement p = c.prepareStatement("SELECT rule_name FROM rule_slots WHERE job_id = ?"
                            + ofThisPick())) {
                        p.setString(1, jobId);
                        bindOfThisPick(p, 2, executionVersion);
                        try (ResultSet rs = p.executeQuery()) {
                            heldSlot[0] = rs.next() ? rs.getString(1) : null;
                        }
                    }
                }
                if (heldSlot[0] != null) {
                    try (PreparedStatement p = c.prepareStatement("DELETE FROM rule_slots WHERE job_id = ?"
                            + ofThisPick())) {
                        p.setString(1, jobId);
                        bindOfThisPick(p, 2, executionVersion);
                        p.executeUpdate();
                    }
                }
            }
            return done;
        });
        if (woken[0] > 0) {
            jobsDue.run();
        }
        wakeAfterHeldSlot(heldSlot[0], jobId);
        return finished;
    }

    /**
     * The words of an attempt's message that say its exit was seen late, when its node's JVM ran again after a pause
     * (followed by how long: {@code 71.6 s}): its late record then says so, not that the store answered again
     * (tryout49 F1: "… once the store answered again" of a store that had answered all along).
     */
    public static final String SEEN_ON_WAKING = "when this node ran again after its JVM was paused or stalled for ";

    /**
     * What a late record of an attempt's end says of the job's later attempt ({@code attempt}, on {@code node}): the
     * end of {@code … recorded late, …; }, for the attempt's own node that stayed up and for its next start after a
     * stop ({@link #recordLateOutcome}; cluster27 F11).
     */
    public static String takenOver(int attempt, String node) {
        return "meanwhile another node took the job over (its node was taken for gone) and ran it again: attempt "
                + attempt + " on node " + node;
    }

    /**
     * The attempt's own node recorded its end ({@code message}) after another node had taken the job over and started
     * a later attempt (its node stayed up, cut off from the store: cluster27 F4): the attempt's message says that it is
     * recorded late and that the job ran again, as {@link #recordLateOutcome} says it after a stop (cluster27 F11).
     */
    private static void saidLate(Connection c, String jobId, int attempt, String message) throws SQLException {
        String late;
        boolean endUnknown;
        try (PreparedStatement p = c.prepareStatement("SELECT a.attempt, a.node, m.node, a.started_at, m.ended_at"
                + " FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.attempt = j.attempts JOIN job_attempts m"
                + " ON m.job_id = j.id AND m.attempt = ? WHERE j.id = ? AND j.attempts > ?")) {
            p.setInt(1, attempt);
            p.setString(2, jobId);
            p.setInt(3, attempt);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return; // the job is gone
                }
                // Seen on waking from a pause of its node's JVM, not after an outage of the store (tryout49 F1).
                boolean woke = message != null && message.contains(SEEN_ON_WAKING);
                long laterStart = rs.getLong(4);
                boolean laterStarted = !rs.wasNull();
                long ended = rs.getLong(5);
                // An end seen on waking is only a bound (it ended before it): one after the later attempt's start is
                // no proof that the two ran at once, and shown as its end, the history says they did. Not known then.
                endUnknown = woke && laterStarted && !rs.wasNull() && ended > laterStart;
                late = (message == null ? "" : message + "; ") + "recorded late, by its node " + rs.getString(3)
                        + (woke ? " when it ran again (its JVM had not run, the store had answered)"
                                : " once the store answered again")
                        + (endUnknown ? "; whether it ended before attempt " + rs.getInt(1) + " began is not known"
                                : "")
                        + "; " + takenOver(rs.getInt(1), rs.getString(2));
            }
        }
        try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET message = ?"
                + (endUnknown ? ", ended_at = NULL" : "") + " WHERE job_id = ? AND attempt = ?")) {
            p.setString(1, late);
            p.setString(2, jobId);
            p.setInt(3, attempt);
            p.executeUpdate();
        }
    }

    /**
     * In the transaction that records attempt {@code attempt}'s end, job {@code jobId}'s row as the rest of that
     * transaction asks for it, read once (docs/BENCHMARKS.md, "Twentieth pass: the job's bookkeeping"): whether a
     * cancel or a supersede was asked for (its {@code cancel_requested} flag, set by {@code DeliveryWriter.cancel} or
     * by {@link Supersede} on any node), the newer job that superseded it, and on SQLite, with {@code slot}, the
     * rule of a slot it holds of this pick ({@link SlotLine#holdForPicked}); {@code null} when a later attempt has
     * started (the update then changes nothing). The job's row is locked on PostgreSQL (SQLite's one writer
     * serialises it), so a request committed before this is seen, and one after it finds the job's final state.
     * PostgreSQL reads the slot after the job's update, as before, in a statement of its own.
     */
    private EndRead endRead(Connection c, String jobId, int attempt, long executionVersion, boolean slot)
            throws SQLException {
        boolean slotToo = slot && db.dialect() == Dialect.SQLITE;
        try (PreparedStatement p = c.prepareStatement("SELECT j.cancel_requested, j.superseded_by,"
                + " (SELECT b.build_id FROM jobs b WHERE b.id = j.superseded_by)"
                + (slotToo ? ", (SELECT rule_name FROM rule_slots WHERE job_id = j.id" + ofThisPick() + ")" : "")
                + " FROM jobs j WHERE j.id = ? AND j.attempts = ?"
                + (db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE OF j" : ""))) {
            int next = 1;
            if (slotToo) {
                bindOfThisPick(p, 1, executionVersion);
                next = 5;
            }
            p.setString(next, jobId);
            p.setInt(next + 1, attempt);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                boolean asked = rs.getInt(1) != 0;
                String by = rs.getString(2);
                long build = rs.getLong(3);
                Long buildId = rs.wasNull() ? null : build;
                return new EndRead(asked, by, buildId, slotToo, slotToo ? rs.getString(4) : null);
            }
        }
    }

    /**
     * A job's row as {@link #endRead} read it.
     *
     * @param stopAsked    whether a cancel or a supersede was asked for
     * @param supersededBy the newer job that superseded it, or null
     * @param build        that newer job's build id, or null
     * @param slotRead     whether {@code heldSlot} was read
     * @param heldSlot     the rule of the slot it holds of this pick, or null
     */
    private record EndRead(boolean stopAsked, String supersededBy, Long build, boolean slotRead, String heldSlot) {

        /** When a cancel or a supersede was asked for, the job's state and message for that; else null. */
        StopAsked stopAsked(JobOutcome outcome, JobState next, EndSeen seen) {
            if (!stopAsked) {
                return null;
            }
            return new StopAsked(supersededBy == null ? JobState.CANCELLED : JobState.SUPERSEDED, switch (seen) {
                case OWN -> endedAfterStopAsked(outcome, next, supersededBy, build);
                case CONCLUDED -> concludedAfterStopAsked(outcome, next, supersededBy, build);
                case WITHOUT_ATTEMPT -> notRunAgainAfterStopAsked(outcome, supersededBy, build);
            });
        }
    }

    /** What a job whose cancel or supersede was asked for before its end was recorded ends as, and its message. */
    private record StopAsked(JobState state, String message) {
    }

    /**
     * SQL, after {@code WHERE job_id = ?}: the job's slot rows but that of a node whose pick of the job is
     * not the one the outcome came with ({@link #bindOfThisPick}: the execution's version, or a negative
     * number for any node's).
     */
    private String ofThisPick() {
        return " AND (? < 0 OR NOT " + executionExists("rule_slots.job_id",
                " AND s.picked = ? AND s.picked_by = rule_slots.node AND s.version <> ?", db.dialect()) + ")";
    }

    /** Binds {@link #ofThisPick()}'s parameters from {@code first}. */
    private static void bindOfThisPick(PreparedStatement p, int first, long executionVersion) throws SQLException {
        p.setLong(first, executionVersion);
        p.setString(first + 1, JobQueue.TASK_NAME);
        p.setBoolean(first + 2, true);
        p.setLong(first + 3, executionVersion);
    }

    /**
     * In the transaction that made job {@code older} final: wakes the job of a newer build that superseded
     * it under {@code running: cancel} ({@code superseded_by}), when it was put back to wait for this one
     * to end ({@link #putBackWhileSupersededRuns}), instead of leaving it to its next try,
     * {@code runner.slot-retry} later (review15).
     *
     * @return how many were made due (0 or 1)
     */
    private int wakeSuperseding(Connection c, String older) throws SQLException {
        String newer = null;
        try (PreparedStatement p = c.prepareStatement("SELECT superseded_by FROM jobs WHERE id = ?")) {
            p.setString(1, older);
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next()) {
                    newer = rs.getString(1);
                }
            }
        }
        return wakeNewer(c, newer);
    }

    /** As {@link #wakeSuperseding(Connection, String)}, for the newer job read already ({@code null}: none). */
    private int wakeNewer(Connection c, String newer) throws SQLException {
        return newer == null ? 0 : line.wake(c, List.of(newer));
    }

    /** As {@link #wakeSuperseding(Connection, String)}, for {@code newer} read already, after the commit. */
    private void wakeSuperseding(String newer) {
        if (newer == null) {
            return;
        }
        try {
            if (db.inTransaction("wake the job of a newer build", Durability.DEFERRED,
                    c -> line.wake(c, List.of(newer))) > 0) {
                jobsDue.run();
            }
        } catch (StoreUnavailableException e) {
            LOG.warn("job {}: starts at its next try: {}", newer, e.getMessage());
        }
    }

    /**
     * After the slot {@code rule}'s job {@code jobId} held without its limit was freed with its outcome:
     * wakes the rule's line, as a release does ({@link #releaseSlot(String, String, String)}). Nothing when
     * {@code rule} is null. A failure is only logged: the jobs woken would otherwise start at their next
     * try, and the outcome is recorded already.
     */
    private void wakeAfterHeldSlot(String rule, String jobId) {
        if (rule == null) {
            return;
        }
        try {
            boolean woken = db.inTransaction("wake the next jobs of a rule", Durability.DEFERRED, c -> {
                line.inTurn(c, rule);
                return line.wakeTurn(c, rule, jobId) > 0;
            });
            if (woken) {
                jobsDue.run();
            }
        } catch (StoreUnavailableException e) {
            LOG.warn("job {}: the next jobs of rule {} start at their next try: {}", jobId, rule, e.getMessage());
        }
    }

    /**
     * After the end of job {@code jobId} of rule {@code ruleName} was recorded (its attempt over: it ended, or waits for
     * a retry): wakes the line of each rule in force whose {@code concurrency} counted it while it ran as one of its own
     * ({@link RuleRenames}: the rule renamed from {@code ruleName}, by {@code renamed-from} or with the same {@code
     * run}), as a freed slot of that rule wakes it ({@link SlotLine#wakeTurn}). Before, the renamed rule's job waiting
     * for a slot started only at its next try, {@code runner.slot-retry} (rename35). The other way round too: the end of
     * a job of a rule in force wakes the lines of the names its {@code renamed-from} writes, where the old name's retry
     * or re-run waits for the slot the job held (renames37; before, it waited for its next try), and an old name's job
     * those of the other old names of the rules that took it over ({@link RuleRenames#linked}). Nothing, and no store
     * round trip, for a job of a rule in force without {@code renamed-from} that none names, the usual case. An old name
     * taken over only by the same {@code run} is not woken (known from its stored jobs only): its retry starts at its
     * next try. One transaction takes those
     * rules' turns first, in their keys' order, before any row lock ({@link SlotLine#inTurns}), then makes their first jobs
     * due, as {@link #wakeAfterHeldSlot} does for one rule; a job of theirs refused meanwhile was put back under its
     * turn, so it is woken here, or it read this job ended and took the slot. A failure is only logged: the jobs
     * start at their next try, and the end is recorded already.
     *
     * @param ruleSnapshot the job's rule as stored with it (its {@code run} tells a rule renamed without the key)
     */
    public void wakeRenamedLines(String jobId, String ruleName, String ruleSnapshot) {
        java.util.SortedSet<String> rules = renames.linked(ruleName, ruleSnapshot);
        if (rules.isEmpty()) {
            return;
        }
        try {
            boolean woken = db.inTransaction("wake the next jobs of a renamed rule", Durability.DEFERRED, c -> {
                line.inTurns(c, rules);
                int n = 0;
                for (String rule : rules) {
                    n += line.wakeTurn(c, rule, jobId);
                }
                return n > 0;
            });
            if (woken) {
                jobsDue.run();
            }
        } catch (StoreUnavailableException e) {
            LOG.warn("job {}: the next jobs of rule {} start at their next try: {}", jobId, String.join(", ", rules),
                    e.getMessage());
        }
    }

    /**
     * PostgreSQL: {@link #finishAttempt(String, int, JobOutcome, JobState, long)} in one statement
     * run in autocommit mode, one round trip instead of a transaction's five (docs/BENCHMARKS.md,
     * "Fifth pass: PostgreSQL"), for every state but cancelled (whose supersede settle stays in the
     * transaction) and for every job but one of a rule with a concurrency limit (whose slot is freed and
     * whose rule's line is woken in the transaction, after the rule's turn is taken). The same three writes as data-modifying {@code WITH} parts: the job's row first
     * (the row lock every other writer of a job's attempts takes first, as
     * {@link #startAttempt} and {@link #interruptLeftover} do), only while the attempt is still the
     * job's latest, the job still {@code RUNNING} (not put back in its place by another node's sweep of the attempt
     * meanwhile: tryout45 F6) and no cancel or supersede of it was asked for (else null is returned, and the caller
     * records it in a transaction that says which: {@link #stopAskedFor}); the execution's removal and the attempt's own
     * row only when that update happened ({@code EXISTS} on it: else that transaction writes the attempt's row, unless
     * another node recorded its end first, {@link #recordOwnEnd}). The execution is named by its whole key: taken
     * from the update instead ({@code task_instance IN (SELECT id FROM job)}), the planner looked
     * up only {@code task_name} in the key's index and read every queued execution, each job's
     * outcome a scan of the whole queue (docs/BENCHMARKS.md, "Sixth pass: PostgreSQL all done").
     */
    private Finished finishInOneStatement(String jobId, int attempt, JobOutcome outcome, JobState next,
            long executionVersion, Instant ended, String log, boolean freeHeld, String[] heldSlot, String jobMessage) {
        boolean dequeue = executionVersion >= 0 && next.isFinal();
        String sql = "WITH job AS (UPDATE jobs SET state = ?, exit_code = ?, ended_at = ?, log_path = ?, message = ?,"
                + " waiting_since = NULL WHERE id = ? AND attempts = ? AND cancel_requested = 0 AND state = 'RUNNING'"
                + " RETURNING id, superseded_by)"
                + (dequeue ? ", execution AS (DELETE FROM scheduled_tasks WHERE task_name = ? AND task_instance = ?"
                        + " AND version = ? AND EXISTS (SELECT 1 FROM job) RETURNING 1)" : "")
                + ", attempt AS (UPDATE job_attempts SET outcome = ?, exit_code = ?, ended_at = ?, log_path = ?,"
                + " message = ?, node_died = NULL WHERE job_id = ? AND attempt = ? AND EXISTS (SELECT 1 FROM job)"
                + " RETURNING 1)"
                // A slot given to the job while it ran without a limit (SlotLine.holdForPicked).
                + (freeHeld ? ", slot AS (DELETE FROM rule_slots WHERE job_id = ? AND EXISTS (SELECT 1 FROM job)"
                        + ofThisPick() + " RETURNING rule_name)" : "")
                + " SELECT (SELECT count(*) FROM job), " + (dequeue ? "(SELECT count(*) FROM execution)" : "0")
                + ", (SELECT count(*) FROM attempt), " + (freeHeld ? "(SELECT min(rule_name) FROM slot)" : "NULL")
                + ", (SELECT min(superseded_by) FROM job)";
        return db.inOneStatement("record an attempt", Durability.DEFERRED, c -> {
            try (PreparedStatement p = c.prepareStatement(sql)) {
                int i = 0;
                p.setString(++i, next.name());
                Rows.setInteger(p, ++i, outcome.exitCode());
                Rows.setInstant(p, ++i, next.isFinal() ? ended : null);
                p.setString(++i, log);
                p.setString(++i, jobMessage);
                p.setString(++i, jobId);
                p.setInt(++i, attempt);
                if (dequeue) {
                    p.setString(++i, JobQueue.TASK_NAME);
                    p.setString(++i, jobId);
                    p.setLong(++i, executionVersion);
                }
                p.setString(++i, AttemptOutcome.of(outcome.result()).name());
                Rows.setInteger(p, ++i, outcome.exitCode());
                Rows.setInstant(p, ++i, ended);
                p.setString(++i, log);
                p.setString(++i, outcome.message());
                p.setString(++i, jobId);
                p.setInt(++i, attempt);
                if (freeHeld) {
                    p.setString(++i, jobId);
                    bindOfThisPick(p, ++i, executionVersion);
                    i += 3;
                }
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    heldSlot[0] = rs.getString(4);
                    heldSlot[1] = next.isFinal() ? rs.getString(5) : null;
                    if (rs.getLong(1) != 1) {
                        return null;
                    }
                    return rs.getLong(2) == 1 ? Finished.RECORDED_AND_DEQUEUED : Finished.RECORDED;
                }
            }
        });
    }

    /**
     * Records an attempt stopped by a shutdown or by its own node's fencing; the job goes back to
     * the queue unless a later attempt has started meanwhile (then false is returned). The attempt
     * ends when its process tree was gone ({@link JobOutcome#ended()}), not when this is recorded:
     * a fenced node records it only once the store answers again, maybe long after another node
     * started the next attempt, and the history must not show the two overlapping. An attempt
     * already ended by a sweep of its host's other node ({@link #interruptLeftover}: it saw and killed
     * what was left) keeps that record; one only marked ended by the node that took the job over from
     * another host ({@link #UNSWEPT_END}) gets this one, the true account.
     */
    public boolean interruptAttempt(String jobId, int attempt, JobOutcome outcome, String message) {
        return interruptAttempt(jobId, attempt, outcome, message, false);
    }

    /**
     * As {@link #interruptAttempt(String, int, JobOutcome, String)}; with {@code byWatchdog} (the node's
     * watchdog killed the attempt's processes while the node was paused, and said so), the record also
     * replaces a sweep's that found {@link #NONE_LEFT} (a node of the same host took the job over before
     * this one woke, after the watchdog's kill): that record said only that nothing was left, and ended when
     * the sweep looked; this one says who killed the processes, and ends when it did (tryout17 F6). A sweep's
     * record of what it killed itself stays.
     *
     * @param jobId      the job
     * @param attempt    the attempt, 1-based
     * @param outcome    how it ended as this node saw it; its {@link JobOutcome#ended()} (null: now) is the end
     * @param message    the attempt's message and, while the attempt is the job's latest, the job's
     * @param byWatchdog whether the attempt's processes were killed by this node's watchdog
     * @return whether the attempt was still the job's latest (the job is queued again); false when another node
     *         started a later attempt meanwhile, or ended the job (a final state stays)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean interruptAttempt(String jobId, int attempt, JobOutcome outcome, String message,
            boolean byWatchdog) {
        return interruptAttempt(jobId, attempt, outcome, message, byWatchdog, NodeEnd.NONE);
    }

    /**
     * As {@link #interruptAttempt(String, int, JobOutcome, String)}, for an attempt this node's graceful stop cut
     * short (its grace ended before the command did): counted among the stops in a row that end a job
     * ({@link NodeEnd#STOPPED}, {@link InARow#stops()}; review21 R2).
     *
     * @return whether the attempt was still the job's latest (the job is queued again)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean interruptByStop(String jobId, int attempt, JobOutcome outcome, String message) {
        return interruptAttempt(jobId, attempt, outcome, message, false, NodeEnd.STOPPED);
    }

    private boolean interruptAttempt(String jobId, int attempt, JobOutcome outcome, String message,
            boolean byWatchdog, NodeEnd end) {
        String log = outcome == null || outcome.logFile() == null ? null : outcome.logFile().toString();
        Instant ended = outcome == null || outcome.ended() == null ? clock.instant() : outcome.ended();
        return db.inTransaction("record an interrupted attempt", Durability.DEFERRED, c -> {
            // Not over a sweep's record: a node of the attempt's host already ended it, killed what it
            // left and ran the job again while this node was paused (tryout10, F1). This node's own
            // account (it fenced itself, or stopped) ends later than the processes really did.
            updateAttempt(c, jobId, attempt, AttemptOutcome.INTERRUPTED, null, ended, log, message, true, byWatchdog,
                    end);
            // Keeps its place in its rule's concurrency line, and among the jobs waiting for the shared resources it
            // held, as a job cut short by its node's death does: recorded QUEUED, a job that held the only board
            // lost it to the job waiting for it since, which ran first on the half-done one's board (cluster27 F12).
            // Never a final job: the node that took it over while this one was paused may have ended it for good
            // without a later attempt (superseded, cancelled); put back QUEUED with no execution to run it, it stayed
            // QUEUED for ever (chaos31 F2).
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET " + BACK_IN_ITS_PLACE + ", message = ?"
                    + " WHERE id = ? AND attempts = ? AND state NOT IN (" + finalStates() + ")")) {
                p.setString(1, message);
                p.setString(2, jobId);
                p.setInt(3, attempt);
                return p.executeUpdate() == 1;
            }
        });
    }

    /**
     * Marks a job cancelled before it started (its cancel flag was seen when it was picked). A job of a
     * rule with a concurrency limit passes its turn on ({@link SlotLine#wakeTurn}): it may be the job a
     * freed slot woke, cancelled after it was picked, and the next in line would otherwise wait for
     * {@code runner.slot-retry} (slots13). A slot the job still held from an attempt its dead node left is
     * freed first, and passed on the same way (review14 F1). A job that ended meanwhile is left as it ended (review51
     * C1: the late record of its command's own end by a node paused past the dead-node limit, which kept its exit, was
     * written over with "cancelled while attempt 1 ran; its node stopped before the attempt ended").
     *
     * @return {@link UnstartedEnd#CANCELLED}, or {@link UnstartedEnd#ENDED} when it had already ended (left as it is)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public UnstartedEnd markCancelled(String jobId, String message) {
        return markCancelled(jobId, message, false);
    }

    /**
     * As {@link #markCancelled(String, String)}; {@code again}: an earlier try of this same mark failed with an outage,
     * and may have committed all the same (its answer lost): a job it ended so is answered {@link
     * UnstartedEnd#CANCELLED}, as that try would have been (review53 F2), not {@link UnstartedEnd#ENDED}.
     */
    public UnstartedEnd markCancelled(String jobId, String message, boolean again) {
        return markEndedUnstarted(jobId, JobState.CANCELLED, message, again);
    }

    /**
     * Marks a job {@code FAILED} before its next attempt started, as {@link #markCancelled} marks one cancelled: a job
     * this build refuses to run with the payload values it was stored with (values43 V2; {@code StoredJobCheck}),
     * which ends as planning would have stored it. Its follow-up ({@code on-failure}) is left pending, for the node's
     * follow-up look to start. A job that ended meanwhile (cancelled or superseded after its pick read it) is left as
     * it ended (review44 R2: it was marked {@code FAILED} over its cancel, and its {@code on-failure} started). One
     * whose cancel (or supersede) was asked after its pick read it, and only flagged ({@code cancel_requested}: a
     * first attempt picked), ends as that asks, {@code CANCELLED} (or {@code SUPERSEDED}) before it ran, as the pick
     * ends a job it reads flagged: an operator's cancel wins over the refusal (review44).
     *
     * @return what the job came to: {@link UnstartedEnd#FAILED}, {@link UnstartedEnd#CANCELLED} (a cancel or
     *         supersede asked), or {@link UnstartedEnd#ENDED} when it had already ended (left as it is)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public UnstartedEnd markFailedUnstarted(String jobId, String message) {
        return markFailedUnstarted(jobId, message, false);
    }

    /**
     * As {@link #markFailedUnstarted(String, String)}; {@code again}: as {@link #markCancelled(String, String,
     * boolean)}'s, a job an earlier try whose answer was lost ended is answered as that try would have been.
     */
    public UnstartedEnd markFailedUnstarted(String jobId, String message, boolean again) {
        return markEndedUnstarted(jobId, JobState.FAILED, message, again);
    }

    /** What {@link #markFailedUnstarted} came to. */
    public enum UnstartedEnd {
        /** Marked {@code FAILED}. */
        FAILED,
        /** A cancel or supersede was asked for it: ended as that asks ({@code CANCELLED}, or {@code SUPERSEDED}). */
        CANCELLED,
        /** It had ended meanwhile: left as it ended. */
        ENDED
    }

    private UnstartedEnd markEndedUnstarted(String jobId, JobState state, String message, boolean again) {
        UnstartedEnd[] marked = {UnstartedEnd.ENDED};
        boolean woken = db.inTransaction(state == JobState.FAILED ? "mark a job failed" : "cancel a job",
                Durability.DEFERRED, c -> {
            marked[0] = UnstartedEnd.ENDED;
            String rule = null;
            // Read before the rule's turn is taken, which comes before any row lock (SlotLine.inTurn).
            try (PreparedStatement p = c.prepareStatement("SELECT rule_name FROM jobs WHERE id = ?"
                    + " AND concurrency > 0")) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) {
                        rule = rs.getString(1);
                        line.inTurn(c, rule);
                    }
                }
            }
            // A mark leaves a job that ended meanwhile as it ended; a FAILED one leaves one whose cancel was asked
            // meanwhile to that cancel.
            boolean failing = state == JobState.FAILED;
            int set = setEnded(c, jobId, state, message, " AND state NOT IN (" + finalStates() + ")"
                    + (failing ? " AND cancel_requested = 0" : ""));
            UnstartedEnd own = set == 0 && again ? ownEnd(c, jobId, state, message) : null;
            if (own != null) {
                // This very mark, tried again: an earlier try committed and its answer was lost (a connection cut
                // after the commit, an answer not come in time). It ended the job, freed what it held and woke the
                // jobs waiting for it in the database; it is answered as its own end (review53 F2: it was taken for an
                // end of another's, "it ended meanwhile", its end not told), and this node's poll is poked for them.
                marked[0] = own;
                return true;
            }
            if (set == 0 && !failing) {
                return false;
            }
            if (set == 0) {
                String cancelled = cancelledMeanwhile(c, jobId);
                if (cancelled == null) {
                    return false;
                }
                setEnded(c, jobId, JobState.CANCELLED, cancelled, "");
                marked[0] = UnstartedEnd.CANCELLED;
            }
            if (marked[0] == UnstartedEnd.ENDED) {
                marked[0] = failing ? UnstartedEnd.FAILED : UnstartedEnd.CANCELLED;
            }
            Supersede.settle(c, jobId);
            int newer = wakeSuperseding(c, jobId);
            if (rule == null) {
                return newer > 0;
            }
            // A slot its node held when it died (its attempt ran, cut short) is freed: the job never runs
            // again, and its execution, picked now by this node, would count the slot as held, so that
            // nobody was woken for it (review14 F1). The attempt's processes are gone: fencing killed them
            // before this node could pick the execution.
            try (PreparedStatement p = c.prepareStatement("DELETE FROM rule_slots WHERE job_id = ?")) {
                p.setString(1, jobId);
                p.executeUpdate();
            }
            return line.wakeTurn(c, rule, jobId) + newer > 0;
        });
        if (woken) {
            jobsDue.run();
        }
        return marked[0];
    }

    /**
     * What an earlier try of {@link #markEndedUnstarted} ({@code state}, {@code message}) whose answer was lost made of
     * job {@code jobId}, ended now: {@code state} with {@code message} word for word; {@code SUPERSEDED} as {@link
     * Supersede#settle} ends a cancel of a superseded job; or, for a {@code FAILED} mark, the cancel asked meanwhile
     * ({@code CANCELLED} or {@code SUPERSEDED} with its cancel flagged). Null when it ended otherwise. Only asked after
     * a try failed with an outage: a picked job's cancel or supersede only flags it, so such an end is this node's own
     * (but for a late record of its command's end by a node paused past the dead-node limit, with its supersede asked,
     * in the same moments as an outage before the commit: then the mark says the job's end as its own).
     */
    private static UnstartedEnd ownEnd(Connection c, String jobId, JobState state, String message)
            throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT state, message, superseded_by, cancel_requested"
                + " FROM jobs WHERE id = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                String now = rs.getString(1);
                boolean flagged = rs.getInt(4) != 0;
                if (state.name().equals(now) && message.equals(rs.getString(2))) {
                    return state == JobState.FAILED ? UnstartedEnd.FAILED : UnstartedEnd.CANCELLED;
                }
                boolean cancelled = JobState.SUPERSEDED.name().equals(now) && rs.getString(3) != null
                        || state == JobState.FAILED && JobState.CANCELLED.name().equals(now);
                return cancelled && (flagged || state == JobState.CANCELLED) ? UnstartedEnd.CANCELLED : null;
            }
        }
    }

    /** Ends job {@code jobId} {@code state} now with {@code message}, where {@code guard} (SQL of constants) holds. */
    private int setEnded(Connection c, String jobId, JobState state, String message, String guard)
            throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, ended_at = ?, message = ? WHERE id = ?"
                + guard)) {
            p.setString(1, state.name());
            p.setLong(2, clock.millis());
            p.setString(3, message);
            p.setString(4, jobId);
            return p.executeUpdate();
        }
    }

    /**
     * The message of job {@code jobId} cancelled before its next attempt ({@link Job#cancelledBeforeItsNextAttempt}),
     * when it has not ended and a cancel or supersede of it was asked ({@code cancel_requested}); else {@code null}.
     * Its row is locked on PostgreSQL (SQLite's one writer serialises it).
     */
    private String cancelledMeanwhile(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT attempts, message FROM jobs WHERE id = ?"
                + " AND cancel_requested <> 0 AND state NOT IN (" + finalStates() + ")"
                + (db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : ""))) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Job.cancelledBeforeItsNextAttempt(rs.getInt(1), rs.getString(2)) : null;
            }
        }
    }

    /**
     * Puts back in the queue the executions that {@code node} picked but is not running: picked by
     * it, its last heartbeat older than {@code heartbeatBefore}, and not among {@code running}
     * (this node's executions in progress). That happens when the database committed a pick whose
     * answer was lost (a connection cut mid-way): the node never learns it owns the job, and
     * without this only dead-node detection — minutes later — would free it. Returns the job ids
     * released. Each is released only if its row did not change meanwhile (db-scheduler's version)
     * and no attempt started under the pick ({@link #startAttempt(String, String, long)} renews the
     * heartbeat): a pick whose statement waited long for the store carries the heartbeat of when
     * it was asked for, and may reach this node's thread after this method read it as stale. Only
     * the stale picks that {@code confirm} accepts are released: it is asked, inside the
     * transaction, with each one's job id and version. A pick whose job has an attempt of {@code node} marked
     * running is not one whose answer was lost, but an earlier run's of this node id (its attempt started):
     * it is left to the sweeps, which end what they can prove over, and else to the dead-node limit
     * (tryout23 F4: it was freed here as "never started" while its processes' end was unknown).
     */
    public List<String> releaseStalePicks(String node, Instant heartbeatBefore, Set<String> running,
            java.util.function.BiPredicate<String, Long> confirm) {
        return db.inTransaction("release stale picks", Durability.DEFERRED, c -> {
            Map<String, Long> stale = new LinkedHashMap<>();
            try (PreparedStatement p = c.prepareStatement("SELECT s.task_instance, s.version FROM scheduled_tasks s"
                    + " WHERE s.task_name = ? AND s.picked = ? AND s.picked_by = ? AND s.last_heartbeat < ?"
                    + " AND NOT EXISTS (SELECT 1 FROM job_attempts a WHERE a.job_id = s.task_instance"
                    + " AND a.node = s.picked_by AND a.outcome = ?)")) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setBoolean(2, true);
                p.setString(3, node);
                jdbc.setInstant(p, 4, heartbeatBefore);
                p.setString(5, AttemptOutcome.RUNNING.name());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        if (!running.contains(rs.getString(1)) && confirm.test(rs.getString(1), rs.getLong(2))) {
                            stale.put(rs.getString(1), rs.getLong(2));
                        }
                    }
                }
            }
            List<String> released = new ArrayList<>();
            // The heartbeat is asked again here: on PostgreSQL an attempt that started under the pick
            // since the SELECT (startAttempt renews it, holding the row) makes the row no longer match.
            try (PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = NULL,"
                    + " last_heartbeat = NULL, version = version + 1"
                    + " WHERE task_name = ? AND task_instance = ? AND version = ? AND last_heartbeat < ?")) {
                // Its execution_time is kept: it goes back in its place in the queue (tryout19 F8).
                for (Map.Entry<String, Long> e : stale.entrySet()) {
                    p.setBoolean(1, false);
                    p.setString(2, JobQueue.TASK_NAME);
                    p.setString(3, e.getKey());
                    p.setLong(4, e.getValue());
                    jdbc.setInstant(p, 5, heartbeatBefore);
                    if (p.executeUpdate() == 1) {
                        released.add(e.getKey());
                    }
                }
            }
            return released;
        });
    }

    /** How many attempts of the job failed, timed out or could not start (interrupted ones do not count). */
    public int failedAttempts(String jobId) {
        return db.read("count failed attempts", c -> failedAttempts(c, jobId));
    }

    private static int failedAttempts(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM job_attempts WHERE job_id = ?"
                + " AND outcome IN ('FAILED', 'TIMED_OUT', 'FAILED_TO_START')")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Whether someone asked to cancel the job. */
    public boolean cancelRequested(String jobId) {
        return db.read("read a cancel flag", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT cancel_requested FROM jobs WHERE id = ?")) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() && rs.getInt(1) != 0;
                }
            }
        });
    }

    /**
     * Writes how an attempt ended as its own node saw it ({@code message}), unless another node recorded that end first:
     * a sweep of the attempt's host, which ended what the attempt left once its node stopped heart-beating (frozen,
     * paused or cut off past the dead-node limit) and recorded it {@code INTERRUPTED} with what it killed. That record is
     * the truth of the end: the exit this node saw after it (137, SIGKILL) was that sweep's kill (tryout45 F6: a thawed
     * node wrote "exited with 137 … recorded late" over it). Written over the records that know nothing of the end: a
     * taker's guess from another host ({@link #UNSWEPT_END}, cluster27 F4), a sweep that found nothing left ({@link
     * #NONE_LEFT}), an attempt still {@code RUNNING}, any outcome that is not an interruption (this node's own,
     * written again after a commit whose answer was lost; one concluded from what it had come to), and an attempt cut
     * short after what its command came to was noted ({@link #decided}: that is its end, which a retry concluded from it
     * records here too, {@link #finishForRetry}). When not written, the view of this node is said at INFO beside the
     * record that stays.
     *
     * @return whether the attempt's row was written
     */
    private static boolean recordOwnEnd(Connection c, String jobId, int attempt, AttemptOutcome outcome,
            Integer exitCode, Instant ended, String log, String message) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET outcome = ?, exit_code = ?,"
                + " ended_at = ?, log_path = ?, message = ?, node_died = NULL WHERE job_id = ? AND attempt = ?"
                + " AND (outcome <> ? OR decided IS NOT NULL OR message LIKE ? OR message LIKE ? OR message LIKE ?"
                + " OR message LIKE ?)")) {
            p.setString(1, outcome.name());
            Rows.setInteger(p, 2, exitCode);
            Rows.setInstant(p, 3, ended);
            p.setString(4, log);
            p.setString(5, message);
            p.setString(6, jobId);
            p.setInt(7, attempt);
            p.setString(8, AttemptOutcome.INTERRUPTED.name());
            p.setString(9, UNSWEPT_END + "%");
            p.setString(10, UNSWEPT_END_BEFORE + "%");
            p.setString(11, "%; " + NONE_LEFT + "; %");
            p.setString(12, "%; " + NONE_LEFT_BEFORE + "; %");
            if (p.executeUpdate() == 1) {
                return true;
            }
        }
        try (PreparedStatement p = c.prepareStatement("SELECT message FROM job_attempts WHERE job_id = ?"
                + " AND attempt = ?")) {
            p.setString(1, jobId);
            p.setInt(2, attempt);
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next()) {
                    LOG.info("job {} attempt {}: this node saw it end ({}) after another node had recorded its end,"
                            + " which stays: {}", jobId, attempt, message, rs.getString(1));
                }
            }
        }
        return false;
    }

    private static void updateAttempt(Connection c, String jobId, int attempt, AttemptOutcome outcome,
            Integer exitCode, Instant ended, String log, String message) throws SQLException {
        updateAttempt(c, jobId, attempt, outcome, exitCode, ended, log, message, false, false, NodeEnd.NONE);
    }

    /**
     * Writes how an attempt ended; with {@code unlessSwept}, only while no sweep has recorded it
     * (still running, or only marked ended by a node that could not sweep it: {@link #UNSWEPT_END}), or,
     * with {@code overNoneLeft} too, a sweep found nothing of it left ({@link #NONE_LEFT}); {@code end}: its own node's
     * stop ({@link NodeEnd#STOPPED}), or {@link NodeEnd#NONE}.
     */
    private static void updateAttempt(Connection c, String jobId, int attempt, AttemptOutcome outcome,
            Integer exitCode, Instant ended, String log, String message, boolean unlessSwept, boolean overNoneLeft,
            NodeEnd end) throws SQLException {
        // Its own node's account, or an outcome: not a death (node_died), whatever was recorded before; a stop if it
        // says so.
        try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET outcome = ?, exit_code = ?,"
                + " ended_at = ?, log_path = ?, message = ?, node_died = " + end.sql + " WHERE job_id = ? AND attempt = ?"
                + (unlessSwept ? " AND (outcome = ? OR (outcome = ? AND (message LIKE ? OR message LIKE ?"
                        + (overNoneLeft ? " OR message LIKE ? OR message LIKE ?" : "") + ")))" : ""))) {
            p.setString(1, outcome.name());
            Rows.setInteger(p, 2, exitCode);
            Rows.setInstant(p, 3, ended);
            p.setString(4, log);
            p.setString(5, message);
            p.setString(6, jobId);
            p.setInt(7, attempt);
            if (unlessSwept) {
                p.setString(8, AttemptOutcome.RUNNING.name());
                p.setString(9, AttemptOutcome.INTERRUPTED.name());
                p.setString(10, UNSWEPT_END + "%");
                p.setString(11, UNSWEPT_END_BEFORE + "%");
                if (overNoneLeft) {
                    p.setString(12, "%; " + NONE_LEFT + "; %");
                    p.setString(13, "%; " + NONE_LEFT_BEFORE + "; %");
                }
            }
            p.executeUpdate();
        }
    }
}
