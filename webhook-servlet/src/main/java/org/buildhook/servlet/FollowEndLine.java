package org.buildhook.servlet;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.core.LogSafe;

/**
 * The line that says how a job ended, {@code [buildhook] job J SUCCEEDED: exited with 0 (1 attempt(s))}: the last line
 * of a log follow asked with {@code state=1} ({@code GET /api/jobs/{id}/log?follow=1&state=1}, written by the server)
 * and of {@code buildhook logs -f} (printed by the command, which reads the server's back). Written and read here
 * only, so that the server's line and the command's stay one format (follow40).
 */
public final class FollowEndLine {

    /** The job and its state, as far as a reader needs them (the rest may be cut: the command keeps a line's start). */
    private static final Pattern READ = Pattern.compile("^\\[buildhook\\] job (\\S+) ([A-Z_]+)(?:: | \\()");

    private FollowEndLine() {
    }

    /**
     * The line, without its newline: {@code [buildhook] job J STATE: MESSAGE (N attempt(s))}, with {@code ,
     * K interrupted} after the attempts when the job's node cut K of them short; without {@code : MESSAGE} when the
     * message is empty.
     *
     * @param jobId       the job's id
     * @param state       the job's state ({@code SUCCEEDED}, {@code FAILED} …)
     * @param message     the job's message as stored, or null; escaped here ({@link LogSafe#escape})
     * @param attempts    how many attempts the job made, 0 or more
     * @param interrupted how many of them ended {@code INTERRUPTED}, 0 or more
     */
    public static String of(String jobId, String state, String message, int attempts, int interrupted) {
        String shown = message == null ? "" : LogSafe.escape(message);
        return "[buildhook] job " + jobId + " " + state + (shown.isEmpty() ? "" : ": " + shown) + " (" + attempts
                + " attempt(s)" + (interrupted > 0 ? ", " + interrupted + " interrupted" : "") + ")";
    }

    /**
     * The job and state a line written by {@link #of} names; empty for a line that does not read as one. A job's own
     * output may print such a line: what reads here is not known to be the server's.
     *
     * @param line a line without its newline, or its start
     */
    public static Optional<Ended> read(String line) {
        Matcher m = READ.matcher(line);
        return m.find() ? Optional.of(new Ended(m.group(1), m.group(2))) : Optional.empty();
    }

    /**
     * What an end line says.
     *
     * @param jobId the job's id
     * @param state the job's state as written (a name of {@code JobState}, or one a later version added)
     */
    public record Ended(String jobId, String state) {
    }
}
