package org.buildhook.runner.engine;

import java.time.Duration;
import java.util.Locale;

/**
 * Told by the engine when an attempt of a job ends, for metrics. Called on the engine's job thread
 * after the store recorded the attempt; an implementation must be quick and must not throw (the
 * engine logs and ignores anything it throws, so that a metrics fault never changes a job's fate).
 */
public interface JobEvents {

    /** Tells nobody. */
    JobEvents NONE = new JobEvents() {
        @Override
        public void attemptEnded(String ruleName, Ending ending, Duration duration) {
        }
    };

    /**
     * One attempt of a job of rule {@code ruleName} ended.
     *
     * @param duration from the start (or the try to start) of the process to the end of its tree, never
     *                 negative; {@code null} when that is not known: an attempt whose node died on another
     *                 host and whose end nobody recorded (the store keeps its end as unknown too)
     */
    void attemptEnded(String ruleName, Ending ending, Duration duration);

    /**
     * A job of rule {@code ruleName} reached its final state: it succeeded, was cancelled, or its last
     * attempt (after every retry) ended as {@code ending}. Called once per job, after the store has it.
     */
    default void jobEnded(String ruleName, Ending ending) {
    }

    /** How an attempt ended, as the metrics label it. */
    enum Ending {
        SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, FAILED_TO_START,
        /** Stopped by this node's shutdown; the job goes back to the queue. */
        INTERRUPTED;

        /** {@code timed_out}, {@code failed_to_start}…: the label value. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
