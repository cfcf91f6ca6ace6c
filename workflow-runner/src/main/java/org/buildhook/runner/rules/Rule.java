package org.buildhook.runner.rules;

import java.util.List;
import java.util.Objects;
import org.buildhook.core.Run;
import org.buildhook.runner.PlannedJob;

/**
 * One named rule: its {@code when} checks (all must hold), its optional {@code runs} selector and its
 * action. Immutable; safe to share between threads.
 *
 * @param snapshot canonical JSON of the rule as written, stored with every job it plans
 * @param runs     null when the rule says nothing about runs
 */
record Rule(String name, String snapshot, List<Check<JobSubject>> checks, RunSelector runs, Action action,
        RuleWorkflow workflow) {

    Rule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(snapshot, "snapshot");
        checks = List.copyOf(checks);
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(workflow, "workflow");
    }

    /** Adds the jobs this rule plans for {@code subject} to {@code out}; none when it does not fire. */
    void plan(JobSubject subject, List<PlannedJob> out) {
        for (Check<JobSubject> check : checks) {
            if (!check.test(subject)) {
                return;
            }
        }
        List<Run> eventRuns = subject.event().runs();
        if (runs == null) {
            out.add(job(subject));
        } else if (runs.mode() == RunSelector.Mode.EACH) {
            for (Run run : eventRuns) {
                if (runs.matches(run)) {
                    out.add(job(subject.forRun(run)));
                }
            }
        } else if (runs.accepts(eventRuns)) {
            out.add(job(subject));
        }
    }

    /** Why this rule does not fire for {@code subject}, or null when it does. */
    String whyNot(JobSubject subject) {
        for (Check<JobSubject> check : checks) {
            if (!check.test(subject)) {
                return check.mismatch(subject);
            }
        }
        if (runs == null) {
            return null;
        }
        List<Run> eventRuns = subject.event().runs();
        boolean fires = runs.mode() == RunSelector.Mode.EACH
                ? !runs.select(eventRuns).isEmpty()
                : runs.accepts(eventRuns);
        return fires ? null : runs.mismatch(eventRuns);
    }

    private PlannedJob job(JobSubject subject) {
        return action.plan(name, snapshot, subject, workflow.render(subject));
    }
}
