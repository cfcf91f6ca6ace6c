package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.exec.JobLogs;
import org.buildhook.runner.store.Ids;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API under {@code /api/*}: lists and details of deliveries and jobs, the audit trail, job logs, and the
 * admin actions re-run, replay and cancel (of a job, or of every job of a delivery not ended), the builds refused
 * 503 to re-send ({@code /api/refused-builds}) and the
 * cluster's nodes ({@code /api/nodes}; {@code DELETE /api/nodes/{id}} forgets one silent past the dead-node limit). Every request needs {@code Authorization: Bearer
 * <admin token>}; without a configured token the API answers 404 to everything, as if absent.
 */
public final class AdminApiServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AdminApiServlet.class);
    private static final String ID = "([^/]+)";
    private static final Pattern DELIVERY = Pattern.compile("/deliveries/" + ID);
    private static final Pattern REPLAY = Pattern.compile("/deliveries/" + ID + "/replay");
    private static final Pattern CANCEL_DELIVERY = Pattern.compile("/deliveries/" + ID + "/cancel");
    private static final Pattern JOB = Pattern.compile("/jobs/" + ID);
    private static final Pattern LOG_PATH = Pattern.compile("/jobs/" + ID + "/log");
    private static final Pattern RERUN = Pattern.compile("/jobs/" + ID + "/rerun");
    private static final Pattern RERUN_WARNINGS = Pattern.compile("/jobs/" + ID + "/rerun-warnings");
    private static final Pattern APPROVE_WARNINGS = Pattern.compile("/jobs/" + ID + "/approve-warnings");
    private static final Pattern REPLAY_WARNINGS = Pattern.compile("/deliveries/" + ID + "/replay-warnings");
    private static final Pattern CANCEL = Pattern.compile("/jobs/" + ID + "/cancel");
    private static final Pattern APPROVE = Pattern.compile("/jobs/" + ID + "/(approve|reject)");
    private static final Pattern NODE = Pattern.compile("/nodes/" + ID);

    private final transient UnboundedDetails unbounded = new UnboundedDetails();
    private final transient IgnoredLogParameters ignoredLogParameters = new IgnoredLogParameters();

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        BuildhookApplication app = BuildhookApplication.from(getServletContext());
        if (!app.config().admin().enabled()) {
            JsonAnswer.error("not found").send(response, HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        String remote = app.remoteAddress().resolve(request.getRemoteAddr(), request.getHeader("X-Forwarded-For"));
        AdminAuth auth = new AdminAuth(app.config().admin().token());
        String refusal = auth.refusal(request);
        if (refusal != null) {
            LOG.warn("admin API request {} {} from {} refused: {}", request.getMethod(),
                    LogSafe.of(String.valueOf(request.getPathInfo())), remote, refusal);
            response.setHeader("WWW-Authenticate", "Bearer realm=\"buildhook\"");
            JsonAnswer.error(AdminAuth.answer(refusal)).send(response, HttpServletResponse.SC_UNAUTHORIZED);
            return;
        }
        auth.replaceTokenCookie(request, response);
        try {
            request.getParameterMap();
        } catch (RuntimeException e) {
            // Jetty refuses to decode a query that is not percent-encoded UTF-8 (BadMessageException):
            // the client's mistake, not buildhook's (it was a 500 with a trace in the log).
            JsonAnswer.error("the query string is not valid: write its values as percent-encoded UTF-8")
                    .send(response, HttpServletResponse.SC_BAD_REQUEST);
            return;
        }
        try {
            // Who acts, for the audit trail: the container's authenticated user, else the admin token.
            String who = request.getUserPrincipal() == null ? "token" : request.getUserPrincipal().getName();
            // Each answer of PostgreSQL bounded, for this request only (Store.look): one that never came held this
            // request thread, which is the container's, until TCP's keepalive gave up; not answered in time, it is
            // the 503 of a store outage below. A log followed goes on on the follows' own threads (JobLogSender).
            app.store().look(() -> {
                route(new AdminRequests(app, who + "@" + remote), request, response);
                return null;
            });
        } catch (ApiError e) {
            JsonAnswer.error(e.getMessage()).send(response, e.status());
        } catch (StoreUnavailableException e) {
            LOG.error("admin API {} {}: store unavailable: {}", request.getMethod(), request.getPathInfo(),
                    e.getMessage());
            response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
            // A change (a re-run, a replay, a cancel, an approval) whose statement committed but whose answer was lost
            // is done all the same: asking again blindly could make a second job (review47 F3).
            boolean change = !"GET".equals(request.getMethod()) && !"HEAD".equals(request.getMethod());
            JsonAnswer.error("the store is unavailable; try again later" + (change ? "; if the store stopped answering"
                    + " mid-way, the change asked for may have been made all the same: look (GET the job or the"
                    + " delivery, buildhook jobs) before asking again" : ""))
                    .send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        } catch (RuntimeException e) {
            if (StoreUnavailableException.isTransactionRollback(e)) {
                // PostgreSQL ended a transaction of this request to let another change of the same rows go on (a
                // deadlock: delcancel50's cancel of a delivery against a newer build's supersede): rolled back whole,
                // so asking again is sound; a 500 "internal error" told the operator of a fault there was not.
                LOG.warn("admin API {} {}: PostgreSQL ended its transaction to let another change of the same jobs go"
                        + " on ({}); answered 503, to be asked again", request.getMethod(),
                        LogSafe.of(String.valueOf(request.getPathInfo())), e.getMessage());
                if (!response.isCommitted()) {
                    response.resetBuffer();
                    response.setHeader("Retry-After", "1");
                    JsonAnswer.error("the store ended this request's change to let another change of the same jobs,"
                            + " made at the same moment, go on: that step of it was not made; ask again (a request"
                            + " that changes several jobs may have changed those before it: look first, buildhook"
                            + " jobs)").send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
                }
                return;
            }
            // The trace is for the log; the client gets JSON, not the container's page naming the exception.
            LOG.error("admin API {} {} failed", request.getMethod(), LogSafe.of(String.valueOf(request.getPathInfo())), e);
            if (!response.isCommitted()) {
                response.resetBuffer();
                JsonAnswer.error("internal error; the server log says more")
                        .send(response, HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
            }
        }
    }

    private void route(AdminRequests api, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String path = request.getPathInfo() == null ? "/" : request.getPathInfo();
        String method = request.getMethod();
        Matcher m;
        if (path.equals("/deliveries")) {
            only("GET", method, response);
            api.deliveries(request).send(response, 200);
        } else if (path.equals("/jobs")) {
            only("GET", method, response);
            api.jobs(request).send(response, 200);
        } else if (path.equals("/actions")) {
            only("GET", method, response);
            api.actions(request).send(response, 200);
        } else if (path.equals("/nodes")) {
            only("GET", method, response);
            api.nodes().send(response, 200);
        } else if ((m = NODE.matcher(path)).matches()) {
            only("DELETE", method, response);
            api.forgetNode(nodeId(m)).send(response, 200);
        } else if (path.equals("/refused-builds")) {
            if (method.equals("DELETE")) {
                api.dismissRefusedBuilds().send(response, 200);
            } else {
                only("GET", method, response);
                api.refusedBuilds().send(response, 200);
            }
        } else if ((m = REPLAY_WARNINGS.matcher(path)).matches()) {
            only("GET", method, response);
            api.replayPreview(id(m), request.getParameterValues("rule")).send(response, 200);
        } else if ((m = REPLAY.matcher(path)).matches()) {
            only("POST", method, response);
            api.replay(id(m), request.getParameterValues("rule")).send(response, HttpServletResponse.SC_ACCEPTED);
        } else if ((m = CANCEL_DELIVERY.matcher(path)).matches()) {
            only("POST", method, response);
            api.cancelDelivery(id(m)).send(response, 200);
        } else if ((m = DELIVERY.matcher(path)).matches()) {
            only("GET", method, response);
            unbounded.mark(request, response, api.actor(), "GET /api/deliveries/{id}",
                    "GET /api/jobs?delivery=<id> and GET /api/actions?delivery=<id>", "jobs", "actions");
            api.delivery(id(m), request).send(response, 200);
        } else if ((m = LOG_PATH.matcher(path)).matches()) {
            only("GET", method, response);
            LogParameters asked = LogParameters.of(request);
            ignoredLogParameters.mark(asked, response, api.actor());
            new JobLogSender(api.store(), new JobLogs(api.logDirectory()), api.nodeId(), api.logFollows(),
                    api.endsNotRecorded()).send(id(m), asked, request, response);
        } else if ((m = RERUN_WARNINGS.matcher(path)).matches()) {
            only("GET", method, response);
            api.rerunPreview(id(m)).send(response, 200);
        } else if ((m = RERUN.matcher(path)).matches()) {
            only("POST", method, response);
            api.rerun(id(m)).send(response, HttpServletResponse.SC_ACCEPTED);
        } else if ((m = CANCEL.matcher(path)).matches()) {
            only("POST", method, response);
            api.cancel(id(m)).send(response, 200);
        } else if ((m = APPROVE_WARNINGS.matcher(path)).matches()) {
            only("GET", method, response);
            api.approvePreview(id(m)).send(response, 200);
        } else if ((m = APPROVE.matcher(path)).matches()) {
            only("POST", method, response);
            api.decide(id(m), m.group(2).equals("approve")).send(response, 200);
        } else if ((m = JOB.matcher(path)).matches()) {
            only("GET", method, response);
            unbounded.mark(request, response, api.actor(), "GET /api/jobs/{id}", "GET /api/actions?job=<id>",
                    "actions");
            api.job(id(m), request).send(response, 200);
        } else {
            throw ApiError.notFound("no such API: " + path + "; the lists are /api/deliveries, /api/jobs, /api/actions, /api/refused-builds and /api/nodes");
        }
    }

    private static void only(String allowed, String method, HttpServletResponse response) {
        if (!allowed.equals(method)) {
            response.setHeader("Allow", allowed);
            throw new ApiError(HttpServletResponse.SC_METHOD_NOT_ALLOWED, method + " is not allowed here; use "
                    + allowed);
        }
    }

    /**
     * The node id in the path ({@code runner.node-id}: 1 to 50 characters), checked before it reaches the database.
     */
    private static String nodeId(Matcher m) {
        String id = m.group(1);
        if (id.isBlank() || id.length() > 50) {
            throw ApiError.notFound("no such node id: node ids are 1 to 50 characters, as in GET /api/nodes's 'id'"
                    + " fields");
        }
        return id;
    }

    /**
     * The id in the path, checked before it reaches the database; in any case, as ULIDs are (tryout42 F15:
     * {@link Ids#typed}).
     */
    private static String id(Matcher m) {
        String id = Ids.typed(m.group(1));
        if (id == null) {
            throw ApiError.notFound("no such id: ids are 26 letters and digits (Crockford base32, in any case) as in the 'id' fields");
        }
        return id;
    }
}
