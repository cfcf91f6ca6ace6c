package org.buildhook.runner.store;

/**
 * The newest build seen of a rule's supersede key, newer than a build about to get a job of that key: such a job
 * (a replay's) ends {@link JobState#SUPERSEDED} at once ({@link Store#newerOfSupersedeKey}).
 *
 * @param buildId the newer build's id
 * @param jobId   the job of that build that holds the key (it may be gone since, by retention)
 */
public record SupersedingBuild(long buildId, String jobId) {
}
