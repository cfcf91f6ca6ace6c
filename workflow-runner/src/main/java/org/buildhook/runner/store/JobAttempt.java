package org.buildhook.runner.store;

import java.time.Instant;
import java.util.Objects;

/**
 * One attempt of a job: every attempt is kept. Times and exit code may be {@code null}: an ended attempt
 * whose {@code endedAt} is null ended at a time nobody recorded (its node died on another host), which
 * every surface shows as "unknown" ({@link #ended()} tells it from one still running).
 */
public record JobAttempt(String jobId, int attempt, AttemptOutcome outcome, Integer exitCode, Instant startedAt,
        Instant endedAt, String node, String logPath, String message) {

    public JobAttempt {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** Whether the attempt has ended (its outcome is no longer {@code RUNNING}), whether or not its end time is known. */
    public boolean ended() {
        return outcome != AttemptOutcome.RUNNING;
    }
}
