package org.buildhook.runner.store;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Whether the store's writes work, for {@code /healthz}: a database that answers reads may still
 * refuse every write (SQLite file read-only, disk full, a PostgreSQL standby).
 *
 * <p>Write transactions report their end here (one compare-and-set of an immutable {@link State}:
 * nothing on the hot path waits): every failure, and a success only where it shows that writes work
 * (SQLite's commits that changed rows; on PostgreSQL the probe's only, see {@code Database#writable}).
 * {@link #writable} believes the last outcome while it is fresh — a success for
 * {@link #TRUST_SUCCESS}, a failure for {@link #TRUST_FAILURE} — and otherwise runs one small probe
 * write, so an idle server notices a full disk, and a failing one notices the disk freed, without
 * a delivery having to try. One probe at a time; health checks meanwhile get the last outcome.
 *
 * <p>A write refused for want of room (a full disk) is not undone by a small write that worked: one
 * that rewrites a page already there, or fits where the refused write's own frames had claimed room
 * in SQLite's WAL before the disk ran out, commits while every delivery is refused (tryout13 F1). So
 * after such a failure only a probe that needs room itself ({@link Probe#run(boolean)} with
 * {@code true}) says that writes work again, not the other commits. The outcome, its time, its cause
 * and whether it was for want of room change together: kept in separate volatile fields, a commit
 * that read "not for want of room" between a full-disk failure's writes cleared that failure, which
 * left {@code /healthz} at 200 on a full disk until the next refused write (review14 F4).
 *
 * <p>Ages are measured with {@link System#nanoTime()}: elapsed time, immune to clock steps.
 */
final class WriteHealth {

    /** How long a successful write vouches for the next health check: at most one probe per 5 s when idle. */
    static final long TRUST_SUCCESS = TimeUnit.SECONDS.toNanos(5);
    /** How long a failed write is believed before a health check probes again: at most one probe a second. */
    static final long TRUST_FAILURE = TimeUnit.SECONDS.toNanos(1);

    /**
     * The last outcome, all of it at once.
     *
     * @param at      when it was reported ({@link System#nanoTime()})
     * @param failure why the write failed, or {@code null} when it worked
     * @param cause   the exception {@code failure} came from, when one did (for {@code /healthz}'s reason)
     * @param noRoom  whether {@code failure} was for want of room: then only a probe that needs room clears it
     * @param since   when the run of failures {@code failure} belongs to began (wall clock), {@code null} on success
     */
    private record State(long at, String failure, Throwable cause, boolean noRoom, java.time.Instant since) {

        static State worked() {
            return new State(System.nanoTime(), null, null, false, null);
        }
    }

    private final ReentrantLock probing = new ReentrantLock();
    private final AtomicReference<State> state = new AtomicReference<>(
            new State(System.nanoTime() - TRUST_SUCCESS - 1, null, null, false, null));
    /** Run between reading the state and swapping it: a test's seam at the interleaving; else nothing. */
    private final Runnable midway;

    WriteHealth() {
        this(() -> { });
    }

    /** @param midway run by every change of the state after it read the state and before it swaps it */
    WriteHealth(Runnable midway) {
        this.midway = midway;
    }

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
        while (true) {
            State now = state.get();
            if (now.noRoom()) {
                return;
            }
            midway.run();
            // Not swapped when a failure came meanwhile: read again, which may be one for want of room.
            if (state.compareAndSet(now, State.worked())) {
                return;
            }
        }
    }

    /** The probe committed: writes work, room included when it was asked to need room. */
    private void probed() {
        midway.run();
        state.set(State.worked());
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
        State before = state.get();
        midway.run();
        // The failures' run keeps its first time, for the status page's "since" (a race with a success only
        // moves it to now).
        java.time.Instant since = before.failure() != null && before.since() != null ? before.since()
                : java.time.Instant.now();
        state.set(new State(System.nanoTime(), why == null ? "unknown" : why, cause, noRoom, since));
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
        State last = state.get();
        long age = System.nanoTime() - last.at();
        if (age <= (last.failure() == null ? TRUST_SUCCESS : TRUST_FAILURE)) {
            return last.failure() == null;
        }
        if (probing.tryLock()) {
            try {
                if (probe.run(last.failure() != null && last.noRoom())) {
                    probed();
                }
            } catch (RuntimeException e) {
                failed(e);
            } finally {
                probing.unlock();
            }
        }
        return state.get().failure() == null;
    }

    /** Why the last write failed, or {@code null} when it succeeded. */
    String lastFailure() {
        return state.get().failure();
    }

    /** When the run of failures the last outcome belongs to began (wall clock), or {@code null} when it succeeded. */
    java.time.Instant failingSince() {
        return state.get().since();
    }

    /** The failure of the last write, or {@code null} when it succeeded. */
    Throwable lastFailureCause() {
        return state.get().cause();
    }
}
