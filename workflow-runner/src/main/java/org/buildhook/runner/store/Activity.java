package org.buildhook.runner.store;

import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What happened since a moment, counted by the store: deliveries received since then by outcome,
 * and jobs created since then by the state they are in now. Outcomes and states that did not
 * occur are absent from the maps; {@link #deliveries(DeliveryOutcome)} and {@link #jobs(JobState)}
 * read them as 0.
 *
 * @param since      the start of the window (inclusive)
 * @param deliveries deliveries received at or after {@code since}, by outcome
 * @param jobs       jobs created at or after {@code since}, by their current state
 */
public record Activity(Instant since, Map<DeliveryOutcome, Long> deliveries, Map<JobState, Long> jobs) {

    public Activity {
        Objects.requireNonNull(since, "since");
        deliveries = deliveries.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(deliveries));
        jobs = jobs.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(jobs));
    }

    /** How many deliveries since {@link #since} had this outcome; 0 when none. */
    public long deliveries(DeliveryOutcome outcome) {
        return deliveries.getOrDefault(outcome, 0L);
    }

    /** How many jobs created since {@link #since} are in this state now; 0 when none. */
    public long jobs(JobState state) {
        return jobs.getOrDefault(state, 0L);
    }

    /** All deliveries since {@link #since}. */
    public long deliveryTotal() {
        return deliveries.values().stream().mapToLong(Long::longValue).sum();
    }

    /** All jobs created since {@link #since}. */
    public long jobTotal() {
        return jobs.values().stream().mapToLong(Long::longValue).sum();
    }
}
