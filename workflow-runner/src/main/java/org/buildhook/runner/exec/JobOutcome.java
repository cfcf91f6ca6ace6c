package org.buildhook.runner.exec;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * How one attempt ended.
 *
 * @param result      the kind of ending
 * @param exitCode    the process's exit code, or {@code null} when it never started or was killed
 * @param started     when the process was started (or the start was tried)
 * @param ended       when the process tree was gone
 * @param message     a human-readable explanation ("exited with 3", "timed out after 10s",
 *                    "executable not found: /opt/x.sh")
 * @param logFile     where stdout and stderr went
 * @param logTruncated whether the log hit its size cap (the tail was kept)
 */
public record JobOutcome(
        Result result,
        Integer exitCode,
        Instant started,
        Instant ended,
        String message,
        Path logFile,
        boolean logTruncated) {

    public enum Result { SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, FAILED_TO_START }

    public JobOutcome {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(message, "message");
    }

    /**
     * How the message of an attempt stopped before its process was created ends (its start's gate saw the stop: a
     * cancel, a timeout, a kill, the node's stop), after the stop's words: nothing ran.
     */
    public static final String NOT_STARTED = "; its command was not started";

    public boolean succeeded() {
        return result == Result.SUCCEEDED;
    }

    /** Whether the attempt was stopped before its process was created ({@link #NOT_STARTED}): nothing ran. */
    public boolean commandNotStarted() {
        return exitCode == null && message.endsWith(NOT_STARTED);
    }
}
