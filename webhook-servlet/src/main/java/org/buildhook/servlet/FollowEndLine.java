package org.buildhook.servlet;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.store.Job;

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
     * @param message     the job's message as stored, or null; escaped here ({@link LogSafe#escapeMessage})
     * @param attempts    how many attempts the job made, 0 or more
     * @param interrupted how many of them ended {@code INTERRUPTED}, 0 or more
     */
    public static String of(String jobId, String state, String message, int attempts, int interrupted) {
        return of(jobId, state, message, attempts, interrupted, 0);
    }

    /**
     * As {@link #of(String, String, String, int, int)}, those of the interrupted attempts that never started their
     * command said apart: {@code (2 attempt(s), 1 not started)} (tryout42 F10; {@link Job#shortAttempts}).
     *
     * @param notStarted how many of the {@code interrupted} never started their command, 0 to {@code interrupted}
     */
    public static String of(String jobId, String state, String message, int attempts, int interrupted,
            int notStarted) {
        String shown = message == null ? "" : LogSafe.escapeMessage(message);
        String cut = Job.shortAttempts(interrupted, notStarted);
        return "[buildhook] job " + jobId + " " + state + (shown.isEmpty() ? "" : ": " + shown) + " (" + attempts
                + " attempt(s)" + (cut.isEmpty() ? "" : ", " + cut) + ")";
    }

    /**
     * The line that says where a follow's attempt ended while its job goes on (a retry, an attempt cut short by a stop
     * or by its node's death and run again): the last line of a follow asked with {@code state=1} of such an attempt,
     * written by the server, and the line {@code buildhook logs -f} prints between two attempts when an older server
     * did not write it (attempt41, tryout41 F13), without its newline: {@code [buildhook] attempt N of job J ended
     * OUTCOME (MESSAGE); the job is STATE (JOB MESSAGE): the log of its next attempt follows once it runs}, or {@code
     * …: the log of attempt M follows} when the job already runs its next attempt. The job's message is left out
     * when it is the attempt's, and its start when it begins with the attempt's (said once).
     *
     * @param jobId          the job's id
     * @param attempt        the number of the attempt that ended, 1 or more
     * @param outcome        how it ended as recorded ({@code FAILED}, {@code INTERRUPTED} …)
     * @param attemptMessage the attempt's message as stored, or null; escaped here ({@link LogSafe#escapeMessage})
     * @param state          the job's state now ({@code QUEUED}, {@code RUNNING} …)
     * @param jobMessage     the job's message as stored, or null; escaped here
     * @param next           the number of the job's attempt after {@code attempt} when it has one, or null
     */
    public static String attemptEnded(String jobId, int attempt, String outcome, String attemptMessage, String state,
            String jobMessage, Integer next) {
        String why = attemptMessage == null ? "" : LogSafe.escapeMessage(attemptMessage);
        String now = jobMessage == null ? "" : LogSafe.escapeMessage(jobMessage);
        // What the job waits for follows the attempt's message in its own (a retry's backoff, a slot): said once,
        // not twice (tryout21 F6).
        now = !why.isEmpty() && now.startsWith(why + "; ") ? now.substring(why.length() + 2) : now;
        return "[buildhook] attempt " + attempt + " of job " + jobId + " ended " + outcome
                + (why.isEmpty() ? "" : " (" + why + ")") + "; the job is " + state
                + (now.isEmpty() || now.equals(why) ? "" : " (" + now + ")")
                + (next != null ? ": the log of attempt " + next + " follows"
                        : ": the log of its next attempt follows once it runs");
    }

    /**
     * Whether a line reads as one {@link #attemptEnded} wrote for attempt {@code attempt} of job {@code jobId}. A
     * job's own output may print such a line: what reads here is not known to be the server's.
     *
     * @param line    a line without its newline
     * @param jobId   the job's id
     * @param attempt the attempt's number
     */
    public static boolean readsAsAttemptEnded(String line, String jobId, int attempt) {
        return line.startsWith("[buildhook] attempt " + attempt + " of job " + jobId + " ended ");
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
