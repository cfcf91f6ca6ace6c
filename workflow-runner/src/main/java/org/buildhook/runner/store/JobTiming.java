package org.buildhook.runner.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One job of a rule's recent history, without its plan: enough for a success rate and durations.
 *
 * @param jobId     the job's id
 * @param state     where the job is now
 * @param startedAt when its last attempt started, or {@code null} before the first
 * @param endedAt   when it reached a final state, or {@code null} while it has not
 * @param timeout   how long one attempt may run
 */
public record JobTiming(String jobId, JobState state, Instant startedAt, Instant endedAt, Duration timeout) {

    public JobTiming {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** How long its last attempt ran, once the job ended after starting one; else empty. */
    public Optional<Duration> duration() {
        if (startedAt == null || endedAt == null || endedAt.isBefore(startedAt)) {
            return Optional.empty();
        }
        return Optional.of(Duration.between(startedAt, endedAt));
    }
}
