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
    private static final Pattern ENDPOINT = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    /** Headers kept with a delivery, for inspection. Never the whole set: proxies add cookies and tokens. */
    private static final String[] KEPT_HEADERS = {"content-type", "content-length", "user-agent",
        "x-jobserv-sig", "x-forwarded-for", "x-forwarded-proto", "x-request-id"};

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!"POST".equals(request.getMethod())) {
            response.setHeader("Allow", "POST");
            JsonAnswer.error("use POST to deliver a webhook").send(response, HttpServletResponse.SC_METHOD_NOT_ALLOWED);
            return;
        }
        BuildhookApplication app = BuildhookApplication.from(getServletContext());
        String endpoint = endpoint(request.getPathInfo());
        if (endpoint == null) {
            app.metrics().delivery(null, BuildhookMetrics.DeliveryOutcome.UNKNOWN_ENDPOINT);
            JsonAnswer.error("no such endpoint; POST to /webhook or /webhook/{endpoint}")
                    .send(response, HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        String remote = app.remoteAddress().resolve(request.getRemoteAddr(), request.getHeader("X-Forwarded-For"));
        byte[] body;
        try {
            body = BodyReader.read(request, app.config().http().maxBodyBytes());
        } catch (BodyReader.TooLarge e) {
            LOG.warn("delivery from {} to endpoint '{}' refused: {}", remote, endpoint, e.getMessage());
            // Do not let the container drain the rest of a huge body: close the connection.
            response.setHeader("Connection", "close");
            app.metrics().delivery(endpoint, BuildhookMetrics.DeliveryOutcome.TOO_LARGE);
            JsonAnswer.error("body too large: the limit is " + app.config().http().maxBodyBytes() + " bytes")
                    .send(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE);
            return;
        } catch (IOException e) {
            LOG.info("delivery from {} to endpoint '{}' not read: {}", remote, endpoint, e.toString());
            return;
        }
        long bodyRead = System.nanoTime();
        Receipt receipt;
        try {
            receipt = app.deliveries().receive(new IncomingDelivery(endpoint, body,
                    Collections.list(request.getHeaders(SignatureVerifier.HEADER)), keptHeaders(request), remote));
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

    private static void answer(Receipt receipt, BuildhookApplication app, HttpServletResponse response)
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
                JsonAnswer.error("signature missing or invalid").send(response, HttpServletResponse.SC_UNAUTHORIZED);
                break;
            case INVALID:
                JsonAnswer.error("not a JobServ build event: " + receipt.detail()).with("delivery", receipt.deliveryId())
                        .send(response, HttpServletResponse.SC_BAD_REQUEST);
                break;
            default:
                response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
                JsonAnswer.error("storage unavailable, retry later").send(response,
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
