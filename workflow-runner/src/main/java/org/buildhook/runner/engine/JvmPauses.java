package org.buildhook.runner.engine;

/**
 * When this JVM itself did not run (paused by {@code SIGSTOP}, a debugger, a stall): a daemon thread ticks every
 * {@value #TICK_MILLIS} ms, and a gap between two ticks over a second is taken for a pause of the whole JVM. For a node
 * without a watchdog (SQLite, {@code runner.watchdog: off}), whose job's exit during such a pause is seen only on waking:
 * its attempt's message then says so (tryout49 F1), as {@link org.buildhook.runner.exec.Watchdog.End#pausedMillis()}
 * lets a node with a watchdog say it. One per JVM ({@link #shared()}); thread-safe.
 */
final class JvmPauses {

    /** How often the thread ticks, in milliseconds. */
    static final long TICK_MILLIS = 250;
    private static final JvmPauses SHARED = new JvmPauses();

    private final Object lock = new Object();
    private long lastTick = System.nanoTime(); // guarded by lock
    private long pauseEnd;                     // guarded by lock, nanoTime; 0 before any
    private long pauseNanos;                   // guarded by lock
    private java.time.Instant pauseEndedAt;    // guarded by lock: the wall-clock time of pauseEnd

    private JvmPauses() {
        Thread ticker = new Thread(this::tick, "buildhook-pause-watch");
        ticker.setDaemon(true);
        ticker.start();
    }

    /** The JVM's one detector, its thread started with the first call. */
    static JvmPauses shared() {
        return SHARED;
    }

    private void tick() {
        while (true) {
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (lock) {
                long now = System.nanoTime();
                if (now - lastTick > 1_000_000_000L + TICK_MILLIS * 1_000_000L) {
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
            long now = System.nanoTime();
            long gap = now - lastTick;
            if (gap > 1_000_000_000L + TICK_MILLIS * 1_000_000L) {
                return new Pause(gap / 1_000_000, java.time.Instant.now());
            }
            return pauseEnd != 0 && now - pauseEnd < within.toNanos()
                    ? new Pause(pauseNanos / 1_000_000, pauseEndedAt) : Pause.NONE;
        }
    }
}
