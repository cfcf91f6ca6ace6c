package org.buildhook.runner.store;

import java.time.Instant;

/**
 * Filters for listing deliveries; every filter may be {@code null}.
 *
 * @param project only deliveries of this project path ({@code <factory>/<project>})
 * @param trigger only deliveries whose event named this trigger
 * @param before  paging cursor: only ids strictly before this one (ids sort by time)
 * @param limit   page size, 1 to 500
 * @param buildId only deliveries of this build number (its reports, re-runs and duplicates)
 */
public record DeliveryQuery(DeliveryOutcome outcome, String endpoint, String project, String trigger, Instant from,
        Instant to, String before, int limit, Long buildId) {

    public DeliveryQuery {
        if (limit < 1 || limit > 500) {
            throw new IllegalArgumentException("limit must be between 1 and 500, got " + limit);
        }
    }

    /** Without the build filter. */
    public DeliveryQuery(DeliveryOutcome outcome, String endpoint, String project, String trigger, Instant from,
            Instant to, String before, int limit) {
        this(outcome, endpoint, project, trigger, from, to, before, limit, null);
    }

    /** Without the project and trigger filters. */
    public DeliveryQuery(DeliveryOutcome outcome, String endpoint, Instant from, Instant to, String before, int limit) {
        this(outcome, endpoint, null, null, from, to, before, limit);
    }

    public static DeliveryQuery latest(int limit) {
        return new DeliveryQuery(null, null, null, null, null, null, null, limit);
    }
}
