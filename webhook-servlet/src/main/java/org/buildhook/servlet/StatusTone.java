package org.buildhook.servlet;

import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.JobState;

/**
 * The one place that says how a state is painted on the status page: each tone is a CSS class
 * ({@code tone-ok}, {@code tone-bad} …). A state added later without a case here is painted
 * {@link #NEUTRAL}: visible, never mistaken for a success or a failure.
 */
enum StatusTone {
    /** Done as wished. */
    OK,
    /** Needs the operator: failed, timed out, rejected. */
    BAD,
    /** Running now. */
    ACTIVE,
    /** Waiting to run (queued, or waiting for someone). */
    WAITING,
    /** Neither good nor bad: cancelled, a duplicate, a state this page does not know. */
    NEUTRAL;

    /** The CSS class of this tone. */
    String css() {
        return "tone-" + name().toLowerCase(java.util.Locale.ROOT);
    }

    static StatusTone of(JobState state) {
        return switch (state.name()) {
            case "SUCCEEDED" -> OK;
            case "FAILED", "TIMED_OUT" -> BAD;
            case "RUNNING" -> ACTIVE;
            case "QUEUED", "AWAITING_APPROVAL", "WAITING" -> WAITING;
            default -> NEUTRAL;
        };
    }

    static StatusTone of(DeliveryOutcome outcome) {
        return switch (outcome.name()) {
            case "ACCEPTED" -> OK;
            case "REJECTED" -> BAD;
            default -> NEUTRAL;
        };
    }

    static StatusTone of(AttemptOutcome outcome) {
        return switch (outcome.name()) {
            case "SUCCEEDED" -> OK;
            case "FAILED", "TIMED_OUT", "FAILED_TO_START" -> BAD;
            case "RUNNING" -> ACTIVE;
            default -> NEUTRAL;
        };
    }

    /** A job in this state counts as a failure in the page's summary. */
    static boolean isFailure(JobState state) {
        return of(state) == BAD;
    }
}
