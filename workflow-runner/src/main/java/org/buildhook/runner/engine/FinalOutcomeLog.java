package org.buildhook.runner.engine;

import java.time.Duration;
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
        Duration took = outcome.started() == null || outcome.ended() == null ? Duration.ZERO
                : Duration.between(outcome.started(), outcome.ended());
        String build = safe(job.env().getOrDefault("BUILDHOOK_BUILD_ID", "?")) + " of "
                + safe(job.env().getOrDefault("BUILDHOOK_PROJECT", "?"))
                + (job.runName() == null ? "" : ", run " + safe(job.runName()));
        String message = "job " + job.id() + " of rule '" + job.ruleName() + "' (build " + build + ") " + what
                + " after " + attempts + " attempt(s): " + outcome.message()
                + "; last attempt took " + Durations.describe(took.isNegative() ? Duration.ZERO : took)
                + (outcome.logFile() == null ? "" : "; log " + outcome.logFile());
        if (ending == JobEvents.Ending.CANCELLED) {
            LOG.info(message);
        } else {
            LOG.warn(message);
        }
    }

    private static final int MAX = 200;

    /**
     * A payload value (a run name, the project) as the servlet's log lines show them: control
     * characters escaped, so that a newline in it cannot forge a log line, and cut at 200 characters.
     */
    static String safe(String value) {
        StringBuilder out = new StringBuilder(Math.min(value.length(), MAX) + 8);
        for (int i = 0; i < value.length() && out.length() < MAX; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return value.length() > MAX ? out + "…" : out.toString();
    }
}
