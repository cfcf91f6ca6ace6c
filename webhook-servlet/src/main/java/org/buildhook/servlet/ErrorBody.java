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
        try {
            return JSON.writeValueAsString(fields) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String webhookPath(String contextPath) {
        return (contextPath == null || contextPath.equals("/") ? "" : contextPath) + "/webhook";
    }
}
