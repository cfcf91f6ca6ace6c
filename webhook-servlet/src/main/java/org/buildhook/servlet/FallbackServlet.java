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

/**
 * What answers where no other servlet does, in JSON, for any method: a request to a path that does
 * not exist ({@code /webhooks}, {@code /hooks/x}, {@code /Webhook}) gets {@code 404} saying where
 * webhooks go, is logged and counted; and, as the application's error page ({@value
 * ErrorBody#ERROR_PAGE}), every error the container would otherwise answer with its HTML page.
 * A factory posting to a mistyped URL thus shows up in the log and the metrics, not only in JobServ.
 */
public final class FallbackServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(FallbackServlet.class);

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getDispatcherType() == DispatcherType.ERROR) {
            Object status = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
            Object message = request.getAttribute(RequestDispatcher.ERROR_MESSAGE);
            int code = status instanceof Integer ? (Integer) status : HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
            send(response, code, message == null ? null : message.toString());
            return;
        }
        String path = request.getRequestURI();
        ServletContext context = getServletContext();
        Object app = context.getAttribute(BuildhookApplication.ATTRIBUTE);
        if (app instanceof BuildhookApplication) {
            BuildhookApplication running = (BuildhookApplication) app;
            running.metrics().unknownPath(request.getMethod());
            LOG.warn("{} {} from {}: no such path (404); webhooks go to POST {}", LogSafe.of(request.getMethod()),
                    LogSafe.of(path), running.remoteAddress().resolve(request.getRemoteAddr(),
                            request.getHeader("X-Forwarded-For")), ErrorBody.webhookPath(context.getContextPath()));
        }
        send(response, HttpServletResponse.SC_NOT_FOUND, null);
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
