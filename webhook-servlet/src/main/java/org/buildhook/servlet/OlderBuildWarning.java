package org.buildhook.servlet;

import java.time.temporal.ChronoUnit;
import java.util.Optional;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.store.NewerBuildRun;
import org.buildhook.runner.store.Store;

/**
 * The one line a re-run or replay of an older build says when the same rule's job of a newer build of the same
 * project has already succeeded (confirm34): {@code build 41 of andy-corp/lmp is older than build 43, whose 'deploy'
 * job (01K…) succeeded at 2026-12-04T10:00:00Z: this re-run runs the older build's 'deploy' over it}. The status
 * page's confirm dialogs, the admin API's previews ({@code GET …/rerun-warnings}, {@code GET …/replay-warnings}) and through them the
 * CLI's question say it.
 */
final class OlderBuildWarning {

    private OlderBuildWarning() {
    }

    /**
     * @param what {@code "this re-run"} or {@code "this replay"}
     * @return empty when the build or project is unknown, or no newer build's job of the rule succeeded
     */
    static Optional<String> of(Store store, String rule, Long buildId, String project, String what) {
        if (buildId == null || project == null) {
            return Optional.empty();
        }
        Optional<NewerBuildRun> newer = store.newerSuccess(rule, project, buildId);
        return newer.map(n -> LogSafe.escape("build " + buildId + " of " + project + " is older than build "
                + n.buildId() + ", whose '" + rule + "' job (" + n.jobId() + ") succeeded"
                + (n.endedAt() == null ? "" : " at " + n.endedAt().truncatedTo(ChronoUnit.SECONDS)) + ": " + what
                + " runs the older build's '" + rule + "' over it"));
    }
}
