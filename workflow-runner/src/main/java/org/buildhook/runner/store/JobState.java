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
    CANCELLED,
    /** A job of a newer build with the same supersede key replaced it; {@code supersededBy} names that job. */
    SUPERSEDED,
    /** Its rule needs an approval: it runs only once someone approves it. */
    AWAITING_APPROVAL,
    /** Someone rejected it while it waited for an approval. */
    REJECTED,
    /** Nobody approved or rejected it within its rule's {@code approval.expires}. */
    EXPIRED,
    /** It waits for units of a shared resource (first come, first served). */
    WAITING;

    /** Whether the job will not run again by itself. */
    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED || this == TIMED_OUT || this == CANCELLED || this == SUPERSEDED
                || this == REJECTED || this == EXPIRED;
    }
}
