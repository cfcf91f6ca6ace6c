package org.buildhook.runner.engine;

/**
 * When this JVM itself did not run (paused by {@code SIGSTOP}, a debugger, a stall): a daemon thread ticks every
 * {@value #TICK_MILLIS} ms, and a gap between two ticks over a second is taken for a pause of the whole JVM. For a node
 * without a watchdog (SQLite, {@code runner.watchdog: off}), whose job's exit during such a pause is seen only on waking:
 * its attempt's message then says so (tryout49 F1), as {@link org.buildhook.runner.exec.Watchdog.End#pausedMillis()}
 * lets a node with a watchdog say it. One per class loader ({@link #shared()}), its thread running while an engine
 * uses it ({@link #retain}, {@link #release}: a WAR's undeploy must leave no thread); thread-safe.
 */
final class JvmPauses {

    /** How often the thread ticks, in milliseconds. */
    static final long TICK_MILLIS = 250;
    /**
     * The longest gap between two ticks that is not a pause, in milliseconds (a second and a tick): a thread of this
     * JVM late by up to this much, on a loaded host, is taken for a JVM that ran.
     */
    static final long LATE_MILLIS = 1_000 + TICK_MILLIS;
    /**
     * How long after a pause's end ({@link Pause#until}) an attempt's exit, seen then, counts as seen on waking, in
     * milliseconds (review50 F1): twice {@link #LATE_MILLIS}. An exit during the pause reaches the attempt's end
     * through two threads that both run again at the wake, the process reaper and then the attempt's own (which ends
     * what is left of its tree and closes its log before it takes the time); each may be as late as this detector
     * takes for a JVM that ran. Seen later than that, the JVM had run for longer than any thread of it may be late,
     * so the exit came after the wake and was seen when it happened.
     */
    static final long WAKE_MILLIS = 2 * LATE_MILLIS;
    private static final JvmPauses SHARED = new JvmPauses();

    private final Object lock = new Object();
    private long lastTick = System.nanoTime(); // guarded by lock
    private long pauseEnd;                     // guarded by lock, nanoTime; 0 before any
    private long pauseNanos;                   // guarded by lock
    private java.time.Instant pauseEndedAt;    // guarded by lock: the wall-clock time of pauseEnd

    private Thread ticker;                     // guarded by lock; null while no engine uses it
    private int users;                         // guarded by lock

    private JvmPauses() {
    }

    /** The class loader's one detector; its thread runs between an engine's {@link #retain} and {@link #release}. */
    static JvmPauses shared() {
        return SHARED;
    }

    /** An engine uses the detector: its thread starts with the first user. */
    void retain() {
        synchronized (lock) {
            if (users++ == 0) {
                lastTick = System.nanoTime();
                pauseEnd = 0;
                ticker = new Thread(this::tick, "buildhook-pause-watch");
                ticker.setDaemon(true);
                ticker.start();
            }
        }
    }

    /** An engine no longer uses it: its thread ends with the last user. */
    void release() {
        Thread ended;
        synchronized (lock) {
            if (users == 0 || --users > 0) {
                return;
            }
            ended = ticker;
            ticker = null;
        }
        ended.interrupt();
    }

    private void tick() {
        while (true) {
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (lock) {
                if (ticker != Thread.currentThread()) {
                    return;
                }
                long now = System.nanoTime();
                if (now - lastTick > LATE_MILLIS * 1_000_000L) {
                    pauseEnd = now;
                    pauseNanos = now - lastTick;
                    pauseEndedAt = java.time.Instant.now();
                }
                lastTick = now;
            }
        }
    }

    /**
     * A pause of this JVM.
     *
     * @param millis how long this JVM did not run, in milliseconds, 0 or more
     * @param until  when it ended (this JVM's clock; the time of asking for one still going on), null when
     *               {@code millis} is 0
     */
    record Pause(long millis, java.time.Instant until) {
        /** No pause. */
        static final Pause NONE = new Pause(0, null);

        /**
         * Whether something this JVM saw at {@code seen} was seen on waking from this pause: not before the pause
         * began ({@code until} less {@code millis}) and not more than {@link #WAKE_MILLIS} after it ended; false for
         * {@link #NONE}.
         *
         * @param seen when it was seen (this JVM's clock)
         */
        boolean wokeTo(java.time.Instant seen) {
            return until != null && !seen.isBefore(until.minusMillis(millis))
                    && !seen.isAfter(until.plusMillis(WAKE_MILLIS));
        }
    }

    /**
     * The pause that goes on as this is asked (its ticker not yet run since: the caller woke first), or the last one
     * when it ended less than {@code within} ago; {@link Pause#NONE} for none.
     *
     * @param within how recent a pause that ended counts, positive
     * @return the pause, its length in milliseconds and when it ended
     */
    Pause recent(java.time.Duration within) {
        synchronized (lock) {
            if (ticker == null) {
                return Pause.NONE; // no engine runs: nothing ticks
            }
            long now = System.nanoTime();
            long gap = now - lastTick;
            if (gap > LATE_MILLIS * 1_000_000L) {
                return new Pause(gap / 1_000_000, java.time.Instant.now());
            }
            return pauseEnd != 0 && now - pauseEnd < within.toNanos()
                    ? new Pause(pauseNanos / 1_000_000, pauseEndedAt) : Pause.NONE;
        }
    }
}
