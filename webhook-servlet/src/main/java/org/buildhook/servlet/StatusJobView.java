package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;
import static org.buildhook.servlet.StatusFormat.duration;
import static org.buildhook.servlet.StatusFormat.time;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.buildhook.runner.store.AdminAction;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;

/**
 * A job's page: what it runs (build, project, trigger, run, command, workdir, env as the admin API
 * shows it, redacted, timeout, retries) and, live while it has not ended, its state, attempts and
 * the tail of each attempt's log.
 */
final class StatusJobView {

    /** How often an open page of a job that has not ended asks for its live part, in milliseconds. */
    static final int POLL_MILLIS = 2000;
    /**
     * How often, in milliseconds, the page of a job on which nothing can change but by an operator's hand (it ended,
     * its follow-ups too) asks for its state (page30): not for its log nor its attempts, which cannot change, so each
     * ask is a few indexed reads and no file; its answer's 503 shows a store outage on the open page as on the others.
     */
    static final int FINAL_POLL_MILLIS = 10_000;
    /** The {@code part} a finished job's page asks for: its state, follow-ups and audit trail, not its attempts and logs. */
    static final String FINAL_PART = "final";

    private StatusJobView() {
    }

    /**
     * What can still change about a job after its own end, shown in the live part of its page: the
     * follow-ups it started, a newer job that superseded it, its audit trail.
     *
     * @param followUps       the follow-ups this job started ({@code on-success} …), oldest first: its newest
     *                        ones when it has more than a page shows
     * @param moreFollowUps   whether the job has more follow-ups than {@code followUps}: the page then says how
     *                        to list them all
     * @param actions         what operators did to the job (approve, reject, cancel, re-run …), oldest first:
     *                        its newest ones when it has more than a page shows
     * @param moreActions     whether the job has more actions than {@code actions}
     * @param followUpPending whether the job still has to start its follow-up (see
     *                        {@link org.buildhook.runner.store.FollowUpLedger#isPending})
     */
    record Chain(List<Job> followUps, boolean moreFollowUps, List<AdminAction> actions, boolean moreActions,
            boolean followUpPending) {

        /** A job that started no follow-up, has no pending one and no action. */
        static final Chain NONE = new Chain(List.of(), false, List.of(), false, false);

        Chain {
            followUps = List.copyOf(followUps);
            actions = List.copyOf(actions);
        }

        /** Only follow-ups, none pending, no action. */
        static Chain of(List<Job> followUps, boolean moreFollowUps) {
            return new Chain(followUps, moreFollowUps, List.of(), false, false);
        }
    }

    /**
     * Whether an open page of {@code job} keeps asking for its live part: while the job has not ended, while
     * it has still to start its follow-up (stored just after its end), and while a follow-up it shows has not
     * ended (its state is on this page). Then nothing on the page can change but by an operator's hand.
     */
    static boolean polls(Job job, Chain chain) {
        return !job.state().isFinal() || chain.followUpPending()
                || chain.followUps().stream().anyMatch(f -> !f.state().isFinal());
    }

    /**
     * The whole page, for a job without follow-ups pending and without actions.
     *
     * @param delivery the job's delivery, or empty when it is gone
     * @param logs     each attempt's log tail, by attempt number
     */
    static String page(String nonce, Job job, Optional<Delivery> delivery, List<JobAttempt> attempts,
            Map<Integer, LogText> logs, List<Job> followUps, boolean moreFollowUps) {
        return page(nonce, job, delivery, attempts, logs, Chain.of(followUps, moreFollowUps));
    }

    /**
     * The job's page with its follow-ups and audit trail.
     *
     * @param delivery the job's delivery, or empty when it is gone
     * @param logs     each attempt's log tail, by attempt number
     */
    static String page(String nonce, Job job, Optional<Delivery> delivery, List<JobAttempt> attempts,
            Map<Integer, LogText> logs, Chain chain) {
        StringBuilder h = StatusPageView.head(nonce, "buildhook job " + job.id(), pollAttributes(job, chain));
        h.append("<main><p><a href=\"./\">&larr; all deliveries</a></p><h2>Job <code>").append(escape(job.id()))
                .append("</code> of rule <code>").append(escape(job.ruleName())).append("</code></h2>")
                .append("<p id=\"result\" role=\"status\"></p>");
        liveState(h, job, attempts, delivery.map(Delivery::summary).orElse(DeliverySummary.NONE));
        h.append("<h2>Plan</h2><table class=\"facts\" id=\"plan\"><tbody>");
        String build = delivery.map(d -> escape(d.summary().buildId())).orElse("");
        String buildLink = SafeLinks.link(job.env().get(StatusPageView.WEB_URL), build + "&nbsp;&#8599;", "ext build");
        field(h, "Build", buildLink.isEmpty() ? build : buildLink);
        field(h, "Project", delivery.map(d -> escape(d.summary().project())).orElse(""));
        field(h, "Trigger", delivery.map(d -> escape(d.summary().triggerName())).orElse(""));
        field(h, "Delivery", "<code>" + escape(job.deliveryId()) + "</code>"
                + delivery.map(d -> " received " + time(d.receivedAt())).orElse(" (no longer stored)"));
        if (job.runName() != null) {
            String log = SafeLinks.link(job.env().get(StatusPageView.RUN_LOG_URL), "run log&nbsp;&#8599;", "ext log");
            field(h, "Run", "<span class=\"run\">" + escape(job.runName()) + "</span> " + log);
        }
        field(h, "Command", "<code>" + escape(String.join(" ", job.argv())) + "</code>");
        field(h, "Workdir", job.workdir() == null ? "<span class=\"muted\">the runner's default</span>"
                : "<code>" + escape(job.workdir()) + "</code>");
        field(h, "Timeout", escape(duration(job.timeout())));
        field(h, "Retries", job.retries() + (job.retries() > 0 ? " <small>first after " + escape(duration(
                job.backoff())) + ", doubling</small>" : ""));
        field(h, "Concurrency", job.concurrency() == 0 ? "no limit for the rule" : "at most " + job.concurrency()
                + " of this rule at once");
        field(h, "Environment", env(job.env()));
        field(h, "Created", time(job.createdAt()));
        if (job.rerunOf() != null) {
            field(h, "Re-run of", StatusPageView.jobLink(job.rerunOf(), job.rerunOf()));
        }
        // A workflow is several jobs: each page links to the next and the previous one of its chain.
        if (job.workflow().parentId() != null) {
            field(h, "Follows", StatusPageView.jobLink(job.workflow().parentId(), job.workflow().parentId()));
        }
        h.append("</tbody>");
        liveChain(h, job, chain);
        h.append("</table>");
        liveLog(h, job, attempts, logs);
        return StatusPageView.end(h.append("</main>"));
    }

    /** The live part alone, for a job without follow-ups pending and without actions. */
    static String live(Job job, List<JobAttempt> attempts, Map<Integer, LogText> logs) {
        return live(job, attempts, logs, Chain.NONE);
    }

    /**
     * The live part alone; once nothing on the page can change but by an operator's hand ({@link #polls}), its body
     * slows the polling to {@link #FINAL_POLL_MILLIS} and asks for the {@link #FINAL_PART} from then on.
     */
    static String live(Job job, List<JobAttempt> attempts, Map<Integer, LogText> logs, Chain chain) {
        return live(job, DeliverySummary.NONE, attempts, logs, chain);
    }

    /**
     * The live part alone, its buttons' confirm dialogs naming the job's build and project as the whole page does.
     *
     * @param delivery the job's delivery's summary ({@link DeliverySummary#NONE} when it is gone)
     */
    static String live(Job job, DeliverySummary delivery, List<JobAttempt> attempts, Map<Integer, LogText> logs,
            Chain chain) {
        StringBuilder h = new StringBuilder(16384).append("<!DOCTYPE html><html><body").append(pollAttributes(job, chain))
                .append(">");
        liveState(h, job, attempts, delivery);
        // A tbody outside a table would be dropped by the parser that reads this answer.
        h.append("<table>");
        liveChain(h, job, chain);
        h.append("</table>");
        liveLog(h, job, attempts, logs);
        return h.append("</body></html>\n").toString();
    }

    /**
     * The {@link #FINAL_PART} of a job on which nothing can change but by an operator's hand: its state (with its
     * actions' buttons), follow-ups and audit trail, without its attempts and logs (the page keeps the ones it
     * shows), for a page that still asks every {@link #FINAL_POLL_MILLIS} ms so that it notices a store outage
     * (page30: a finished job's page did not ask at all, and showed the outage only after a reload).
     */
    static String finalPart(Job job, List<JobAttempt> attempts, Chain chain) {
        return finalPart(job, DeliverySummary.NONE, attempts, chain);
    }

    /**
     * The {@link #FINAL_PART}, its buttons' confirm dialogs naming the job's build and project as the whole page does.
     *
     * @param delivery the job's delivery's summary ({@link DeliverySummary#NONE} when it is gone)
     */
    static String finalPart(Job job, DeliverySummary delivery, List<JobAttempt> attempts, Chain chain) {
        StringBuilder h = new StringBuilder(4096).append("<!DOCTYPE html><html><body").append(pollAttributes(job, chain))
                .append(">");
        liveState(h, job, attempts, delivery);
        h.append("<table>");
        liveChain(h, job, chain);
        return h.append("</table></body></html>\n").toString();
    }

    /**
     * The body's attributes that say how the page asks for its live part: every {@link #POLL_MILLIS} ms while
     * something can change ({@link #polls}), else every {@link #FINAL_POLL_MILLIS} ms for its {@link #FINAL_PART}.
     */
    private static String pollAttributes(Job job, Chain chain) {
        return polls(job, chain) ? " data-poll=\"" + POLL_MILLIS + "\""
                : " data-poll=\"" + FINAL_POLL_MILLIS + "\" data-live-part=\"" + FINAL_PART + "\"";
    }

    /**
     * The plan's rows that change after the job's end (tryout21 F2): its follow-ups, which are stored just
     * after it, a newer job that superseded it, its approval's expiry, its audit trail.
     */
    private static void liveChain(StringBuilder h, Job job, Chain chain) {
        h.append("<tbody id=\"job-chain\" data-live>");
        List<Job> followUps = chain.followUps();
        if (!followUps.isEmpty()) {
            StringBuilder links = new StringBuilder();
            for (Job f : followUps) {
                links.append(links.length() == 0 ? "" : "<br>").append(StatusPageView.jobLink(f.id(), f.ruleName()))
                        .append(' ').append(StatusPageView.chip(f.state()));
            }
            if (chain.moreFollowUps()) {
                // As a delivery with more jobs than its row shows: re-runs of follow-ups can be thousands.
                links.append("<br><span class=\"more\">only the newest ").append(followUps.size())
                        .append(" are shown: <code>buildhook jobs --parent ").append(escape(job.id()))
                        .append("</code> lists all</span>");
            }
            field(h, "Follow-ups", links.toString());
        } else if (chain.followUpPending() && job.state().isFinal()) {
            field(h, "Follow-ups", "<span class=\"muted\">being started</span>");
        }
        if (job.supersededBy() != null) {
            field(h, "Superseded by", StatusPageView.jobLink(job.supersededBy(), job.supersededBy()));
        }
        if (job.expiresAt() != null) {
            field(h, "Approval", Job.approvalExpiry(time(job.expiresAt()), job.state() == org.buildhook.runner.store.JobState.AWAITING_APPROVAL
                    && !java.time.Instant.now().isBefore(job.expiresAt())));
        }
        List<AdminAction> actions = chain.actions();
        if (!actions.isEmpty()) {
            // Who approved a deploy, who cancelled it: the audit trail's answer, not only the admin API's.
            StringBuilder lines = new StringBuilder();
            for (AdminAction a : actions) {
                lines.append(lines.length() == 0 ? "" : "<br>").append(time(a.at())).append(' ')
                        .append(escape(a.action())).append(" by ").append(escape(a.actor()));
            }
            if (chain.moreActions()) {
                lines.append("<br><span class=\"more\">only the newest ").append(actions.size())
                        .append(" are shown: <code>GET api/actions?job=").append(escape(job.id()))
                        .append("</code> lists all</span>");
            }
            field(h, "Actions", lines.toString());
        }
        h.append("</tbody>");
    }

    /**
     * The job's duration is its latest attempt's; with more than one attempt that alone hid the time the job
     * took from its first start (tryout22: {@code 9s} for a job that ran three attempts over 40 s).
     *
     * @return {@code " <small>(attempt N; T since its first attempt started)</small>"}, or empty for a job on its first attempt
     */
    static String sinceFirstAttempt(Job job, List<JobAttempt> attempts) {
        if (attempts.size() < 2 || job.startedAt() == null) {
            return "";
        }
        Instant first = attempts.stream().map(JobAttempt::startedAt).filter(java.util.Objects::nonNull)
                .min(Instant::compareTo).orElse(null);
        Instant end = job.endedAt() != null ? job.endedAt() : job.state().isFinal() ? null : Instant.now();
        if (first == null || end == null || end.isBefore(first)) {
            return "";
        }
        int last = attempts.stream().mapToInt(JobAttempt::attempt).max().orElse(attempts.size());
        return " <small>(attempt " + last + "; " + escape(duration(Duration.between(first, end)))
                + " since its first attempt started)</small>";
    }

    private static void liveState(StringBuilder h, Job job, List<JobAttempt> attempts, DeliverySummary delivery) {
        h.append("<div id=\"job-live\" data-live><table class=\"facts\" id=\"job-state\"><tbody>");
        field(h, "State", StatusPageView.chip(job.state()) + (job.cancelRequested() && !job.state().isFinal()
                ? " <small>cancel requested</small>" : ""));
        field(h, "Duration", StatusPageView.jobDuration(job).map(d -> escape(duration(d))
                + (job.state().isFinal() ? "" : " <small>so far</small>") + sinceFirstAttempt(job, attempts))
                .orElse(StatusPageView.endUnknown(job) ? StatusPageView.UNKNOWN : ""));
        // As buildhook jobs writes them: a job run again after a restart is not on its first run (tryout20 F7).
        field(h, "Attempts", escape(Job.attemptsText(job.attempts(), Job.interrupted(attempts),
                Job.notStarted(attempts))));
        field(h, "Exit code", escape(job.exitCode()));
        field(h, "Message", Html.escapeMessage(job.message()));
        field(h, "Node", escape(job.node()));
        h.append("</tbody></table><p>");
        StatusPageView.actions(h, job, delivery);
        h.append("</p></div>");
    }

    private static void liveLog(StringBuilder h, Job job, List<JobAttempt> attempts, Map<Integer, LogText> logs) {
        h.append("<div id=\"job-log-live\" data-live><h2>Attempts</h2><table id=\"attempts\"><thead><tr><th>#</th><th>Outcome</th><th>Exit code</th>"
                + "<th>Started</th><th>Ended</th><th>Node</th><th>Message</th></tr></thead><tbody>");
        for (JobAttempt a : attempts) {
            h.append("<tr><td>").append(a.attempt()).append("</td><td><span class=\"chip ")
                    .append(StatusTone.of(a.outcome()).css()).append("\">").append(escape(a.outcome()))
                    .append("</span></td><td>").append(escape(a.exitCode())).append("</td><td>")
                    .append(time(a.startedAt())).append("</td><td>")
                    .append(a.endedAt() == null && a.ended() ? StatusPageView.UNKNOWN : time(a.endedAt())).append("</td><td>")
                    .append(escape(a.node()));
            if (!a.units().isEmpty()) {
                // Which units of its shared resources it held (V20): the board it ran on.
                h.append(" <small class=\"units\">").append(escape(a.unitsText())).append("</small>");
            }
            h.append("</td><td>").append(Html.escapeMessage(a.message()));
            LogCut cut = LogCut.of(a);
            if (cut != null && cut.truncated()) {
                // Beside the attempt, not only inside its log (tryout24 F2): its tail below, the whole kept file by the API.
                h.append(" <small class=\"log-truncated\">").append(escape(cut.describe())).append(": <a href=\"#log-")
                        .append(a.attempt()).append("\">its tail</a>, <a href=\"api/jobs/").append(escape(job.id()))
                        .append("/log?attempt=").append(a.attempt()).append("\">the kept log</a></small>");
            }
            h.append("</td></tr>");
        }
        if (attempts.isEmpty()) {
            // A job that ended before it ran (rejected, expired, cancelled) will have none: say how it ended.
            h.append("<tr><td colspan=\"7\">").append(job.state().isFinal()
                    ? Html.escapeMessage(JobLogSender.whyNoAttempt(job)) + "." : "No attempt yet.").append("</td></tr>");
        }
        h.append("</tbody></table>");
        for (Map.Entry<Integer, LogText> log : logs.entrySet()) {
            h.append("<h2>Log of attempt ").append(log.getKey()).append("</h2><pre class=\"log\" id=\"log-")
                    .append(log.getKey()).append("\">").append(log.getValue().html()).append("</pre>");
            if (log.getValue().marked()) {
                // What tells buildhook's notes from a command's line that reads the same (words32).
                h.append("<p class=\"log-legend\" id=\"log-legend-").append(log.getKey()).append("\"><small>")
                        .append("<span class=\"note-mark\">").append(LogText.NOTE_MARK.strip()).append("</span> marks")
                        .append(" buildhook's own notes; a line marked <span class=\"lookalike-mark\">")
                        .append(Html.escape(LogText.LOOKALIKE_MARK.strip())).append("</span> was printed by the")
                        .append(" command, whatever it says.</small></p>");
            }
        }
        h.append("</div>");
    }

    private static String env(Map<String, String> env) {
        if (env.isEmpty()) {
            return "";
        }
        StringBuilder h = new StringBuilder("<details open><summary>").append(env.size())
                .append(" variable(s), secret-looking values hidden</summary><pre class=\"env\">");
        // One variable a line: a newline in a value is shown as job show shows it (\x0a), not as the start of
        // another variable's line (jobpage29).
        env.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> h.append(escape(e.getKey()))
                .append('=').append(escape(e.getValue())).append('\n'));
        return h.append("</pre></details>").toString();
    }

    private static void field(StringBuilder h, String name, String html) {
        h.append("<tr><th>").append(name).append("</th><td>").append(html).append("</td></tr>");
    }
}
