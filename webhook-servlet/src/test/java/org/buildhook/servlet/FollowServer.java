package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real Jetty on a free port of 127.0.0.1 that serves {@code GET /follow?source=NAME} as a log
 * follow ({@link LogFollows#follow}) of the source registered under {@code NAME}; for the tests of
 * {@link LogFollows}. {@link #close} stops the server, not the follows.
 */
final class FollowServer implements AutoCloseable {

    private final Map<String, LogFollows.Source> sources = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private final Server server = new Server();
    private final URI base;

    FollowServer(LogFollows follows) throws Exception {
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        ServletHolder holder = new ServletHolder(new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.setStatus(200);
                response.setContentType("text/plain; charset=utf-8");
                String name = request.getParameter("source");
                follows.follow(request.startAsync(), sources.get(name), "follow " + name);
            }
        });
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/follow");
        server.setHandler(context);
        server.start();
        base = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/follow");
    }

    /** Registers {@code source} under {@code name} and follows it over HTTP; the whole answer when it ends. */
    CompletableFuture<HttpResponse<String>> follow(String name, LogFollows.Source source) {
        sources.put(name, source);
        return http.sendAsync(HttpRequest.newBuilder(URI.create(base + "?source=" + name)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The sources followed so far. */
    Iterable<LogFollows.Source> sources() {
        return sources.values();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
