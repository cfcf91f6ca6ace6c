package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobState;

/**
 * Renders the status page's HTML from stored values. Every value goes through {@link Html#escape};
 * the only script and style are inline blocks carrying the response's CSP nonce.
 */
final class StatusPageView {

    /** A delivery and its jobs (oldest first; {@code moreJobs} when not all are shown), as one row of the page. */
    record DeliveryRow(Delivery delivery, List<Job> jobs, boolean moreJobs) {
        DeliveryRow {
            jobs = List.copyOf(jobs);
        }

        DeliveryRow(Delivery delivery, List<Job> jobs) {
            this(delivery, jobs, false);
        }
    }

    /** The filters as the page's query parameters gave them (null when not set). */
    record Filters(DeliveryOutcome outcome, String project, String trigger, JobState state) {
        static final Filters NONE = new Filters(null, null, null, null);

        /** The set filters as URL query parameters ({@code outcome=…&project=…}), so paging keeps them. */
        String query() {
            StringJoiner q = new StringJoiner("&");
            param(q, "outcome", outcome);
            param(q, "project", project);
            param(q, "trigger", trigger);
            param(q, "state", state);
            return q.toString();
        }

        private static void param(StringJoiner q, String name, Object value) {
            if (value != null) {
                q.add(name + "=" + URLEncoder.encode(value.toString(), StandardCharsets.UTF_8));
            }
        }
    }

    /** The rules in force: names and snapshots, when they were loaded, and the last refused version's error. */
    record RulesInfo(String source, Instant loadedAt, Map<String, String> snapshots, Optional<String> lastError) {
        RulesInfo {
            snapshots = Map.copyOf(snapshots);
        }
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private static final String STYLE = """
            body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
            h1{font-size:1.4em;margin:0 0 .5em}h2{font-size:1.15em;margin:1.5em 0 .5em}
            table{border-collapse:collapse;width:100%;background:#fff}
            th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
            th{background:#eee}pre{background:#fff;border:1px solid #ddd;padding:8px;overflow:auto;max-height:40em}
            .ok{color:#176c2a}.bad{color:#a31515}.run{color:#8a5a00}
            .error{background:#fdecea;border:1px solid #a31515;padding:8px}
            form.filters{display:flex;gap:1em;flex-wrap:wrap;align-items:end}
            label{display:flex;flex-direction:column;font-size:.9em}
            button{cursor:pointer}ul.jobs{margin:0;padding-left:1.2em}#result{min-height:1.4em}
            """;

    /** Posts a button's action with the CSRF header, shows the answer and reloads the page. */
    private static final String SCRIPT = """
            document.addEventListener('click', function (e) {
              var b = e.target.closest('button[data-post]');
              if (!b) { return; }
              b.disabled = true;
              var out = document.getElementById('result');
              fetch(b.getAttribute('data-post'), {method: 'POST', credentials: 'same-origin',
                  headers: {'X-Buildhook-Request': '1'}})
                .then(function (r) { return r.text().then(function (t) { return [r.status, t]; }); })
                .then(function (a) {
                  out.textContent = b.textContent + ': ' + a[0] + ' ' + a[1];
                  if (a[0] < 300) { setTimeout(function () { location.reload(); }, 700); } else { b.disabled = false; }
                })
                .catch(function (err) { out.textContent = b.textContent + ' failed: ' + err; b.disabled = false; });
            });
            """;

    private StatusPageView() {
    }

    /** The form asking for the admin token; never shows a presented token. */
    static String login(String nonce, boolean refused) {
        StringBuilder h = head(nonce, "buildhook: sign in");
        h.append("<h1>buildhook status</h1>");
        if (refused) {
            h.append("<p class=\"error\">That token was not accepted.</p>");
        }
        h.append("<form method=\"post\" action=\"\"><label>Admin token "
                + "<input type=\"password\" name=\"token\" autocomplete=\"current-password\" required></label> "
                + "<button type=\"submit\">Open the status page</button></form>"
                + "<p>The token is the <code>admin.token</code> of buildhook's configuration. It is kept in an "
                + "HttpOnly cookie for this site until the browser closes.</p>");
        return end(h);
    }

    /** The main page: rules, filters, one page of deliveries with their jobs and links to older and newest ones. */
    static String page(String nonce, RulesInfo rules, Filters filters, List<DeliveryRow> rows,
            StatusPagePaging paging) {
        StringBuilder h = head(nonce, "buildhook status");
        h.append("<h1>buildhook status</h1><p id=\"result\" role=\"status\"></p>");
        h.append(paging.before() == null ? "<h2>Recent deliveries</h2>" : "<h2>Older deliveries</h2>");
        filterForm(h, filters);
        h.append("<table id=\"deliveries\"><thead><tr><th>Received</th><th>Endpoint</th><th>Build</th>"
                + "<th>Project</th><th>Trigger</th><th>Status</th><th>Outcome</th><th>Jobs</th><th></th>"
                + "</tr></thead><tbody>");
        if (rows.isEmpty()) {
            h.append("<tr><td colspan=\"9\">").append(paging.older() == null ? "No deliveries match."
                    : "No deliveries on this page match; older ones may.").append("</td></tr>");
        }
        for (DeliveryRow row : rows) {
            delivery(h, row);
        }
        h.append("</tbody></table>");
        h.append(paging.links(filters.query()));
        rules(h, rules);
        return end(h);
    }

    /** One job: its plan, attempts and each attempt's log text. */
    static String job(String nonce, Job job, List<JobAttempt> attempts, Map<Integer, String> logs) {
        StringBuilder h = head(nonce, "buildhook job " + job.id());
        h.append("<p><a href=\"./\">&larr; all deliveries</a></p>");
        h.append("<h1>Job <code>").append(escape(job.id())).append("</code></h1><p id=\"result\" role=\"status\">"
                + "</p><table class=\"job\"><tbody>");
        field(h, "Rule", escape(job.ruleName()));
        field(h, "State", state(job.state()));
        field(h, "Delivery", "<code>" + escape(job.deliveryId()) + "</code>");
        field(h, "Run name", escape(job.runName()));
        field(h, "Command", "<code>" + escape(String.join(" ", job.argv())) + "</code>");
        field(h, "Exit code", escape(job.exitCode()));
        field(h, "Message", escape(job.message()));
        field(h, "Created", time(job.createdAt()));
        field(h, "Re-run of", job.rerunOf() == null ? "" : jobLink(job.rerunOf()));
        h.append("</tbody></table><p>");
        actions(h, job);
        h.append("</p><h2>Attempts</h2><table id=\"attempts\"><thead><tr><th>#</th><th>Outcome</th><th>Exit code</th>"
                + "<th>Started</th><th>Ended</th><th>Node</th><th>Message</th></tr></thead><tbody>");
        for (JobAttempt a : attempts) {
            h.append("<tr><td>").append(a.attempt()).append("</td><td>").append(escape(a.outcome()))
                    .append("</td><td>").append(escape(a.exitCode())).append("</td><td>").append(time(a.startedAt()))
                    .append("</td><td>").append(time(a.endedAt())).append("</td><td>").append(escape(a.node()))
                    .append("</td><td>").append(escape(a.message())).append("</td></tr>");
        }
        if (attempts.isEmpty()) {
            h.append("<tr><td colspan=\"7\">No attempt yet.</td></tr>");
        }
        h.append("</tbody></table>");
        for (Map.Entry<Integer, String> log : logs.entrySet()) {
            h.append("<h2>Log of attempt ").append(log.getKey()).append("</h2><pre class=\"log\">")
                    .append(escape(log.getValue())).append("</pre>");
        }
        return end(h);
    }

    private static void filterForm(StringBuilder h, Filters f) {
        h.append("<form class=\"filters\" method=\"get\" action=\"\">");
        select(h, "outcome", "Outcome", DeliveryOutcome.values(), f.outcome());
        h.append("<label>Project <input name=\"project\" value=\"").append(escape(f.project())).append("\"></label>");
        h.append("<label>Trigger <input name=\"trigger\" value=\"").append(escape(f.trigger())).append("\"></label>");
        select(h, "state", "Job state", JobState.values(), f.state());
        h.append("<button type=\"submit\">Filter</button> <a href=\"./\">clear</a></form><p></p>");
    }

    private static <E extends Enum<E>> void select(StringBuilder h, String name, String label, E[] values, E chosen) {
        h.append("<label>").append(label).append(" <select name=\"").append(name).append("\"><option value=\"\">any"
                + "</option>");
        for (E v : values) {
            h.append("<option").append(v == chosen ? " selected" : "").append(">").append(escape(v.name()))
                    .append("</option>");
        }
        h.append("</select></label>");
    }

    private static void delivery(StringBuilder h, DeliveryRow row) {
        Delivery d = row.delivery();
        h.append("<tr class=\"delivery\" data-id=\"").append(escape(d.id())).append("\"><td>")
                .append(time(d.receivedAt())).append("</td><td>").append(escape(d.endpoint())).append("</td><td>")
                .append(escape(d.summary().buildId())).append("</td><td>").append(escape(d.summary().project()))
                .append("</td><td>").append(escape(d.summary().triggerName())).append("</td><td>")
                .append(escape(d.summary().status())).append("</td><td>").append(outcome(d)).append("</td><td>");
        if (!row.jobs().isEmpty()) {
            h.append("<ul class=\"jobs\">");
            for (Job j : row.jobs()) {
                h.append("<li>").append(jobLink(j.id(), j.ruleName())).append(' ').append(state(j.state()))
                        .append(j.rerunOf() == null ? " " : " <small>(re-run)</small> ");
                actions(h, j);
                h.append("</li>");
            }
            if (row.moreJobs()) {
                h.append("<li class=\"more\">only the newest ").append(row.jobs().size()).append(" jobs are shown: "
                        + "<code>buildhook jobs --delivery ").append(escape(d.id())).append("</code> lists all</li>");
            }
            h.append("</ul>");
        }
        h.append("</td><td>");
        if (d.outcome() == DeliveryOutcome.ACCEPTED) {
            h.append("<button type=\"button\" data-post=\"api/deliveries/").append(escape(d.id()))
                    .append("/replay\">Replay</button>");
        }
        h.append("</td></tr>");
    }

    private static void actions(StringBuilder h, Job j) {
        h.append("<button type=\"button\" data-post=\"api/jobs/").append(escape(j.id()))
                .append("/rerun\">Re-run</button>");
        if (!j.state().isFinal()) {
            h.append(" <button type=\"button\" data-post=\"api/jobs/").append(escape(j.id()))
                    .append("/cancel\">Cancel</button>");
        }
    }

    private static void rules(StringBuilder h, RulesInfo r) {
        h.append("<h2>Rules in force</h2>");
        r.lastError().ifPresent(e -> h.append("<div class=\"error\" id=\"rules-error\"><strong>The last version of the "
                + "rules file was refused</strong>; the rules below stay in force until it is fixed:<pre>")
                .append(escape(e)).append("</pre></div>"));
        h.append("<p>").append(r.snapshots().size()).append(" rule(s) from <code>").append(escape(r.source()))
                .append("</code>, loaded ").append(time(r.loadedAt())).append(".</p><div id=\"rules\">");
        for (Map.Entry<String, String> rule : r.snapshots().entrySet()) {
            h.append("<details><summary>").append(escape(rule.getKey())).append("</summary><pre>")
                    .append(escape(rule.getValue())).append("</pre></details>");
        }
        h.append("</div>");
    }

    private static String outcome(Delivery d) {
        String css = d.outcome() == DeliveryOutcome.ACCEPTED ? "ok" : "bad";
        String reason = d.reason() == null ? "" : " (" + escape(d.reason()) + ")";
        return "<span class=\"" + css + "\">" + escape(d.outcome()) + "</span>" + reason;
    }

    private static String state(JobState s) {
        String css = switch (s) {
            case SUCCEEDED -> "ok";
            case QUEUED, RUNNING -> "run";
            default -> "bad";
        };
        return "<span class=\"state " + css + "\">" + escape(s) + "</span>";
    }

    private static String jobLink(String id) {
        return jobLink(id, id);
    }

    private static String jobLink(String id, String text) {
        return "<a class=\"job\" href=\"?job=" + escape(id) + "\">" + escape(text) + "</a>";
    }

    private static void field(StringBuilder h, String name, String html) {
        h.append("<tr><th>").append(name).append("</th><td>").append(html).append("</td></tr>");
    }

    private static String time(Instant at) {
        return at == null ? "" : "<time datetime=\"" + escape(at) + "\">" + escape(TIME.format(at)) + "</time>";
    }

    private static StringBuilder head(String nonce, String title) {
        return new StringBuilder(8192).append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
                .append(escape(title)).append("</title><style nonce=\"").append(escape(nonce)).append("\">")
                .append(STYLE).append("</style><script nonce=\"").append(escape(nonce)).append("\">").append(SCRIPT)
                .append("</script></head><body>");
    }

    private static String end(StringBuilder h) {
        return h.append("</body></html>\n").toString();
    }
}
