package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.runner.rules.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /webhook} and {@code POST /webhook/{endpoint}}: the URL a factory's
 * {@code notify.webhooks[].url} points at. Answers as the HTTP contract says; the answer comes
 * right after the store commit, never after a command.
 */
public final class WebhookServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(WebhookServlet.class);
    /** The {@code error} of a delivery answered 503 because the store cannot take it now (JobServ retries). */
    static final String STORE_UNAVAILABLE = "storage unavailable, retry later";
    private static final Pattern ENDPOINT = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    /** Headers kept with a delivery, for inspection. Never the whole set: proxies add cookies and tokens. */
    private static final String[] KEPT_HEADERS = {"content-type", "content-length", "user-agent",
        "x-jobserv-sig", "x-forwarded-for", "x-forwarded-proto", "x-request-id"};
    /** The 401's body never changes (the reason is only logged): encoded once. */
    private static final JsonAnswer.Fixed UNAUTHORIZED = JsonAnswer.fixedError("signature missing or invalid");

    /**
     * What receiving a delivery needs: the running application's parts ({@link #of}), or those of a copy that
     * waits for its previous copy ({@link WaitingFilter}).
     */
    record Parts(org.buildhook.servlet.config.BuildhookConfig config, DeliveryService deliveries,
            BuildhookMetrics metrics, RemoteAddress remoteAddress) {

        static Parts of(BuildhookApplication app) {
            return new Parts(app.config(), app.deliveries(), app.metrics(), app.remoteAddress());
        }
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!"POST".equals(request.getMethod())) {
            response.setHeader("Allow", "POST");
            JsonAnswer.error("use POST to deliver a webhook").send(response, HttpServletResponse.SC_METHOD_NOT_ALLOWED);
            return;
        }
        receive(Parts.of(BuildhookApplication.from(getServletContext())), request, response);
    }

    /** Receives one {@code POST}: reads its body as it arrives, then verifies, stores and answers it. */
    static void receive(Parts app, HttpServletRequest request, HttpServletResponse response) throws IOException {
        String endpoint = endpoint(request.getPathInfo());
        if (endpoint == null) {
            app.metrics().delivery(null, BuildhookMetrics.DeliveryOutcome.UNKNOWN_ENDPOINT);
            JsonAnswer.error("no such endpoint; POST to /webhook or /webhook/{endpoint}")
                    .send(response, HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        String remote = app.remoteAddress().resolve(request.getRemoteAddr(), request.getHeader("X-Forwarded-For"));
        long maxBody = app.config().http().maxBodyBytes();
        long declared = request.getContentLengthLong();
        if (declared > maxBody && (declared > dropLimit(maxBody) || "100-continue".equalsIgnoreCase(
                request.getHeader("Expect")))) {
            // Answered at once, the body not read: too much to read for nothing, or not sent yet (a
            // client that waits for '100 Continue' reads this answer instead).
            tooLarge(app, endpoint, remote, response, "Content-Length " + declared + " is over the limit of "
                    + maxBody + " bytes");
            return;
        }
        // The body is read as it arrives, without holding a thread while a slow client sends it, and
        // within a deadline for the whole request.
        Duration deadline = app.config().server().requestTimeout();
        BodyListener.start(request.startAsync(), maxBody, deadline, new BodyListener.Ends() {
            @Override
            public void complete(byte[] body) throws IOException {
                deliver(app, endpoint, remote, body, request, response);
            }

            @Override
            public void tooLarge(long received) throws IOException {
                WebhookServlet.tooLarge(app, endpoint, remote, response, "body is over the limit of " + maxBody
                        + " bytes");
            }

            @Override
            public void timedOut(long received, Duration after) throws IOException {
                // Folded like the other refusals: a crowd of slow or stalled clients (a flood, a broken
                // proxy) writes its first line in full and then one summary per window.
                app.deliveries().refusalLog().refused(LOG, "deliveries to endpoint '" + endpoint + "' cut: body not"
                        + " complete within " + Durations.describe(deadline) + " (server.request-timeout)", remote,
                        () -> LOG.warn("delivery from {} to endpoint '{}' cut: its body was not complete after {} ({}"
                                + " byte(s) received; server.request-timeout)", remote, endpoint, Durations.describe(after), received));
                response.setHeader("Connection", "close");
                app.metrics().delivery(endpoint, BuildhookMetrics.DeliveryOutcome.TIMED_OUT);
                JsonAnswer.error("request body not received in time").send(response, HttpServletResponse.SC_REQUEST_TIMEOUT);
            }

            @Override
            public void broken(long received, Throwable failure) throws IOException {
                // Left to the container, the answer was a 200 with no body: a sender that could still
                // read it took the delivery, never stored, for delivered and did not send it again.
                if (!response.isCommitted()) {
                    response.setHeader("Connection", "close");
                    JsonAnswer.error("request body incomplete: the connection ended after " + received
                            + " byte(s)").send(response, HttpServletResponse.SC_BAD_REQUEST);
                }
            }
        }, declared);
    }

    /**
     * Up to which declared length a body over {@code maxBody} is read and dropped before the 413, so that a
     * client sending its whole body before reading (JobServ's) reads the 413 instead of meeting a closed
     * connection: twice {@code http.max-body}. Longer ones are answered at once and the connection closed
     * (as Tomcat, whose {@code maxSwallowSize} is 2 MiB); a sender may then see {@code Broken pipe}. Reading
     * a dropped body costs no more than a body at the limit would, and is bound by the same request deadline.
     */
    static long dropLimit(long maxBody) {
        return 2 * maxBody;
    }

    private static void tooLarge(Parts app, String endpoint, String remote, HttpServletResponse response,
            String reason) throws IOException {
        app.deliveries().refusalLog().refused(LOG, "deliveries to endpoint '" + endpoint + "' refused: body over the limit"
                + " of " + app.config().http().maxBodyBytes() + " bytes", remote,
                () -> LOG.warn("delivery from {} to endpoint '{}' refused: {}", remote, endpoint, reason));
        // Do not let the container drain the rest of a huge body: close the connection.
        response.setHeader("Connection", "close");
        app.metrics().delivery(endpoint, BuildhookMetrics.DeliveryOutcome.TOO_LARGE);
        JsonAnswer.error("body too large: the limit is " + app.config().http().maxBodyBytes() + " bytes")
                .send(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE);
    }

    private static void deliver(Parts app, String endpoint, String remote, byte[] body,
            HttpServletRequest request, HttpServletResponse response) throws IOException {
        long bodyRead = System.nanoTime();
        Receipt receipt;
        try {
            receipt = app.deliveries().receive(endpoint, body, Collections.list(request.getHeaders(SignatureVerifier.HEADER)),
                    () -> keptHeaders(request), remote);
        } catch (RuntimeException e) {
            // A fault of ours, not of the request: the trace is for the log, never for the client
            // (the container's error page would name the exception).
            LOG.error("delivery from {} to endpoint '{}' failed, answering 500", remote, endpoint, e);
            JsonAnswer.error("internal error; the server log says more").send(response,
                    HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
            return;
        }
        answer(receipt, app, response);
        app.metrics().accepted(endpoint, Duration.ofNanos(System.nanoTime() - bodyRead));
        app.metrics().delivery(endpoint, BuildhookMetrics.DeliveryOutcome.of(receipt.kind()));
    }

    private static void answer(Receipt receipt, Parts app, HttpServletResponse response)
            throws IOException {
        switch (receipt.kind()) {
            case ACCEPTED:
                new JsonAnswer().with("delivery", receipt.deliveryId()).with("jobs", receipt.jobIds())
                        .with("duplicate", false).send(response, HttpServletResponse.SC_ACCEPTED);
                break;
            case DUPLICATE:
                new JsonAnswer().with("delivery", receipt.deliveryId()).with("duplicate", true)
                        .send(response, HttpServletResponse.SC_OK);
                break;
            case UNKNOWN_ENDPOINT:
                JsonAnswer.error(receipt.detail()).send(response, HttpServletResponse.SC_NOT_FOUND);
                break;
            case UNAUTHORIZED:
                response.setHeader("WWW-Authenticate", "JobServ-Signature");
                UNAUTHORIZED.send(response, HttpServletResponse.SC_UNAUTHORIZED);
                break;
            case INVALID:
                JsonAnswer.error("not a JobServ build event: " + receipt.detail()).with("delivery", receipt.deliveryId())
                        .send(response, HttpServletResponse.SC_BAD_REQUEST);
                break;
            default:
                response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
                JsonAnswer.error(STORE_UNAVAILABLE).send(response,
                        HttpServletResponse.SC_SERVICE_UNAVAILABLE);
                break;
        }
    }

    /** {@code null} or {@code /} is the default endpoint; {@code /name} a named one; anything else none. */
    static String endpoint(String pathInfo) {
        if (pathInfo == null || pathInfo.equals("/")) {
            return "default";
        }
        String name = pathInfo.substring(1);
        return ENDPOINT.matcher(name).matches() ? name : null;
    }

    private static Map<String, String> keptHeaders(HttpServletRequest request) {
        Map<String, String> kept = new LinkedHashMap<>();
        for (String name : KEPT_HEADERS) {
            String value = request.getHeader(name);
            if (value != null) {
                kept.put(name.toLowerCase(Locale.ROOT), value.length() > 1024 ? value.substring(0, 1024) : value);
            }
        }
        return kept;
    }
}
