package org.buildhook.runner.store;

import java.time.Instant;
import java.util.Objects;

/** One attempt of a job: every attempt is kept. Times and exit code may be {@code null}. */
public record JobAttempt(String jobId, int attempt, AttemptOutcome outcome, Integer exitCode, Instant startedAt,
        Instant endedAt, String node, String logPath, String message) {

    public JobAttempt {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(outcome, "outcome");
    }
}
