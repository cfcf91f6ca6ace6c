package org.buildhook.runner.store;

import java.util.List;

/**
 * What approving a job awaiting an approval would supersede now ({@link Store#approvalSupersedes}): the older builds'
 * jobs of its rule's {@code supersede} key (and of the rule's old names, {@code renamed-from}) that the approval's
 * transaction would end or stop, read without changing anything; or what an approval's transaction did supersede
 * ({@link Store#approveSaying}). Said by the approval's preview and answer, so that an approver knows that the approval
 * stops a running deploy of an older build (tryout55 F1).
 *
 * @param key          the job's supersede key, as rendered from its delivery (a payload value: escape it before
 *                     logging)
 * @param stopsRunning whether the job's rule says {@code running: cancel}: a running older job is then stopped (its
 *                     process tree terminated, its {@code on-cancel} follow-up started); otherwise running ones are
 *                     left to end and are not in {@code jobs}
 * @param jobs         the older builds' jobs affected, oldest build first; empty when the approval supersedes nothing
 */
public record ApprovalSupersedes(String key, boolean stopsRunning, List<Older> jobs) {

    public ApprovalSupersedes {
        jobs = List.copyOf(jobs);
    }

    /**
     * One older build's job that the approval would supersede.
     *
     * @param id      the job's id
     * @param state   its state when read (the approval's: as its transaction found it, before it ended it): {@link
     *                JobState#RUNNING} (stopped, only when {@code stopsRunning}),
     *                {@link JobState#QUEUED}, {@link JobState#WAITING} or {@link JobState#AWAITING_APPROVAL} (ended
     *                {@link JobState#SUPERSEDED})
     * @param buildId its delivery's JobServ build number
     */
    public record Older(String id, JobState state, long buildId) {
    }
}
