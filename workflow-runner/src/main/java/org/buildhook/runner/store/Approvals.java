package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.RunnerException;

/**
 * Approvals of jobs whose rule says {@code approval}: such a job is stored {@link JobState#AWAITING_APPROVAL}
 * with no execution queued; approving it queues its execution, rejecting it ends it
 * {@link JobState#REJECTED}, and past its {@code expires_at} it ends {@link JobState#EXPIRED}. Each
 * decision changes the job only if it is still awaiting (a conditional update), and is recorded in
 * the audit trail ({@code admin_actions}) in the same transaction: who and when. An approved job of
 * a rule with a {@code supersede} key supersedes, in that transaction, the older builds' jobs of its
 * key approved before it ({@link Supersede#approved}).
 */
final class Approvals {

    /** The actor of expiries in the audit trail. */
    static final String SYSTEM_ACTOR = "buildhook";

    private final Database db;
    private final JobQueue queue;
    private final Ids ids;
    private final Clock clock;
    private final Supersede supersede;

    Approvals(Database db, JobQueue queue, Ids ids, Clock clock, java.util.function.Supplier<RuleRenames> renames) {
        this.db = db;
        this.queue = queue;
        this.ids = ids;
        this.clock = clock;
        this.supersede = new Supersede(db.dialect(), queue, clock, renames);
    }

    /** What approving job {@code jobId} would supersede now ({@link Supersede#wouldApprove}); changes nothing. */
    java.util.Optional<ApprovalSupersedes> wouldSupersede(String jobId) {
        return db.read("read what an approval would supersede", c -> supersede.wouldApprove(c, jobId));
    }

    /**
     * Approves or rejects; empty (and changes nothing) when the job is not awaiting an approval, else what the
     * decision's transaction did ({@link Store.Decision}).
     */
    Optional<Store.Decision> decide(String jobId, String actor, boolean approve) {
        boolean[] inTurn = new boolean[1];
        return db.inTransaction(approve ? "approve a job" : "reject a job", c -> {
            inTurn[0] = false;
            String deliveryId = deliveryOf(c, jobId);
            Instant now = clock.instant();
            String message = (approve ? "approved by " : "rejected by ") + actor;
            if (approve) {
                // Before the job's row: its supersede key's, as a delivery of the key takes it before the rows of the
                // key's older jobs. The approval then locks its own row and those older ones; a delivery of a newer
                // build at the same moment locked the older ones in id order, then this one: each held a row the other
                // asked for (review33).
                // And before that, the turn of the job's rule's line for a slot, which the supersede may take a
                // queued job out of (Supersede.takeTurns).
                inTurn[0] = supersede.takeTurnOf(c, jobId);
                supersede.lockKeyOf(c, jobId);
            }
            // Past its expiry a job is EXPIRED, whether or not the sweep (every poll interval, and not
            // while the server was down) has marked it yet: an approval then ran a job that had expired.
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, ended_at = ?, message = ?,"
                    + " expires_at = NULL WHERE id = ? AND state = ? AND (expires_at IS NULL OR expires_at > ?)")) {
                p.setString(1, (approve ? JobState.QUEUED : JobState.REJECTED).name());
                Rows.setInstant(p, 2, approve ? null : now);
                p.setString(3, message);
                p.setString(4, jobId);
                p.setString(5, JobState.AWAITING_APPROVAL.name());
                p.setLong(6, now.toEpochMilli());
                if (p.executeUpdate() != 1) {
                    expireIfDue(c, now, jobId, deliveryId);
                    return Optional.<Store.Decision>empty();
                }
            }
            Optional<ApprovalSupersedes> superseded = Optional.empty();
            if (approve) {
                queue.schedule(c, jobId, now);
                // Only now does it replace the older builds' approved jobs of its supersede key.
                superseded = supersede.approved(c, jobId, inTurn[0]);
            }
            audit(c, now, actor, approve ? "approve" : "reject", deliveryId, jobId, message);
            return Optional.of(new Store.Decision(superseded));
        });
    }

    /**
     * Ends the job EXPIRED if it awaits an approval past its expiry (the sweep may not have come yet);
     * returns whether it did.
     */
    boolean expireIfDue(String jobId) {
        return db.inTransaction("expire an approval", c -> expireIfDue(c, clock.instant(), jobId, deliveryOf(c, jobId)));
    }

    /** Ends every job whose approval expired before now as EXPIRED; returns their ids. */
    List<String> expire() {
        return db.inTransaction("expire approvals", c -> {
            Instant now = clock.instant();
            List<String[]> due = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id, delivery_id FROM jobs WHERE state = ?"
                    + " AND expires_at <= ?")) {
                p.setString(1, JobState.AWAITING_APPROVAL.name());
                p.setLong(2, now.toEpochMilli());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        due.add(new String[] {rs.getString(1), rs.getString(2)});
                    }
                }
            }
            List<String> expired = new ArrayList<>();
            for (String[] job : due) {
                if (expireIfDue(c, now, job[0], job[1])) {
                    expired.add(job[0]);
                }
            }
            return expired;
        });
    }

    /** How a job {@link #cancelRefused()} ended begins its message, before the refusal's words. */
    static final String REFUSED_APPROVAL = "not run: it awaited an approval, which this build cannot give: ";

    /**
     * Ends {@code CANCELLED} each job awaiting an approval whose rule as stored this build refuses ({@link
     * org.buildhook.runner.rules.StoredJobCheck}: planned by an older build with the payload's text in shell code), or
     * whose payload values as stored it refuses ({@link org.buildhook.runner.rules.StoredJobCheck#valuesRefusal}:
     * {@code ../victim}, {@code --upload-pack=…}, which an older build did not check; review50 F2), with its audit
     * entry ({@code cancel} by {@code buildhook}): an approval of it is refused, so it could only wait for its expiry
     * while {@code jobs}, {@code status} and {@code buildhook_jobs_awaiting_approval} counted it as awaiting one
     * (tryout49 F6). Its message says why and names the replay that makes a new job of its delivery. A job approved,
     * rejected or ended meanwhile is left as it is. The values are checked against the delivery's body, read only for
     * a rule that writes a payload value and once per delivery; of such jobs the first {@link
     * RefusedStoredJobs#BODIES_READ} are looked at, as a start's warning looks (the rest wait for a later start; an
     * approval of one is refused all the same).
     *
     * @return the jobs ended, oldest first
     */
    List<Store.RefusedApproval> cancelRefused() {
        return db.inTransaction("cancel jobs awaiting an approval this build cannot give", c -> {
            Instant now = clock.instant();
            List<Store.RefusedApproval> ended = new ArrayList<>();
            List<String[]> refused = new ArrayList<>();
            // id, delivery, rule, snapshot, depth, run, parent: read whole before any body is read.
            List<String[]> awaiting = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id, delivery_id, rule_name, rule_snapshot,"
                    + " chain_depth, run_name, parent_id FROM jobs WHERE state = ? ORDER BY id")) {
                p.setString(1, JobState.AWAITING_APPROVAL.name());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        awaiting.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getString(4), Integer.toString(rs.getInt(5)), rs.getString(6), rs.getString(7)});
                    }
                }
            }
            int valuesLookedAt = 0;
            for (String[] job : awaiting) {
                String deliveryId = job[1];
                String rule = job[2];
                int depth = Integer.parseInt(job[4]);
                boolean perRun = job[5] != null;
                Optional<String> why = org.buildhook.runner.rules.StoredJobCheck.refusal(rule, job[3], depth, perRun,
                        deliveryId);
                String detail = "its rule as stored is refused by this build: it could not be approved";
                if (why.isEmpty() && valuesLookedAt < RefusedStoredJobs.BODIES_READ
                        && org.buildhook.runner.rules.StoredJobCheck.checksValues(rule, job[3], depth, perRun)) {
                    valuesLookedAt++;
                    String parentId = job[6];
                    try {
                        why = org.buildhook.runner.rules.StoredJobCheck.valuesRefusal(rule, job[3], depth, job[5],
                                deliveryId, () -> RefusedStoredJobs.body(c, deliveryId),
                                () -> parentId == null ? null : RefusedStoredJobs.parent(c, parentId));
                    } catch (RefusedStoredJobs.BodyUnread e) {
                        throw e.getCause();
                    }
                    detail = "its payload values as stored are refused by this build: it could not be approved";
                }
                if (why.isPresent()) {
                    refused.add(new String[] {job[0], deliveryId, rule, why.get(), detail});
                }
            }
            for (String[] job : refused) {
                String message = REFUSED_APPROVAL + job[3];
                // No follow-up is due: none of its commands ran, and no one approved it (as the pick's refusal of such
                // a job, JobTask.refused; as its expiry, EXPIRED, the end it would otherwise have come to).
                try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, ended_at = ?, message = ?,"
                        + " expires_at = NULL, follow_ups_pending = 0 WHERE id = ? AND state = ?")) {
                    p.setString(1, JobState.CANCELLED.name());
                    p.setLong(2, now.toEpochMilli());
                    p.setString(3, message);
                    p.setString(4, job[0]);
                    p.setString(5, JobState.AWAITING_APPROVAL.name());
                    if (p.executeUpdate() != 1) {
                        continue;
                    }
                }
                audit(c, now, SYSTEM_ACTOR, "cancel", job[1], job[0], job[4]);
                ended.add(new Store.RefusedApproval(job[0], job[2], message));
            }
            return ended;
        });
    }

    /**
     * Ends the job EXPIRED, with its audit entry, if it awaits an approval past its expiry; returns whether it did.
     * In the caller's transaction ({@link DeliveryWriter#cancelDelivery} too).
     */
    boolean expireIfDue(Connection c, Instant now, String jobId, String deliveryId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, ended_at = ?, message = ?,"
                + " expires_at = NULL WHERE id = ? AND state = ? AND expires_at <= ?")) {
            p.setString(1, JobState.EXPIRED.name());
            p.setLong(2, now.toEpochMilli());
            p.setString(3, "nobody approved or rejected it in time");
            p.setString(4, jobId);
            p.setString(5, JobState.AWAITING_APPROVAL.name());
            p.setLong(6, now.toEpochMilli());
            if (p.executeUpdate() != 1) {
                return false;
            }
        }
        audit(c, now, SYSTEM_ACTOR, "expire", deliveryId, jobId, "the approval expired");
        return true;
    }

    private static String deliveryOf(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT delivery_id FROM jobs WHERE id = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    throw new RunnerException("no job " + jobId);
                }
                return rs.getString(1);
            }
        }
    }

    private void audit(Connection c, Instant at, String actor, String action, String deliveryId, String jobId,
            String detail) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO admin_actions (" + Rows.ACTION_COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, ids.next());
            p.setLong(2, at.toEpochMilli());
            p.setString(3, actor);
            p.setString(4, action);
            p.setString(5, deliveryId);
            p.setString(6, jobId);
            p.setString(7, detail);
            p.executeUpdate();
        }
    }
}
