package org.buildhook.runner.store;

import org.buildhook.runner.exec.JobOutcome;

/** How one attempt of a job ended. */
public enum AttemptOutcome {
    RUNNING,
    SUCCEEDED,
    FAILED,
    TIMED_OUT,
    CANCELLED,
    FAILED_TO_START,
    /**
     * Stopped by a shutdown, or its node died ({@link NodeEnd}); the job is run again, unless its node died under each
     * of its last {@link ExecutionLedger#DEATHS_IN_A_ROW} attempts, or was stopped (or died) under each of its last
     * {@link ExecutionLedger#STOPS_IN_A_ROW} (then it ends {@code FAILED}).
     */
    INTERRUPTED;

    public static AttemptOutcome of(JobOutcome.Result result) {
        return valueOf(result.name());
    }
}
