package org.buildhook.runner.engine;

import java.time.Duration;
import java.time.Instant;

/**
 * Since when this node has reached the store without a break, as far as it can tell: each time one
 * of its calls is answered (the node id's renewal, every heartbeat interval; a look for dead
 * executions) it says so here, and two answers further apart than {@link #gap} mean that the store
 * was away for this node in between (or that this node itself did not run). Another node's silence
 * during such a break is no evidence that that node died: it may have been cut off from the same
 * store (a PostgreSQL restart, failover or network cut shared by every node), and it counts only
 * from this node's return ({@link OwnExecutionsKept}, cluster27 F8). Thread-safe.
 */
final class StoreReach {

    private final Duration gap;
    private Instant last;
    private Instant since;

    /** @param gap the longest time between two answers that still counts as no break (positive) */
    StoreReach(Duration gap) {
        if (gap.isNegative() || gap.isZero()) {
            throw new IllegalArgumentException("gap must be positive: " + gap);
        }
        this.gap = gap;
    }

    /**
     * Records that the store answered this node at {@code at} after a time in which this node did not ask it at its
     * usual pace for a reason of its own (its start's work): that time is no break.
     *
     * @param at when the store answered
     */
    synchronized void resumed(Instant at) {
        if (last == null || at.isAfter(last)) {
            last = at;
        }
    }

    /**
     * Records that the store answered this node at {@code at}, and says since when it has answered
     * without a break.
     *
     * @param at when the store answered (wall clock, as db-scheduler's heartbeats)
     * @return the first answer after the latest break, or {@code null} when no break was ever seen
     */
    synchronized Instant answered(Instant at) {
        if (last != null && Duration.between(last, at).compareTo(gap) > 0) {
            since = at;
        }
        if (last == null || at.isAfter(last)) {
            last = at;
        }
        return since;
    }
}
