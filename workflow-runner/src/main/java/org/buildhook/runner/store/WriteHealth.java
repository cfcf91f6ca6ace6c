package org.buildhook.runner.store;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Whether the store's writes work, for {@code /healthz}: a database that answers reads may still
 * refuse every write (SQLite file read-only, disk full, a PostgreSQL standby).
 *
 * <p>Write transactions report their end here (two volatile writes: nothing on the hot path
 * waits): every failure, and a success only where it shows that writes work (SQLite's commits that
 * changed rows; on PostgreSQL the probe's only, see {@code Database#writable}). {@link #writable} believes the last outcome while it is fresh — a success for
 * {@link #TRUST_SUCCESS}, a failure for {@link #TRUST_FAILURE} — and otherwise runs one small probe
 * write, so an idle server notices a full disk, and a failing one notices the disk freed, without
 * a delivery having to try. One probe at a time; health checks meanwhile get the last outcome.
 *
 * <p>A write refused for want of room (a full disk) is not undone by a small write that worked: one
 * that rewrites a page already there, or fits where the refused write's own frames had claimed room
 * in SQLite's WAL before the disk ran out, commits while every delivery is refused (tryout13 F1). So
 * after such a failure only a probe that needs room itself ({@link Probe#run(boolean)} with
 * {@code true}) says that writes work again, not the other commits.
 *
 * <p>Ages are measured with {@link System#nanoTime()}: elapsed time, immune to clock steps.
 */
final class WriteHealth {

    /** How long a successful write vouches for the next health check: at most one probe per 5 s when idle. */
    static final long TRUST_SUCCESS = TimeUnit.SECONDS.toNanos(5);
    /** How long a failed write is believed before a health check probes again: at most one probe a second. */
    static final long TRUST_FAILURE = TimeUnit.SECONDS.toNanos(1);

    private final ReentrantLock probing = new ReentrantLock();
    private volatile long lastAt = System.nanoTime() - TRUST_SUCCESS - 1;
    private volatile String failure;
    /** The exception {@link #failure} came from, when one did (for {@code /healthz}'s reason). */
    private volatile Throwable failureCause;
    /** Whether {@link #failure} was for want of room: then only a probe that needs room clears it. */
    private volatile boolean noRoom;

    /** A probe write: one transaction that reports to this object like any other. */
    interface Probe {
        /**
         * @param needRoom write more than a delivery needs (not a page rewritten in place)
         * @return whether it committed; {@code false}: no news (another node's probe held its row)
         */
        boolean run(boolean needRoom);
    }

    /** A write transaction committed; it does not vouch for a disk that was full (see the class comment). */
    void succeeded() {
        if (noRoom) {
            return;
        }
        failure = null;
        lastAt = System.nanoTime();
    }

    /** The probe committed: writes work, room included when it was asked to need room. */
    private void probed() {
        failure = null;
        noRoom = false;
        lastAt = System.nanoTime();
    }

    /** A write transaction failed because the store cannot write ({@link StoreUnavailableException}). */
    void failed(String why) {
        failed(why, false);
    }

    /** As {@link #failed(String)}; {@code noRoom}: it was refused for want of room (a full disk). */
    void failed(String why, boolean noRoom) {
        record(why, noRoom, null);
    }

    private void record(String why, boolean noRoom, Throwable cause) {
        failureCause = cause;
        failure = why == null ? "unknown" : why;
        this.noRoom = noRoom;
        lastAt = System.nanoTime();
    }

    /** As {@link #failed(String, boolean)}, from the exception that said so. */
    void failed(RuntimeException e) {
        record(e.getMessage(), StoreUnavailableException.isOutOfRoom(e), e);
    }

    /**
     * Whether writes work: the last outcome while fresh, else the outcome of {@code probe} (a write
     * transaction, asked to need room when the last failure was for want of it). Never throws.
     */
    boolean writable(Probe probe) {
        String last = failure;
        long age = System.nanoTime() - lastAt;
        if (age <= (last == null ? TRUST_SUCCESS : TRUST_FAILURE)) {
            return last == null;
        }
        if (probing.tryLock()) {
            try {
                if (probe.run(last != null && noRoom)) {
                    probed();
                }
            } catch (RuntimeException e) {
                failed(e);
            } finally {
                probing.unlock();
            }
        }
        return failure == null;
    }

    /** Why the last write failed, or {@code null} when it succeeded. */
    String lastFailure() {
        return failure;
    }

    /** The failure of the last write, or {@code null} when it succeeded. */
    Throwable lastFailureCause() {
        return failure == null ? null : failureCause;
    }
}
