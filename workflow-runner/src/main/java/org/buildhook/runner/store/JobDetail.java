package org.buildhook.runner.store;

import java.util.List;
import java.util.Objects;

/** A job (env redacted) with every attempt, oldest first. */
public record JobDetail(Job job, List<JobAttempt> attempts) {

    public JobDetail {
        Objects.requireNonNull(job, "job");
        attempts = List.copyOf(attempts);
    }
}
