package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** {@code GET /healthz}: 200 when the store answers, else 503. For load balancers and monitors. */
public final class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        BuildhookApplication app = BuildhookApplication.from(getServletContext());
        if (app.store().healthy()) {
            new JsonAnswer().with("status", "ok").send(response, HttpServletResponse.SC_OK);
        } else {
            response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
            new JsonAnswer().with("status", "unavailable").with("error", "the store does not answer")
                    .send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        }
    }
}
