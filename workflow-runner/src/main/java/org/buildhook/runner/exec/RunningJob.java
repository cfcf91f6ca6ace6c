package org.buildhook.runner.exec;

import java.util.concurrent.CompletableFuture;

/** An attempt that has been started. */
public interface RunningJob {

    /** Completes once the process tree is gone and the log is closed; never exceptionally. */
    CompletableFuture<JobOutcome> outcome();

    /**
     * Stops the attempt: SIGTERM to the whole process tree, SIGKILL after the grace period.
     * The outcome is then {@link JobOutcome.Result#CANCELLED}, unless the program had exited by itself
     * before the signals (it may exit while its processes are looked for): then it keeps its own outcome
     * and exit code, {@link JobOutcome.Result#SUCCEEDED} or {@link JobOutcome.Result#FAILED}, and only what
     * it left is ended. So do a timeout and {@link #kill}. Idempotent.
     */
    void cancel();

    /**
     * As {@link #cancel()}, with {@code why} as the outcome's message (and in the log's
     * {@code [buildhook] killed: …} line) instead of {@code cancelled}.
     */
    default void cancel(String why) {
        cancel();
    }

    /**
     * Ends the attempt at once: SIGKILL to every process of it, no grace period (the node must be
     * rid of it before its lease runs out). The outcome is {@link JobOutcome.Result#CANCELLED}
     * with {@code why} as its message. Idempotent; a stop already under way keeps its reason.
     */
    default void kill(String why) {
        cancel();
    }

    /**
     * Completes with the attempt's process once it has started, or with null if it never does.
     * Never exceptionally.
     */
    default CompletableFuture<ProcessIdentity> process() {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Completes when the attempt's result is known while processes of it still have to be ended
     * (its timeout fired, or its program exited by itself, also just before a stop, and left
     * processes running), just before they are signalled; never when nothing is left to end, nor
     * for a cancel, a kill or a shutdown of a program still running. Never exceptionally.
     */
    default CompletableFuture<Decision> decided() {
        return new CompletableFuture<>();
    }

    /**
     * When this node first saw the attempt's program exit (its job thread's wait for the program returned), by the
     * launcher's clock: before what follows an exit (the end of what it left running, the wait for its output), which
     * the outcome's {@link JobOutcome#ended()} comes after (review50b R6). Null while the program has not exited, when
     * it never started, or when not known.
     */
    default java.time.Instant exitSeen() {
        return null;
    }
}
