package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.buildhook.core.Sha256;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.rules.FollowUps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes deliveries and their jobs, each call in one transaction together with the job executions. */
final class DeliveryWriter {

    private static final HexFormat HEX = HexFormat.of();
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryWriter.class);

    private final Database db;
    private final JobQueue queue;
    private final Ids ids;
    private final Clock clock;
    private final Duration dedupWindow;
    private final Supersede supersede;
    private final SlotLine line;
    /** PostgreSQL only: the accept in one statement; {@code null} on SQLite. */
    private final PostgresAccept oneStatement;
    /** Told the rule of each job stored ended at planning ({@link #warnOfRefused}): {@link Store#whenRefusedAtPlanning}. */
    private volatile java.util.function.Consumer<String> refusedStored = rule -> {
    };

    DeliveryWriter(Database db, JobQueue queue, Ids ids, Clock clock, Duration dedupWindow,
            java.util.function.Supplier<RuleRenames> renames) {
        this.db = db;
        this.queue = queue;
        this.ids = ids;
        this.clock = clock;
        this.dedupWindow = dedupWindow;
        this.supersede = new Supersede(db.dialect(), queue, clock, renames);
        this.line = new SlotLine(db.dialect(), clock);
        this.oneStatement = db.dialect() == Dialect.POSTGRESQL
                ? new PostgresAccept(db, queue, ids, clock, dedupWindow) : null;
    }

    AcceptResult accept(NewDelivery delivery, DeliverySummary summary, List<PlannedJob> jobs) {
        byte[] body = delivery.body();
        String hash = sha256(body);
        // Everything that needs no connection is done here, on the caller's thread: the transaction
        // runs on the store's one writer thread, which every accept waits for.
        String headers = Rows.json(delivery.headers());
        List<RenderedJob> rendered = render(jobs);
        if (oneStatement != null) {
            // A duplicate, or a job with a supersede key: the transaction below decides and records it.
            Optional<AcceptResult> accepted = oneStatement.tryAccept(delivery, summary, headers, hash, rendered);
            if (accepted.isPresent()) {
                return accepted.get();
            }
        }
        AcceptResult result = db.inTransaction("accept a delivery", c -> {
            // Before any row lock: the turn of a rule whose line a supersede may take a job out of (Supersede).
            supersede.takeTurns(c, jobs);
            String id = ids.next();
            Optional<String> first = claim(c, delivery.endpoint(), hash, id, delivery.receivedAt());
            if (first.isPresent()) {
                insertDelivery(c, id, delivery, headers, null, hash, DeliveryOutcome.DUPLICATE, null, first.get(),
                        summary);
                return new AcceptResult(first.get(), List.of(), true);
            }
            insertDelivery(c, id, delivery, headers, body, hash, DeliveryOutcome.ACCEPTED, null, null, summary);
            return new AcceptResult(id, insertRendered(c, id, rendered, null), false);
        });
        if (!result.duplicate()) {
            warnOfRefused(result.deliveryId(), jobs, result.jobIds());
        }
        return result;
    }

    /**
     * Says once, after the transaction that stored them committed, each refused job of {@code jobs} ({@link
     * PlannedJob#refusal}): stored {@code FAILED}, never started. Its message names the rule, the placeholder, where it
     * is written, what is wrong with the value (escaped) and what to do.
     */
    void warnOfRefused(String deliveryId, List<PlannedJob> jobs, List<String> ids) {
        for (int i = 0; i < jobs.size() && i < ids.size(); i++) {
            if (jobs.get(i).refused()) {
                LOG.warn("job {} of delivery {} is FAILED, {}", ids.get(i), deliveryId, jobs.get(i).refusal());
                try {
                    refusedStored.accept(jobs.get(i).ruleName());
                } catch (RuntimeException e) {
                    LOG.warn("job events listener failed for job {}: {}", ids.get(i), e.toString());
                }
            }
        }
    }

    /** From now on tells {@code told} the rule of each job stored ended at planning: {@link Store#whenRefusedAtPlanning}. */
    void whenRefusedStored(java.util.function.Consumer<String> told) {
        this.refusedStored = java.util.Objects.requireNonNull(told, "told");
    }

    /**
     * PostgreSQL: the accepts' group commits so far (statements that committed new deliveries, the new
     * deliveries they stored); empty on SQLite.
     */
    Optional<WriteStats> acceptStats() {
        return oneStatement == null ? Optional.empty()
                : Optional.of(new WriteStats(oneStatement.commits(), oneStatement.stored()));
    }

    /** PostgreSQL: batches whose statement failed and were sent again one by one (for tests); 0 on SQLite. */
    long acceptBatchesRetriedAlone() {
        return oneStatement == null ? 0 : oneStatement.retriedAlone();
    }

    /** PostgreSQL: accepts waiting for a batch to take them now (for tests); 0 on SQLite. */
    int acceptsQueued() {
        return oneStatement == null ? 0 : oneStatement.queued();
    }

    /**
     * Records a rejected delivery; the same body rejected on the same endpoint within the dedup window
     * is counted as a repeat of the first instead (JobServ sends a body again after every answer but
     * 2xx: one bad build made four rows, each with a copy of the body).
     */
    RejectedDelivery recordRejected(NewDelivery delivery, String reason) {
        String id = ids.next();
        String headers = Rows.json(delivery.headers());
        String hash = sha256(delivery.body());
        return db.inTransaction("record a rejected delivery", c -> {
            Optional<RejectedDelivery> repeat = repeatOfRejected(c, delivery, hash);
            if (repeat.isPresent()) {
                return repeat.get();
            }
            insertDelivery(c, id, delivery, headers, delivery.body(), hash, DeliveryOutcome.REJECTED,
                    reason, null, DeliverySummary.NONE);
            return new RejectedDelivery(id, 0);
        });
    }

    /** Counts a repeat on the first rejected delivery of this body within the window, if there is one. */
    private Optional<RejectedDelivery> repeatOfRejected(Connection c, NewDelivery delivery, String hash)
            throws SQLException {
        String first;
        try (PreparedStatement p = c.prepareStatement("SELECT id FROM deliveries WHERE endpoint = ? AND body_hash = ?"
                + " AND outcome = 'REJECTED' AND received_at >= ? ORDER BY received_at, id LIMIT 1")) {
            p.setString(1, delivery.endpoint());
            p.setString(2, hash);
            p.setLong(3, delivery.receivedAt().minus(dedupWindow).toEpochMilli());
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                first = rs.getString(1);
            }
        }
        try (PreparedStatement p = c.prepareStatement("UPDATE deliveries SET repeats = repeats + 1, last_repeat_at = ?"
                + " WHERE id = ?")) {
            p.setLong(1, delivery.receivedAt().toEpochMilli());
            p.setString(2, first);
            p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("SELECT repeats FROM deliveries WHERE id = ?")) {
            p.setString(1, first);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return Optional.of(new RejectedDelivery(first, rs.getInt(1)));
            }
        }
    }

    List<String> addJobs(String deliveryId, List<PlannedJob> jobs) {
        List<RenderedJob> rendered = render(jobs);
        List<String> ids = db.inTransaction("replay a delivery", c -> {
            supersede.takeTurns(c, jobs); // before any row lock (Supersede.takeTurns)
            try (PreparedStatement p = c.prepareStatement("SELECT outcome FROM deliveries WHERE id = ?" + keyShare())) {
                p.setString(1, deliveryId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        throw new RunnerException("no delivery " + deliveryId);
                    }
                    if (!DeliveryOutcome.ACCEPTED.name().equals(rs.getString(1))) {
                        throw new RunnerException("delivery " + deliveryId + " is " + rs.getString(1)
                                + "; only accepted deliveries can be replayed");
                    }
                }
            }
            return insertRendered(c, deliveryId, rendered, null);
        });
        warnOfRefused(deliveryId, jobs, ids);
        return ids;
    }

    String rerun(Job old) {
        return rerun(old, old.plan());
    }

    /** As {@link #rerun(Job)}, with {@code plan}: the old job's, or that plan awaiting an approval. */
    String rerun(Job old, PlannedJob plan) {
        List<RenderedJob> rendered = render(List.of(plan));
        return db.inTransaction("re-run a job", c -> {
            // The old job was read before this transaction: retention may have deleted it with its delivery since.
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM deliveries WHERE id = ?" + keyShare())) {
                p.setString(1, old.deliveryId());
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        throw new RunnerException("no job " + old.id() + ": retention deleted it with its delivery");
                    }
                }
            }
            return insertRendered(c, old.deliveryId(), rendered, old.id()).get(0);
        });
    }

    /**
     * PostgreSQL: what a transaction adding jobs to a stored delivery reads its row with, so that the
     * delivery stays until it commits; retention locks the rows it deletes first ({@link Retention}), so
     * this either waits for it and finds the delivery gone, or retention sees the new job. (The foreign
     * key takes this lock at the insert too, but would then fail with a constraint violation.) On
     * SQLite the transaction holds the only write lock already.
     */
    private String keyShare() {
        return db.dialect() == Dialect.POSTGRESQL ? " FOR KEY SHARE" : "";
    }

    /** What {@link #cancel} came to. */
    enum Cancel {
        /** The job had ended already: nothing changed. */
        ENDED,
        /** Cancelled, or its cancel asked of the node that picked it. */
        CANCELLED,
        /** Cancelled before any node picked it, and the next jobs of its rule's line woken in its place. */
        CANCELLED_AND_WOKE
    }

    /**
     * Cancels a job: a queued one at once (its pending execution removed), its message saying so
     * ({@link Job#cancelledBeforeItsNextAttempt}); a running one is
     * flagged and its node stops it. A queued job (or one waiting for units) of a rule with a concurrency
     * limit passes its turn on ({@link SlotLine#wakeTurn}): it may be the job a freed slot woke, and the next
     * in line would otherwise wait for {@code runner.slot-retry} (slots13). A picked one passes it on when its node
     * marks it cancelled ({@link ExecutionLedger#markCancelled}).
     */
    Cancel cancel(String jobId) {
        return cancel(jobId, null, false);
    }

    /**
     * {@link #cancel(String)} with {@code why} as the message of a job cancelled before it ran (null: the usual
     * one, {@link Job#cancelledBeforeItsNextAttempt}; with {@code ruleNotInForce}, the reason, which
     * {@link #cancelledMessage} puts after what is true of the job); {@code ruleNotInForce}:
     * the cancel of a job whose rule is disabled or removed in the rules in force, which leaves a running
     * job alone ({@link Cancel#ENDED}: nothing changed) and starts no follow-up of a job whose command never
     * started (nothing of that rule starts); one that ran (a retry in its backoff) still starts its
     * {@code on-cancel}, the cleanup of what it did.
     */
    Cancel cancel(String jobId, String why, boolean ruleNotInForce) {
        return db.inTransaction("cancel a job", c -> {
            String state;
            String rule;
            int attempts;
            String message;
            try (PreparedStatement p = c.prepareStatement("SELECT state, CASE WHEN concurrency > 0 THEN rule_name"
                    + " END, attempts, message FROM jobs WHERE id = ?")) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        throw new RunnerException("no job " + jobId);
                    }
                    state = rs.getString(1);
                    rule = rs.getString(2);
                    attempts = rs.getInt(3);
                    message = rs.getString(4);
                }
            }
            JobState now = JobState.valueOf(state);
            if (!now.isFinal()) {
                if (rule != null) {
                    // Before any row lock: the rule's turn (SlotLine.inTurn), for any state that is, or may be by the
                    // locked read below, in the rule's line.
                    line.inTurn(c, rule);
                }
                if (db.dialect() == Dialect.POSTGRESQL) {
                    // The job's row before its queue entry (JobQueue.cancel), the order of every other writer of both
                    // (Supersede, startAttempt, finishAttempt): taken the other way round, the cancel of a queued job
                    // deadlocked with a newer build's delivery superseding it, which holds the row and asks for the
                    // entry (review33). Read again under the lock: a job ended meanwhile is left as it ended.
                    try (PreparedStatement p = c.prepareStatement("SELECT state, attempts, message FROM jobs"
                            + " WHERE id = ? FOR UPDATE")) {
                        p.setString(1, jobId);
                        try (ResultSet rs = p.executeQuery()) {
                            if (!rs.next()) {
                                throw new RunnerException("no job " + jobId);
                            }
                            now = JobState.valueOf(rs.getString(1));
                            attempts = rs.getInt(2);
                            message = rs.getString(3);
                        }
                    }
                }
            }
            return cancelRead(c, jobId, why, ruleNotInForce, rule, now, attempts, message);
        });
    }

    /**
     * The part of a cancel ({@link #cancel(String, String, boolean)}) after the job's row was read in {@code c}'s
     * transaction, its rule's turn taken first ({@link SlotLine#inTurn}) and, on PostgreSQL, the row locked: ends a
     * job not picked at once, else flags it for the node that runs it.
     *
     * @param rule     its rule's name when the rule has a concurrency limit, else null
     * @param now      its state as read under the lock
     * @param attempts its attempts as read so
     * @param message  its message as read so
     */
    private Cancel cancelRead(Connection c, String jobId, String why, boolean ruleNotInForce, String rule, JobState now,
            int attempts, String message) throws SQLException {
        if (now.isFinal() || (ruleNotInForce && now == JobState.RUNNING)) {
            return Cancel.ENDED;
        }
        if (ruleNotInForce && attempts == 0) {
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET follow_ups_pending = 0 WHERE id = ?")) {
                p.setString(1, jobId);
                p.executeUpdate();
            }
        }
        // A job waiting for units (WAITING) is first in its rule's line for a slot (chaos32 F2): it passes its turn
        // on too.
        boolean inLine = rule != null && (now == JobState.QUEUED || now == JobState.WAITING);
        // A job whose attempt ended and that waits for its retry is cancelled at once even while its execution is
        // still picked: its node is putting it back for the retry (the job's record commits before db-scheduler's
        // reschedule), or picks the retry, whose start this cancel (the row final, cancel_requested) stops. Only
        // flagged, it stayed queued for the whole backoff, and a rule's cancel lost its reason (flakes35).
        boolean waitsForRetry = now == JobState.QUEUED && attempts > 0 && Job.retryDueIn(message).isPresent();
        if (now == JobState.AWAITING_APPROVAL
                || ((now == JobState.QUEUED || now == JobState.WAITING) && queue.cancel(c, jobId))
                || waitsForRetry) {
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, ended_at = ?,"
                    + " message = ?, cancel_requested = 1 WHERE id = ?")) {
                p.setString(1, JobState.CANCELLED.name());
                p.setLong(2, clock.millis());
                // After an attempt (a retry's backoff, a stop that cut it short), not "before it ran" (retry21).
                p.setString(3, cancelledMessage(why, ruleNotInForce, attempts, message));
                p.setString(4, jobId);
                p.executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET expires_at = NULL WHERE id = ?")) {
                p.setString(1, jobId);
                p.executeUpdate();
            }
            return inLine && line.wakeTurn(c, rule, jobId) > 0 ? Cancel.CANCELLED_AND_WOKE : Cancel.CANCELLED;
        }
        try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET cancel_requested = 1 WHERE id = ?")) {
            p.setString(1, jobId);
            p.executeUpdate();
        }
        return Cancel.CANCELLED;
    }

    /**
     * Ends a job awaiting an approval past its expiry in the caller's transaction, as {@link Approvals} does
     * (EXPIRED, no follow-up), so that a cancel of it does not start its {@code on-cancel}.
     */
    interface ExpireIfDue {
        /** @return whether job {@code jobId} of {@code deliveryId} was ended EXPIRED now */
        boolean expire(Connection c, Instant now, String jobId, String deliveryId) throws SQLException;
    }

    /** What {@link #cancelDelivery} came to, and whether it woke jobs of a rule's line (the caller says so). */
    record CancelledDelivery(DeliveryCancel done, boolean woke) {
    }

    /** The states of a job that has not ended, in SQL: the jobs {@link #cancelDelivery} cancels. */
    private static final String NOT_ENDED = "'QUEUED', 'WAITING', 'AWAITING_APPROVAL', 'RUNNING'";

    /**
     * Cancels every job of delivery {@code deliveryId} that has not ended (queued, waiting, awaiting an approval,
     * running), each as {@link #cancel(String)} does, all in one transaction with an audit entry ({@code cancel} by
     * {@code actor}) for each: the same state, message, turn passed on and flag for the node that runs it as a cancel
     * of that job alone. The locks are taken as that cancel takes them, for all at once: the turns of their rules with
     * a limit first ({@link SlotLine#inTurns}, in key order), then (PostgreSQL) their rows, in id order as a supersede
     * takes several, then each one's queue entry. A job awaiting an approval past its expiry ends {@code EXPIRED}
     * instead (no follow-up), as its single cancel does. Only the jobs this transaction reads are cancelled: what
     * the delivery gets after it (the {@code on-cancel} follow-ups these cancels start, a re-run, a replay, the
     * follow-up of a job that ended before) is left to run. Never a job of another delivery.
     *
     * @param actor  who asks, for the audit trail
     * @param expiry ends a job awaiting an approval past its expiry in this transaction
     * @return what was done, or empty when there is no delivery {@code deliveryId}
     */
    Optional<CancelledDelivery> cancelDelivery(String deliveryId, String actor, ExpireIfDue expiry) {
        return db.inTransaction("cancel the jobs of a delivery", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM deliveries WHERE id = ?")) {
                p.setString(1, deliveryId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                }
            }
            // id, state, limited rule, attempts, message, rule, run, parent. Every job of the delivery in one read, so
            // that those it counts as ended and those it cancels are of one snapshot (review49 F9: a count in a
            // statement of its own missed a job stored between the two, and could say "-1 had already ended").
            List<String[]> open = new ArrayList<>();
            int ended = 0;
            try (PreparedStatement p = c.prepareStatement("SELECT id, state, CASE WHEN concurrency > 0 THEN rule_name"
                    + " END, attempts, message, rule_name, run_name, parent_id, CASE WHEN state IN (" + NOT_ENDED
                    + ") THEN 1 ELSE 0 END FROM jobs WHERE delivery_id = ? ORDER BY id")) {
                p.setString(1, deliveryId);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        if (rs.getInt(9) == 0) {
                            ended++;
                            continue;
                        }
                        open.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3),
                            Integer.toString(rs.getInt(4)), rs.getString(5), rs.getString(6), rs.getString(7),
                            rs.getString(8)});
                    }
                }
            }
            if (open.isEmpty()) {
                return Optional.of(new CancelledDelivery(new DeliveryCancel(List.of(), ended), false));
            }
            // Before any row lock, as a single cancel takes its rule's turn.
            java.util.Set<String> limited = new java.util.TreeSet<>();
            for (String[] job : open) {
                if (job[2] != null) {
                    limited.add(job[2]);
                }
            }
            line.inTurns(c, limited);
            if (db.dialect() == Dialect.POSTGRESQL) {
                // The rows in id order, read again under their locks: a job ended meanwhile is left as it ended.
                java.util.Map<String, String[]> read = new java.util.HashMap<>();
                try (PreparedStatement p = c.prepareStatement("SELECT id, state, attempts, message FROM jobs WHERE id"
                        + " = ANY(?) ORDER BY id FOR UPDATE")) {
                    p.setArray(1, c.createArrayOf("varchar", open.stream().map(j -> j[0]).toArray()));
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            read.put(rs.getString(1), new String[] {rs.getString(2), Integer.toString(rs.getInt(3)),
                                rs.getString(4)});
                        }
                    }
                }
                for (String[] job : open) {
                    String[] now = read.get(job[0]);
                    if (now != null) {
                        job[1] = now[0];
                        job[3] = now[1];
                        job[4] = now[2];
                    }
                }
            }
            Instant at = clock.instant();
            boolean woke = false;
            List<DeliveryCancel.JobCancel> done = new ArrayList<>();
            for (String[] job : open) {
                String jobId = job[0];
                JobState before = JobState.valueOf(job[1]);
                if (before.isFinal()) {
                    // Ended between the first read and its lock (a newer build superseded it, its command ended): it
                    // had ended when the cancel came to it, and is counted so, as well as listed (not cancelled).
                    ended++;
                }
                boolean cancelled;
                if (before == JobState.AWAITING_APPROVAL && expiry.expire(c, at, jobId, deliveryId)) {
                    // Past its approval's expiry: it had ended (EXPIRED, as its single cancel says "had already
                    // ended"), and is counted so (review50 F4: in neither count, the CLI's line saying it had ended).
                    cancelled = false;
                    ended++;
                } else {
                    Cancel one = cancelRead(c, jobId, null, false, job[2], before, Integer.parseInt(job[3]), job[4]);
                    cancelled = one != Cancel.ENDED;
                    woke |= one == Cancel.CANCELLED_AND_WOKE;
                    insertAction(c, new AdminAction(ids.next(), at, actor, "cancel", deliveryId, jobId, cancelled
                            ? "cancelled, with the other jobs of its delivery" : "already ended (" + before + ")"));
                }
                try (PreparedStatement p = c.prepareStatement("SELECT state, message FROM jobs WHERE id = ?")) {
                    p.setString(1, jobId);
                    try (ResultSet rs = p.executeQuery()) {
                        JobState after = before;
                        String message = job[4];
                        if (rs.next()) {
                            after = JobState.valueOf(rs.getString(1));
                            message = rs.getString(2);
                        }
                        done.add(new DeliveryCancel.JobCancel(jobId, job[5], job[6], job[7], cancelled, before, after,
                                message));
                    }
                }
            }
            return Optional.of(new CancelledDelivery(new DeliveryCancel(done, ended), woke));
        });
    }

    /** What {@link #gate} came to. */
    enum Gate {
        /** Not a job to gate (any more): started, ended, a follow-up, planned with an approval or approved. */
        NONE,
        /** Now {@code AWAITING_APPROVAL}, its execution removed. */
        GATED,
        /** As {@link #GATED}, and the next jobs of its rule's line woken in its place. */
        GATED_AND_WOKE,
        /** Picked by a node at the moment: asked to await an approval at its start ({@link ExecutionLedger#GATED}). */
        AT_ITS_START
    }

    /**
     * The condition on a job's row (its columns unqualified) that {@link #gate} takes: not started yet (queued, or
     * waiting for units, no attempt), no follow-up, no cancel or supersede asked ({@code cancel_requested}: a job a
     * node had picked, only flagged, which that node's start ends; review50b R7: gated, it had its {@code
     * follow_ups_pending} set again, undoing what the cancel of a rule taken out wrote, and its {@code on-cancel}
     * started though its rule was taken out), and planned without an approval, or already asked to await one at its
     * start ({@code expires_at} set while queued: {@link Gate#AT_ITS_START}). An approved job (queued with its {@code
     * approval_expiry_ms} and no {@code expires_at}) does not match.
     */
    static final String GATEABLE = "state IN ('QUEUED', 'WAITING') AND attempts = 0 AND parent_id IS NULL"
            + " AND cancel_requested = 0 AND (approval_expiry_ms IS NULL OR expires_at IS NOT NULL)";

    /**
     * Makes job {@code jobId}, planned without an approval and not started yet, await one as a delivery of a
     * rule with {@code approval} leaves its job (tryout33 F11: an approval added by a reload): {@code
     * AWAITING_APPROVAL}, expiring {@code expiry} from now, its queue execution removed and its turn in its rule's
     * line passed on ({@link SlotLine#wakeTurn}), recorded in the audit trail as {@code gate} by {@code buildhook},
     * all in one transaction. The locks are taken as {@link #cancel} takes them: the rule's turn, then (PostgreSQL)
     * the job's row, then its queue entry. A job a node picked at the moment keeps its execution: it is asked to await
     * the approval at its start instead ({@code expires_at} set while queued), which that node's start of its attempt
     * honours ({@link ExecutionLedger#startAttempt}): it either started before (and runs) or awaits, never both.
     *
     * <p>Either way the job's follow-up specification gets the {@code on-approval-request} of the rule that gates it
     * ({@code requestSpec}, {@link FollowUps#withApprovalRequest}) in the same transaction, its other follow-ups as
     * planned, so that once it awaits it tells the approvers once, as the rule's new jobs do ({@link
     * FollowUpLedger#awaitingRequests}; approval50: before, it was planned without one and started none). What a job
     * keeps is still its own plan: a later change of the rule's request changes no job gated before. Nor does a later
     * gate of a job already asked to await one at its start (a second reload, or another node, before that node's
     * start): it keeps the request and the {@code approval.expires} it was first gated with (review50b R7: the second
     * gate wrote the request in force then over it, or dropped it when the rule's request was gone), and is made to
     * await now with them when no node has it picked any more, else left as it is ({@link Gate#AT_ITS_START} again).
     *
     * @param expiry      how long it waits for a decision (the rule's {@code approval.expires}), positive
     * @param requestSpec the follow-up specification of the rule in force ({@code RuleSet.approvalRequests}) when it
     *                    has an {@code on-approval-request}, else null (the job then has none)
     * @param why         the job's message while it awaits (the surfaces say its expiry themselves)
     * @return what came of it; {@link Gate#NONE} when the job is no longer (or never was) one to gate
     */
    Gate gate(String jobId, Duration expiry, String requestSpec, String why) {
        return db.inTransaction("make a job await an approval", c -> {
            String rule;
            String deliveryId;
            try (PreparedStatement p = c.prepareStatement("SELECT CASE WHEN concurrency > 0 THEN rule_name END,"
                    + " delivery_id FROM jobs WHERE id = ? AND " + GATEABLE)) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Gate.NONE;
                    }
                    rule = rs.getString(1);
                    deliveryId = rs.getString(2);
                }
            }
            if (rule != null) {
                line.inTurn(c, rule); // before any row lock, as a cancel takes it
            }
            JobState now;
            String followUps;
            Duration gatedFor;
            try (PreparedStatement p = c.prepareStatement("SELECT state, follow_ups, approval_expiry_ms FROM jobs"
                    + " WHERE id = ? AND " + GATEABLE + (db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : ""))) {
                p.setString(1, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Gate.NONE; // started, superseded or cancelled meanwhile
                    }
                    now = JobState.valueOf(rs.getString(1));
                    followUps = rs.getString(2);
                    long ms = rs.getLong(3);
                    // Set (GATEABLE: with expires_at) only by an earlier gate that asked it to await one at its start.
                    gatedFor = rs.wasNull() ? null : Duration.ofMillis(ms);
                }
            }
            // Its plan as planned, with the gating rule's on-approval-request; pending as a job stored with follow-ups.
            // Asked at its start already: what that gate kept with it stays (review50b R7).
            String gatedFollowUps = gatedFor != null ? followUps : FollowUps.withApprovalRequest(followUps, requestSpec);
            Duration waits = gatedFor != null ? gatedFor : expiry;
            Instant at = clock.instant();
            Instant expires = at.plus(waits);
            if (!queue.cancel(c, jobId)) {
                if (gatedFor != null) {
                    return Gate.AT_ITS_START; // still picked: its start makes it await, with what it keeps
                }
                // Asked to await it at its start: the request is kept with it now, for the start that makes it wait.
                try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET approval_expiry_ms = ?, expires_at = ?,"
                        + " follow_ups = ?, follow_ups_pending = ? WHERE id = ?")) {
                    p.setLong(1, waits.toMillis());
                    p.setLong(2, expires.toEpochMilli());
                    p.setString(3, gatedFollowUps);
                    p.setInt(4, gatedFollowUps != null ? 1 : 0);
                    p.setString(5, jobId);
                    p.executeUpdate();
                }
                return Gate.AT_ITS_START;
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, approval_expiry_ms = ?,"
                    + " expires_at = ?, message = ?, waiting_since = NULL, follow_ups = ?, follow_ups_pending = ?"
                    + " WHERE id = ?")) {
                p.setString(1, JobState.AWAITING_APPROVAL.name());
                p.setLong(2, waits.toMillis());
                p.setLong(3, expires.toEpochMilli());
                p.setString(4, why);
                p.setString(5, gatedFollowUps);
                p.setInt(6, gatedFollowUps != null ? 1 : 0);
                p.setString(7, jobId);
                p.executeUpdate();
            }
            insertAction(c, new AdminAction(ids.next(), at, Approvals.SYSTEM_ACTOR, GATE_ACTION, deliveryId, jobId,
                    why));
            boolean inLine = rule != null && (now == JobState.QUEUED || now == JobState.WAITING);
            return inLine && line.wakeTurn(c, rule, jobId) > 0 ? Gate.GATED_AND_WOKE : Gate.GATED;
        });
    }

    /** The audit trail's action of a job made to await an approval its rule asks for since it was queued. */
    static final String GATE_ACTION = "gate";

    /**
     * The message of a job cancelled while still to run: {@code why} for a plain cancel that gave one, else the
     * usual one ({@link Job#cancelledBeforeItsNextAttempt}); for {@code ruleNotInForce}, {@code why} is the reason
     * and what to do, after {@code not started: } when the job has had no attempt, else after what is true of it
     * (tryout33 F2: a job cancelled in its retry's backoff said "not started" beside the attempt it had had):
     * {@code cancelled while waiting for retry 1 of 2; attempt 1 exited with 3; its rule …}.
     */
    private static String cancelledMessage(String why, boolean ruleNotInForce, int attempts, String message) {
        if (!ruleNotInForce || why == null) {
            return why != null ? why : Job.cancelledBeforeItsNextAttempt(attempts, message);
        }
        return Job.cancelledAsRuleNotInForce(why, attempts, message);
    }

    /**
     * Claims (endpoint, hash) for delivery {@code id}; returns the first delivery's id when the
     * body was already accepted within the window. Race-free: the key is a primary key, so of two
     * concurrent claims one waits for the other's commit and then sees it.
     */
    private Optional<String> claim(Connection c, String endpoint, String hash, String id, Instant at)
            throws SQLException {
        String insert = db.dialect() == Dialect.POSTGRESQL
                ? "INSERT INTO dedup_keys (endpoint, body_hash, delivery_id, first_seen) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT DO NOTHING"
                : "INSERT OR IGNORE INTO dedup_keys (endpoint, body_hash, delivery_id, first_seen) VALUES (?, ?, ?, ?)";
        try (PreparedStatement p = c.prepareStatement(insert)) {
            p.setString(1, endpoint);
            p.setString(2, hash);
            p.setString(3, id);
            p.setLong(4, at.toEpochMilli());
            if (p.executeUpdate() == 1) {
                return Optional.empty();
            }
        }
        // Seen before: a new delivery only when the first one is older than the window.
        try (PreparedStatement p = c.prepareStatement("UPDATE dedup_keys SET delivery_id = ?, first_seen = ?"
                + " WHERE endpoint = ? AND body_hash = ? AND first_seen < ?")) {
            p.setString(1, id);
            p.setLong(2, at.toEpochMilli());
            p.setString(3, endpoint);
            p.setString(4, hash);
            p.setLong(5, at.minus(dedupWindow).toEpochMilli());
            if (p.executeUpdate() == 1) {
                return Optional.empty();
            }
        }
        try (PreparedStatement p = c.prepareStatement(
                "SELECT delivery_id FROM dedup_keys WHERE endpoint = ? AND body_hash = ?")) {
            p.setString(1, endpoint);
            p.setString(2, hash);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    throw new RunnerException("dedup key vanished while accepting; retry");
                }
                return Optional.of(rs.getString(1));
            }
        }
    }

    /** The columns of a new delivery row, for {@link #bindDelivery}. */
    static final String DELIVERY_INSERT_COLUMNS = "id, endpoint, received_at, remote_address, headers, body, body_hash,"
            + " outcome, reason, duplicate_of, build_id, status, project, factory, trigger_name";
    /** Its values: 15 parameters. */
    static final String DELIVERY_INSERT_VALUES = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

    private void insertDelivery(Connection c, String id, NewDelivery d, String headers, byte[] body, String hash,
            DeliveryOutcome outcome, String reason, String duplicateOf, DeliverySummary summary) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO deliveries (" + DELIVERY_INSERT_COLUMNS
                + ") VALUES (" + DELIVERY_INSERT_VALUES + ")")) {
            bindDelivery(p, 0, id, d, headers, body, hash, outcome, reason, duplicateOf, summary);
            p.executeUpdate();
        }
    }

    /** Sets the 15 parameters of {@link #DELIVERY_INSERT_VALUES} that follow parameter {@code base}. */
    static void bindDelivery(PreparedStatement p, int base, String id, NewDelivery d, String headers, byte[] body,
            String hash, DeliveryOutcome outcome, String reason, String duplicateOf, DeliverySummary summary)
            throws SQLException {
        p.setString(base + 1, id);
        p.setString(base + 2, d.endpoint());
        p.setLong(base + 3, d.receivedAt().toEpochMilli());
        p.setString(base + 4, d.remoteAddress());
        p.setString(base + 5, headers);
        if (body == null) {
            p.setNull(base + 6, Types.BINARY);
        } else {
            p.setBytes(base + 6, body);
        }
        p.setString(base + 7, hash);
        p.setString(base + 8, outcome.name());
        p.setString(base + 9, reason);
        p.setString(base + 10, duplicateOf);
        if (summary.buildId() == null) {
            p.setNull(base + 11, Types.BIGINT);
        } else {
            p.setLong(base + 11, summary.buildId());
        }
        p.setString(base + 12, summary.status());
        p.setString(base + 13, summary.project());
        p.setString(base + 14, summary.factory());
        p.setString(base + 15, summary.triggerName());
    }

    /** A planned job with its argv and environment already written as JSON. */
    record RenderedJob(PlannedJob job, String argv, String env) {
    }

    static List<RenderedJob> render(List<PlannedJob> jobs) {
        List<RenderedJob> rendered = new ArrayList<>(jobs.size());
        for (PlannedJob job : jobs) {
            rendered.add(new RenderedJob(job, Rows.json(job.argv()), Rows.json(job.env())));
        }
        return rendered;
    }

    /**
     * PostgreSQL: the turns a transaction that stores {@code jobs} ({@link #insertJobs}) takes first, before any row
     * lock ({@link Supersede#takeTurns}).
     */
    void takeTurns(Connection c, List<PlannedJob> jobs) throws SQLException {
        supersede.takeTurns(c, jobs);
    }

    List<String> insertJobs(Connection c, String deliveryId, List<PlannedJob> jobs, String rerunOf)
            throws SQLException {
        return insertRendered(c, deliveryId, render(jobs), rerunOf);
    }

    /**
     * As {@link #insertJobs}, with the JSON written before the transaction (see {@link #accept}). The jobs' ids are
     * taken in the jobs' order and their rows inserted in it; their supersede keys are claimed first ({@link
     * Supersede#claim}), in (rule, key) order ({@link Supersede#CLAIM_ORDER}): two deliveries whose jobs claim new
     * keys A and B, one in that order and one in the other (rules listed the other way round since a reload, or a
     * {@code match: each} build naming its runs in another order), each inserted its first key's row and waited for the
     * other's uncommitted insert of its second, and PostgreSQL ended one with "deadlock detected" (review50b R12;
     * {@link Supersede#lockBeforeClaims} locks only the keys' rows that exist). In one order, the second waits for
     * the first.
     */
    private List<String> insertRendered(Connection c, String deliveryId, List<RenderedJob> jobs, String rerunOf)
            throws SQLException {
        List<String> jobIds = new ArrayList<>();
        List<String> queued = new ArrayList<>();
        Instant now = clock.instant();
        List<Supersede.Claim> claims = new ArrayList<>();
        List<Integer> claiming = new ArrayList<>();
        for (RenderedJob rendered : jobs) {
            jobIds.add(ids.next());
            JobWorkflow w = rendered.job().workflow();
            // A re-run is an operator's explicit wish: it supersedes nothing and is not superseded. A refused job
            // (PlannedJob#refusal) never runs: it takes nobody's place either.
            if (w.supersedeKey() != null && w.buildId() != null && rerunOf == null && !rendered.job().refused()) {
                claims.add(new Supersede.Claim(rendered.job().ruleName(), w.supersedeKey(), w.buildId(),
                        w.needsApproval()));
                claiming.add(jobIds.size() - 1);
            }
        }
        // Two or more claims: their keys, then every job they supersede in id order, before the first (delcancel50).
        supersede.lockBeforeClaims(c, claims);
        // Then the claims, in (rule, key) order; of one key, in the jobs' order (the last one's job is the key's).
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < claims.size(); k++) {
            order.add(k);
        }
        order.sort(java.util.Comparator.comparing(claims::get, Supersede.CLAIM_ORDER)); // stable
        String[] supersededBy = new String[jobs.size()];
        for (int k : order) {
            int i = claiming.get(k);
            PlannedJob job = jobs.get(i).job();
            JobWorkflow w = job.workflow();
            supersededBy[i] = supersede.claim(c, job.ruleName(), w.supersedeKey(), w.buildId(), jobIds.get(i),
                    w.supersedeRunning(), w.needsApproval(), job.concurrency() > 0);
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO jobs (" + JOB_INSERT_COLUMNS + ") VALUES ("
                + JOB_INSERT_VALUES + ")")) {
            for (int i = 0; i < jobs.size(); i++) {
                RenderedJob rendered = jobs.get(i);
                PlannedJob job = rendered.job();
                String jobId = jobIds.get(i);
                JobState state = job.refused() ? JobState.FAILED : supersededBy[i] != null ? JobState.SUPERSEDED
                        : job.workflow().needsApproval() ? JobState.AWAITING_APPROVAL : JobState.QUEUED;
                bindJob(p, 0, jobId, deliveryId, rendered, state, now, rerunOf, supersededBy[i]);
                p.executeUpdate();
                if (state == JobState.QUEUED) {
                    queued.add(jobId);
                }
            }
        }
        for (String jobId : queued) {
            queue.schedule(c, jobId, now);
        }
        return jobIds;
    }

    /** The columns of a new job row, for {@link #bindJob}. */
    static final String JOB_INSERT_COLUMNS = Rows.JOB_COLUMNS + ", follow_ups_pending";
    /** Its values: 29 parameters and the constants of a job not yet run. */
    static final String JOB_INSERT_VALUES = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, NULL, ?, NULL,"
            + " NULL, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

    /** Sets the 29 parameters of {@link #JOB_INSERT_VALUES} that follow parameter {@code base}. */
    static void bindJob(PreparedStatement p, int base, String jobId, String deliveryId, RenderedJob rendered,
            JobState state, Instant now, String rerunOf, String supersededBy) throws SQLException {
        PlannedJob job = rendered.job();
        JobWorkflow w = job.workflow();
        p.setString(base + 1, jobId);
        p.setString(base + 2, deliveryId);
        p.setString(base + 3, job.ruleName());
        p.setString(base + 4, job.ruleSnapshot());
        p.setString(base + 5, rendered.argv());
        p.setString(base + 6, rendered.env());
        p.setString(base + 7, job.workdir() == null ? null : job.workdir().toString());
        p.setInt(base + 8, job.stdin() ? 1 : 0);
        p.setLong(base + 9, job.timeout().toMillis());
        p.setInt(base + 10, job.retries());
        p.setLong(base + 11, job.backoff().toMillis());
        p.setInt(base + 12, job.concurrency());
        p.setString(base + 13, job.runName());
        p.setString(base + 14, state.name());
        p.setLong(base + 15, now.toEpochMilli());
        Rows.setInstant(p, base + 16, state.isFinal() ? now : null);
        p.setString(base + 17, job.refused() ? job.refusal() : supersededBy == null ? null
                : "superseded at once by job " + supersededBy + " of a newer build");
        p.setString(base + 18, rerunOf);
        Rows.setLong(p, base + 19, w.buildId());
        p.setString(base + 20, w.supersedeKey());
        p.setInt(base + 21, w.supersedeRunning() ? 1 : 0);
        p.setString(base + 22, supersededBy);
        Rows.setLong(p, base + 23, w.approvalExpiry() == null ? null : w.approvalExpiry().toMillis());
        Rows.setInstant(p, base + 24, state == JobState.AWAITING_APPROVAL ? now.plus(w.approvalExpiry()) : null);
        p.setString(base + 25, Rows.resources(w));
        p.setString(base + 26, w.followUps());
        p.setString(base + 27, w.parentId());
        p.setInt(base + 28, w.depth());
        p.setInt(base + 29, w.followUps() != null && state != JobState.SUPERSEDED ? 1 : 0);
    }

    void recordAction(AdminAction a) {
        db.inTransaction("record an admin action", c -> {
            insertAction(c, a);
            return null;
        });
    }

    /** Writes {@code a} in the audit trail on {@code c}, in the caller's transaction (a forget's, {@link NodeLeases}). */
    static void insertAction(java.sql.Connection c, AdminAction a) throws java.sql.SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO admin_actions (" + Rows.ACTION_COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, a.id());
            p.setLong(2, a.at().toEpochMilli());
            p.setString(3, a.actor());
            p.setString(4, a.action());
            p.setString(5, a.deliveryId());
            p.setString(6, a.jobId());
            p.setString(7, a.detail());
            p.executeUpdate();
        }
    }

    /**
     * The body's SHA-256 in lower-case hex: the key duplicates are found by ({@link Sha256}: libcrypto
     * where it loads, else the JDK; the same bytes).
     */
    static String sha256(byte[] body) {
        return HEX.formatHex(Sha256.digest(body));
    }
}
