package org.buildhook.runner.exec;

import java.io.IOException;

/**
 * Asked by a launcher at the last moment before it creates an attempt's process: whether the attempt may still start
 * (its node's id was not taken over by another node, its node is not stopping). The engine gives one per attempt
 * ({@link JobLauncher#start(JobRequest, StartGate)}); whatever would forbid the start (the node's looks at its
 * commands) waits while the gate lets a process be created, so that the decision and the creation are one step for
 * it: a start the gate allowed was made before such a look, and one asked for after it never creates its process
 * (review26 R6).
 */
public interface StartGate {

    /** A gate that never refuses: for a launch nothing on its node can forbid (a tool's, a benchmark's). */
    StartGate OPEN = new StartGate() {
        @Override
        public <T> T pass(Spawn<T> spawn) throws IOException {
            return spawn.create();
        }
    };

    /**
     * Creates the attempt's process with {@code spawn}, unless the attempt must not start any more.
     *
     * @param spawn creates the process (an {@code exec}); called at most once, on the calling thread
     * @return what {@code spawn} returned
     * @throws Refused     when the attempt must not start: {@code spawn} was not called, nothing was created
     * @throws IOException as {@code spawn} throws it
     */
    <T> T pass(Spawn<T> spawn) throws IOException;

    /**
     * The attempt whose process {@link #pass} is about to be asked for, told first by a launcher that creates the
     * process before its {@code start} returns, so before the caller holds the attempt: a gate whose node may stop it
     * meanwhile stops it ({@link RunningJob#cancel(String)}), and the attempt's own look just before the creation then
     * keeps its process from being created, as for an attempt the caller stopped. A gate that wraps another passes this
     * on. Nothing by default.
     *
     * @param attempt the attempt, not started yet
     */
    default void attempt(RunningJob attempt) {
    }

    /** What creates the process. */
    @FunctionalInterface
    interface Spawn<T> {
        /**
         * @return the process created
         * @throws IOException when it could not be created
         */
        T create() throws IOException;
    }

    /**
     * The gate refused the start: nothing was created. Its message says why, in the words of the job's record
     * ({@code not started: …}); the launcher ends the attempt {@link JobOutcome.Result#FAILED_TO_START} with it, which the
     * engine that refused then records as an attempt its node did not start, not as a failure of the job's.
     */
    final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        /** @param why the words of the job's record, {@code not started: …} */
        public Refused(String why) {
            super(why);
        }
    }
}
