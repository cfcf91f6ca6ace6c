package org.buildhook.servlet;

import org.buildhook.core.IoProblems;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import org.buildhook.runner.exec.JobLogs;
import org.buildhook.runner.exec.LogNotes;
import org.buildhook.runner.store.ActionQuery;
import org.buildhook.runner.store.AdminAction;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.DeliveryQuery;
import org.buildhook.runner.store.Ids;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.JobTiming;
import org.buildhook.runner.store.JobsAtAGlance;
import org.buildhook.runner.store.Page;
import org.buildhook.runner.store.Redaction;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status page at the context root, an operator's console: a header of the last 24 hours and of
 * now (deliveries and jobs by outcome, failures, queue, running jobs, refused signatures), a banner
 * while the rules file on disk is refused, each rule's health as small charts, the latest deliveries
 * with their jobs (an "Older" link pages back through the rest, {@code ?before=<id>} as the admin
 * API's cursor), a job's plan, attempts and live log tail, the rules in force.
 *
 * <p>The open page stays current without a reload: its script polls the same address with
 * {@code part=live} added, which answers only the parts that change (plain requests, so it works
 * the same behind any container or proxy and holds no thread between polls).
 *
 * <p>Authenticated like the admin API; {@code GET /?token=…} (or the page's form) checks the token, puts a value
 * derived from it ({@link AdminSession}, not the token) in an HttpOnly, SameSite=Strict cookie and redirects to the same page without the token (its other
 * parameters kept). Without a configured admin token it answers 404, as if absent.
 */
public final class StatusPageServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(StatusPageServlet.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Deliveries per page; the "Older" link pages back through the rest. */
    private static final int DELIVERIES = 50;
    /**
     * The job lines of a delivery in the list (its most pressing jobs); a line counts the others by state and
     * links the delivery's own view. 50 deliveries of 100 jobs made every live update 3 MB (page26).
     */
    static final int JOBS_PER_DELIVERY = 10;
    /** The newest jobs a delivery's own view ({@code ?delivery=ID}) shows; one with more says how to list them all. */
    static final int JOBS_OF_ONE_DELIVERY = 500;
    /** The newest follow-ups shown on a job's page; a job with more says how to list them all. */
    private static final int FOLLOW_UPS = 100;
    /** The most audit-trail entries a job's page shows (its newest). */
    private static final int ACTIONS = 20;
    /** The log tail shown on a job's page; the whole log is at the admin API. */
    private static final int LOG_TAIL = 256 * 1024;
    /** The newest jobs of each rule that its health (success rate, durations, chart) is computed from. */
    static final int RULE_HISTORY = 30;
    /** The window of the header's counts. */
    private static final Duration SUMMARY_WINDOW = Duration.ofHours(24);
    /** The query parameters of the list of deliveries: its filters (as the admin API's), its cursor, its live part. */
    private static final List<String> LIST_PARAMETERS = List.of("outcome", "project", "trigger", "build", "state",
            "delivery", "before", "part");
    /** The query parameters of a job's page. */
    private static final List<String> JOB_PARAMETERS = List.of("job", "part");

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        BuildhookApplication app = BuildhookApplication.from(getServletContext());
        if (!app.config().admin().enabled()) {
            absent(response);
            return;
        }
        AdminAuth auth = new AdminAuth(app.config().admin().token());
        String presented = request.getParameter("token");
        if (presented != null) {
            login(app, presented, request, response);
            return;
        }
        // "final": a finished job's page asking for its state only (StatusJobView.FINAL_PART); answered as a live part.
        boolean livePart = "live".equals(request.getParameter("part"))
                || StatusJobView.FINAL_PART.equals(request.getParameter("part"));
        if (auth.refusal(request) != null) {
            // A cookie this node refuses (its days are over, admin.token changed) says why; none, only the form.
            boolean signInEnded = request.getHeader("Authorization") == null && AdminAuth.cookie(request) != null;
            if (livePart) {
                response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
                response.setContentType("text/plain;charset=utf-8");
                response.getWriter().write(signInEnded ? StatusPageView.SIGN_IN_ENDED + " Sign in again.\n"
                        : "sign in again\n");
                return;
            }
            send(response, 200, StatusPageView.login(nonce(response), false, signInEnded));
            return;
        }
        // A cookie of an older build (the token itself) is replaced; a signed one is not renewed (review56 F6).
        auth.replaceTokenCookie(request, response);
        String job = request.getParameter("job");
        String unknown = unknownParameter(request, job != null ? JOB_PARAMETERS : LIST_PARAMETERS);
        if (unknown != null) {
            badFilter(response, livePart, unknown);
            return;
        }
        try {
            // Each answer of PostgreSQL bounded, for this request only (Store.look): one that never came held this
            // request thread, the container's, until TCP's keepalive gave up; not answered in time, it is the page
            // of a store outage below.
            app.store().look(() -> {
                if (job != null) {
                    showJob(app, job, livePart, StatusJobView.FINAL_PART.equals(request.getParameter("part")),
                            response);
                } else {
                    showDeliveries(app, request, livePart, response);
                }
                return null;
            });
        } catch (StoreUnavailableException e) {
            LOG.error("status page: store unavailable: {}", e.getMessage());
            // Said here, not with sendError: the error page keeps no message of a 5xx (it shows "internal
            // error", which reads like a bug of buildhook), and a person reads this page (tryout21 F7).
            if (!response.isCommitted()) {
                response.resetBuffer();
                response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
                // Why, when the node knows it (a PostgreSQL table locked by another session refuses the page's
                // reads as it does the deliveries' writes: tryout25 F1), in the banner's words.
                java.util.Optional<org.buildhook.runner.store.StoreTrouble> trouble = app.store().trouble();
                RefusedBuilds.View refused = app.deliveries().refusedBuilds().view();
                StatusPageView.ClusterOutage cluster = app.store().dialect()
                        == org.buildhook.runner.store.Dialect.POSTGRESQL
                        ? new StatusPageView.ClusterOutage(app.fencedJobs(), app.config().engine().deadNodeLimit()) : null;
                // The live part in HTML too, as when the store answers: the outage's page swaps its changing part
                // (page29: a build refused while it was open appeared only after a reload).
                send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, livePart
                        ? StatusPageView.storeUnavailableLive(trouble, refused, cluster)
                        : StatusPageView.storeUnavailable(nonce(response), trouble, refused, cluster));
            }
        }
    }

    /**
     * The first query parameter the page does not know, said with those it knows; {@code null} when
     * all are known. As the admin API: a misspelt filter ({@code ?buid=67}) would otherwise show
     * every delivery as if they matched. {@code part} may only be {@code live}, which the page's
     * script adds.
     */
    static String unknownParameter(HttpServletRequest request, List<String> known) {
        for (String name : request.getParameterMap().keySet()) {
            if (!known.contains(name)) {
                return "unknown parameter '" + name + "'; this page knows " + String.join(", ", known);
            }
        }
        String part = request.getParameter("part");
        if (part != null && part.equals(StatusJobView.FINAL_PART) && known.contains("job")) {
            return null;
        }
        return part == null || part.equals("live") ? null : "'part' can only be 'live'" + (known.contains("job")
                ? " or '" + StatusJobView.FINAL_PART + "'" : "") + ", which the page's script asks for";
    }

    /** The sign-in form posts the token in the body, so it stays out of URLs and access logs. */
    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        BuildhookApplication app = BuildhookApplication.from(getServletContext());
        if (!app.config().admin().enabled()) {
            absent(response);
            return;
        }
        login(app, request.getParameter("token"), request, response);
    }

    private static void login(BuildhookApplication app, String presented, HttpServletRequest request,
            HttpServletResponse response)
            throws IOException {
        AdminAuth auth = new AdminAuth(app.config().admin().token());
        if (presented == null || !auth.accepts(presented.strip())) {
            LOG.warn("status page sign-in from {} refused: wrong token", app.remoteAddress()
                    .resolve(request.getRemoteAddr(), request.getHeader("X-Forwarded-For")));
            send(response, HttpServletResponse.SC_UNAUTHORIZED, StatusPageView.login(nonce(response), true));
            return;
        }
        auth.setCookie(request, response);
        response.setHeader("Cache-Control", "no-store");
        response.setStatus(HttpServletResponse.SC_SEE_OTHER);
        String kept = withoutToken(request.getQueryString());
        response.setHeader("Location", request.getContextPath() + "/" + (kept.isEmpty() ? "" : "?" + kept));
    }

    /**
     * The query string without its {@code token} (and {@code part}) parameters, the others kept in
     * their order, re-encoded; a parameter that cannot be decoded is dropped.
     */
    static String withoutToken(String query) {
        if (query == null || query.isEmpty()) {
            return "";
        }
        StringJoiner kept = new StringJoiner("&");
        for (String pair : query.split("&")) {
            String[] nameValue = pair.split("=", 2);
            try {
                String name = URLDecoder.decode(nameValue[0], StandardCharsets.UTF_8);
                if (name.isEmpty() || name.equals("token") || name.equals("part")) {
                    continue;
                }
                String value = nameValue.length > 1 ? URLDecoder.decode(nameValue[1], StandardCharsets.UTF_8) : "";
                kept.add(URLEncoder.encode(name, StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(value, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                // A malformed %-escape: the parameter is left out rather than passed on.
            }
        }
        return kept.toString();
    }

    private static void showDeliveries(BuildhookApplication app, HttpServletRequest request, boolean livePart,
            HttpServletResponse response) throws IOException {
        StatusPageView.Filters filters;
        try {
            filters = new StatusPageView.Filters(enumValue(request, "outcome", DeliveryOutcome.class),
                    text(request, "project"), text(request, "trigger"), enumValue(request, "state", JobState.class),
                    AdminFilters.buildNumber(text(request, "build")));
        } catch (IllegalArgumentException e) {
            badFilter(response, livePart, e.getMessage());
            return;
        }
        String before = Ids.typed(text(request, "before"));
        if (text(request, "before") != null && before == null) {
            badFilter(response, livePart, "'before' is not a delivery id: follow the page's 'Older' link");
            return;
        }
        String only = Ids.typed(text(request, "delivery"));
        if (text(request, "delivery") != null && only == null) {
            badFilter(response, livePart, "'delivery' is not a delivery id: follow the link of a delivery's job count");
            return;
        }
        Page<Delivery> page;
        List<StatusPageView.DeliveryRow> rows = new ArrayList<>();
        if (only != null) {
            // One delivery with its jobs (of the state filter, when set): what a row's count line links.
            page = new Page<>(app.store().deliveryRow(only).stream().toList(), null);
            for (Delivery d : page.items()) {
                Page<Job> jobs = app.store().jobs(new JobQuery(filters.state(), null, d.id(), null, JOBS_OF_ONE_DELIVERY));
                List<Job> oldestFirst = new ArrayList<>(jobs.items());
                Collections.reverse(oldestFirst);
                Map<String, Integer> interrupted = interruptedOf(app, oldestFirst);
                rows.add(new StatusPageView.DeliveryRow(d, oldestFirst, jobs.nextCursor() != null, interrupted,
                        Map.of(), notStartedOf(app, interrupted)));
            }
        } else {
            page = app.store().deliveries(new DeliveryQuery(filters.outcome(), null, filters.project(),
                    filters.trigger(), null, null, before, DELIVERIES, filters.build()));
            // The most pressing jobs of each delivery whole and the others counted by state, in two queries for the
            // page: its cost and size do not grow with a build's runs (page26: 50 x 100 jobs made 3 MB).
            Map<String, JobsAtAGlance> glance = app.store().jobsAtAGlance(
                    page.items().stream().map(Delivery::id).toList(), JOBS_PER_DELIVERY);
            Map<String, Integer> interrupted = interruptedOf(app, glance.values().stream()
                    .flatMap(g -> g.shown().stream()).toList());
            Map<String, Integer> notStarted = notStartedOf(app, interrupted);
            for (Delivery d : page.items()) {
                JobsAtAGlance g = glance.getOrDefault(d.id(), JobsAtAGlance.NONE);
                if (filters.state() == null || g.hidden().containsKey(filters.state())
                        || g.shown().stream().anyMatch(j -> j.state() == filters.state())) {
                    rows.add(StatusPageView.DeliveryRow.of(d, g, interrupted, notStarted));
                }
            }
        }
        StatusPageView.RulesInfo rules = rules(app);
        app.deliveries().settleRefusedBuilds(); // a 503 of unknown outcome since stored: off the list (tryout50 F8)
        StatusPageView.Live live = new StatusPageView.Live(summary(app), rules, health(app, rules), rows,
                new StatusPagePaging(before, page.nextCursor()), filters.only(only), resources(app), app.jobsPaused(),
                app.store().trouble(), app.deliveries().refusedBuilds().view(), NodesView.of(app));
        send(response, 200, livePart ? StatusPageView.live(live) : StatusPageView.page(nonce(response), live));
    }

    /**
     * Which of {@code jobs} ran again after their node cut an attempt short, in one query: only the jobs that had
     * an attempt (tryout20 F7).
     */
    private static Map<String, Integer> interruptedOf(BuildhookApplication app, List<Job> jobs) {
        return app.store().interruptedAttempts(jobs.stream().filter(j -> j.attempts() > 0).map(Job::id).toList());
    }

    /**
     * Of the jobs with {@code interrupted} attempts, how many attempts each one's node ended before it ran the command
     * (tryout42 F10), in one query, and none without such jobs.
     */
    private static Map<String, Integer> notStartedOf(BuildhookApplication app, Map<String, Integer> interrupted) {
        return interrupted.isEmpty() ? Map.of() : app.store().notStartedAttempts(interrupted.keySet());
    }

    /** The header's numbers: two grouped counts over the window, three indexed counts, this node's refusals. */
    private static StatusSummary summary(BuildhookApplication app) {
        SignatureRefusals refusals = app.deliveries().refusals();
        return new StatusSummary(app.store().activitySince(Instant.now().minus(SUMMARY_WINDOW)),
                app.store().countJobs(JobState.QUEUED), app.store().countJobs(JobState.RUNNING), refusals.lastDay(),
                refusals.last(), app.store().countJobs(JobState.AWAITING_APPROVAL),
                app.store().countJobsWaitingForRetry());
    }

    /**
     * The shared resources the rules in force declare, with who holds and who waits for them (two
     * queries, on the small resource_holds table and the indexed WAITING jobs).
     */
    private static List<StatusResources.Pool> resources(BuildhookApplication app) {
        Map<String, Integer> declared = app.rules() == null ? Map.of() : app.rules().current().resources();
        return StatusResources.of(declared, app.store().resources().holds(), app.store().resources().waiting());
    }

    /**
     * The health of each rule in force, in the file's order, each followed by its follow-up steps (their jobs
     * are named {@code rule/on-success} …: a workflow whose later step fails is not all green, tryout21 F4),
     * from their newest jobs (one indexed lookup per rule and step).
     */
    private static List<RuleHealth> health(BuildhookApplication app, StatusPageView.RulesInfo rules) {
        List<String> names = new ArrayList<>();
        rules.snapshots().forEach((rule, snapshot) -> {
            names.add(rule);
            names.addAll(RuleHealth.followUpSteps(rule, snapshot));
        });
        Map<String, List<JobTiming>> recent = app.store().recentJobsOfRules(names, RULE_HISTORY);
        return names.stream().map(n -> new RuleHealth(n, recent.getOrDefault(n, List.of()))).toList();
    }

    /**
     * A filter the page cannot use, as a page a browser shows (it answered the webhook's JSON error,
     * {@code "webhook":"/webhook"} included); the live part, which the page's script reads, keeps the
     * plain error.
     */
    private static void badFilter(HttpServletResponse response, boolean livePart, String message) throws IOException {
        if (livePart) {
            response.sendError(HttpServletResponse.SC_BAD_REQUEST, message);
            return;
        }
        problem(response, HttpServletResponse.SC_BAD_REQUEST, "This filter cannot be used",
                Html.escape(message) + ". <a href=\"./\">Show all deliveries</a>.");
    }

    /** A page of the status page's look that says what went wrong ({@code titleHtml}, {@code html} already escaped). */
    private static void problem(HttpServletResponse response, int status, String titleHtml, String html)
            throws IOException {
        send(response, status, StatusPageView.end(StatusPageView.head(nonce(response), "buildhook: "
                + titleHtml.replaceAll("<[^>]*>", ""), 0).append("<main><p><a href=\"./\">&larr; all deliveries</a></p><h2>")
                .append(titleHtml).append("</h2><p>").append(html).append("</p></main>")));
    }

    /**
     * A job's page, or its live part ({@code livePart}); {@code finalPart}: the part a finished job's page asks for
     * ({@link StatusJobView#finalPart}), its state without its attempts and logs, which are not read (page30).
     */
    private static void showJob(BuildhookApplication app, String typed, boolean livePart, boolean finalPart,
            HttpServletResponse response) throws IOException {
        String id = Ids.typed(typed); // in any case, as ULIDs are (tryout42 F15)
        Optional<JobDetail> found = id != null ? app.store().job(id) : Optional.empty();
        if (found.isEmpty()) {
            // A link from a notification or a chat outlives the job (store.retention): say which, in the page.
            problem(response, HttpServletResponse.SC_NOT_FOUND, "No job <code>" + Html.escape(typed) + "</code>",
                    "This server's store has no job with this id: it may be mistyped, or older than"
                            + " <code>store.retention</code>, which deletes jobs with their delivery.");
            return;
        }
        JobLogs logs = new JobLogs(app.config().launcher().logDirectory());
        // Each log read where this node keeps it, not where the store says it was written (tryout26 F3).
        List<JobAttempt> attempts = found.get().attempts().stream().map(a -> JobLogSender.here(a, logs)).toList();
        Job found0 = found.get().job();
        // A job that waits only its turn shows its place in the queue after its message (tryout49 F5).
        Job job = found0.waitsItsTurn() ? found0.withQueuePosition(app.store().queuePositions(List.of(id)).get(id))
                : found0;
        // Found by their parent, not among the delivery's newest jobs (re-runs and replays outnumber them),
        // and only the newest FOLLOW_UPS: a job's follow-ups and their re-runs can be thousands (review13 L5).
        // In the live part too: the follow-up is stored just after the job's end (tryout21 F2).
        Page<Job> followUps = app.store().jobs(JobQuery.followUpsOf(id, null, FOLLOW_UPS));
        List<Job> oldestFirst = new ArrayList<>(followUps.items());
        Collections.reverse(oldestFirst);
        // The newest ACTIONS only, like the follow-ups: a job re-run or cancelled by a script may have many.
        Page<AdminAction> actions = app.store().actions(ActionQuery.onJob(id, ACTIONS));
        List<AdminAction> actionsOldestFirst = new ArrayList<>(actions.items());
        Collections.reverse(actionsOldestFirst);
        boolean pending = job.workflow().followUps() != null && app.store().followUps().isPending(id);
        StatusJobView.Chain chain = new StatusJobView.Chain(oldestFirst, followUps.nextCursor() != null,
                actionsOldestFirst, actions.nextCursor() != null, pending);
        // Its build, project and trigger only: not its body (up to the body cap) nor its jobs, which re-runs
        // and replays make thousands, all read only to be dropped (lists14). In the live parts too: their buttons'
        // confirm dialogs name the build (tryout34 F4).
        Optional<Delivery> delivery = app.store().deliveryRow(job.deliveryId());
        DeliverySummary summary = delivery.map(Delivery::summary).orElse(DeliverySummary.NONE);
        if (finalPart && !StatusJobView.polls(job, chain)) {
            send(response, 200, StatusJobView.finalPart(job, summary, attempts, chain));
            return;
        }
        Map<Integer, LogText> texts = new LinkedHashMap<>();
        for (JobAttempt a : attempts) {
            // A running attempt has no recorded path yet: its log is the one under the log dir in force.
            Path file = JobLogs.toRead(logs, id, a.attempt(), a.logPath());
            texts.put(a.attempt(), tail(file, a, JobLogSender.comparedNode(app.store(), app.config().engine().nodeId())));
        }
        if (livePart) {
            send(response, 200, StatusJobView.live(job, summary, attempts, texts, chain));
            return;
        }
        send(response, 200, StatusJobView.page(nonce(response), job, delivery, attempts, texts, chain));
    }

    private static StatusPageView.RulesInfo rules(BuildhookApplication app) {
        if (app.rules() == null) {
            return new StatusPageView.RulesInfo("(no rules file)", null, Map.of(), Optional.empty(), otherRules(app));
        }
        var current = app.rules().current();
        Instant loaded = current.loadedAt();
        Map<String, String> shown = new java.util.LinkedHashMap<>();
        current.snapshots().forEach((name, snapshot) -> shown.put(name, Redaction.redactSnapshot(snapshot)));
        return new StatusPageView.RulesInfo(String.valueOf(current.source()), loaded, shown,
                app.rules().lastError().map(Throwable::getMessage), otherRules(app),
                app.rules().lastError().map(e -> e.problems().size()).orElse(0));
    }

    /**
     * PostgreSQL: which running nodes have other rules than this one, and what to do, as this node last
     * looked (tryout17 F4); empty when they agree.
     */
    private static Optional<String> otherRules(BuildhookApplication app) {
        return app.clusterRulesDisagreement().map(d -> "This node (" + app.config().engine().nodeId()
                + ") has rules " + d.own().shortForm() + "; " + d.describeOthers() + ". "
                + org.buildhook.runner.store.RulesDisagreement.WHY_IT_MATTERS + ": "
                + org.buildhook.runner.store.RulesDisagreement.WHAT_TO_DO + ".");
    }

    /**
     * The log's last {@link #LOG_TAIL} bytes as text (a cut multi-byte character shows as U+FFFD), with its record
     * of buildhook's notes ({@link LogNotes}).
     */
    private static LogText tail(Path file, JobAttempt attempt, String thisNode) {
        if (file == null) {
            return LogText.note("(no log on this node: " + JobLogSender.whyNoLog(attempt, thisNode, null) + ")");
        }
        try {
            LogNotes.Piece piece = LogNotes.readTail(file, LOG_TAIL);
            return LogText.of(piece.from() > 0 ? "[… " + piece.from() + " earlier bytes: see the admin API's log]\n"
                    : "", piece);
        } catch (NoSuchFileException e) {
            return LogText.note("(no log on this node: " + JobLogSender.whyNoLog(attempt, thisNode, file) + ")");
        } catch (IOException e) {
            return LogText.note("(the log cannot be read: " + IoProblems.describe(e) + ")");
        }
    }

    private static String text(HttpServletRequest r, String name) {
        String v = r.getParameter(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static <E extends Enum<E>> E enumValue(HttpServletRequest r, String name, Class<E> type) {
        String v = text(r, name);
        try {
            return v == null ? null : Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + name + "' must be one of "
                    + List.of(type.getEnumConstants()), e);
        }
    }

    /** A fresh nonce, and the Content-Security-Policy that allows only the inline blocks carrying it. */
    private static String nonce(HttpServletResponse response) {
        byte[] bytes = new byte[18];
        RANDOM.nextBytes(bytes);
        String nonce = Base64.getEncoder().encodeToString(bytes);
        response.setHeader("Content-Security-Policy", "default-src 'none'; script-src 'nonce-" + nonce
                + "'; style-src 'nonce-" + nonce + "'; connect-src 'self'; img-src 'self'; form-action 'self'; "
                + "base-uri 'none'; frame-ancestors 'none'");
        return nonce;
    }

    /** As if there were no page: buildhook's own short 404 (not the container's error page, which may say more). */
    private static void absent(HttpServletResponse response) throws IOException {
        response.setStatus(HttpServletResponse.SC_NOT_FOUND);
        response.setContentType("text/plain;charset=utf-8");
        response.getWriter().write("not found\n");
    }

    private static void send(HttpServletResponse response, int status, String html) throws IOException {
        response.setStatus(status);
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "no-referrer");
        response.setContentType("text/html;charset=utf-8");
        response.getWriter().write(html);
    }
}
