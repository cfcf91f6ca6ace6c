package org.buildhook.runner.store;

import org.buildhook.core.BuildEvent;

/**
 * What the admin API filters deliveries on, taken from the parsed event when it is accepted. Every
 * field may be {@code null} (a rejected body, or a delivery stored before schema version 2).
 *
 * @param buildId     JobServ's build id
 * @param status      the build status as sent ({@code PASSED}, {@code FAILED} …)
 * @param project     the project path, {@code <factory>/<project>}
 * @param factory     the factory, the first segment of the project path
 * @param triggerName the trigger's name
 */
public record DeliverySummary(Long buildId, String status, String project, String factory, String triggerName) {

    /** Nothing known. */
    public static final DeliverySummary NONE = new DeliverySummary(null, null, null, null, null);

    public DeliverySummary {
        status = clip(status, 32);
        project = clip(project, 400);
        factory = clip(factory, 200);
        triggerName = clip(triggerName, 400);
    }

    /** The summary of a parsed event. */
    public static DeliverySummary of(BuildEvent event) {
        return new DeliverySummary(event.buildId(), event.status().value(), event.project(), event.factory(),
                event.triggerName());
    }

    // The columns are bounded; an over-long value from a sender is kept recognisable, not refused.
    private static String clip(String value, int max) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        return value.length() <= max ? value : value.substring(0, max);
    }
}
