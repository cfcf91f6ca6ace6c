package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.StringJoiner;
import org.buildhook.runner.store.Activity;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.JobState;

/**
 * The status page's header: what happened over the last 24 hours and what is going on now, as
 * tiles with one number each (in a {@code data-value} attribute too, for scripts and tests).
 *
 * @param day         deliveries and jobs of the last 24 hours (the store's, so the whole cluster's)
 * @param queued      jobs queued: waiting for their first run, a free slot, or a retry (its backoff)
 * @param running     jobs running now
 * @param refusedDay  deliveries this node refused for their signature in the last 24 hours
 * @param lastRefusal the last of them, if any
 * @param awaitingApproval jobs waiting for someone's approval now (whenever their delivery came)
 * @param retrying    of the queued jobs, those in a retry's backoff, not due yet
 */
record StatusSummary(Activity day, long queued, long running, long refusedDay,
        Optional<SignatureRefusals.Last> lastRefusal, long awaitingApproval, long retrying) {

    /** Without a job in a retry's backoff. */
    StatusSummary(Activity day, long queued, long running, long refusedDay, Optional<SignatureRefusals.Last> lastRefusal,
            long awaitingApproval) {
        this(day, queued, running, refusedDay, lastRefusal, awaitingApproval, 0);
    }

    /** The states listed first in the jobs tile, whose detail may be cut: the ones that wait for someone. */
    private static final List<JobState> ASKING_FIRST = List.of(JobState.AWAITING_APPROVAL);

    /** Jobs of the last 24 hours that ended badly (failed, timed out). */
    long failedJobs() {
        return day.jobs().entrySet().stream().filter(e -> StatusTone.isFailure(e.getKey()))
                .mapToLong(e -> e.getValue()).sum();
    }

    /** The tiles as HTML. */
    String html() {
        StringBuilder h = new StringBuilder("<section class=\"tiles\" id=\"summary\">");
        StringJoiner outcomes = new StringJoiner(" ");
        StringJoiner outcomesText = new StringJoiner(", ");
        for (DeliveryOutcome o : DeliveryOutcome.values()) {
            String name = o.name().toLowerCase(Locale.ROOT);
            outcomes.add(count(StatusTone.of(o), day.deliveries(o), name));
            outcomesText.add(day.deliveries(o) + " " + name);
        }
        tile(h, "deliveries", "Deliveries · 24 h", day.deliveryTotal(), StatusTone.NEUTRAL, outcomes.toString(),
                outcomesText.toString());
        // The detail is cut to three lines: what waits for someone comes first, and the hover text has all of it
        // (tryout21 F1: "1 awaiting approval" was the one count cut on a busy day).
        StringJoiner states = new StringJoiner(" ");
        StringJoiner statesText = new StringJoiner(", ");
        List<JobState> order = new ArrayList<>(ASKING_FIRST);
        Arrays.stream(JobState.values()).filter(s -> !ASKING_FIRST.contains(s)).forEach(order::add);
        for (JobState s : order) {
            if (day.jobs(s) > 0) {
                String name = s.name().toLowerCase(Locale.ROOT).replace('_', ' ');
                states.add(count(StatusTone.of(s), day.jobs(s), name));
                statesText.add(day.jobs(s) + " " + name);
            }
        }
        tile(h, "jobs", "Jobs · 24 h", day.jobTotal(), StatusTone.NEUTRAL, states.length() == 0 ? "none" : states
                .toString(), states.length() == 0 ? "" : statesText.toString());
        long failed = failedJobs();
        tile(h, "failures", "Failed jobs · 24 h", failed, failed > 0 ? StatusTone.BAD : StatusTone.OK,
                "<a href=\"?state=failed\">failed</a> or <a href=\"?state=timed_out\">timed out</a>, after their retries");
        // A job in a retry's backoff is queued, but not waiting to run now (retry21); the detail reads after the
        // number, so "1 job", not "1 jobs" (tryout22).
        String waiting = (queued == 1 ? "job" : "jobs") + " waiting" + (retrying == 0 ? " to run"
                : ": " + (queued - retrying) + " to run, " + retrying + " in a retry's backoff");
        tile(h, "queued", "Queue", queued, queued > 0 || awaitingApproval > 0 ? StatusTone.WAITING : StatusTone.NEUTRAL,
                waiting + (awaitingApproval == 0 ? "" : "; <a href=\"?state=awaiting_approval\">"
                        + awaitingApproval + " awaiting approval</a>"));
        tile(h, "running", "Running", running, running > 0 ? StatusTone.ACTIVE : StatusTone.NEUTRAL,
                (running == 1 ? "job" : "jobs") + " running now");
        String last = lastRefusal.map(l -> "last " + StatusFormat.time(l.at()) + " on <code>" + escape(l.endpoint())
                + "</code> from " + escape(l.remote()) + ": <span class=\"reason\">" + escape(l.reason()) + "</span>")
                .orElse("on this node");
        tile(h, "refused", "Refused signatures · 24 h", refusedDay, refusedDay > 0 ? StatusTone.BAD : StatusTone.OK,
                last, lastRefusal.map(l -> l.reason() + " (" + l.endpoint() + ", " + l.remote() + ")").orElse(""));
        return h.append("</section>").toString();
    }

    private static void tile(StringBuilder h, String id, String label, long value, StatusTone tone, String detailHtml) {
        tile(h, id, label, value, tone, detailHtml, "");
    }

    /** A tile whose detail may be cut to three lines; {@code title} (text) is all of it, shown on hover. */
    private static void tile(StringBuilder h, String id, String label, long value, StatusTone tone, String detailHtml,
            String title) {
        h.append("<div class=\"tile ").append(tone.css()).append("\" id=\"tile-").append(id).append("\" data-value=\"")
                .append(value).append("\"><div class=\"label\">").append(escape(label)).append("</div><div class=\"value\">")
                .append(value).append("</div><div class=\"detail\" title=\"").append(escape(title)).append("\">").append(detailHtml).append("</div></div>");
    }

    private static String count(StatusTone tone, long n, String what) {
        return "<span class=\"count " + tone.css() + "\">" + n + " " + escape(what) + "</span>";
    }
}
