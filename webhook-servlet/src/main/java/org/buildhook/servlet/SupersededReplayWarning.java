package org.buildhook.servlet;

import java.util.List;
import java.util.Optional;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.SupersedingBuild;

/**
 * The line a replay's preview says of a rule whose job the replay would make {@code SUPERSEDED} at once (tryout45
 * F5): the replayed build is older than the newest of the rule's supersede key, so the job never runs; {@code
 * buildhook rerun} of the delivery's job of the rule does (a re-run is never superseded). {@code build 41 of
 * andy-corp/lmp is older than build 43 (job 01K…), the newest of the supersede key "andy-corp/lmp" of rule 'deploy':
 * this replay's 'deploy' job ends SUPERSEDED at once and does not run. A re-run is never superseded: to run build 41's
 * 'deploy' again, re-run its job: buildhook rerun 01J…}. Said instead of {@link OlderBuildWarning}'s "runs the older
 * build's … over it", which is not what happens then. The replay itself still makes that job, as a delivery of the
 * build would (docs/rules.md, Supersede).
 */
final class SupersededReplayWarning {

    private SupersededReplayWarning() {
    }

    /**
     * @param jobs       the jobs of one rule that the replay would make
     * @param deliveryId the delivery replayed
     * @param project    its build's project, or null when unknown
     * @return the line, when every one of {@code jobs} would be superseded at once; else empty
     */
    static Optional<String> of(Store store, List<PlannedJob> jobs, String deliveryId, String project) {
        SupersedingBuild newest = null;
        PlannedJob first = null;
        for (PlannedJob job : jobs) {
            Long buildId = job.workflow().buildId();
            String key = job.workflow().supersedeKey();
            if (buildId == null || key == null || job.refused()) {
                return Optional.empty(); // made QUEUED (or refused): not superseded
            }
            Optional<SupersedingBuild> newer = store.newerOfSupersedeKey(job.ruleName(), key, buildId);
            if (newer.isEmpty()) {
                return Optional.empty();
            }
            if (first == null) {
                first = job;
                newest = newer.get();
            }
        }
        if (first == null) {
            return Optional.empty();
        }
        // Each value escaped once, as the other warnings write theirs (the CLI and the page show the text with its
        // escapes as they are): the key between quotes as job show writes a value, the rest as on one line. The whole
        // text escaped again doubled the key's escapes (a key holding U+202E read as a text of six characters).
        String rule = LogSafe.escape(first.ruleName());
        long build = first.workflow().buildId();
        List<Job> own = store.jobs(new JobQuery(null, first.ruleName(), deliveryId, null, 1)).items();
        String rerun = own.isEmpty()
                ? " This delivery has no job of rule '" + rule + "' to re-run (a re-run is never superseded): nothing"
                        + " runs build " + build + "'s '" + rule + "' while build " + newest.buildId()
                        + " is the newest of that key"
                : " A re-run is never superseded: to run build " + build + "'s '" + rule + "' again, re-run its job:"
                        + " buildhook rerun " + own.get(0).id();
        return Optional.of("build " + build + (project == null ? "" : " of " + LogSafe.escape(project))
                + " is older than build " + newest.buildId() + " (job " + newest.jobId() + "), the newest of the"
                + " supersede key " + LogSafe.quoted(first.workflow().supersedeKey()) + " of rule '" + rule
                + "': this replay's '" + rule + "' job" + (jobs.size() > 1 ? "s end" : " ends")
                + " SUPERSEDED at once and do" + (jobs.size() > 1 ? "" : "es") + " not run." + rerun);
    }
}
