package org.buildhook.runner.engine;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.store.ExecutionLedger;

/**
 * The looks of one launch at the lease its command is created under, on a store other nodes share (chaos33 F2,
 * RELIABILITY bug 10). Another node revives a job's execution once its heartbeat is older than the dead-node limit
 * ({@code runner.heartbeat-interval × runner.missed-heartbeats}); a node whose job thread did not go on for that long
 * between the record of the attempt's start (which renews the heartbeat) and the exec (a paused JVM, a stalled
 * thread) would create the command after the job was another node's, even after that node ran it to its end.
 *
 * <p>While the job's thread goes on at once, nothing is asked: within a quarter of the limit of its last look on the
 * monotonic clock (the start's record, or the last confirmation), no other node can have taken the job unless clocks
 * are further apart than three quarters of the limit, which self-fencing assumes too. Past that, the store is asked in
 * one statement ({@link ExecutionLedger#confirmLease}): still picked by this node at its pick's version, with a
 * heartbeat (db-scheduler's own count) younger than {@value Fencing#FENCE_AT_WHEN_LATE} of the limit, as for a
 * heartbeat only late; if so it is renewed and the command goes on, else not. Asked just before the exec and just
 * after it, so that a pause between the first look and the exec is seen too: a command created too late is killed at
 * once, held stopped meanwhile ({@link org.buildhook.runner.exec.CreatedProcessHold}).
 *
 * <p>Used by the launch's one thread at a time (under its gate's lock); not for concurrent use.
 */
final class CreationLease implements RunningJobs.LeaseLook {

    private final ExecutionLedger ledger;
    private final String jobId;
    private final String node;
    private final long version;
    private final Duration limit;
    /** Within how long of the last look nothing is asked, in nanoseconds. */
    private final long quiet;
    /** How old the execution's heartbeat may be when asked. */
    private final Duration maxAge;
    /** When the lease was last known to be this node's ({@link System#nanoTime()}). */
    private long confirmed;

    /**
     * @param ledger  the store's ledger
     * @param jobId   the job's id
     * @param node    this node's id, as it picked the job's execution
     * @param version the execution's version at the pick
     * @param limit   the dead-node limit, over 0
     * @param renewed when the statement that started the attempt, renewing the heartbeat, was sent ({@link
     *                System#nanoTime()})
     */
    CreationLease(ExecutionLedger ledger, String jobId, String node, long version, Duration limit, long renewed) {
        this.ledger = ledger;
        this.jobId = jobId;
        this.node = node;
        this.version = version;
        this.limit = limit;
        this.quiet = limit.toNanos() / 4;
        this.maxAge = Duration.ofNanos((long) (limit.toNanos() * Fencing.FENCE_AT_WHEN_LATE));
        this.confirmed = renewed;
    }

    @Override
    public String beforeCreation() {
        return look();
    }

    @Override
    public String afterCreation() {
        String gone = look();
        return gone == null ? null : "killed by its own node as it was created: " + gone;
    }

    @Override
    public boolean wouldAsk() {
        return System.nanoTime() - confirmed > quiet;
    }

    /** Null while the lease is surely this node's, else why it may not be (without the record's ending). */
    private String look() {
        long asked = System.nanoTime();
        long since = asked - confirmed;
        if (since <= quiet) {
            return null;
        }
        String seen;
        try {
            if (ledger.confirmLease(jobId, node, version, maxAge)) {
                confirmed = asked;
                return null;
            }
            seen = "found it another node's, or its execution's heartbeat older than " + Durations.describe(maxAge)
                    + " (three quarters of the dead-node limit, " + Durations.describe(limit)
                    + ", runner.heartbeat-interval × runner.missed-heartbeats, past which another node takes a job"
                    + " over)";
        } catch (RuntimeException e) {
            seen = "could not ask the store whether the job was still its own (" + e.getMessage() + ")";
        }
        return "node " + node + " went on " + TimeUnit.NANOSECONDS.toMillis(since) + " ms after its last hold on the"
                + " job (this JVM or thread paused or stalled) and " + seen;
    }
}
