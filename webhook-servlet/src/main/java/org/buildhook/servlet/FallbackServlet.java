package org.buildhook.servlet;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.buildhook.core.LogSafe;

/**
 * What answers where no other servlet does, in JSON, for any method: a request to a path that does
 * not exist ({@code /webhooks}, {@code /hooks/x}, {@code /Webhook}) gets {@code 404} saying where
 * webhooks go, is logged and counted; and, as the application's error page ({@value
 * ErrorBody#ERROR_PAGE}), every error the container would otherwise answer with its HTML page, logged
 * and counted the same way (also what Jetty's server refused before the application, when its error
 * handler hands that here as docs/deploying.md, "Errors the container answers itself", says).
 * A factory posting to a mistyped URL thus shows up in the log and the metrics, not only in JobServ.
 */
public final class FallbackServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(FallbackServlet.class);

    /** Marks an error page request that is a buildhook servlet's own answer: not logged or counted again. */
    private static final Object NOT_COUNTED = new Object();

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getDispatcherType() == DispatcherType.ERROR) {
            Object cause = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
            // A buildhook servlet's own sendError (a bad parameter, "no such job") is its answer, said
            // in JSON here; what the container raised (no servlet had the request, or one failed) is
            // logged and counted as well.
            boolean container = request.getAttribute(RequestDispatcher.ERROR_SERVLET_NAME) == null || cause != null;
            refused(request, response, request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE),
                    request.getAttribute(RequestDispatcher.ERROR_MESSAGE),
                    request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI), container ? cause : NOT_COUNTED);
            return;
        }
        String path = request.getRequestURI();
        ServletContext context = getServletContext();
        BuildhookApplication running = application();
        if (running != null && !isBrowsersIconRequest(request, path, context)) {
            running.metrics().unknownPath(request.getMethod());
            LOG.warn("{} {} from {}: no such path (404); webhooks go to POST {}", LogSafe.of(request.getMethod()),
                    LogSafe.of(path), client(running, request), ErrorBody.webhookPath(context.getContextPath()));
        }
        send(response, HttpServletResponse.SC_NOT_FOUND, null);
    }

    /**
     * A browser showing the status page asks for {@code /favicon.ico} by itself: answered 404 like any
     * unknown path, but neither logged nor counted, or every visit of an operator would look like a
     * mistyped webhook URL in the log and in {@code buildhook_http_unknown_paths_total}.
     */
    private static boolean isBrowsersIconRequest(HttpServletRequest request, String path, ServletContext context) {
        return "GET".equals(request.getMethod()) && path.equals(context.getContextPath() + "/favicon.ico");
    }

    /** An error the container answered inside the application: the same JSON, logged and counted. */
    private void refused(HttpServletRequest request, HttpServletResponse response, Object status, Object message,
            Object uri, Object cause) throws IOException {
        int code = status instanceof Integer ? (Integer) status : HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
        String reason = message == null ? null : message.toString();
        BuildhookApplication running = application();
        if (running != null && cause != NOT_COUNTED) {
            running.metrics().unknownPath(request.getMethod());
            // Jetty's server error handler (docs/deploying.md) hands what it refused to this page itself.
            String page = getServletContext().getContextPath() + ErrorBody.ERROR_PAGE;
            String target = uri == null || uri.toString().equals(page) ? "(a request target the container refused)"
                    : uri.toString();
            String why = reason == null || reason.isBlank() ? "" : ": " + LogSafe.of(reason);
            if (cause instanceof Throwable && code >= 500) {
                // The container has logged the exception with its stack already.
                LOG.error("{} {} from {}: failed ({}); the exception is in the container's log just before",
                        LogSafe.of(request.getMethod()), LogSafe.of(target), client(running, request), code);
            } else {
                LOG.warn("{} {} from {}: refused by the container ({}{}); webhooks go to POST {}",
                        LogSafe.of(request.getMethod()), LogSafe.of(target), client(running, request), code, why,
                        ErrorBody.webhookPath(getServletContext().getContextPath()));
            }
        }
        send(response, code, code >= 500 ? null : reason);
    }

    private BuildhookApplication application() {
        Object app = getServletContext().getAttribute(BuildhookApplication.ATTRIBUTE);
        return app instanceof BuildhookApplication ? (BuildhookApplication) app : null;
    }

    private static Object client(BuildhookApplication running, HttpServletRequest request) {
        return running.remoteAddress().resolve(request.getRemoteAddr(), request.getHeader("X-Forwarded-For"));
    }

    private void send(HttpServletResponse response, int status, String message) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        byte[] body = ErrorBody.json(status, message, getServletContext().getContextPath())
                .getBytes(StandardCharsets.UTF_8);
        response.resetBuffer();
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
