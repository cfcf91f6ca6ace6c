package org.buildhook.runner.rules;

import java.util.List;
import java.util.Objects;
import org.buildhook.runner.PlannedJob;

/**
 * What a rule set would do with one event, without doing it: for every rule whether it fires, the
 * exact jobs (argv, env, workdir …) it would plan, and for a rule that does not fire the first reason.
 * {@link DryRunRenderer} turns it into text for {@code buildhook test}.
 */
public record DryRun(String endpoint, long buildId, List<Verdict> verdicts) {

    public DryRun {
        Objects.requireNonNull(endpoint, "endpoint");
        verdicts = List.copyOf(verdicts);
    }

    /**
     * One rule's outcome.
     *
     * @param whyNot null when the rule fires, else the first matcher that failed
     */
    public record Verdict(String rule, List<PlannedJob> jobs, String whyNot) {
        public Verdict {
            Objects.requireNonNull(rule, "rule");
            jobs = List.copyOf(jobs);
        }

        public boolean fires() {
            return whyNot == null;
        }
    }

    /** All jobs of all firing rules: the same list {@link RuleSet#match} returns. */
    public List<PlannedJob> jobs() {
        return verdicts.stream().flatMap(v -> v.jobs().stream()).toList();
    }
}
