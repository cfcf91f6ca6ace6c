package org.buildhook.runner.engine;

import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.store.Job;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One server log line per job that ends badly for good (failed, timed out, failed to start, after its
 * last retry) or is cancelled while running, and per attempt a graceful stop cut short: which job,
 * rule and build, and the exit code or reason, so an operator reading the log sees it without asking
 * the admin API.
 */
final class FinalOutcomeLog {

    private static final Logger LOG = LoggerFactory.getLogger(FinalOutcomeLog.class);

    private FinalOutcomeLog() {
    }

    static void ended(Job job, JobEvents.Ending ending, int attempts, JobOutcome outcome) {
        String what = switch (ending) {
            case TIMED_OUT -> "timed out";
            case FAILED_TO_START -> "failed to start";
            case CANCELLED -> "was cancelled";
            default -> "failed";
        };
        // Unknown rather than a false "0ms": an attempt whose node stopped before its end was recorded.
        Duration took = outcome.started() == null || outcome.ended() == null ? null
                : Duration.between(outcome.started(), outcome.ended());
        // An attempt recorded as not started (refused at a start made with its read: review44 R4) ran for no time,
        // and its end was recorded: "its end was not recorded" was untrue of it.
        boolean notStarted = took == null && outcome.started() == null
                && outcome.result() == JobOutcome.Result.FAILED_TO_START;
        String message = "job " + job.id() + " of rule '" + job.ruleName() + "' (build " + build(job) + ") " + what
                + " after " + attempts + " attempt(s): " + outcome.message()
                + (notStarted ? "; its last attempt did not start"
                        : took == null ? "; how long the last attempt ran is unknown (its end was not recorded)"
                        : took.isNegative() ? "; how long the last attempt ran is unknown (it ended before it"
                                + " started by the recorded times: the clocks of its nodes differ)"
                        : "; last attempt took " + Durations.describe(took))
                + (outcome.logFile() == null ? "" : "; log " + outcome.logFile());
        if (ending == JobEvents.Ending.CANCELLED) {
            LOG.info(message);
        } else {
            LOG.warn(message);
        }
    }

    /**
     * The attempt was still running when a graceful stop's grace period ended, so its process tree was
     * killed and the job goes back to the queue: said at the stop, since otherwise the log shows only
     * "job engine stopped" and a deploy cut short is found only in the job's history.
     *
     * @param grace    the node's {@code runner.shutdown-grace}
     * @param cutShort whether a second stop signal cut the grace period short ({@link RunningJobs#isGraceCutShort})
     * @param logFile the attempt's log file, or null when it has none
     * @param fate    what becomes of the job, as {@link org.buildhook.runner.store.ExecutionLedger#afterCutShort}
     *                says it: {@code "run again"}, or why not (a cancel or supersede seen only by the store), or
     *                {@link #NOT_RECORDED} when the store could not be reached
     */
    /**
     * The fate of a job cut short by a stop that could not record it (the store could not be reached): its attempt
     * still shows as running, and its execution is this node's until the next start, or another node's after the
     * dead-node limit.
     */
    static final String NOT_RECORDED = "its end could not be recorded (the store could not be reached); the attempt"
            + " shows as running until the job runs again after the next start, or on another node after the dead-node"
            + " limit";

    static void interruptedByStop(Job job, int attempt, Duration grace, boolean cutShort, Path logFile, String fate) {
        // A second stop signal ends the wait at once ("received SIGTERM again: stopping now"): said so, not that the
        // grace period ended (tryout38 F7).
        LOG.warn("job " + job.id() + " of rule '" + job.ruleName() + "' (build " + build(job) + "): attempt " + attempt
                + (cutShort ? " was still running when a second stop signal cut the stop's grace period"
                        + " (runner.shutdown-grace, " + Durations.describe(grace) + ") short"
                        : " was still running when the stop's grace period (runner.shutdown-grace, "
                                + Durations.describe(grace) + ") ended")
                + ": its process tree was killed; "
                + (fate.equals("run again") ? "the job runs again after the next start, or on another node" : fate)
                + (logFile == null ? "" : "; log " + logFile));
    }

    private static String build(Job job) {
        return LogSafe.of(job.env().getOrDefault("BUILDHOOK_BUILD_ID", "?")) + " of "
                + LogSafe.of(job.env().getOrDefault("BUILDHOOK_PROJECT", "?"))
                + (job.runName() == null ? "" : ", run " + LogSafe.of(job.runName()));
    }
}
