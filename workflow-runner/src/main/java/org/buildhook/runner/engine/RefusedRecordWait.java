package org.buildhook.runner.engine;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After a job's command ran: waits out a store that refuses both the record of what its attempt came to and the keeping
 * of it with the attempt, each with a failure no {@link StoreOutageWait} outlasts (a trigger, a constraint, a privilege
 * taken from the role, a fault of buildhook's own; a read-only database or a full disk is an outage, waited out
 * there). Handed to db-scheduler's retry, as it was, the job's next pick found its attempt still running with nothing
 * kept to conclude from, and ran the command again (record53 A). A failed bookkeeping write is waited out as an outage
 * is: the job's thread keeps the job, so that its execution's heartbeats go on and no other node takes it over, and
 * tries again, the record first, then the keeping, with the outage wait's backoff ({@link StoreOutageWait#FIRST_PAUSE}
 * doubling up to {@link StoreOutageWait#LONGEST_PAUSE}), for as long as it takes. Its caller says the wait in one WARN
 * as it begins; this says it again every {@link StoreOutageWait#SAID_AGAIN} with how many tries and what the store said
 * last, and in one INFO when one goes through.
 *
 * <p>Only {@link StoreOutageWait.Until} (the stop's grace over) or an interrupt ends the wait: the last refusal is
 * thrown then. A failure of either that their own waits gave up on ({@link StoreOutages#passes}, at that same stop) is
 * thrown at once.
 */
final class RefusedRecordWait {

    private static final Logger LOG = LoggerFactory.getLogger(RefusedRecordWait.class);

    private final StoreOutageWait.Sleeper sleeper;
    private final Clock clock;

    RefusedRecordWait(StoreOutageWait.Sleeper sleeper, Clock clock) {
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * What {@code record} or {@code keep} returns, once one goes through; both were refused once already, {@code
     * refused} being the last refusal.
     *
     * @param what   what attempt {@code attempt} came to ({@code exited with 0}), for the log
     * @param keep   told the record's refusal of that try
     * @param refused the refusal of the caller's own tries, thrown when the wait ends before any other came
     */
    <T> T call(String jobId, int attempt, String what, Supplier<T> record, Function<RuntimeException, T> keep,
            RuntimeException refused, StoreOutageWait.Until until) {
        Instant since = clock.instant();
        Instant said = since;
        int tries = 1;
        RuntimeException last = refused;
        Duration pause = StoreOutageWait.FIRST_PAUSE;
        while (true) {
            String stop = StoreOutageWait.pauseUnlessStopped(sleeper, pause, until);
            if (stop != null) {
                LOG.warn("job {} attempt {}: stopped trying to record what it came to ({}) after the store refused it"
                        + " {} times in {} s ({})", jobId, attempt, what, tries, seconds(since), stop);
                throw last;
            }
            pause = pause.multipliedBy(2).compareTo(StoreOutageWait.LONGEST_PAUSE) > 0 ? StoreOutageWait.LONGEST_PAUSE
                    : pause.multipliedBy(2);
            T done;
            String took;
            try {
                done = record.get();
                took = "its record";
            } catch (RuntimeException e) {
                if (StoreOutages.passes(e)) {
                    throw e;
                }
                try {
                    done = keep.apply(e);
                    took = "its keeping with the attempt";
                } catch (RuntimeException again) {
                    if (StoreOutages.passes(again)) {
                        throw again;
                    }
                    e.addSuppressed(again);
                    last = e;
                    tries++;
                    if (!clock.instant().isBefore(said.plus(StoreOutageWait.SAID_AGAIN))) {
                        said = clock.instant();
                        LOG.warn("job {} attempt {}: the store has refused {} times in {} s to record what it came to"
                                + " ({}), and to keep it with the attempt; the job stays running on this node, its"
                                + " command is not run again, and both are tried again every {} ms at most. What the"
                                + " store says (a trigger, a constraint, the role's privileges): {}; and to the"
                                + " keeping: {}", jobId, attempt, tries, seconds(since), what,
                                StoreOutageWait.LONGEST_PAUSE.toMillis(), e.getMessage(), again.getMessage());
                    }
                    continue;
                }
            }
            LOG.info("job {} attempt {}: the store took {} of what it came to ({}) after refusing it {} in {} s; the"
                    + " job goes on", jobId, attempt, took, what, tries == 1 ? "once" : tries + " times",
                    seconds(since));
            return done;
        }
    }

    private long seconds(Instant since) {
        return Duration.between(since, clock.instant()).toSeconds();
    }
}
