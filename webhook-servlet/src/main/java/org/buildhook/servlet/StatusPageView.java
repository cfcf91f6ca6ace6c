package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;
import static org.buildhook.servlet.StatusFormat.duration;
import static org.buildhook.servlet.StatusFormat.time;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.JobsAtAGlance;
import org.buildhook.runner.store.StoreTrouble;

/**
 * Renders the status page's HTML from stored values. Every value goes through {@link Html#escape};
 * the only script and style are inline blocks carrying the response's CSP nonce. The parts that
 * change carry {@code data-live} and an id: {@link #live} renders them alone for the page's script
 * to swap in, every {@link #POLL_MILLIS} milliseconds.
 */
final class StatusPageView {

    /** How often the open page asks for its live parts, in milliseconds. */
    static final int POLL_MILLIS = 4000;
    /** The job variable holding the build's {@code web_url} (set on every job). */
    static final String WEB_URL = "BUILDHOOK_WEB_URL";
    /** The job variable holding the run's {@code log_url} (set on {@code match: each} jobs). */
    static final String RUN_LOG_URL = "BUILDHOOK_RUN_LOG_URL";

    /**
     * A delivery and its jobs (oldest first; {@code moreJobs} when not all are shown and the others are not
     * counted), as one row of the page; {@code interrupted}: how many attempts of each job (by id) its node cut
     * short, as {@link org.buildhook.runner.store.Store#interruptedAttempts} counts them (a job without any is
     * absent); {@code hidden}: how many of the delivery's other jobs are in each state, which the row says on one
     * line with a link to the delivery's own view; {@code notStarted}: of the interrupted attempts, those its node
     * ended before it ran the command, as {@link org.buildhook.runner.store.Store#notStartedAttempts} counts them.
     */
    record DeliveryRow(Delivery delivery, List<Job> jobs, boolean moreJobs, Map<String, Integer> interrupted,
            Map<JobState, Long> hidden, Map<String, Integer> notStarted) {
        DeliveryRow {
            jobs = List.copyOf(jobs);
            interrupted = Map.copyOf(interrupted);
            hidden = new JobsAtAGlance(List.of(), hidden).hidden();
            notStarted = Map.copyOf(notStarted);
        }

        DeliveryRow(Delivery delivery, List<Job> jobs, boolean moreJobs, Map<String, Integer> interrupted,
                Map<JobState, Long> hidden) {
            this(delivery, jobs, moreJobs, interrupted, hidden, Map.of());
        }

        DeliveryRow(Delivery delivery, List<Job> jobs, boolean moreJobs, Map<String, Integer> interrupted) {
            this(delivery, jobs, moreJobs, interrupted, Map.of());
        }

        DeliveryRow(Delivery delivery, List<Job> jobs, boolean moreJobs) {
            this(delivery, jobs, moreJobs, Map.of());
        }

        DeliveryRow(Delivery delivery, List<Job> jobs) {
            this(delivery, jobs, false);
        }

        /** The row of the list: the shown jobs in the order they were created, the others counted. */
        static DeliveryRow of(Delivery delivery, JobsAtAGlance glance, Map<String, Integer> interrupted,
                Map<String, Integer> notStarted) {
            List<Job> oldestFirst = new java.util.ArrayList<>(glance.shown());
            oldestFirst.sort(java.util.Comparator.comparing(Job::id));
            return new DeliveryRow(delivery, oldestFirst, false, interrupted, glance.hidden(), notStarted);
        }

        /** The first job carrying the build's {@code web_url} (each of its jobs does), whose page links it whole. */
        Optional<Job> webUrlJob() {
            return jobs.stream().filter(j -> j.env().get(WEB_URL) != null && !j.env().get(WEB_URL).isEmpty())
                    .findFirst();
        }
    }

    /** The filters as the page's query parameters gave them (null when not set). */
    record Filters(DeliveryOutcome outcome, String project, String trigger, JobState state, Long build,
            String delivery) {
        static final Filters NONE = new Filters(null, null, null, null, null);

        /** For the list of deliveries, not one delivery's view. */
        Filters(DeliveryOutcome outcome, String project, String trigger, JobState state, Long build) {
            this(outcome, project, trigger, state, build, null);
        }

        /** These filters on one delivery's view ({@code null}: the list). */
        Filters only(String deliveryId) {
            return new Filters(outcome, project, trigger, state, build, deliveryId);
        }

        /** Without the build filter. */
        Filters(DeliveryOutcome outcome, String project, String trigger, JobState state) {
            this(outcome, project, trigger, state, null);
        }

        /** The set filters as URL query parameters ({@code outcome=…&project=…}), so paging keeps them. */
        String query() {
            StringJoiner q = new StringJoiner("&");
            param(q, "outcome", outcome);
            param(q, "project", project);
            param(q, "trigger", trigger);
            param(q, "build", build);
            param(q, "state", state);
            param(q, "delivery", delivery);
            return q.toString();
        }

        private static void param(StringJoiner q, String name, Object value) {
            if (value != null) {
                q.add(name + "=" + URLEncoder.encode(value.toString(), StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * The rules in force: names and snapshots (in the file's order), when they were loaded, the last
     * refused version's error, and (PostgreSQL) what running nodes have other rules than this node.
     */
    record RulesInfo(String source, Instant loadedAt, Map<String, String> snapshots, Optional<String> lastError,
            Optional<String> otherRules, int mistakes) {
        RulesInfo {
            snapshots = Collections.unmodifiableMap(new LinkedHashMap<>(snapshots));
        }

        /** With the refused version's mistakes not counted (the banner then says no number). */
        RulesInfo(String source, Instant loadedAt, Map<String, String> snapshots, Optional<String> lastError,
                Optional<String> otherRules) {
            this(source, loadedAt, snapshots, lastError, otherRules, 0);
        }

        /** With every running node of the cluster (or the only one) having the same rules. */
        RulesInfo(String source, Instant loadedAt, Map<String, String> snapshots, Optional<String> lastError) {
            this(source, loadedAt, snapshots, lastError, Optional.empty());
        }
    }

    /**
     * ": 3 mistakes in rules.yaml" for the refused-rules banner's heading (narrow30: at 360 px the list runs below
     * the window, the number says how far to scroll), or "" when they were not counted.
     */
    static String mistakes(RulesInfo rules) {
        if (rules.mistakes() <= 0) {
            return "";
        }
        String source = rules.source();
        String file = source.substring(source.lastIndexOf('/') + 1);
        return ": " + rules.mistakes() + (rules.mistakes() == 1 ? " mistake" : " mistakes") + " in <code>"
                + escape(file) + "</code>";
    }

    /**
     * What the main page's live parts show: the header, each rule's health, the shared resources, one
     * page of deliveries, why this node starts no jobs, when it does not (it cannot write a folder
     * a job needs: {@code JobEngine.jobsPaused()}), and why the store takes no deliveries while it can
     * still be read ({@link org.buildhook.runner.store.Store#trouble()}), the builds answered 503 that
     * no later delivery stored ({@link RefusedBuilds}: to re-send), and the cluster's nodes ({@link NodesView}; null:
     * no panel).
     */
    record Live(StatusSummary summary, RulesInfo rules, List<RuleHealth> health, List<DeliveryRow> rows,
            StatusPagePaging paging, Filters filters, List<StatusResources.Pool> resources,
            Optional<String> jobsPaused, Optional<StoreTrouble> storeTrouble, RefusedBuilds.View refusedBuilds,
            NodesView nodes) {
        Live {
            health = List.copyOf(health);
            rows = List.copyOf(rows);
            resources = List.copyOf(resources);
        }

        /** Without the Nodes panel. */
        Live(StatusSummary summary, RulesInfo rules, List<RuleHealth> health, List<DeliveryRow> rows,
                StatusPagePaging paging, Filters filters, List<StatusResources.Pool> resources,
                Optional<String> jobsPaused, Optional<StoreTrouble> storeTrouble, RefusedBuilds.View refusedBuilds) {
            this(summary, rules, health, rows, paging, filters, resources, jobsPaused, storeTrouble, refusedBuilds,
                    null);
        }

        /** With no build refused 503 to re-send. */
        Live(StatusSummary summary, RulesInfo rules, List<RuleHealth> health, List<DeliveryRow> rows,
                StatusPagePaging paging, Filters filters, List<StatusResources.Pool> resources,
                Optional<String> jobsPaused, Optional<StoreTrouble> storeTrouble) {
            this(summary, rules, health, rows, paging, filters, resources, jobsPaused, storeTrouble,
                    new RefusedBuilds.View(List.of(), 0));
        }

        /** With a store that takes writes. */
        Live(StatusSummary summary, RulesInfo rules, List<RuleHealth> health, List<DeliveryRow> rows,
                StatusPagePaging paging, Filters filters, List<StatusResources.Pool> resources,
                Optional<String> jobsPaused) {
            this(summary, rules, health, rows, paging, filters, resources, jobsPaused, Optional.empty());
        }

        /** With this node starting jobs. */
        Live(StatusSummary summary, RulesInfo rules, List<RuleHealth> health, List<DeliveryRow> rows,
                StatusPagePaging paging, Filters filters, List<StatusResources.Pool> resources) {
            this(summary, rules, health, rows, paging, filters, resources, Optional.empty());
        }

        /** Without shared resources. */
        Live(StatusSummary summary, RulesInfo rules, List<RuleHealth> health, List<DeliveryRow> rows,
                StatusPagePaging paging, Filters filters) {
            this(summary, rules, health, rows, paging, filters, StatusResources.NONE);
        }
    }

    private StatusPageView() {
    }

    /** Why a console that was signed in asks for the token again: said on the sign-in form and by the live page. */
    static final String SIGN_IN_ENDED = "Your sign-in has ended: a sign-in lasts " + AdminSession.LIFETIME_DAYS
            + " days, and ends at once when admin.token changes.";

    /** The form asking for the admin token; never shows a presented token. */
    static String login(String nonce, boolean refused) {
        return login(nonce, refused, false);
    }

    /**
     * The form asking for the admin token, saying why when the browser presented a cookie this node no longer accepts
     * ({@code signInEnded}: its {@value AdminSession#LIFETIME_DAYS} days are over, {@code admin.token} changed, or it
     * was altered), so a console that asks again is not taken for a fault; never shows a presented token or cookie.
     */
    static String login(String nonce, boolean refused, boolean signInEnded) {
        StringBuilder h = head(nonce, "buildhook: sign in", 0);
        h.append("<main>");
        if (refused) {
            h.append("<p class=\"banner\">That token was not accepted.</p>");
        } else if (signInEnded) {
            h.append("<p class=\"banner\">").append(escape(SIGN_IN_ENDED)).append(" Enter the token again.</p>");
        }
        h.append("<form method=\"post\" action=\"\"><label>Admin token "
                + "<input type=\"password\" name=\"token\" autocomplete=\"current-password\" required></label> "
                + "<button type=\"submit\">Open the status page</button></form>"
                + "<p>The token is the <code>admin.token</code> of buildhook's configuration. With "
                + "<code>token: generate</code> (the shipped configuration) it is the file <code>admin-token</code> in "
                + "buildhook's data folder (<code>data-dir</code>): on the server, <code>cat DATA-DIR/admin-token</code>. "
                + "Signing in keeps, instead of the token, a value derived from it in an HttpOnly cookie, until the "
                + "browser closes and for " + AdminSession.LIFETIME.toDays() + " days after signing in at most, also"
                + " while the page is in use: then it asks for the token again. The browser sends the cookie to every"
                + " port of this host name.</p>");
        return end(h.append("</main>"));
    }

    /** The main page: header, rule health, filters, one page of deliveries with their jobs, the rules in force. */
    static String page(String nonce, Live live) {
        StringBuilder h = head(nonce, "buildhook status", POLL_MILLIS);
        h.append("<main><p id=\"result\" role=\"status\"></p>");
        liveTop(h, live);
        if (live.filters().delivery() != null) {
            h.append("<h2>Delivery <code>").append(escape(live.filters().delivery())).append("</code>")
                    .append(live.filters().state() == null ? " and all its jobs" : " and its "
                            + escape(words(live.filters().state())) + " jobs")
                    .append(" <small><a href=\"./\">all deliveries</a></small></h2>");
        } else {
            h.append(live.paging().before() == null ? "<h2>Recent deliveries</h2>" : "<h2>Older deliveries</h2>");
        }
        filterForm(h, live.filters());
        liveDeliveries(h, live);
        rulesInForce(h, live.rules());
        // Signed-in pages only: the sign-in form does not tell strangers which build runs.
        h.append("<footer class=\"build\" id=\"build\">buildhook ").append(escape(BuildInfo.describe()))
                .append("</footer>");
        return end(h.append("</main>"));
    }

    /** The main page's live parts alone, for the page's script to swap in. */
    static String live(Live live) {
        StringBuilder h = new StringBuilder(16384).append("<!DOCTYPE html><html><body data-poll=\"")
                .append(POLL_MILLIS).append("\">");
        liveTop(h, live);
        liveDeliveries(h, live);
        return h.append("</body></html>\n").toString();
    }

    /** {@code text} with its first letter in upper case, as a sentence begins (tryout20 F7). */
    private static String sentence(String text) {
        return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
    }

    /** {@code text} ending with a full stop, unless it ends with one already (or with {@code !} or {@code ?}). */
    static String ended(String text) {
        return text.isEmpty() || text.endsWith(".") || text.endsWith("!") || text.endsWith("?") ? text : text + ".";
    }

    private static void liveTop(StringBuilder h, Live live) {
        h.append("<div id=\"live-top\" data-live>");
        live.storeTrouble().ifPresent(t -> storeBanner(h, t));
        if (!live.refusedBuilds().isEmpty()) {
            refusedBuilds(h, live.refusedBuilds());
        }
        live.jobsPaused().ifPresent(why -> h.append("<div class=\"banner\" id=\"jobs-paused-banner\" role=\"alert\">"
                + "<strong>This node starts no jobs.</strong> ").append(escape(sentence(why.replaceFirst(
                "^jobs do not start on this node: ", "")))).append(". Deliveries are still"
                + " stored, and their jobs wait (another node of a cluster runs them); this node starts them again by"
                + " itself once the folder can be written: free space on its disk, or fix the folder.</div>"));
        live.rules().lastError().ifPresent(e -> h.append("<div class=\"banner\" id=\"rules-banner\" role=\"alert\">"
                + "<strong>The rules file on disk was refused")
                .append(mistakes(live.rules())).append(".</strong> The rules loaded ")
                .append(time(live.rules().loadedAt())).append(" from <code>").append(escape(live.rules().source()))
                .append("</code> stay in force until it is fixed:<pre>").append(Html.escapeLines(e)).append("</pre></div>"));
        live.rules().otherRules().ifPresent(o -> h.append("<div class=\"banner\" id=\"cluster-rules-banner\""
                + " role=\"alert\"><strong>The cluster's nodes run different rules.</strong> ").append(escape(o))
                .append("</div>"));
        h.append(live.summary().html());
        h.append("<h2>Rules <small>the last ").append(StatusPageServlet.RULE_HISTORY)
                .append(" jobs of each</small></h2><div class=\"scroll-x\"><table id=\"rule-health\"><thead><tr><th>Rule</th><th>Last job</th>"
                + "<th>Succeeded</th><th>Duration p50 / p95 against the timeout</th><th>Recent jobs</th></tr></thead>"
                + "<tbody>");
        if (live.health().isEmpty()) {
            h.append("<tr><td colspan=\"5\">No rules in force.</td></tr>");
        }
        for (RuleHealth r : live.health()) {
            ruleRow(h, r);
        }
        // In its own box like the deliveries: a window narrower still scrolls the table, not the page.
        h.append("</tbody></table></div>");
        StatusResources.render(h, live.resources());
        StatusNodes.render(h, live.nodes());
        h.append("</div>");
    }

    /**
     * The red banner of a store that can be read but takes no delivery (tryout22 F2: the page said nothing
     * while every delivery was answered 503): what it means since when, the words of {@code /healthz} and
     * of the log, what the log says besides (the file, what to do), and that it goes away by itself.
     */
    private static void storeBanner(StringBuilder h, StoreTrouble t) {
        h.append("<div class=\"banner\" id=\"store-banner\" role=\"alert\"><strong>")
                .append(t.deliveriesRefused() ? "Deliveries are answered 503" : "Jobs are not started on this node");
        if (t.since() != null) {
            h.append(" since ").append(time(t.since()));
        }
        h.append(t.deliveriesRefused() ? ", and jobs are not started.</strong> " : "; deliveries are still stored.</strong> ")
                .append("<span id=\"store-reason\">").append(escape(sentence(t.reason())))
                .append(".</span>");
        if (t.detail() != null) {
            h.append(" <span id=\"store-detail\">").append(escape(t.detail())).append(".</span>");
        }
        if (t.deliveriesRefused()) {
            h.append(" JobServ sends each refused delivery again for about 7 s only: a build still refused after"
                    + " that is lost until it is sent again. The list <em>Builds to re-send</em> below names each"
                    + " one (and the server log, <code>not stored, answering 503</code>).");
        }
        h.append(" Queued jobs wait. This banner goes away by itself once the store takes writes again.</div>");
    }

    /** Shown at most on the page; the API lists all ({@code GET /api/refused-builds}). */
    static final int REFUSED_SHOWN = 50;

    /**
     * The panel of the builds answered 503 that no later delivery stored (tryout26 F4: after the outage they
     * were on no page): it stays after the store is back, until dismissed (its button, as the approvals', calls
     * {@code DELETE /api/refused-builds} with the admin cookie and the page's CSRF header; outage26) or the server
     * restarts, which it says, with where the full list is.
     */
    private static void refusedBuilds(StringBuilder h, RefusedBuilds.View v) {
        int n = v.builds().size();
        h.append("<div class=\"banner\" id=\"refused-builds\" role=\"alert\"><strong>Builds to re-send: ").append(n)
                .append(n == 1 ? " build was" : " builds were").append(" answered 503 (the store could not take them)"
                + " and no later delivery stored ").append(n == 1 ? "it" : "them").append(".</strong>");
        if (v.dropped() > 0) {
            h.append(" <span id=\"refused-dropped\">").append(v.dropped()).append(" more, refused before them, were"
                    + " dropped from this list (it keeps the last ").append(RefusedBuilds.LIMIT)
                    .append("): the server log names them.</span>");
        }
        h.append(" Have JobServ send each again; a build stored later leaves the list by itself. This list is kept in"
                + " memory: a restart of the server forgets it (the server log keeps every one, <code>not stored,"
                + " answering 503</code>). Dismiss it here, with <code>buildhook refused-builds --dismiss</code> or"
                + " with <code>DELETE /api/refused-builds</code>. <button type=\"button\" class=\"dismiss\""
                + " data-post=\"api/refused-builds\" data-method=\"DELETE\">Dismiss</button>");
        if (n > 0) {
            h.append("<div class=\"scroll-x\"><table id=\"refused-builds-list\"><thead><tr><th>Endpoint</th><th>Build</th>"
                    + "<th>Project</th><th>Status</th><th>Trigger</th><th>Last refused</th><th>503s</th></tr></thead>"
                    + "<tbody>");
            List<RefusedBuilds.Build> builds = v.builds();
            for (RefusedBuilds.Build b : builds.subList(Math.max(0, n - REFUSED_SHOWN), n)) {
                h.append("<tr><td>").append(escape(b.endpoint())).append("</td><td class=\"num\">").append(b.buildId())
                        .append("</td><td>").append(escape(b.project())).append("</td><td>")
                        .append(escape(String.valueOf(b.status()))).append("</td><td>")
                        .append(escape(String.valueOf(b.trigger()))).append("</td><td>").append(time(b.last()))
                        .append("</td><td class=\"num\">").append(b.refusals()).append("</td></tr>");
            }
            h.append("</tbody></table></div>");
            if (n > REFUSED_SHOWN) {
                h.append("<p>The last ").append(REFUSED_SHOWN).append(" shown; <code>GET /api/refused-builds</code>"
                        + " lists all ").append(n).append(".</p>");
            }
        }
        h.append("</div>");
    }

    private static void ruleRow(StringBuilder h, RuleHealth r) {
        // A follow-up step is indented under its rule (or step), with its own last job and success share.
        int depth = Math.min(r.depth(), 3);
        h.append("<tr class=\"rule").append(depth > 0 ? " step" : "").append("\" data-rule=\"").append(escape(r.rule()))
                .append("\"><td").append(depth > 0 ? " class=\"step" + depth + "\">&#8627;&nbsp;" : ">").append("<code>")
                .append(escape(r.rule())).append("</code></td><td>");
        r.last().ifPresentOrElse(t -> h.append(chip(t.state())).append(' ').append(jobLink(t.jobId(), "open")),
                () -> h.append("<span class=\"muted\">no job yet</span>"));
        h.append("</td><td class=\"num\">").append(r.successRate().map(s -> StatusFormat.percent(s) + " <small>of "
                + r.decided() + "</small>").orElse("<span class=\"muted\">–</span>")).append("</td><td class=\"durations\">");
        Optional<Duration> p50 = r.percentile(50);
        Optional<Duration> p95 = r.percentile(95);
        if (p50.isPresent() && p95.isPresent() && r.timeout().isPresent()) {
            // The figures wrap under their gauge in a narrow window, so the page does not scroll sideways
            // (tryout21 F8.8); each stays on one line.
            h.append(RuleCharts.gauge(p50.get(), p95.get(), r.timeout().get())).append(' ').append("<span>")
                    .append(duration(p50.get())).append(" / ").append(duration(p95.get())).append(" of ")
                    .append(duration(r.timeout().get())).append("</span>");
        } else {
            r.timeout().ifPresent(t -> h.append("timeout ").append(duration(t)));
        }
        h.append("</td><td>");
        if (!r.recent().isEmpty()) {
            h.append(RuleCharts.history(r.recent()));
        }
        h.append("</td></tr>");
    }

    private static void liveDeliveries(StringBuilder h, Live live) {
        h.append("<div id=\"live-deliveries\" class=\"scroll-x\" data-live><table id=\"deliveries\" class=\"delivery-list\"><thead><tr><th>Received</th>"
                + "<th>Endpoint</th><th>Build</th><th>Project</th><th>Trigger</th><th>Status</th><th>Outcome</th>"
                + "<th>Jobs</th><th></th></tr></thead><tbody>");
        if (live.rows().isEmpty()) {
            h.append("<tr><td colspan=\"9\">").append(live.paging().older() == null ? "No deliveries match."
                    : "No deliveries on this page match; older ones may.").append("</td></tr>");
        }
        for (DeliveryRow row : live.rows()) {
            delivery(h, row);
        }
        h.append("</tbody></table>").append(live.paging().links(live.filters().query())).append("</div>");
    }

    private static void filterForm(StringBuilder h, Filters f) {
        h.append("<form class=\"filters\" method=\"get\" action=\"\">");
        select(h, "outcome", "Outcome", DeliveryOutcome.values(), f.outcome());
        h.append("<label>Project <input name=\"project\" value=\"").append(escape(f.project())).append("\"></label>");
        h.append("<label>Trigger <input name=\"trigger\" value=\"").append(escape(f.trigger())).append("\"></label>");
        h.append("<label>Build <input name=\"build\" inputmode=\"numeric\" size=\"8\" value=\"")
                .append(f.build() == null ? "" : f.build().toString()).append("\"></label>");
        select(h, "state", "Job state", JobState.values(), f.state());
        if (f.delivery() != null) {
            h.append("<input type=\"hidden\" name=\"delivery\" value=\"").append(escape(f.delivery())).append("\">");
        }
        h.append("<button type=\"submit\">Filter</button> <a href=\"./\">clear</a></form>");
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
        String build = escape(d.summary().buildId());
        String buildLink = row.webUrlJob().map(j -> SafeLinks.listLink(j.env().get(WEB_URL), build, "ext build", j.id()))
                .orElse("");
        // Each cell's class names its column: the style wraps its long values and, in a narrow window, labels them
        // (tryout25 F10; never clips them: page29).
        h.append("<tr class=\"delivery ").append(StatusTone.of(d.outcome()).css()).append("\" data-id=\"")
                .append(escape(d.id())).append("\"><td class=\"received\">").append(StatusFormat.timeWrapping(d.receivedAt()))
                .append("</td><td class=\"endpoint\">").append(Html.clipped(d.endpoint())).append("</td><td class=\"build\">")
                .append(buildLink.isEmpty() ? build : buildLink)
                // Payload strings, up to 65,536 characters each: clipped in the list, whole on the job's page (tryout24 F3).
                .append("</td><td class=\"project\">").append(Html.clipped(d.summary().project()))
                .append("</td><td class=\"trigger\">").append(Html.clipped(d.summary().triggerName()))
                .append("</td><td class=\"status\">").append(Html.clipped(d.summary().status()))
                .append("</td><td class=\"outcome\">").append(outcome(d)).append("</td><td class=\"jobs\">");
        if (!row.jobs().isEmpty()) {
            h.append("<ul class=\"jobs\">");
            for (Job j : row.jobs()) {
                jobLine(h, j, row.interrupted().getOrDefault(j.id(), 0), row.notStarted().getOrDefault(j.id(), 0),
                        d.summary());
            }
            if (!row.hidden().isEmpty()) {
                hiddenJobs(h, d.id(), row);
            }
            if (row.moreJobs()) {
                h.append("<li class=\"more\">only the newest ").append(row.jobs().size()).append(" jobs are shown: "
                        + "<code>buildhook jobs --delivery ").append(escape(d.id())).append("</code> lists all</li>");
            }
            h.append("</ul>");
        }
        h.append("</td><td>");
        if (d.outcome() == DeliveryOutcome.ACCEPTED) {
            // A replay starts commands (every ungated rule's job): it asks first, as Approve does (tryout34 F4).
            String named = build(d.summary().buildId(), d.summary().project());
            // Its preview says when it runs an older build over a newer one that succeeded (confirm34): so does the
            // question.
            h.append("<button type=\"button\" data-post=\"api/deliveries/").append(escape(d.id()))
                    .append("/replay\" data-preview=\"api/deliveries/").append(escape(d.id()))
                    .append("/replay-warnings\" data-confirm=\"").append(escape("Replay delivery " + d.id()
                            + (named.isEmpty() ? "" : " (" + named + ")") + "? Every rule that matches this delivery"
                            + " plans its jobs again, under the rules in force now."))
                    .append("\">Replay</button>");
        }
        cancelDelivery(h, row);
        h.append("</td></tr>");
    }

    /** The states of a job that has not ended, whose jobs a delivery's Cancel cancels. */
    private static final java.util.Set<JobState> NOT_ENDED = java.util.EnumSet.of(JobState.QUEUED, JobState.WAITING,
            JobState.AWAITING_APPROVAL, JobState.RUNNING);

    /**
     * How many jobs of the row's delivery the page knows have not ended and have no cancel requested yet: its shown
     * jobs so, and its other jobs counted in a state not ended.
     */
    static long toCancel(DeliveryRow row) {
        long shown = row.jobs().stream().filter(j -> !j.state().isFinal() && !j.cancelRequested()).count();
        long hidden = row.hidden().entrySet().stream().filter(e -> NOT_ENDED.contains(e.getKey()))
                .mapToLong(Map.Entry::getValue).sum();
        return shown + hidden;
    }

    /**
     * The delivery's Cancel (tryout47b F17, delcancel50): every job of it not ended, in one request ({@code POST
     * api/deliveries/{id}/cancel}, what {@code buildhook cancel --delivery} asks), as the per-job Cancel asks for one
     * (the admin cookie and the page's CSRF header; {@link AdminAuth}). Shown while the page knows of a job of it not
     * ended and not being cancelled; it asks first, naming how many jobs and the delivery's build, and the page then
     * says the answer's counts. The count it names is the page's as drawn ({@code (2 when this page was drawn)}): the
     * request cancels every job of the delivery not ended when it is made, also one made since (a re-run, a replay). The follow-ups these cancels start ({@code on-cancel}) run, as they do after a cancel
     * of one job.
     */
    private static void cancelDelivery(StringBuilder h, DeliveryRow row) {
        long n = toCancel(row);
        if (n == 0) {
            return;
        }
        Delivery d = row.delivery();
        String named = build(d.summary().buildId(), d.summary().project());
        // What the page knew when it was drawn: the POST cancels every job of the delivery not ended then, also one
        // made since (a re-run, a replay: the same delivery), so the count is said as of the drawing (review50b R10).
        String jobs = (row.moreJobs() ? "at least " : "") + n + " when this page was drawn";
        h.append(" <button type=\"button\" class=\"cancel-delivery\" data-post=\"api/deliveries/").append(escape(d.id()))
                .append("/cancel\" data-confirm=\"").append(escape("Cancel the jobs of delivery " + d.id()
                        + (named.isEmpty() ? "" : " (" + named + ")") + " that have not ended (" + jobs
                        + ")? Running commands are"
                        + " stopped; the others do not start. Their on-cancel follow-ups run. This cannot be undone."))
                .append("\" title=\"").append(escape("Cancel every job of this delivery that has not ended (" + jobs
                        + ")")).append("\">Cancel jobs</button>");
    }

    /**
     * The line under a delivery's shown jobs: how many others there are in each state (most pressing first), each
     * linking the delivery's view of the jobs in that state, and a link to the view of all its jobs.
     */
    private static void hiddenJobs(StringBuilder h, String deliveryId, DeliveryRow row) {
        long hidden = row.hidden().values().stream().mapToLong(Long::longValue).sum();
        String view = "?delivery=" + escape(deliveryId);
        h.append("<li class=\"more\" data-hidden=\"").append(hidden).append("\">").append(hidden)
                .append(row.jobs().isEmpty() ? " jobs: " : " more: ");
        StringJoiner counts = new StringJoiner(", ");
        for (List<JobState> group : JobsAtAGlance.PRIORITY) {
            for (JobState s : group) {
                Long n = row.hidden().get(s);
                if (n != null) {
                    counts.add("<a class=\"count " + StatusTone.of(s).css() + "\" data-state=\"" + s.name() + "\" href=\""
                            + view + "&amp;state=" + s.name() + "\">" + n + " " + escape(words(s)) + "</a>");
                }
            }
        }
        h.append(counts).append(" &middot; <a class=\"all-jobs\" href=\"").append(view).append("\">all ")
                .append(row.jobs().size() + hidden).append(" jobs&nbsp;&rsaquo;</a></li>");
    }

    /** A state as the page writes it in a sentence: {@code AWAITING_APPROVAL} is "awaiting approval". */
    static String words(JobState s) {
        return s.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }

    private static void jobLine(StringBuilder h, Job j, int interrupted, int notStarted, DeliverySummary delivery) {
        h.append("<li class=\"job-line\" data-job=\"").append(escape(j.id())).append("\">")
                .append(jobLink(j.id(), j.ruleName()));
        if (j.runName() != null) {
            String run = Html.cut(j.runName(), Html.LIST_WIDTH);
            // A run name can be 65,536 characters: clipped here (its first 1000 in the title), whole on the job's page (tryout24 F3).
            h.append(" <span class=\"run\" title=\"run").append(run.equals(j.runName()) ? ""
                    : ": " + escape(Html.cut(j.runName(), Html.TITLE_WIDTH))).append("\">").append(escape(run)).append("</span>");
        }
        h.append(' ').append(chip(j.state(), j.message()));
        jobDuration(j).map(StatusFormat::duration).or(() -> endUnknown(j) ? Optional.of("unknown") : Optional.empty())
                .ifPresent(d -> h.append(" <span class=\"dur\">").append(d).append("</span>"));
        attempts(h, j, interrupted, notStarted);
        if (j.rerunOf() != null) {
            h.append(" <small>(re-run)</small>");
        }
        String log = SafeLinks.listLink(j.env().get(RUN_LOG_URL), "run log&nbsp;&#8599;", "ext log", j.id());
        if (!log.isEmpty()) {
            h.append(' ').append(log);
        }
        h.append(' ');
        actions(h, j, delivery);
        h.append("</li>");
    }

    /**
     * A job's attempts on its line, when it had more than one or one was cut short: a job run again after a
     * restart is on its second attempt, and its first was interrupted (tryout20 F7), in the words of
     * {@code buildhook jobs}' ATTEMPTS and of the job's page: one its node ended before it ran the command is "not
     * started", not "interrupted" (tryout42 F10; the list said "(1 interrupted)" for it until 2026-12-05). A job on
     * its first attempt shows none.
     */
    private static void attempts(StringBuilder h, Job j, int interrupted, int notStarted) {
        if (j.attempts() > 1 || interrupted > 0) {
            h.append(" <span class=\"attempts\" title=\"attempts: every one, with those its node cut short (a stop,"
                    + " a node that died) or ended before their command started, which use no retry\">attempts ")
                    .append(escape(Job.attemptsText(j.attempts(), interrupted, notStarted))).append("</span>");
        }
    }

    /** How the status page writes a time or a duration nobody recorded. */
    static final String UNKNOWN = "<span class=\"unknown\">unknown</span>";

    /**
     * Whether the job ended after an attempt whose end nobody recorded (its node died on another host):
     * its duration is shown as "unknown", never as nothing, nor as the time until it was concluded.
     */
    static boolean endUnknown(Job j) {
        return j.state().isFinal() && j.startedAt() != null && j.endedAt() == null;
    }

    /** How long the job's last attempt has run: until it ended, or until now while it runs. */
    static Optional<Duration> jobDuration(Job j) {
        if (j.startedAt() == null) {
            return Optional.empty();
        }
        Instant end = j.endedAt() != null ? j.endedAt() : j.state() == JobState.RUNNING ? Instant.now() : null;
        return end == null || end.isBefore(j.startedAt()) ? Optional.empty()
                : Optional.of(Duration.between(j.startedAt(), end));
    }

    /** The buttons of a job ({@link #actions(StringBuilder, Job, DeliverySummary)}) with its delivery unknown. */
    static void actions(StringBuilder h, Job j) {
        actions(h, j, DeliverySummary.NONE);
    }

    /**
     * The buttons of a job: Re-run for a job that has ended; Cancel (and Approve, Reject while it awaits an
     * approval) for one that has not. A re-run of a job that has not run yet is a second job of the same
     * build beside it, so approving both ran the build twice (tryout16 F8): the page no longer offers it.
     * No Cancel once a cancel was requested (the state says "cancel requested"; tryout21 F8.3). Approve, Reject
     * and Cancel cannot be undone, and Re-run starts the command again, so each asks first ({@code data-confirm},
     * naming the job's rule and id, its build and project when known, and what it does), as Forget does: one stray
     * click or tap on a phone approved a production deploy (tryout33 F10), and one re-ran an old build's deploy over
     * the newer one (tryout34 F4). Approve and Re-run ask their previews ({@code data-preview}) first, and their
     * question adds what those warn of: a rule not in force (tryout39 F6), an older build over a newer one (confirm34).
     *
     * @param delivery the job's delivery's summary, for its build and project ({@link DeliverySummary#NONE} when
     *                 unknown: the build is then the one the job was planned for, if recorded)
     */
    static void actions(StringBuilder h, Job j, DeliverySummary delivery) {
        String build = build(delivery.buildId() != null ? delivery.buildId() : j.workflow().buildId(),
                delivery.project());
        String job = "job " + j.ruleName() + " (" + j.id() + ")" + (build.isEmpty() ? "" : ", " + build);
        if (j.state().isFinal()) {
            // A re-run is never superseded: of a job a newer build's superseded, it runs the older build again.
            String what = (j.workflow().approvalExpiry() != null
                    ? "It runs again as a new job once approved (it awaits an approval first)."
                    : "Its command runs again now as a new job.")
                    + (j.supersededBy() == null ? "" : " A newer build's job (" + j.supersededBy() + ") superseded"
                            + " this one: a re-run is not superseded, so this runs the older build again.");
            h.append("<button type=\"button\" data-post=\"api/jobs/").append(escape(j.id()))
                    .append("/rerun\" data-preview=\"api/jobs/").append(escape(j.id()))
                    .append("/rerun-warnings\" data-confirm=\"").append(escape("Re-run " + job + "? " + what))
                    .append("\">Re-run</button>");
        }
        if (j.state() == JobState.AWAITING_APPROVAL) {
            // tryout39 F6: its preview says when its rule is not in force (it runs its stored command): so does the
            // question.
            h.append(" <button type=\"button\" class=\"approve\" data-post=\"api/jobs/").append(escape(j.id()))
                    .append("/approve\" data-preview=\"api/jobs/").append(escape(j.id()))
                    .append("/approve-warnings\" data-confirm=\"").append(escape("Approve " + job
                            + "? It starts as soon as its rule allows; this cannot be undone."))
                    .append("\">Approve</button> <button type=\"button\" class=\"reject\" data-post=\"api/jobs/")
                    .append(escape(j.id())).append("/reject\" data-confirm=\"").append(escape("Reject " + job
                            + "? It does not run; this cannot be undone."))
                    .append("\">Reject</button>");
        }
        if (!j.state().isFinal() && !j.cancelRequested()) {
            String what = j.state() == JobState.RUNNING ? "Its running command is stopped."
                    : "It does not start.";
            h.append(" <button type=\"button\" data-post=\"api/jobs/").append(escape(j.id()))
                    .append("/cancel\" data-confirm=\"").append(escape("Cancel " + job + "? " + what
                            + " This cannot be undone."))
                    .append("\">Cancel</button>");
        }
    }

    /**
     * A build as the confirm dialogs name it: {@code build 412 of andy-corp/lmp}, {@code build 412}, {@code project
     * andy-corp/lmp}, or empty when neither is known (a delivery stored before schema version 2).
     */
    static String build(Long buildId, String project) {
        if (buildId == null) {
            return project == null ? "" : "project " + project;
        }
        return "build " + buildId + (project == null ? "" : " of " + project);
    }

    private static void rulesInForce(StringBuilder h, RulesInfo r) {
        h.append("<h2>Rules in force</h2>");
        r.lastError().ifPresent(e -> h.append("<p class=\"tone-bad\" id=\"rules-error\">The last version of the "
                + "rules file was refused (see the top of the page); the rules below stay in force until it is fixed."
                + "</p>"));
        h.append("<p>").append(r.snapshots().size()).append(" rule(s) from <code>").append(escape(r.source()))
                .append("</code>, loaded ").append(time(r.loadedAt())).append(".</p><div id=\"rules\">");
        for (Map.Entry<String, String> rule : r.snapshots().entrySet()) {
            h.append("<details><summary>").append(escape(rule.getKey())).append("</summary><pre>")
                    .append(Html.escapeLines(rule.getValue())).append("</pre></details>");
        }
        h.append("</div>");
    }

    private static String outcome(Delivery d) {
        String html = "<span class=\"chip " + StatusTone.of(d.outcome()).css() + "\">" + escape(d.outcome()) + "</span>";
        if (d.duplicateOf() != null) {
            html += " <small>of <code>" + escape(d.duplicateOf()) + "</code></small>";
        }
        return d.reason() == null ? html : html + " <small>" + escape(d.reason()) + "</small>";
    }

    static String chip(JobState s) {
        return "<span class=\"chip state " + StatusTone.of(s).css() + "\">" + escape(s) + "</span>";
    }

    /** The state's chip with {@code message} (the job's last word: "exited with 1" …) as its tooltip, if any. */
    static String chip(JobState s, String message) {
        return message == null || message.isBlank() ? chip(s) : "<span class=\"chip state " + StatusTone.of(s).css()
                + "\" title=\"" + Html.escapeMessage(message) + "\">" + escape(s) + "</span>";
    }

    static String jobLink(String id, String text) {
        return "<a class=\"job\" href=\"?job=" + escape(id) + "\">" + escape(text) + "</a>";
    }

    /**
     * Why an open page's live part is not the status (it answers 503 while the store does not answer): the script
     * shows it in the page's header, and keeps polling. JobServ retries a delivery after 1, 2 and 4 s only (about
     * 7 s, DESIGN.md; {@code jobserv-send} does as it does), so it does not say that JobServ sends them again
     * (tryout29 F3): a build refused is listed on the page, in the outage's part, to be sent again.
     */
    static final String STORE_UNAVAILABLE_LIVE = "the store does not answer (see /healthz and the server log);"
            + " webhooks are answered 503 and JobServ tries each again for about 7 s only: builds refused are"
            + " listed on this page";

    /**
     * The page answered (503) instead of the status page or a job's page while the store does not answer:
     * what it means, where to look, and that it tries again by itself. Its script polls like the status
     * page ({@link #POLL_MILLIS}) and loads the page asked for as soon as the store answers again.
     */
    static String storeUnavailable(String nonce) {
        return storeUnavailable(nonce, java.util.Optional.empty(), new RefusedBuilds.View(List.of(), 0));
    }

    /**
     * As {@link #storeUnavailable(String)}, with what the node knows of why ({@link
     * org.buildhook.runner.store.Store#trouble()}, e.g. a PostgreSQL table locked by another session), escaped,
     * as the status page's store banner says it (signed-in readers only), and the panel of the builds to re-send
     * when this node holds any ({@link RefusedBuilds}, in memory: it needs no store; outage26), with its Dismiss
     * button. That part of the page updates live ({@link #storeUnavailableLive}), as the status page's do.
     */
    static String storeUnavailable(String nonce, java.util.Optional<org.buildhook.runner.store.StoreTrouble> trouble,
            RefusedBuilds.View refused) {
        return storeUnavailable(nonce, trouble, refused, null);
    }

    /**
     * What a cluster node's page adds while its store does not answer (cluster27 F3: it said only that jobs start
     * once the store answers, not that its own running jobs were killed and run by the other nodes).
     *
     * @param fenced    the jobs this node killed itself (self-fencing) since its store last answered, with when
     * @param deadLimit the dead-node limit, after which the other nodes run them again
     */
    record ClusterOutage(java.util.Map<String, Instant> fenced, java.time.Duration deadLimit) {
        ClusterOutage {
            fenced = java.util.Map.copyOf(fenced);
        }
    }

    /** As above; {@code cluster}: on PostgreSQL, what became of this node's jobs (null on SQLite). */
    static String storeUnavailable(String nonce, java.util.Optional<org.buildhook.runner.store.StoreTrouble> trouble,
            RefusedBuilds.View refused, ClusterOutage cluster) {
        StringBuilder h = head(nonce, "buildhook: the store does not answer", POLL_MILLIS, true);
        h.append("<main><p id=\"result\" role=\"status\"></p>");
        outage(h, trouble, refused, cluster);
        return end(h.append("<p>Where to look: <a href=\"healthz\"><code>/healthz</code></a> names the cause (the database"
                + " refuses connections, does not answer, …); the server log has the store's error.</p>"
                + "<p>This page tries again every " + POLL_MILLIS / 1000 + " seconds by itself and shows the"
                + " status as soon as the store answers: there is no need to reload it.</p></main>"));
    }

    /**
     * The live part (503) of a page, or of the page above, while the store does not answer: its body's {@code
     * data-unavailable} says why ({@link #STORE_UNAVAILABLE_LIVE}, and the node's reason when it knows one), which
     * the script shows in the header; its {@code [data-live]} part, what the page above shows that changes while it
     * is open (the store's reason, the builds refused meanwhile, the jobs this node killed itself), which the
     * script swaps there as on the status page (page29: a build refused while that page was open appeared only
     * after a reload). The status page and a job's page opened before the outage have no such part: their script
     * shows it at the top of the page while the live part answers 503, and takes it away once it answers 200
     * (tryout29 F3: their builds refused meanwhile were shown only once the store answered, after JobServ's
     * retries).
     */
    static String storeUnavailableLive(java.util.Optional<org.buildhook.runner.store.StoreTrouble> trouble,
            RefusedBuilds.View refused, ClusterOutage cluster) {
        StringBuilder h = new StringBuilder(4096).append("<!DOCTYPE html><html><body data-unavailable=\"")
                .append(escape(STORE_UNAVAILABLE_LIVE + trouble.map(t -> " (" + t.reason() + ")").orElse("")))
                .append("\">");
        outage(h, trouble, refused, cluster);
        return end(h);
    }

    /**
     * The part of the outage's page that changes while it is open, in a {@code [data-live]} of its own, with its
     * heading: a page opened before the outage shows it whole at its top (its words fit both pages).
     */
    private static void outage(StringBuilder h, java.util.Optional<org.buildhook.runner.store.StoreTrouble> trouble,
            RefusedBuilds.View refused, ClusterOutage cluster) {
        // Each part a sentence of its own: "…; see the server log Since …" was glued (cluster27 F5).
        h.append("<div id=\"store-outage\" data-live><h2>The store does not answer</h2>"
                + "<p class=\"banner\">buildhook cannot read its store, the database that holds deliveries and jobs,"
                + " so the status cannot be shown or updated now.</p>").append(trouble.map(t -> "<p class=\"banner\" id=\"store-banner\">"
                + escape(ended(sentence(t.reason()))) + (t.since() == null ? "" : " Since " + time(t.since()) + ".")
                // The page's one way of writing a time, and the detail a sentence of its own (tryout50 F7: a raw
                // instant to the nanosecond, then "… . the store gives this node no connection").
                + (t.detail() == null ? "" : " " + escape(ended(sentence(t.detail())))) + "</p>").orElse(""));
        if (!refused.isEmpty()) {
            refusedBuilds(h, refused);
        }
        h.append("<p>Until the store answers again, every webhook is answered <code>503</code> with"
                + " <code>Retry-After</code>, and JobServ sends it again after 1, 2 and 4 s, for about 7 s only;"
                + " a build refused is listed here, in <em>Builds to re-send</em>")
                .append(refused.isEmpty() ? ". None has been refused so far: no delivery is lost." : ": have JobServ"
                        + " send them again.")
                .append(" Jobs start only once the store answers.")
                .append(cluster == null ? "" : " The other nodes of the cluster that reach it run the queued jobs"
                        + " meanwhile.")
                .append("</p>")
                .append(cluster == null ? "" : fenced(cluster)).append("</div>");
    }

    /** Shown at most of the jobs this node fenced; the server log names every one. */
    static final int FENCED_SHOWN = 20;

    /** The paragraph of the jobs this node killed itself, and who runs them; nothing when it killed none. */
    private static String fenced(ClusterOutage cluster) {
        if (cluster.fenced().isEmpty()) {
            return "";
        }
        List<Map.Entry<String, Instant>> jobs = cluster.fenced().entrySet().stream()
                .sorted(Map.Entry.comparingByValue()).toList();
        StringBuilder h = new StringBuilder("<p class=\"banner\" id=\"fenced-jobs\"><strong>This node killed the"
                + " commands of ").append(jobs.size()).append(" running job(s) itself</strong> (self-fencing: it could"
                + " not write their heartbeats, so it may no longer hold them). The other nodes of the cluster run them"
                + " again once this node has not been heard from for the dead-node limit (")
                .append(escape(StatusFormat.duration(cluster.deadLimit()))).append("); their status page's Nodes panel"
                + " shows this node as not heard from, and its jobs taken over. Killed: ");
        for (int i = 0; i < Math.min(jobs.size(), FENCED_SHOWN); i++) {
            h.append(i == 0 ? "" : ", ").append("<code>").append(escape(jobs.get(i).getKey())).append("</code> at ")
                    .append(time(jobs.get(i).getValue()));
        }
        if (jobs.size() > FENCED_SHOWN) {
            h.append(" and ").append(jobs.size() - FENCED_SHOWN).append(" more (the server log names each)");
        }
        return h.append(".</p>").toString();
    }

    /** The document up to the start of the body; a {@code pollMillis} above 0 starts the live updates. */
    static StringBuilder head(String nonce, String title, int pollMillis) {
        return head(nonce, title, pollMillis, false);
    }

    /**
     * As {@link #head(String, String, int)}, with the body's attributes that say how the page polls written as they
     * are ({@code bodyAttributes}: markup, each with its leading space, such as {@code  data-poll="2000"}).
     */
    static StringBuilder head(String nonce, String title, String bodyAttributes) {
        return new StringBuilder(16384).append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
                .append(escape(title)).append("</title><style nonce=\"").append(escape(nonce)).append("\">")
                .append(StatusPageAssets.STYLE).append("</style><script nonce=\"").append(escape(nonce)).append("\">")
                .append(StatusPageAssets.SCRIPT).append("</script></head><body").append(bodyAttributes)
                .append("><header class=\"top\"><h1><a href=\"./\">buildhook</a></h1><span>status</span>"
                        + "<span id=\"live-status\" role=\"status\"></span></header>");
    }

    /**
     * As {@link #head(String, String, int)}; {@code reloadWhenLive}: the page stands in for another
     * (the store did not answer), which its script loads once a poll of the live part succeeds.
     */
    private static StringBuilder head(String nonce, String title, int pollMillis, boolean reloadWhenLive) {
        return head(nonce, title, (pollMillis > 0 ? " data-poll=\"" + pollMillis + "\"" : "")
                + (reloadWhenLive ? " data-reload-when-live=\"1\"" : ""));
    }

    static String end(StringBuilder h) {
        return h.append("</body></html>\n").toString();
    }
}
