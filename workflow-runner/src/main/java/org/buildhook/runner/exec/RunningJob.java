package org.buildhook.runner.exec;

import java.util.concurrent.CompletableFuture;

/** An attempt that has been started. */
public interface RunningJob {

    /** Completes once the process tree is gone and the log is closed; never exceptionally. */
    CompletableFuture<JobOutcome> outcome();

    /**
     * Stops the attempt: SIGTERM to the whole process tree, SIGKILL after the grace period.
     * The outcome is then {@link JobOutcome.Result#CANCELLED}. Idempotent.
     */
    void cancel();
}
