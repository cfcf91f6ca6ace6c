package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the CLI says of a graceful stop's {@code 503} (review39 F4): "answered this command before" only when an
 * earlier request of the same command was answered. Behind a reverse proxy that keeps its connection to the server,
 * a command's first request can get the stop's last-moment {@code 503}; it said "answered this command before" then.
 * The server here is the JDK's, answering as the standalone server's stop does, because the case needs a
 * connection kept by something in between, which a direct connection to a stopping Jetty does not give
 * (StopAnswerOnOpenConnectionsTest covers the real stop).
 */
class StoppingAnswerWordsTest {

    private static final String STOPPING = "{\"error\":\"the server is stopping (graceful stop); send again later\","
            + "\"stopping\":true}";

    private final AtomicInteger okBefore503 = new AtomicInteger();
    private HttpServer server;

    private URI start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/", exchange -> {
            boolean ok = okBefore503.getAndDecrement() > 0;
            byte[] body = (ok ? "{\"jobs\":[]}" : STOPPING).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    /**
     * tryout46 F4: {@code logs -f} during a store outage ended at once with "the server answered 503: the store is
     * unavailable; try again later", though the log it follows is a file on the node's own disk and the job's command
     * may still run: it names that file, under the configuration's log folder. The server answers as the admin API does
     * while its store cannot be reached.
     */
    @Test
    void aFollowRefusedForTheStoreNamesWhereTheLogIsOnTheNodesDisk(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/", exchange -> {
            byte[] body = "{\"error\":\"the store is unavailable; try again later\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.getResponseHeaders().add("Retry-After", "5");
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        java.nio.file.Path data = dir.resolve("data");
        java.nio.file.Path config = java.nio.file.Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + data
                + "\n");
        java.nio.file.Path token = java.nio.file.Files.writeString(dir.resolve("token"), "t0ken\n");
        String job = "01M94TEFQ8X2E3R4K6T0C1B5VN";
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new java.io.PrintWriter(new java.io.StringWriter(), true));
        cl.setErr(new java.io.PrintWriter(err, true));

        int code = cl.execute("logs", "-f", job, "--config", config.toString(), "--url", "http://127.0.0.1:"
                + server.getAddress().getPort() + "/", "--token-file", token.toString());

        assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString().strip()).isEqualTo("buildhook: the server answered 503: the store is unavailable; try"
                + " again later; meanwhile the log is a file on the disk of the node that runs the job: "
                + data.resolve("logs").resolve(job).resolve("attempt-N.log") + " (the highest N is its latest attempt),"
                + " e.g. tail -f it there");
    }

    @Test
    void aCommandsFirstRequestAnsweredStoppingIsNotSaidToHaveBeenAnsweredBefore() throws Exception {
        AdminClient admin = new AdminClient(start(), "token");

        assertThatThrownBy(() -> admin.get("jobs")).isInstanceOfSatisfying(CommandFailure.class, e -> {
            assertThat(e.getMessage()).contains(" says it is stopping (503): it was stopped or is restarting")
                    .doesNotContain("answered this command before");
            assertThat(e.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        });
    }

    @Test
    void aStoppingAnswerAfterAnEarlierAnswerSaysItAnsweredBefore() throws Exception {
        okBefore503.set(1);
        AdminClient admin = new AdminClient(start(), "token");
        admin.get("jobs");

        assertThatThrownBy(() -> admin.get("jobs")).isInstanceOfSatisfying(CommandFailure.class, e -> {
            assertThat(e.getMessage()).contains("answered this command before and now says it is stopping (503)");
            assertThat(e.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        });
    }
}
