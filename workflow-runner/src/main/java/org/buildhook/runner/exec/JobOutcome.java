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
 * @param commandNotStarted whether the attempt was stopped (cancelled, killed, timed out, its launcher closed) before
 *                    its process was created, at its own look just before the exec: nothing ran, and its message ends
 *                    with {@link #NOT_STARTED}. Set only there ({@code Attempt}), never read from the message: a start
 *                    that failed on its own (a missing program, a working directory that does not exist) is
 *                    {@code false} whatever its words end with. Implies a null {@code exitCode}.
 */
public record JobOutcome(
        Result result,
        Integer exitCode,
        Instant started,
        Instant ended,
        String message,
        Path logFile,
        boolean logTruncated,
        boolean commandNotStarted) {

    public enum Result { SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, FAILED_TO_START }

    /**
     * @throws NullPointerException     if {@code result} or {@code message} is null
     * @throws IllegalArgumentException if {@code commandNotStarted} comes with an exit code
     */
    public JobOutcome {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(message, "message");
        if (commandNotStarted && exitCode != null) {
            throw new IllegalArgumentException("an attempt whose command was not started has no exit code, got "
                    + exitCode);
        }
    }

    /**
     * An outcome of an attempt whose command was created, or whose start failed or was refused on its own (not
     * {@link #commandNotStarted}).
     *
     * @throws NullPointerException if {@code result} or {@code message} is null
     */
    public JobOutcome(Result result, Integer exitCode, Instant started, Instant ended, String message, Path logFile,
            boolean logTruncated) {
        this(result, exitCode, started, ended, message, logFile, logTruncated, false);
    }

    /**
     * How the message of an attempt stopped before its process was created ends (its start's gate saw the stop: a
     * cancel, a timeout, a kill, the node's stop), after the stop's words: nothing ran. Words for the operator only
     * (stored, and grepped for): whether a command was not started is {@link #commandNotStarted}, never these words.
     */
    public static final String NOT_STARTED = "; its command was not started";

    public boolean succeeded() {
        return result == Result.SUCCEEDED;
    }
}
