package org.buildhook.runner.engine;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one store step of a job again, with a capped backoff, for as long as the store is
 * unavailable, so that an outage delays the job instead of losing it: the job's thread keeps its
 * db-scheduler execution meanwhile (heartbeats go on once the store is back), where handing the
 * failure to db-scheduler would need the same store to reschedule and would leave the execution
 * picked until it is taken for dead. Any other failure is thrown at once.
 *
 * <p>Gives up, throwing the last failure, when {@link Until#stopReason()} gives a reason or the
 * thread is interrupted (db-scheduler's shutdown); the interrupt flag is kept. One WARN when the
 * wait starts, one INFO when the store answers again, none per retry; a wait on statements PostgreSQL ends (no
 * outage: a {@code statement_timeout}, a deadlock, a serialization failure) says so again every {@link #SAID_AGAIN},
 * with how many tries and what to look at: the same statement ended every time is no passing fault (review52 F3).
 */
final class StoreOutageWait {

    private static final Logger LOG = LoggerFactory.getLogger(StoreOutageWait.class);

    static final Duration FIRST_PAUSE = Duration.ofMillis(100);
    static final Duration LONGEST_PAUSE = Duration.ofSeconds(2);
    /** How often a wait on statements PostgreSQL ends, not on an outage, is said again. */
    static final Duration SAID_AGAIN = Duration.ofMinutes(1);

    /** When to stop waiting for the store. */
    @FunctionalInterface
    interface Until {
        /** Why to stop waiting now, or {@code null} to keep waiting. */
        String stopReason();
    }

    /** Pauses between two tries; interruptible. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration pause) throws InterruptedException;
    }

    static final Sleeper THREAD_SLEEP = pause -> Thread.sleep(pause.toMillis());

    private final Sleeper sleeper;
    private final Clock clock;
    /** Which failures are waited out; any other is thrown at once. */
    private final java.util.function.Predicate<Throwable> waitedOut;

    /** Waits out store outages ({@link StoreOutages#isOutage}). */
    StoreOutageWait(Sleeper sleeper, Clock clock) {
        this(sleeper, clock, StoreOutages::isOutage);
    }

    /**
     * Waits out the failures {@code waitedOut} says (at least every outage: {@link StoreOutages#passes} for the steps
     * after a job's command); a failure that is no outage is said in the same one WARN, as what PostgreSQL said.
     */
    StoreOutageWait(Sleeper sleeper, Clock clock, java.util.function.Predicate<Throwable> waitedOut) {
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.waitedOut = Objects.requireNonNull(waitedOut, "waitedOut");
    }

    /** {@code step}'s result, once the store answers; {@code what} completes "trying to …" in the log. */
    <T> T call(String jobId, String what, Supplier<T> step, Until until) {
        Instant since = null;
        Instant said = null;
        int tries = 0;
        Duration pause = FIRST_PAUSE;
        while (true) {
            try {
                T result = step.get();
                if (since != null) {
                    LOG.info("job {}: the store answers again after {} ms (trying to {}); the job goes on", jobId,
                            Duration.between(since, clock.instant()).toMillis(), what);
                }
                return result;
            } catch (RuntimeException e) {
                if (!waitedOut.test(e)) {
                    throw e;
                }
                tries++;
                if (since == null) {
                    since = clock.instant();
                    said = since;
                    if (StoreOutages.isOutage(e)) {
                        LOG.warn("job {}: the store is unavailable while trying to {}; the job waits for it, trying"
                                + " again every {} ms at most: {}", jobId, what, LONGEST_PAUSE.toMillis(),
                                e.getMessage());
                    } else {
                        // A deadlock, a serialization failure, a statement_timeout: rolled back whole (review51 E1).
                        LOG.warn("job {}: PostgreSQL ended the statement while trying to {} (rolled back whole: a"
                                + " deadlock, a serialization failure or a statement_timeout); the job tries again"
                                + " every {} ms at most: {}", jobId, what, LONGEST_PAUSE.toMillis(), e.getMessage());
                    }
                } else if (!StoreOutages.isOutage(e) && !clock.instant().isBefore(said.plus(SAID_AGAIN))) {
                    // Ended every time (review52 F3: a statement_timeout of a few ms on a slow disk, a lock held by a
                    // session idle in transaction): the job stays RUNNING meanwhile, its heartbeats going on.
                    said = clock.instant();
                    LOG.warn("job {}: PostgreSQL has ended the statement {} times in {} s while trying to {}; the job"
                            + " stays running and tries again every {} ms at most. If it is the same every time, look"
                            + " at the statement_timeout of store.url's options, of the role or of the database (SHOW"
                            + " statement_timeout), and at sessions that hold locks while idle in transaction"
                            + " (pg_stat_activity): {}", jobId, tries, Duration.between(since, said).toSeconds(), what,
                            LONGEST_PAUSE.toMillis(), e.getMessage());
                }
                String stop = pauseUnlessStopped(sleeper, pause, until);
                if (stop != null) {
                    LOG.warn("job {}: stopped waiting for the store to {} after {} ms ({})", jobId, what,
                            Duration.between(since, clock.instant()).toMillis(), stop);
                    throw e;
                }
                pause = pause.multipliedBy(2).compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : pause.multipliedBy(2);
            }
        }
    }

    /**
     * One pause of a wait: {@code pause} slept unless the wait must stop first.
     *
     * @return why the wait must stop ({@link Until#stopReason}, or {@code "interrupted"}: the thread's flag is kept),
     *         null to try again
     */
    static String pauseUnlessStopped(Sleeper sleeper, Duration pause, Until until) {
        String stop = Thread.currentThread().isInterrupted() ? "interrupted" : until.stopReason();
        if (stop == null) {
            try {
                sleeper.sleep(pause);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                stop = "interrupted";
            }
        }
        return stop;
    }

    /** As {@link #call}, for a step without a result. */
    void run(String jobId, String what, Runnable step, Until until) {
        call(jobId, what, () -> {
            step.run();
            return null;
        }, until);
    }
}
