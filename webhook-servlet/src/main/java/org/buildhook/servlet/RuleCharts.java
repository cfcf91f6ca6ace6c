package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.buildhook.runner.store.JobTiming;

/**
 * The status page's small charts, as inline SVG written on the server: nothing is fetched, no
 * script draws them, and colours come from the page's own style sheet through the tone classes
 * (so the Content-Security-Policy needs nothing more).
 */
final class RuleCharts {

    private static final int GAUGE_WIDTH = 160;
    private static final int GAUGE_HEIGHT = 14;
    private static final int BAR = 5;
    private static final int GAP = 2;
    private static final int HISTORY_HEIGHT = 26;
    /** Above this share of the timeout, the durations are painted as a warning. */
    private static final double NEAR_TIMEOUT = 0.8;

    private RuleCharts() {
    }

    /**
     * A horizontal gauge whose full width is the timeout: the 95th percentile as a light bar, the
     * median as a dark one over it.
     */
    static String gauge(Duration p50, Duration p95, Duration timeout) {
        double t = Math.max(1, timeout.toMillis());
        double w95 = width(p95.toMillis() / t);
        double w50 = width(p50.toMillis() / t);
        String tone = p95.toMillis() > NEAR_TIMEOUT * t ? "near" : "far";
        return "<svg class=\"chart gauge\" width=\"" + GAUGE_WIDTH + "\" height=\"" + GAUGE_HEIGHT + "\" viewBox=\"0 0 "
                + GAUGE_WIDTH + " " + GAUGE_HEIGHT + "\" role=\"img\" aria-label=\"" + escape(label(p50, p95, timeout))
                + "\"><title>" + escape(label(p50, p95, timeout)) + "</title>"
                + "<rect class=\"track\" x=\"0\" y=\"0\" width=\"" + GAUGE_WIDTH + "\" height=\"" + GAUGE_HEIGHT
                + "\" rx=\"3\"/><rect class=\"p95 " + tone + "\" x=\"0\" y=\"0\" width=\"" + num(w95) + "\" height=\""
                + GAUGE_HEIGHT + "\" rx=\"3\"/><rect class=\"p50 " + tone + "\" x=\"0\" y=\"3\" width=\"" + num(w50)
                + "\" height=\"" + (GAUGE_HEIGHT - 6) + "\" rx=\"2\"/></svg>";
    }

    /**
     * One bar per recent job, oldest on the left: its height is its duration against the longest
     * shown, its colour its state's tone; jobs that have not ended are short bars in their tone.
     */
    static String history(List<JobTiming> newestFirst) {
        List<JobTiming> jobs = new ArrayList<>(newestFirst);
        Collections.reverse(jobs);
        long longest = 1;
        for (JobTiming j : jobs) {
            longest = Math.max(longest, j.duration().map(Duration::toMillis).orElse(0L));
        }
        int width = Math.max(1, jobs.size()) * (BAR + GAP);
        StringBuilder h = new StringBuilder("<svg class=\"chart history\" width=\"").append(width)
                .append("\" height=\"").append(HISTORY_HEIGHT).append("\" viewBox=\"0 0 ").append(width).append(' ')
                .append(HISTORY_HEIGHT).append("\" role=\"img\" aria-label=\"the last ").append(jobs.size())
                .append(" jobs, oldest first\">");
        int x = 0;
        for (JobTiming j : jobs) {
            Duration d = j.duration().orElse(null);
            double height = d == null ? 6 : 4 + (HISTORY_HEIGHT - 4) * (double) d.toMillis() / longest;
            h.append("<rect class=\"").append(StatusTone.of(j.state()).css()).append("\" x=\"").append(x)
                    .append("\" y=\"").append(num(HISTORY_HEIGHT - height)).append("\" width=\"").append(BAR)
                    .append("\" height=\"").append(num(height)).append("\" rx=\"1\"><title>")
                    .append(escape(j.state().name() + (d == null ? "" : " in " + StatusFormat.duration(d))))
                    .append("</title></rect>");
            x += BAR + GAP;
        }
        return h.append("</svg>").toString();
    }

    private static String label(Duration p50, Duration p95, Duration timeout) {
        return "p50 " + StatusFormat.duration(p50) + ", p95 " + StatusFormat.duration(p95) + " of a "
                + StatusFormat.duration(timeout) + " timeout";
    }

    /** A bar's width for a share of the gauge; at least 2 pixels for anything above 0, so it shows. */
    private static double width(double share) {
        double w = Math.min(1, Math.max(0, share)) * GAUGE_WIDTH;
        return share > 0 ? Math.max(2, w) : 0;
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
