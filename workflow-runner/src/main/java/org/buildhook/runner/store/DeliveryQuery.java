package org.buildhook.runner.store;

import java.time.Instant;

/**
 * Filters for listing deliveries; every filter may be {@code null}.
 *
 * @param before paging cursor: only ids strictly before this one (ids sort by time)
 * @param limit  page size, 1 to 500
 */
public record DeliveryQuery(DeliveryOutcome outcome, String endpoint, Instant from, Instant to, String before,
        int limit) {

    public DeliveryQuery {
        if (limit < 1 || limit > 500) {
            throw new IllegalArgumentException("limit must be between 1 and 500, got " + limit);
        }
    }

    public static DeliveryQuery latest(int limit) {
        return new DeliveryQuery(null, null, null, null, null, limit);
    }
}
