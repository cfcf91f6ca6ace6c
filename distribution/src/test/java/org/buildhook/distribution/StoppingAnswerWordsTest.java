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
