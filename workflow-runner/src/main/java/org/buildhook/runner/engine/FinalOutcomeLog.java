package org.buildhook.runner.engine;

import java.time.Duration;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.store.Job;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One server log line per job that ends badly for good (failed, timed out, failed to start, after its
 * last retry) or is cancelled while running: which job, rule and build, and the exit code or reason,
 * so an operator reading the log sees it without asking the admin API.
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
        String build = LogSafe.of(job.env().getOrDefault("BUILDHOOK_BUILD_ID", "?")) + " of "
                + LogSafe.of(job.env().getOrDefault("BUILDHOOK_PROJECT", "?"))
                + (job.runName() == null ? "" : ", run " + LogSafe.of(job.runName()));
        String message = "job " + job.id() + " of rule '" + job.ruleName() + "' (build " + build + ") " + what
                + " after " + attempts + " attempt(s): " + outcome.message()
                + (took == null ? "; how long the last attempt ran is unknown (its end was not recorded)"
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
}
