package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.Redaction;

/**
 * Plain text of a {@link DryRun}. Every argument and value is shown in double quotes with JSON
 * escapes, so a space, a quote or a newline inside one argument cannot be mistaken for two.
 */
public final class DryRunRenderer {

    private final boolean showNonFiring;

    /** @param showNonFiring whether to list the rules that do not fire, with the reason */
    public DryRunRenderer(boolean showNonFiring) {
        this.showNonFiring = showNonFiring;
    }

    public String render(DryRun dryRun) {
        StringBuilder out = new StringBuilder();
        long firing = dryRun.verdicts().stream().filter(DryRun.Verdict::fires).count();
        out.append("build ").append(dryRun.buildId()).append(" on endpoint ").append(quote(dryRun.endpoint()))
                .append(": ").append(firing).append(" of ").append(dryRun.verdicts().size())
                .append(" rules fire, ").append(dryRun.jobs().size()).append(dryRun.jobs().size() == 1 ? " job\n" : " jobs\n");
        for (DryRun.Verdict verdict : dryRun.verdicts()) {
            if (verdict.fires()) {
                out.append("\nrule ").append(verdict.rule()).append(": fires, ")
                        .append(verdict.jobs().size()).append(verdict.jobs().size() == 1 ? " job\n" : " jobs\n");
                verdict.jobs().forEach(job -> job(out, job));
            } else if (showNonFiring) {
                // The reason quotes the payload's value as it came (trigger 'x' does not match …): its
                // control characters (ESC starts a terminal's escape sequences) are shown as \xNN.
                out.append("\nrule ").append(verdict.rule()).append(": does not fire: ").append(LogSafe.escape(verdict.whyNot())).append('\n');
            }
        }
        return out.toString();
    }

    private static void job(StringBuilder out, PlannedJob job) {
        out.append("  job");
        if (job.runName() != null) {
            out.append(" for run ").append(quote(job.runName()));
        }
        out.append('\n');
        if (job.refused()) {
            // As the server stores it: ended FAILED, never started (PayloadValues).
            out.append("    refused: stored FAILED, ").append(job.refusal()).append('\n');
        }
        out.append("    argv:    [");
        List<String> argv = Redaction.redactArgv(job.argv(), job.env());
        for (int i = 0; i < argv.size(); i++) {
            out.append(i == 0 ? "" : ", ").append(quote(argv.get(i)));
        }
        out.append("]\n");
        out.append("    workdir: ").append(job.workdir() == null ? "(runner default)" : quote(job.workdir().toString())).append('\n');
        out.append("    timeout: ").append(Durations.format(job.timeout()))
                .append(", retries: ").append(job.retries())
                .append(", backoff: ").append(Durations.format(job.backoff()))
                .append(", concurrency: ").append(job.concurrency() == 0 ? "unlimited" : job.concurrency())
                .append(", stdin: ").append(job.stdin() ? "on" : "off").append('\n');
        workflow(out, job.workflow());
        out.append("    env:\n");
        // Masked as the admin API, job show and the status page mask them: the dry run's output goes to
        // CI logs (buildhook test checks a rules change there); the job itself gets the real value.
        for (Map.Entry<String, String> e : new TreeMap<>(Redaction.redact(job.env())).entrySet()) {
            out.append("      ").append(e.getKey()).append('=').append(quote(e.getValue())).append('\n');
        }
    }

    private static void workflow(StringBuilder out, JobWorkflow w) {
        if (w.supersedeKey() != null && w.needsApproval()) {
            // docs/rules.md, Approval: a job still awaiting its approval replaces only the older jobs awaiting
            // one; the approved ones go on until it is approved itself (tryout24 F6).
            out.append("    supersede: key ").append(quote(w.supersedeKey())).append(" at build ").append(w.buildId())
                    .append(": while it awaits its approval, supersedes only the older builds' jobs with this key"
                            + " that await one too; once approved, supersedes their queued and waiting jobs")
                    .append(w.supersedeRunning() ? " and cancels running ones" : " (running ones go on)")
                    .append("; superseded at once if a newer build was already seen\n");
        } else if (w.supersedeKey() != null) {
            out.append("    supersede: key ").append(quote(w.supersedeKey())).append(" at build ").append(w.buildId())
                    .append(": supersedes the queued and waiting jobs of older builds with this key")
                    .append(w.supersedeRunning() ? " and cancels running ones" : " (running ones go on)")
                    .append("; superseded at once if a newer build was already seen\n");
        }
        if (!w.resources().isEmpty()) {
            out.append("    resources: waits (WAITING, first come first served) until it can hold");
            w.resources().forEach((name, units) -> out.append(' ').append(name).append(' ').append(units).append(" of ")
                    .append(w.capacities().get(name)).append(';'));
            out.setLength(out.length() - 1);
            out.append(" for each attempt\n");
        }
        if (w.needsApproval()) {
            out.append("    approval: waits as AWAITING_APPROVAL until approved (buildhook approve, the admin API or the"
                    + " status page) or rejected; expires after ").append(Durations.format(w.approvalExpiry()))
                    .append('\n');
        }
        List<String> followUps = FollowUps.describe(Redaction.redactSnapshot(w.followUps()));
        if (!followUps.isEmpty()) {
            out.append("    follow-ups (started once when the job ends that way, as jobs of their own):\n");
            followUps.forEach(line -> out.append("      ").append(line).append('\n'));
        }
    }

    /**
     * A value as JSON quotes it (C0 controls as JSON escapes), then with the C1 controls and the invisible characters
     * (bidirectional controls, zero-width and other format characters) escaped as {@link LogSafe#escape} shows them,
     * as {@code job show} shows a job's values (escape29): JSON writes those as they are.
     */
    private static String quote(String s) {
        return '"' + LogSafe.escape(new String(JsonStringEncoder.getInstance().quoteAsString(s))) + '"';
    }
}
