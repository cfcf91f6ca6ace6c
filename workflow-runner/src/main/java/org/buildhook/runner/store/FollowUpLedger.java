package org.buildhook.runner.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.PlannedJob;

/**
 * The follow-ups side of the store: which final jobs still have to start their follow-up, and
 * starting it exactly once. A job's {@code follow_ups_pending} flag is set when it is stored with
 * follow-ups and cleared in the transaction that stores its follow-up job, by a conditional update:
 * of two nodes starting the same follow-up, one clears the flag and stores the job, the other finds
 * it cleared and stores nothing. A node that dies after the job ended leaves the flag set, so any
 * node starts the follow-up later; none is lost and none is started twice.
 */
public final class FollowUpLedger {

    /** A rule's follow-up key started when its job begins to await an approval (rules: FollowUpReader). */
    static final String APPROVAL_REQUEST = "on-approval-request";

    private final Database db;
    private final DeliveryWriter writer;
    private final Approvals approvals;
    private final java.time.Clock clock;

    FollowUpLedger(Database db, DeliveryWriter writer, Approvals approvals, java.time.Clock clock) {
        this.db = db;
        this.writer = writer;
        this.approvals = approvals;
        this.clock = clock;
    }

    /** Up to {@code limit} jobs that reached a final state and have not started their follow-up yet, oldest first. */
    public List<String> pending(int limit) {
        return db.read("find pending follow-ups", c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id FROM jobs WHERE follow_ups_pending = 1"
                    + " AND state IN (?, ?, ?, ?, ?, ?, ?) ORDER BY id LIMIT ?")) {
                int i = 1;
                for (JobState s : JobState.values()) {
                    if (s.isFinal()) {
                        p.setString(i++, s.name());
                    }
                }
                p.setInt(i, limit);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
            }
            return ids;
        });
    }

    /**
     * Whether job {@code id} still has to start its follow-up: it was stored with follow-ups and no node has
     * started the one its outcome calls for (nor found that it calls for none) yet. False for a job without
     * follow-ups and for an unknown id. A job's page keeps asking for its live part while this holds, so the
     * follow-up shows up there once it is stored, just after the job's end (tryout21 F2).
     */
    public boolean isPending(String id) {
        return db.read("find whether a job's follow-up is pending", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT follow_ups_pending FROM jobs WHERE id = ?")) {
                p.setString(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() && rs.getInt(1) == 1;
                }
            }
        });
    }

    /** As {@link #awaitingRequests(String, int)} from the oldest job. */
    public List<String> awaitingRequests(int limit) {
        return awaitingRequests("", limit);
    }

    /**
     * Up to {@code limit} jobs after job {@code after} (in the store's order of ids; {@code ""} for the oldest) awaiting
     * an approval, not past its expiry, whose rule asked, when they were planned, for an {@code on-approval-request},
     * and that have not started it yet, oldest first. Its start is recorded by the follow-up job itself (a job of
     * {@code <rule>/on-approval-request} whose parent is the job), stored once by {@link #startApprovalRequest}: no
     * flag of its own, so no new column (an older node of a cluster reads the same store), and the follow-ups' pending
     * flag and its index find the few candidates. The match is on the follow-ups' text, so a candidate may turn out to
     * have no request (a follow-up's command naming {@code on-approval-request}); a caller pages with {@code after}
     * from look to look, so that such jobs, which stay candidates, never hide newer ones (review49 F2).
     */
    public List<String> awaitingRequests(String after, int limit) {
        return db.read("find approval requests to start", c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT j.id FROM jobs j WHERE j.follow_ups_pending = 1"
                    + " AND j.state = ? AND j.id > ? AND (j.expires_at IS NULL OR j.expires_at > ?)"
                    + " AND j.follow_ups LIKE ? AND NOT EXISTS (SELECT 1 FROM jobs f"
                    + " WHERE f.parent_id = j.id AND f.rule_name = j.rule_name || ?) ORDER BY j.id LIMIT ?")) {
                p.setString(1, JobState.AWAITING_APPROVAL.name());
                p.setString(2, after);
                p.setLong(3, clock.instant().toEpochMilli());
                p.setString(4, "%\"" + APPROVAL_REQUEST + "\"%");
                p.setString(5, "/" + APPROVAL_REQUEST);
                p.setInt(6, limit);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
            }
            return ids;
        });
    }

    /**
     * Starts {@code request}, the {@code on-approval-request} of {@code parent}, if {@code parent} still awaits its
     * approval and no node has started it yet: stores and queues it in one transaction, which first locks the
     * parent's row (a conditional update), so of two nodes starting it at once one stores it and the other then sees
     * it. A job approved, rejected, expired or superseded meanwhile gets none, nor does one past its approval's expiry
     * that no sweep has marked yet: it is ended {@code EXPIRED} in that transaction, as a cancel does (review49 F1).
     * Returns the new job's id, else empty.
     */
    public Optional<String> startApprovalRequest(Job parent, PlannedJob request) {
        Optional<String> started = db.inTransaction("start an approval request", c -> {
            writer.takeTurns(c, List.of(request)); // before the parent's row (Supersede.takeTurns)
            // Past its expiry it is EXPIRED, whether or not the sweep (its own schedule) has marked it yet.
            if (approvals.expireIfDue(c, clock.instant(), parent.id(), parent.deliveryId())) {
                return Optional.<String>empty();
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET follow_ups_pending = 1 WHERE id = ?"
                    + " AND state = ? AND follow_ups_pending = 1")) {
                p.setString(1, parent.id());
                p.setString(2, JobState.AWAITING_APPROVAL.name());
                if (p.executeUpdate() != 1) {
                    return Optional.<String>empty();
                }
            }
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM jobs WHERE parent_id = ? AND rule_name = ?")) {
                p.setString(1, parent.id());
                p.setString(2, request.ruleName());
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) {
                        return Optional.<String>empty();
                    }
                }
            }
            return Optional.of(writer.insertJobs(c, parent.deliveryId(), List.of(request), null).get(0));
        });
        started.ifPresent(id -> writer.warnOfRefused(parent.deliveryId(), List.of(request), List.of(id)));
        return started;
    }

    /**
     * Starts the follow-up of final job {@code parent}: stores and queues {@code followUp} (null when
     * its outcome starts none) and clears the parent's pending flag, in one transaction. Returns the
     * new job's id; empty when there was none to start or another node already started it.
     */
    public Optional<String> start(Job parent, PlannedJob followUp) {
        Optional<String> started = db.inTransaction("start a follow-up", c -> {
            if (followUp != null) {
                writer.takeTurns(c, List.of(followUp)); // before the parent's row (Supersede.takeTurns)
            }
            try (PreparedStatement p = c.prepareStatement(
                    "UPDATE jobs SET follow_ups_pending = 0 WHERE id = ? AND follow_ups_pending = 1")) {
                p.setString(1, parent.id());
                if (p.executeUpdate() != 1 || followUp == null) {
                    return Optional.<String>empty();
                }
            }
            return Optional.of(writer.insertJobs(c, parent.deliveryId(), List.of(followUp), null).get(0));
        });
        started.ifPresent(id -> writer.warnOfRefused(parent.deliveryId(), List.of(followUp), List.of(id)));
        return started;
    }
}
