package org.buildhook.runner.store;

import java.time.Instant;
import java.util.Objects;

/**
 * A job of a rule that succeeded for a newer build of the same project than one about to run again (a re-run or
 * replay of an older build): running the older one now runs it after, and over, this one (confirm34).
 *
 * @param jobId   the newer build's job
 * @param buildId its build
 * @param endedAt when it succeeded
 */
public record NewerBuildRun(String jobId, long buildId, Instant endedAt) {

    public NewerBuildRun {
        Objects.requireNonNull(jobId, "jobId");
    }
}
