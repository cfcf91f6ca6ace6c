package org.buildhook.servlet;

import org.buildhook.core.IoProblems;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.buildhook.runner.exec.JobLogs;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.DeliveryQuery;
import org.buildhook.runner.store.Ids;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Page;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status page at the context root: the latest deliveries with their jobs (an "Older" link
 * pages back through the rest, {@code ?before=<id>} as the admin API's cursor), a job's attempts
 * and log, the rules in force. Authenticated like the admin API; {@code GET /?token=…} (or the page's
 * form) puts the token in an HttpOnly, SameSite=Strict cookie and redirects to the bare page.
 * Without a configured admin token it answers 404, as if absent.
 */
public final class StatusPageServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(StatusPageServlet.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Deliveries per page; the "Older" link pages back through the rest. */
    private static final int DELIVERIES = 50;
    /** The newest jobs shown per delivery; a delivery with more says how to list them all. */
    private static final int JOBS_PER_DELIVERY = 100;
    /** The log tail shown on a job's page; the whole log is at the admin API. */
    private static final int LOG_TAIL = 256 * 1024;

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
        if (auth.refusal(request) != null) {
            send(response, 200, StatusPageView.login(nonce(response), false));
            return;
        }
        try {
            String job = request.getParameter("job");
            if (job != null) {
                showJob(app, job, response);
            } else {
                showDeliveries(app, request, response);
            }
        } catch (StoreUnavailableException e) {
            LOG.error("status page: store unavailable: {}", e.getMessage());
            response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "the store is unavailable; try again later");
        }
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
        if (presented == null || !new AdminAuth(app.config().admin().token()).accepts(presented.strip())) {
            LOG.warn("status page sign-in from {} refused: wrong token", app.remoteAddress()
                    .resolve(request.getRemoteAddr(), request.getHeader("X-Forwarded-For")));
            send(response, HttpServletResponse.SC_UNAUTHORIZED, StatusPageView.login(nonce(response), true));
            return;
        }
        String path = request.getContextPath().isEmpty() ? "/" : request.getContextPath();
        response.addHeader("Set-Cookie", AdminAuth.COOKIE + "=" + URLEncoder.encode(presented.strip(),
                StandardCharsets.UTF_8) + "; Path=" + path + "; HttpOnly; SameSite=Strict"
                + (request.isSecure() ? "; Secure" : ""));
        response.setHeader("Cache-Control", "no-store");
        response.setStatus(HttpServletResponse.SC_SEE_OTHER);
        response.setHeader("Location", request.getContextPath() + "/");
    }

    private static void showDeliveries(BuildhookApplication app, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        StatusPageView.Filters filters;
        try {
            filters = new StatusPageView.Filters(enumValue(request, "outcome", DeliveryOutcome.class),
                    text(request, "project"), text(request, "trigger"), enumValue(request, "state", JobState.class));
        } catch (IllegalArgumentException e) {
            response.sendError(HttpServletResponse.SC_BAD_REQUEST, e.getMessage());
            return;
        }
        String before = text(request, "before");
        if (before != null && !Ids.isValid(before)) {
            response.sendError(HttpServletResponse.SC_BAD_REQUEST,
                    "'before' is not a delivery id: follow the page's 'Older' link");
            return;
        }
        Page<Delivery> page = app.store().deliveries(new DeliveryQuery(filters.outcome(), null, filters.project(),
                filters.trigger(), null, null, before, DELIVERIES));
        List<StatusPageView.DeliveryRow> rows = new ArrayList<>();
        // The jobs of the whole page in one query; unlike a delivery's detail it does not read the bodies.
        Map<String, Page<Job>> jobsOf = app.store().jobsOfDeliveries(
                page.items().stream().map(Delivery::id).toList(), JOBS_PER_DELIVERY);
        for (Delivery d : page.items()) {
            Page<Job> jobs = jobsOf.get(d.id());
            List<Job> oldestFirst = new ArrayList<>(jobs.items());
            Collections.reverse(oldestFirst);
            if (filters.state() == null || oldestFirst.stream().anyMatch(j -> j.state() == filters.state())) {
                rows.add(new StatusPageView.DeliveryRow(d, oldestFirst, jobs.nextCursor() != null));
            }
        }
        send(response, 200, StatusPageView.page(nonce(response), rules(app), filters, rows,
                new StatusPagePaging(before, page.nextCursor())));
    }

    private static void showJob(BuildhookApplication app, String id, HttpServletResponse response)
            throws IOException {
        Optional<JobDetail> found = Ids.isValid(id) ? app.store().job(id) : Optional.empty();
        if (found.isEmpty()) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND, "no such job");
            return;
        }
        JobLogs logs = new JobLogs(app.config().launcher().logDirectory());
        Map<Integer, String> texts = new LinkedHashMap<>();
        for (JobAttempt a : found.get().attempts()) {
            Path file = a.logPath() != null ? Path.of(a.logPath()) : logs.pathFor(id, a.attempt());
            texts.put(a.attempt(), tail(file));
        }
        send(response, 200, StatusPageView.job(nonce(response), found.get().job(), found.get().attempts(), texts));
    }

    private static StatusPageView.RulesInfo rules(BuildhookApplication app) {
        if (app.rules() == null) {
            return new StatusPageView.RulesInfo("(no rules file)", null, Map.of(), Optional.empty());
        }
        var current = app.rules().current();
        Instant loaded = current.loadedAt();
        return new StatusPageView.RulesInfo(String.valueOf(current.source()), loaded, current.snapshots(),
                app.rules().lastError().map(Throwable::getMessage));
    }

    /** The log's last {@link #LOG_TAIL} bytes as text (a cut multi-byte character shows as U+FFFD). */
    private static String tail(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            long size = Files.size(file);
            long skip = Math.max(0, size - LOG_TAIL);
            in.skipNBytes(skip);
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return skip > 0 ? "[… " + skip + " earlier bytes: see the admin API's log]\n" + text : text;
        } catch (NoSuchFileException e) {
            return "(no log on this node)";
        } catch (IOException e) {
            return "(the log cannot be read: " + IoProblems.describe(e) + ")";
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
