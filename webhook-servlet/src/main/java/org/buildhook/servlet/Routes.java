package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import java.util.List;

/**
 * The servlets and their URL patterns, as {@code WEB-INF/web.xml} declares them. The standalone
 * server registers exactly these; a test keeps the two in step.
 */
public final class Routes {

    /**
     * One servlet and the patterns it serves.
     *
     * @param async whether it reads or writes asynchronously (web.xml's {@code <async-supported>})
     */
    public record Route(String name, Class<? extends HttpServlet> servlet, List<String> patterns, boolean async) {
        public Route {
            patterns = List.copyOf(patterns);
        }
    }

    public static final List<Route> ALL = List.of(
            new Route("webhook", WebhookServlet.class, List.of("/webhook", "/webhook/*"), true),
            new Route("health", HealthServlet.class, List.of("/healthz"), false),
            new Route("metrics", MetricsServlet.class, List.of("/metrics"), false),
            new Route("admin-api", AdminApiServlet.class, List.of("/api/*"), true),
            new Route("status-page", StatusPageServlet.class, List.of(""), false),
            new Route("fallback", FallbackServlet.class, List.of("/"), false));

    private Routes() {
    }
}
