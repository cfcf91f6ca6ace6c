package org.buildhook.servlet;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Page;
import org.buildhook.runner.store.Store;

/**
 * The warning that an approval runs a job's rule for its delivery once more (tryout42 F6): after a rename, the re-run
 * of the old name's job and the replay its cancel advised both awaited an approval, and approving both archived the
 * release twice without a word; so did three replays of one delivery for one rule. Said by the approval's preview
 * ({@code GET /api/jobs/{id}/approve-warnings}, which {@code buildhook approve} asks on) and its answer: the other jobs
 * of the job's delivery, for the job's run, of its rule or of a rule the same rule in force runs (its {@code
 * renamed-from}, or the same {@code run}: {@code AdminRequests.inForceFor}), that ran (an attempt started), run or
 * will (queued, waiting), or await an approval. Left out: follow-ups, jobs that never ran and will not (rejected,
 * expired, cancelled or superseded before an attempt), and the job this one re-runs (its re-run was asked of it).
 */
final class SameRuleJobsWarning {

    /** The most jobs a warning names; the others are counted. */
    static final int NAMED = 5;
    /** The most jobs of one delivery read (newest first): a delivery replayed thousands of times has thousands. */
    static final int READ = 2_000;

    private SameRuleJobsWarning() {
    }

    /**
     * The warning for an approval of {@code job}, or empty when no other job of its rule ran, runs or awaits an
     * approval for its delivery (and for a follow-up, whose rule is its parent's).
     *
     * @param inForce   the rule in force that runs {@code job}'s rule (itself, or the one that takes it over), or null
     *                  when none does: then only jobs of its own name count
     * @param inForceOf the same for another job of the delivery ({@code AdminRequests.inForceFor}); asked once per
     *                  rule name and snapshot, of a job of another name only
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached
     */
    static Optional<String> of(Store store, Job job, String inForce, Function<Job, Optional<String>> inForceOf) {
        if (job.workflow().parentId() != null) {
            return Optional.empty();
        }
        Map<String, Optional<String>> taken = new HashMap<>();
        List<Job> same = new ArrayList<>();
        String before = null;
        int read = 0;
        do {
            Page<Job> page = store.jobs(new JobQuery(null, null, job.deliveryId(), before, 500));
            for (Job other : page.items()) {
                if (counts(job, other) && (other.ruleName().equals(job.ruleName()) || inForce != null
                        && inForce.equals(taken.computeIfAbsent(other.ruleName() + "\n" + other.ruleSnapshot(),
                                k -> inForceOf.apply(other)).orElse(null)))) {
                    same.add(other);
                }
            }
            read += page.items().size();
            before = page.nextCursor();
        } while (before != null && read < READ);
        if (same.isEmpty()) {
            return Optional.empty();
        }
        List<String> named = new ArrayList<>();
        for (Job other : same.subList(0, Math.min(NAMED, same.size()))) {
            named.add(describe(job, other, inForce));
        }
        boolean waits = same.stream().anyMatch(o -> o.state() == JobState.AWAITING_APPROVAL);
        return Optional.of("its rule already has " + (same.size() == 1 ? "another job" : same.size() + " other jobs")
                + " for its delivery " + job.deliveryId() + (job.runName() == null ? ""
                        : " and its run '" + org.buildhook.core.LogSafe.escape(job.runName()) + "'")
                + ": " + String.join("; ", named) + (same.size() > NAMED ? "; and " + (same.size() - NAMED)
                        + " more (buildhook jobs --delivery " + job.deliveryId() + ")" : "")
                + (before != null ? " (of its newest " + read + " jobs)" : "")
                + ". Approved, job " + job.id() + " runs the rule's command for the delivery once more"
                + (waits ? " (approving the others too runs it as many times)" : "") + "; if that is not meant, reject"
                + " it instead (buildhook reject " + job.id() + ")");
    }

    /** Whether {@code other} is a job of the delivery that ran, runs or may run, for {@code job}'s run. */
    private static boolean counts(Job job, Job other) {
        return !other.id().equals(job.id()) && !other.id().equals(job.rerunOf())
                && other.workflow().parentId() == null && Objects.equals(other.runName(), job.runName())
                && (!other.state().isFinal() || other.attempts() > 0);
    }

    private static String describe(Job job, Job other, String inForce) {
        String rule = other.ruleName().equals(job.ruleName()) ? ""
                : " of rule '" + other.ruleName() + "'" + (other.ruleName().equals(inForce)
                        ? ", which takes '" + job.ruleName() + "' over," : ", which '" + inForce + "' takes over,");
        String state = switch (other.state()) {
            case AWAITING_APPROVAL -> "awaits an approval";
            case RUNNING -> "runs";
            case QUEUED -> other.attempts() > 0 ? "ran and is queued for another attempt" : "is queued";
            case WAITING -> "waits for its resources";
            default -> "ran (" + other.state() + (other.endedAt() == null ? "" : ", ended " + other.endedAt()) + ")";
        };
        return "job " + other.id() + rule + " " + state;
    }
}
