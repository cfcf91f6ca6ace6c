package org.buildhook.runner.store;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;

/**
 * What the job engine's picks of due jobs say of a store outage, on both stores: once when a pick meets it ({@code
 * WARN}, with what failed), once when a pick works again ({@code INFO}); the polls in between say nothing. The
 * outage itself, and what stops meanwhile, is PoolStarvation's line and {@code /healthz}'s; the next poll tries again,
 * and a pick committed whose answer was lost is released as a stale pick. Not db-scheduler's {@code ERROR
 * "Unhandled exception. Will keep running."} with a stack trace at every poll (tryout25 F7).
 */
final class PickOutage {

    private final Logger log;
    /** Whether the last pick met a store outage. */
    private final AtomicBoolean failing = new AtomicBoolean();

    /** @param log the logger of the store's customization, which operators' monitors may name */
    PickOutage(Logger log) {
        this.log = log;
    }

    /** A pick met a store outage ({@code why}: what failed, one line). */
    void failed(String why) {
        if (failing.compareAndSet(false, true)) {
            log.warn("could not pick due jobs, trying again at every poll: {}", why);
        }
    }

    /** A pick worked. */
    void worked() {
        if (failing.compareAndSet(true, false)) {
            log.info("due jobs are picked again");
        }
    }
}
