package org.buildhook.servlet;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON body of every error answer made outside buildhook's own servlets (a path that does not
 * exist, a request the container refused, an error page): {@code {"error": "...", "status": 404,
 * "webhook": "/buildhook/webhook"}}. Never the container's HTML page, never an exception's text for a
 * server error.
 */
public final class ErrorBody {

    /** The error-page location the WAR's {@code web.xml} and the standalone server dispatch errors to. */
    public static final String ERROR_PAGE = "/error";

    /**
     * The {@code error} of the standalone server's {@code 503} to a request that comes on an open connection
     * in the last moment of a graceful stop (after the drain, while Jetty closes): not an internal error.
     */
    public static final String STOPPING = "the server is stopping (graceful stop) and takes no more requests;"
            + " send again once it runs again";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ErrorBody() {
    }

    /**
     * @param status      the HTTP status answered
     * @param message     the container's or servlet's reason; shown for client errors only (4xx)
     * @param contextPath the application's context path ({@code ""} at the root), to say where webhooks go
     */
    public static String json(int status, String message, String contextPath) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("error", status == 404 ? "no such path; webhooks go to POST " + webhookPath(contextPath)
                + " or " + webhookPath(contextPath) + "/{endpoint}"
                : status >= 500 ? "internal error; the server log has the details"
                : message == null || message.isBlank() ? "bad request (HTTP " + status + ")" : message);
        fields.put("status", status);
        fields.put("webhook", webhookPath(contextPath));
        return text(fields);
    }

    /**
     * The body of the {@code 503} a graceful stop answers in its last moment: {@code {"error": STOPPING,
     * "status": 503, "stopping": true, "webhook": "/webhook"}}; {@code "stopping"} tells a client (the
     * {@code buildhook} command) that the server goes away, as a refused connection would.
     */
    public static String stopping(String contextPath) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("error", STOPPING);
        fields.put("status", 503);
        fields.put("stopping", true);
        fields.put("webhook", webhookPath(contextPath));
        return text(fields);
    }

    private static String text(Map<String, Object> fields) {
        try {
            return JSON.writeValueAsString(fields) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where webhooks go under {@code contextPath}: {@code /webhook}, {@code /buildhook/webhook}. */
    public static String webhookPath(String contextPath) {
        return (contextPath == null || contextPath.equals("/") ? "" : contextPath) + "/webhook";
    }
}
