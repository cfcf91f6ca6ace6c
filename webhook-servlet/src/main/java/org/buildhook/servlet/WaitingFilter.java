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
 * Answers the requests of a web application whose buildhook has not started yet, because the
 * previous copy of the same application in this JVM still holds the SQLite store, or on PostgreSQL
 * the node id ({@link PreviousCopy}; Jetty 12's deployer starts the new copy of a redeployed WAR
 * before it stops the old one; see {@link BuildhookListener}). Deliveries ({@code /webhook},
 * {@code /webhook/{endpoint}}) are read and verified with this copy's configuration and handed to the
 * previous copy, which stores and answers them ({@link DeliveryHandOver}); one it cannot take (none
 * published, its store closed) is answered 503 with {@code Retry-After} and logged with its build
 * ({@link DeliveryService#waiting}). Every other request: 503 with {@code Retry-After} ({@code
 * http.retry-after}) and the JSON body of an unavailable store; {@code /healthz} says why ({@code
 * "status": "starting"}), or, when that start failed, {@code "status": "unavailable"} (deliveries are
 * then answered 503 too, unread). Once buildhook runs ({@link BuildhookApplication#ATTRIBUTE} set), it
 * passes everything on.
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
    private final WebhookServlet.Parts deliveries;
    private volatile boolean failed;

    /**
     * @param retryAfter the {@code Retry-After} of the answers ({@code http.retry-after})
     * @param deliveries how this copy receives deliveries meanwhile ({@link DeliveryService#waiting})
     */
    WaitingFilter(Duration retryAfter, WebhookServlet.Parts deliveries) {
        this.retryAfterSeconds = retryAfter.toSeconds();
        this.deliveries = deliveries;
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
        String path = ((HttpServletRequest) request).getServletPath();
        if ("/webhook".equals(path) && !failed) {
            // Verified here, stored by the previous copy (or refused 503, logged with its build).
            WebhookServlet.receive(deliveries, (HttpServletRequest) request, http);
            return;
        }
        http.setHeader("Retry-After", Long.toString(retryAfterSeconds));
        if ("/healthz".equals(path)) {
            new JsonAnswer().with("status", failed ? "unavailable" : "starting").with("error", failed ? FAILED : WAITING)
                    .send(http, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        } else {
            UNAVAILABLE.send(http, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        }
    }
}
