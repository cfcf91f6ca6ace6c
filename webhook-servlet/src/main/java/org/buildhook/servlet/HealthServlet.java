package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.buildhook.runner.store.HealthReport;

/**
 * {@code GET /healthz}: 200 when the store answers, the pools deliveries and jobs use give connections,
 * and its writes work, else 503 with {@code Retry-After}. For load balancers and monitors: a server whose
 * store cannot write (read-only, disk full, data directory deleted, SQLite's lock held by another
 * program) or whose pools give no connection (HikariCP's waits of {@code store.connect-timeout} ending
 * empty) would answer every delivery 503, so it is not healthy. The
 * body says which of the two failed and what is wrong in a few words ({@link HealthReport}: does not
 * answer, refuses connections for want of disk space, cannot write…), never the driver's message
 * (that is in the log). During a graceful stop it answers
 * 503 with {@code "status": "stopping"}, so a load balancer drains the node while it still stores
 * what it is sent. A node that starts no jobs because it cannot write its data folder (payload files,
 * job logs) while its store works answers 200 with {@code "status": "degraded"} and the {@code error}
 * naming the folder: it still stores deliveries, which a 503 would send elsewhere or (a single node
 * behind a load balancer) have refused, but a monitor sees it.
 */
public final class HealthServlet extends HttpServlet {

    /** The {@code error} of a {@code degraded} answer: fixed text, naming no file. */
    static final String JOBS_PAUSED = "jobs do not start on this node: it cannot write a folder a job needs (its"
            + " payload files or job logs); the server log and the status page say which, and why";


    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        BuildhookApplication app = BuildhookApplication.from(getServletContext());
        if (app.stopping()) {
            // Still receiving (deliveries are stored until the port closes), but on its way out:
            // a load balancer or orchestrator should send new traffic elsewhere.
            response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
            new JsonAnswer().with("status", "stopping").with("error",
                    "this node is stopping: deliveries are still stored, jobs wait for the next start")
                    .send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        }
        HealthReport health = app.store().healthReport();
        java.util.Optional<String> paused = health.ok() ? app.jobsPaused() : java.util.Optional.empty();
        if (paused.isPresent()) {
            // Still 200: the node stores what it is sent (a load balancer keeps sending; the jobs run on
            // the other nodes, or here once it can write again), but a monitor must see it (tryout17 F3).
            // Without the folder and the system's error: /healthz answers anyone, and those may name files
            // (review18 R7); the log and the signed-in console say which.
            new JsonAnswer().with("status", "degraded").with("error", JOBS_PAUSED)
                    .send(response, HttpServletResponse.SC_OK);
        } else if (health.ok()) {
            new JsonAnswer().with("status", "ok").send(response, HttpServletResponse.SC_OK);
        } else {
            response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
            new JsonAnswer().with("status", "unavailable").with("error", health.reason())
                    .send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        }
    }
}
