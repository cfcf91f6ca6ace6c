package org.buildhook.runner;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a job takes part in besides its command: the supersede key, an approval, the shared resources
 * it needs and the follow-ups it starts when it ends. Rendered by the rules when the job is planned;
 * {@link #NONE} for a plain job.
 *
 * @param buildId          the event's {@code build_id}; orders jobs with one supersede key (never arrival)
 * @param supersedeKey     the rendered supersede key, or {@code null} when the rule names none
 * @param supersedeRunning whether a newer build also cancels a running job with this key
 * @param approvalExpiry   how long the job waits for an approval before it expires, or {@code null}
 *                         when it needs none
 * @param resources        units of each named resource the job holds while an attempt runs
 *                         (name to units, at least 1 each); empty when it needs none
 * @param capacities       each needed resource's capacity as the rules file declared it
 * @param followUps        the follow-ups' specification (canonical JSON, read back by the rules when
 *                         the job ends), or {@code null} when it has none
 * @param parentId         for a follow-up, the job it follows; else {@code null}
 * @param depth            0 for a rule's job, 1 for its follow-ups, 2 for theirs …
 */
public record JobWorkflow(
        Long buildId,
        String supersedeKey,
        boolean supersedeRunning,
        Duration approvalExpiry,
        Map<String, Integer> resources,
        Map<String, Integer> capacities,
        String followUps,
        String parentId,
        int depth) {

    /** A job with no supersede key, approval, resource or follow-up. */
    public static final JobWorkflow NONE = new JobWorkflow(null, null, false, null, Map.of(), Map.of(), null, null, 0);

    public JobWorkflow {
        resources = Collections.unmodifiableMap(new TreeMap<>(resources));
        capacities = Collections.unmodifiableMap(new TreeMap<>(capacities));
        for (Map.Entry<String, Integer> need : resources.entrySet()) {
            Integer capacity = capacities.get(need.getKey());
            if (need.getValue() < 1 || capacity == null || capacity < need.getValue()) {
                throw new IllegalArgumentException("resource " + need.getKey()
                        + ": units must be at least 1 and at most its capacity");
            }
        }
        if (approvalExpiry != null && (approvalExpiry.isZero() || approvalExpiry.isNegative())) {
            throw new IllegalArgumentException("approvalExpiry must be positive");
        }
        if (depth < 0) {
            throw new IllegalArgumentException("depth must be >= 0");
        }
    }

    /** The same with {@code followUps} and {@code parentId} of a follow-up at {@code depth}. */
    public JobWorkflow asFollowUpOf(String parent, int followUpDepth) {
        return new JobWorkflow(buildId, supersedeKey, supersedeRunning, approvalExpiry, resources, capacities,
                followUps, parent, followUpDepth);
    }

    /** The same with {@code buildId}. */
    public JobWorkflow withBuildId(Long id) {
        return new JobWorkflow(id, supersedeKey, supersedeRunning, approvalExpiry, resources, capacities, followUps,
                parentId, depth);
    }

    /** The same, waiting for an approval that expires after {@code expiry} (positive). */
    public JobWorkflow withApproval(Duration expiry) {
        return new JobWorkflow(buildId, supersedeKey, supersedeRunning, expiry, resources, capacities, followUps,
                parentId, depth);
    }

    /** The same with follow-up specification {@code spec} (null for none). */
    public JobWorkflow withFollowUps(String spec) {
        return new JobWorkflow(buildId, supersedeKey, supersedeRunning, approvalExpiry, resources, capacities, spec,
                parentId, depth);
    }

    /** Whether the job waits for an approval before it runs. */
    public boolean needsApproval() {
        return approvalExpiry != null;
    }
}
