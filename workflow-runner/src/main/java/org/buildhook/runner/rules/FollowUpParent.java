package org.buildhook.runner.rules;

import java.util.Objects;

/**
 * The job a follow-up follows, as its {@code ${job.*}} placeholders and {@code BUILDHOOK_JOB_*}
 * variables show it.
 *
 * @param id       the job's id
 * @param rule     the job's rule name (for a follow-up, {@code <rule>/on-failure} and so on)
 * @param outcome  its final state: {@code SUCCEEDED}, {@code FAILED}, {@code TIMED_OUT} or {@code CANCELLED}
 * @param exitCode the last attempt's exit code, or {@code null} when it had none
 * @param attempts how many attempts it had
 * @param logPath  the last attempt's log file, or {@code null}
 * @param url      the job's page on the status page ({@code admin.public-url} then {@code ?job=<id>}), or {@code null}
 *                 when no public address is configured ({@code ${job.url}} is then empty)
 */
public record FollowUpParent(String id, String rule, String outcome, Integer exitCode, int attempts, String logPath,
        String url) {

    public FollowUpParent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** As the canonical constructor, without the job's page, as this record was before it had one. */
    public FollowUpParent(String id, String rule, String outcome, Integer exitCode, int attempts, String logPath) {
        this(id, rule, outcome, exitCode, attempts, logPath, null);
    }
}
