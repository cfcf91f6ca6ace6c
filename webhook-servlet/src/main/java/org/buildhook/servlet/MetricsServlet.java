package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /metrics}: this instance's metrics in the Prometheus text format, for a Prometheus
 * scrape. Public unless {@code metrics.enabled: false} (then 404); protect it at the proxy or with
 * a container security constraint when it must be private.
 */
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    /** The Prometheus text exposition format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        BuildhookApplication app = BuildhookApplication.from(getServletContext());
        if (!app.config().metrics().enabled()) {
            JsonAnswer.error("metrics are turned off (metrics.enabled: false)")
                    .send(response, HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        byte[] text = app.metrics().scrape().getBytes(StandardCharsets.UTF_8);
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType(CONTENT_TYPE);
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(text.length);
        response.getOutputStream().write(text);
    }
}
