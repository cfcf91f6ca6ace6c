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
    private volatile Throwable failureCause;

    /** A write transaction committed. */
    void succeeded() {
        failure = null;
        lastAt = System.nanoTime();
    }

    /** A write transaction failed because the store cannot write ({@link StoreUnavailableException}). */
    void failed(Throwable why) {
        failureCause = why;
        failure = why.getMessage() == null ? "unknown" : why.getMessage();
        lastAt = System.nanoTime();
    }

    /**
     * Whether writes work: the last outcome while fresh, else the outcome of {@code probe} (a write
     * transaction that reports to this object like any other). Never throws.
     */
    boolean writable(Runnable probe) {
        String last = failure;
        long age = System.nanoTime() - lastAt;
        if (age <= (last == null ? TRUST_SUCCESS : TRUST_FAILURE)) {
            return last == null;
        }
        if (probing.tryLock()) {
            try {
                probe.run();
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
