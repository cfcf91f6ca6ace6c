package org.buildhook.runner.exec;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How many jobs may run at once on this node: a global maximum, and for each rule its own
 * {@code concurrency} (0 meaning no per-rule limit).
 *
 * <p>Acquisition never blocks: a caller that gets no permit reschedules the job rather than
 * parking a thread. The rule's limit is passed on every call instead of being fixed per rule, so
 * a reloaded rules file takes effect for the next acquisition without any re-registration. The
 * limits are per process (per node), not cluster-wide.
 */
public final class ConcurrencyLimiter {

    private final int globalMax;
    private final Object lock = new Object();
    private int running;                                        // guarded by lock
    private final Map<String, Integer> runningPerRule = new HashMap<>(); // guarded by lock

    /** @param globalMax at most this many permits out at once; at least 1 */
    public ConcurrencyLimiter(int globalMax) {
        if (globalMax < 1) {
            throw new IllegalArgumentException("the global job limit must be >= 1, was " + globalMax);
        }
        this.globalMax = globalMax;
    }

    /**
     * Takes a permit if both the global and the rule's limit allow one more job now.
     *
     * @param ruleName        the rule the job belongs to
     * @param ruleConcurrency the rule's limit ({@code PlannedJob.concurrency()}); 0 = no limit
     * @return the permit to close when the job ends, or empty when a limit is reached
     */
    public Optional<Permit> tryAcquire(String ruleName, int ruleConcurrency) {
        Objects.requireNonNull(ruleName, "ruleName");
        if (ruleConcurrency < 0) {
            throw new IllegalArgumentException("rule concurrency must be >= 0, was " + ruleConcurrency);
        }
        synchronized (lock) {
            int ofRule = runningPerRule.getOrDefault(ruleName, 0);
            if (running >= globalMax || (ruleConcurrency > 0 && ofRule >= ruleConcurrency)) {
                return Optional.empty();
            }
            running++;
            runningPerRule.put(ruleName, ofRule + 1);
        }
        return Optional.of(new Permit(ruleName));
    }

    /** Jobs holding a permit now. */
    public int running() {
        synchronized (lock) {
            return running;
        }
    }

    /** Jobs of this rule holding a permit now. */
    public int running(String ruleName) {
        synchronized (lock) {
            return runningPerRule.getOrDefault(ruleName, 0);
        }
    }

    /** The global maximum. */
    public int globalMax() {
        return globalMax;
    }

    private void release(String ruleName) {
        synchronized (lock) {
            running--;
            // Entries go when they reach 0 so that renamed or deleted rules leave nothing behind.
            runningPerRule.computeIfPresent(ruleName, (name, count) -> count <= 1 ? null : count - 1);
        }
    }

    /** One job's slot. Closing it gives the slot back; closing it again does nothing. */
    public final class Permit implements AutoCloseable {

        private final String ruleName;
        private final AtomicBoolean released = new AtomicBoolean();

        private Permit(String ruleName) {
            this.ruleName = ruleName;
        }

        /** The rule this permit counts against. */
        public String ruleName() {
            return ruleName;
        }

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                release(ruleName);
            }
        }
    }
}
