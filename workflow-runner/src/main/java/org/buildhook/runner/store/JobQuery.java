package org.buildhook.runner.store;

/**
 * Filters for listing jobs; every filter may be {@code null}.
 *
 * @param before   paging cursor: only ids strictly before this one
 * @param limit    page size, 1 to 500
 * @param parentId only the follow-ups this job started ({@code on-success} …)
 * @param runName  only the jobs of this run of the build (a {@code runs: {match: each}} rule's job for that run), the
 *                 whole name as the job records it
 */
public record JobQuery(JobState state, String ruleName, String deliveryId, String before, int limit, String parentId,
        String runName) {

    public JobQuery {
        if (limit < 1 || limit > 500) {
            throw new IllegalArgumentException("limit must be between 1 and 500, got " + limit);
        }
    }

    /** Without the run filter. */
    public JobQuery(JobState state, String ruleName, String deliveryId, String before, int limit, String parentId) {
        this(state, ruleName, deliveryId, before, limit, parentId, null);
    }

    /** Without the parent filter. */
    public JobQuery(JobState state, String ruleName, String deliveryId, String before, int limit) {
        this(state, ruleName, deliveryId, before, limit, null);
    }

    public static JobQuery latest(int limit) {
        return new JobQuery(null, null, null, null, limit);
    }

    /** The follow-ups {@code parentId} started, newest first, a page of {@code limit} before {@code before}. */
    public static JobQuery followUpsOf(String parentId, String before, int limit) {
        return new JobQuery(null, null, null, before, limit, parentId);
    }
}
