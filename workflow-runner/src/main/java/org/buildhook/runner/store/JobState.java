package org.buildhook.runner.store;

/** Where a job is in its life. */
public enum JobState {
    /** Waiting for its first run, a retry, or a free slot. */
    QUEUED,
    /** An attempt is running on {@code node}. */
    RUNNING,
    SUCCEEDED,
    /** The last attempt failed (or could not start) and no retry is left. */
    FAILED,
    /** The last attempt timed out and no retry is left. */
    TIMED_OUT,
    CANCELLED;

    /** Whether the job will not run again by itself. */
    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED || this == TIMED_OUT || this == CANCELLED;
    }
}
