package org.buildhook.runner.store;

/**
 * Filters for listing the audit trail's admin actions, newest first; every filter may be {@code null}.
 *
 * @param jobId      only the actions on this job
 * @param deliveryId only the actions on this delivery and on any of its jobs
 * @param before     paging cursor: only ids strictly before this one (ids sort by time)
 * @param limit      page size, 1 to 500
 */
public record ActionQuery(String jobId, String deliveryId, String before, int limit) {

    public ActionQuery {
        if (limit < 1 || limit > 500) {
            throw new IllegalArgumentException("limit must be between 1 and 500, got " + limit);
        }
    }

    /** The newest {@code limit} actions on one job. */
    public static ActionQuery onJob(String jobId, int limit) {
        return new ActionQuery(jobId, null, null, limit);
    }

    /** The newest {@code limit} actions on one delivery and its jobs. */
    public static ActionQuery onDelivery(String deliveryId, int limit) {
        return new ActionQuery(null, deliveryId, null, limit);
    }
}
