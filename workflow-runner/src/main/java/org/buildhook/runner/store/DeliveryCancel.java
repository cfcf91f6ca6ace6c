package org.buildhook.runner.store;

import java.util.List;

/**
 * What {@link Store#cancelDelivery} did: each job of the delivery that had not ended when the cancel read them, and
 * how many of its jobs had ended. Every job of the delivery the cancel read is either cancelled (a {@code jobs} item
 * with {@link JobCancel#cancelled()} true) or counted in {@code ended}.
 *
 * @param jobs  the jobs of the delivery not ended when read (queued, waiting, awaiting an approval, running), oldest
 *              first, each with what the cancel did to it
 * @param ended how many of the delivery's jobs had ended when the cancel came to them (nothing done to them), 0 or
 *              more: those ended at its first read, (PostgreSQL) those of {@code jobs} found ended under their row's
 *              lock ({@link JobCancel#before} final; a newer build superseded them meanwhile), and those of {@code jobs}
 *              it found past their approval's expiry (now {@code EXPIRED}; review50 F4), which are listed too, so that
 *              every job of the delivery is cancelled now or counted here
 */
public record DeliveryCancel(List<JobCancel> jobs, int ended) {

    public DeliveryCancel {
        jobs = List.copyOf(jobs);
    }

    /**
     * One job of the delivery and what the cancel did to it.
     *
     * @param id        the job's id
     * @param rule      its rule's name (a follow-up's: its parent's with the key added, {@code deploy/on-failure})
     * @param runName   the run of the build it is for (a {@code runs: {match: each}} rule's job), or null
     * @param parentId  the job it follows (a follow-up), or null
     * @param cancelled true when it was cancelled now (ended at once, or its node asked to stop it); false when it
     *                  ended by itself meanwhile, or it awaited an approval past its expiry (now {@code EXPIRED},
     *                  which starts no follow-up, as a single cancel of it does)
     * @param before    its state when the cancel read it (on PostgreSQL under its row's lock: a final state when it
     *                  ended between the cancel's first look and that lock)
     * @param state     its state after the cancel: {@code CANCELLED} for a job no node had picked (or that waited for
     *                  its retry), still {@code RUNNING} (or {@code QUEUED}/{@code WAITING}, picked at the moment)
     *                  while its node stops it, {@code EXPIRED}, or the final state it reached by itself
     * @param message   its message after the cancel, or null
     */
    public record JobCancel(String id, String rule, String runName, String parentId, boolean cancelled, JobState before,
            JobState state, String message) {
    }
}
