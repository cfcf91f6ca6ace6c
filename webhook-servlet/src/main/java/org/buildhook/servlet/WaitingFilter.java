package org.buildhook.servlet;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;

/**
 * Answers every request of a web application whose buildhook has not started yet, because the
 * previous copy of the same application in this JVM still holds the SQLite store, or on PostgreSQL
 * the node id ({@link PreviousCopy}; Jetty 12's deployer starts the new copy of a redeployed WAR
 * before it stops the old one; see {@link BuildhookListener}): 503 with {@code Retry-After} ({@code http.retry-after}) and the JSON body
 * of an unavailable store, so that JobServ sends its deliveries again later; {@code /healthz} says
 * why ({@code "status": "starting"}), or, when that start failed, {@code "status": "unavailable"}. Once
 * buildhook runs ({@link BuildhookApplication#ATTRIBUTE} set), it passes everything on.
 */
final class WaitingFilter implements Filter {

    /** The {@code error} of {@code /healthz} while this copy waits: fixed text, naming no file. */
    static final String WAITING = "this copy of buildhook waits for the previous copy of the web application"
            + " (a redeploy) to stop, and starts then";
    /** The {@code error} of {@code /healthz} when the start after the wait failed: fixed text, naming no file. */
    static final String FAILED = "buildhook could not start after the previous copy of the web application"
            + " stopped: the server log says why";

    private static final JsonAnswer.Fixed UNAVAILABLE = JsonAnswer.fixedError(WebhookServlet.STORE_UNAVAILABLE);

    private final long retryAfterSeconds;
    private volatile boolean failed;

    /** @param retryAfter the {@code Retry-After} of the answers ({@code http.retry-after}) */
    WaitingFilter(Duration retryAfter) {
        this.retryAfterSeconds = retryAfter.toSeconds();
    }

    /** The start after the wait failed: {@code /healthz} says so from now on. */
    void failed() {
        failed = true;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request.getServletContext().getAttribute(BuildhookApplication.ATTRIBUTE) != null) {
            chain.doFilter(request, response);
            return;
        }
        HttpServletResponse http = (HttpServletResponse) response;
        http.setHeader("Retry-After", Long.toString(retryAfterSeconds));
        String path = ((HttpServletRequest) request).getServletPath();
        if ("/healthz".equals(path)) {
            new JsonAnswer().with("status", failed ? "unavailable" : "starting").with("error", failed ? FAILED : WAITING)
                    .send(http, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        } else {
            UNAVAILABLE.send(http, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        }
    }
}
