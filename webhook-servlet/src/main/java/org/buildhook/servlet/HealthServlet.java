package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.buildhook.runner.store.HealthReport;

/**
 * {@code GET /healthz}: 200 when the store answers and its writes work, else 503 with
 * {@code Retry-After}. For load balancers and monitors: a server whose store cannot write (read-only,
 * disk full, data directory deleted) would answer every delivery 503, so it is not healthy. The
 * body says which of the two failed and what is wrong in a few words ({@link HealthReport}: does not
 * answer, refuses connections for want of disk space, cannot write…), never the driver's message
 * (that is in the log). During a graceful stop it answers
 * 503 with {@code "status": "stopping"}, so a load balancer drains the node while it still stores
 * what it is sent.
 */
public final class HealthServlet extends HttpServlet {

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
        if (health.ok()) {
            new JsonAnswer().with("status", "ok").send(response, HttpServletResponse.SC_OK);
        } else {
            response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
            new JsonAnswer().with("status", "unavailable").with("error", health.reason())
                    .send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        }
    }
}
