package org.buildhook.runner.store;

/**
 * Filters for listing jobs; every filter may be {@code null}.
 *
 * @param before paging cursor: only ids strictly before this one
 * @param limit  page size, 1 to 500
 */
public record JobQuery(JobState state, String ruleName, String deliveryId, String before, int limit) {

    public JobQuery {
        if (limit < 1 || limit > 500) {
            throw new IllegalArgumentException("limit must be between 1 and 500, got " + limit);
        }
    }

    public static JobQuery latest(int limit) {
        return new JobQuery(null, null, null, null, limit);
    }
}
