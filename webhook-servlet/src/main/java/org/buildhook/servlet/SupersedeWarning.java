package org.buildhook.servlet;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.store.ApprovalSupersedes;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;

/**
 * The warning that an approval supersedes older builds' jobs of the rule's {@code supersede} key, and stops a running
 * one when the rule says {@code running: cancel} (tryout55 F1): an operator approving the next release while the
 * current one deployed stopped that deploy half-way, and the console's dialog ("It starts as soon as its rule
 * allows"), {@code buildhook approve} and the preview said nothing of it. Said by the approval's preview ({@code GET
 * /api/jobs/{id}/approve-warnings}, which the console's dialog and {@code buildhook approve} ask first), from {@link
 * Store#approvalSupersedes}: the rows the approval's transaction would supersede, read without changing them; and by
 * the approval's answer and WARN, from what its transaction superseded ({@link Store#approveSaying}): a read before it
 * named a job that started meanwhile as queued, though the approval stopped it (review57a F3).
 */
final class SupersedeWarning {

    /** The most jobs a warning names; the others are counted. */
    static final int NAMED = 5;

    private SupersedeWarning() {
    }

    /**
     * The warning for an approval of {@code job}, or empty when approving it supersedes nothing now.
     *
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached
     */
    static Optional<String> of(Store store, Job job) {
        return of(store.approvalSupersedes(job.id()), job);
    }

    /**
     * The warning for an approval of {@code job} that supersedes {@code read} (what it would supersede, or what its
     * transaction superseded), or empty when that is nothing.
     */
    static Optional<String> of(Optional<ApprovalSupersedes> read, Job job) {
        if (read.isEmpty() || read.get().jobs().isEmpty()) {
            return Optional.empty();
        }
        List<ApprovalSupersedes.Older> older = read.get().jobs();
        List<String> named = new ArrayList<>();
        for (ApprovalSupersedes.Older o : older.subList(0, Math.min(NAMED, older.size()))) {
            named.add("job " + o.id() + " (build " + o.buildId() + ") " + fate(o.state()));
        }
        boolean stops = older.stream().anyMatch(o -> o.state() == JobState.RUNNING);
        int n = older.size();
        return Optional.of("approved, it supersedes " + (n == 1 ? "an older build's job" : n + " older builds' jobs")
                + " of its rule's supersede key \"" + LogSafe.escape(read.get().key()) + "\": " + String.join("; ", named)
                + (n > NAMED ? "; and " + (n - NAMED) + " more" : "") + "."
                + (stops ? " The rule says running: cancel: a running job is stopped (its process tree ended, its"
                        + " on-cancel follow-up, if the rule has one, started), and job " + job.id()
                        + " starts once it has ended." : "")
                + " To let " + (n == 1 ? "it" : "them") + " finish first, approve once " + (n == 1 ? "it has" : "they have")
                + " ended; if this build should not go out, reject it instead (buildhook reject " + job.id() + ")");
    }

    private static String fate(JobState state) {
        return switch (state) {
            case RUNNING -> "runs, and is stopped now";
            case WAITING -> "waits for its resources, and ends SUPERSEDED without running";
            case AWAITING_APPROVAL -> "awaits an approval, and ends SUPERSEDED";
            default -> "is queued, and ends SUPERSEDED without running";
        };
    }
}
