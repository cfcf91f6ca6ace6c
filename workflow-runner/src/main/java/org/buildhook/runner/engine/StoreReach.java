package org.buildhook.runner.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Since when this node has reached the store without a break, as far as it can tell: each time one
 * of its calls is answered (the node id's renewal, every heartbeat interval; a look for dead
 * executions) it says so here, and two answers further apart than {@link #gap} mean that the store
 * was away for this node in between (or that this node itself did not run). Another node's silence
 * during such a break is no evidence that that node died: it may have been cut off from the same
 * store (a PostgreSQL restart, failover or network cut shared by every node), and it counts only
 * from this node's return ({@link #keepsWaiting}, cluster27 F8): for another node's executions
 * ({@link OwnExecutionsKept}) and for the attempts of another node of this host whose JVM is gone
 * ({@link LeftoverSweep}). Thread-safe.
 */
final class StoreReach {

    private final Duration gap;
    private Instant last;
    private Instant since;
    /**
     * The silences already said to be given time by {@link #keepsWaiting} (one line each, not one per look), of both
     * callers: their keys differ in form ({@code job@version}, {@code job/attempt}).
     */
    private final Set<String> waitingSaid = ConcurrentHashMap.newKeySet();

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

    /**
     * Whether another node, silent since {@code lastSign}, is still given time before it is taken for dead
     * (cluster27 F8's evidence rule): its silence counts from its last sign of life or from this node's own return
     * to the store after a break, whichever is later ({@link #silentFrom}), and it is given time while no more than
     * {@code limit} has passed since then. The first time this holds for {@code key}, {@code say} is run: one line
     * per silence, not one per look (the keys said are forgotten past 10,000, and then may be said again).
     *
     * @param key      what waits for its node, as its caller names it (an execution at its version, an attempt)
     * @param lastSign the other node's last sign of life (a heartbeat), {@code null} if none is known
     * @param back     this node's return to the store after its latest break, as {@link #answered} said, {@code null}
     *                 if none was seen
     * @param now      the current time
     * @param limit    the dead-node limit (heartbeat interval × missed heartbeats)
     * @param say      says that the node is given time, and why; run at most once per key
     * @return {@code true} while the other node is given time, {@code false} once its silence is evidence enough
     */
    boolean keepsWaiting(String key, Instant lastSign, Instant back, Instant now, Duration limit, Runnable say) {
        Instant from = silentFrom(lastSign, back);
        if (from == null || Duration.between(from, now).compareTo(limit) > 0) {
            return false;
        }
        if (waitingSaid.size() > 10_000) {
            waitingSaid.clear();
        }
        if (waitingSaid.add(key)) {
            say.run();
        }
        return true;
    }

    /**
     * From when another node's silence counts: its last heartbeat, or this node's own return to the
     * store after a break, whichever is later.
     *
     * @param lastHeartbeat the execution's last heartbeat, {@code null} if none was recorded
     * @param back          the first answer of the store after this node's latest break, {@code null} if none
     * @return the later of the two, {@code null} when both are
     */
    static Instant silentFrom(Instant lastHeartbeat, Instant back) {
        if (back == null) {
            return lastHeartbeat;
        }
        return lastHeartbeat == null || back.isAfter(lastHeartbeat) ? back : lastHeartbeat;
    }
}
