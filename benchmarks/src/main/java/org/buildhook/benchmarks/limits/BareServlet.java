package org.buildhook.benchmarks.limits;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.buildhook.distribution.BuildhookServer;
import org.buildhook.servlet.config.ServerSettings;
import org.eclipse.jetty.ee10.servlet.ServletHolder;

/**
 * The HTTP reference: a servlet that reads the whole body and answers a small JSON {@code 404}, on
 * the standalone server's own Jetty 12 set-up ({@link BuildhookServer#create}: the same thread
 * pool, connector and timeouts as {@code buildhook serve} with its defaults), and nothing else. What
 * buildhook's {@code 401} and {@code 404} answers cost beyond it is buildhook's own work.
 *
 * <pre>
 * java -XX:TieredStopAtLevel=1 -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.BareServlet PORT
 * </pre>
 *
 * Runs until killed; prints {@code listening on PORT} once it accepts connections.
 */
public final class BareServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final byte[] ANSWER = "{\"error\":\"no such endpoint\"}\n".getBytes(StandardCharsets.UTF_8);

    /** Reads the whole body, then answers {@code 404} with a small JSON body. */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] buffer = new byte[8192];
        try (InputStream in = request.getInputStream()) {
            while (in.read(buffer) >= 0) {
                // the body is read and dropped, as buildhook reads it before it can refuse it
            }
        }
        response.setStatus(HttpServletResponse.SC_NOT_FOUND);
        response.setContentType("application/json");
        response.setContentLength(ANSWER.length);
        response.getOutputStream().write(ANSWER);
    }

    /** Serves on {@code args[0]} (0 or absent: any free port) at 127.0.0.1 until the JVM is stopped. */
    public static void main(String[] args) throws Exception {
        serve(args.length > 0 ? Integer.parseInt(args[0]) : 0, new BareServlet());
    }

    /**
     * Serves {@code servlet} at every path on {@code port} (0: any free port) of 127.0.0.1 with the
     * standalone server's default Jetty set-up, prints {@code listening on PORT}, and returns when the
     * server has stopped (the JVM's shutdown stops it).
     */
    static void serve(int port, HttpServlet servlet) throws Exception {
        ServerSettings defaults = ServerSettings.defaults();
        ServerSettings settings = new ServerSettings("127.0.0.1", port, defaults.contextPath(), null, null,
                defaults.idleTimeout(), defaults.requestTimeout(), defaults.minThreads(), defaults.maxThreads(),
                defaults.stopTimeout());
        BuildhookServer server = BuildhookServer.create(settings,
                context -> context.addServlet(new ServletHolder(servlet), "/*"));
        server.start();
        server.stopAtShutdown();
        System.out.println("listening on " + server.port());
        server.join();
    }
}
