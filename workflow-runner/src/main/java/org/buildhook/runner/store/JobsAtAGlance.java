package org.buildhook.runner.store;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A delivery's jobs as a list of deliveries shows them: at most a few of them whole ({@code shown}, newest
 * first, redacted), chosen by {@link #PRIORITY}, and how many of the others are in each state
 * ({@code hidden}, a state without any is absent). {@code shown.size()} plus the sum of {@code hidden} is the
 * delivery's number of jobs when it was read, both being read by one statement.
 */
public record JobsAtAGlance(List<Job> shown, Map<JobState, Long> hidden) {

    /**
     * Which jobs a list shows first, most pressing first, each state group newest first: running, awaiting
     * an approval, failed or timed out, waiting or queued, the other ends (cancelled, superseded, rejected,
     * expired), and the succeeded ones last.
     */
    public static final List<List<JobState>> PRIORITY = List.of(List.of(JobState.RUNNING),
            List.of(JobState.AWAITING_APPROVAL), List.of(JobState.FAILED, JobState.TIMED_OUT),
            List.of(JobState.WAITING, JobState.QUEUED),
            List.of(JobState.CANCELLED, JobState.SUPERSEDED, JobState.REJECTED, JobState.EXPIRED),
            List.of(JobState.SUCCEEDED));

    public JobsAtAGlance {
        shown = List.copyOf(shown);
        Map<JobState, Long> copy = new EnumMap<>(JobState.class);
        hidden.forEach((state, n) -> {
            if (n < 0) {
                throw new IllegalArgumentException("a count of jobs cannot be negative: " + state + " " + n);
            }
            if (n > 0) {
                copy.put(state, n);
            }
        });
        hidden = Collections.unmodifiableMap(copy);
    }

    /** A delivery without jobs. */
    public static final JobsAtAGlance NONE = new JobsAtAGlance(List.of(), Map.of());

    /** How many jobs are not shown. */
    public long hiddenCount() {
        return hidden.values().stream().mapToLong(Long::longValue).sum();
    }

    /** How many jobs the delivery had when it was read: the shown ones and the others. */
    public long total() {
        return shown.size() + hiddenCount();
    }
}
