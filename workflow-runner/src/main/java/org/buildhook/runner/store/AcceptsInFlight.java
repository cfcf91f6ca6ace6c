package org.buildhook.runner.store;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many deliveries are being accepted now, so that jobs can let them go first.
 *
 * <p>While jobs run, every accept waits for the store's commit, and on a small machine the jobs'
 * own bookkeeping and launching take the CPU and the store's writer that the commit needs: measured
 * on 2 cores, a burst of deliveries was accepted at ×0.55 the rate, and less predictably, when jobs
 * started while it was being accepted (docs/BENCHMARKS.md, "Third pass: accepting while jobs run").
 * A job about to start waits here, for a bounded time, until no accept is in flight.
 */
final class AcceptsInFlight {

    private final AtomicInteger count = new AtomicInteger();

    /** An accept begins. */
    void enter() {
        count.incrementAndGet();
    }

    /** An accept ended, stored or not. */
    void leave() {
        if (count.decrementAndGet() == 0) {
            synchronized (count) {
                count.notifyAll();
            }
        }
    }

    /** Accepts in flight now. */
    int count() {
        return count.get();
    }

    /**
     * Returns once no accept is in flight, or after {@code max} at the latest.
     *
     * @throws InterruptedException when interrupted while waiting
     */
    void awaitNone(Duration max) throws InterruptedException {
        if (count.get() == 0) {
            return;
        }
        long until = System.nanoTime() + max.toNanos();
        synchronized (count) {
            while (count.get() > 0) {
                long left = until - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                count.wait(Math.max(1, left / 1_000_000L));
            }
        }
    }
}
