package org.buildhook.runner.store;

import java.time.Instant;
import java.util.Objects;

/**
 * Units of one shared resource that one job holds now, or waits for.
 *
 * @param resource the resource's name, as the rules file declares it
 * @param jobId    the job
 * @param rule     the job's rule
 * @param units    how many units (1 up to the capacity)
 * @param capacity the capacity the job was planned with
 * @param node     for a hold, the node whose attempt holds them; null for a wait
 * @param since    when the job took these units for this run of it (a job cut short and taking them again keeps
 *                 the time it first took them, its place), or since when the job waits (its place in the queue)
 */
public record ResourceUse(String resource, String jobId, String rule, int units, int capacity, String node,
        Instant since) {

    public ResourceUse {
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(since, "since");
    }
}
