package org.buildhook.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The load generator's HTTP/1.1 client against the JDK's own HTTP server over loopback. */
class HttpConnectionTest {

    private HttpServer server;
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private final List<String> signatures = new CopyOnWriteArrayList<>();
    private final Set<InetSocketAddress> clients = ConcurrentHashMap.newKeySet();
    private URI base;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/fixed", exchange -> {
            clients.add(exchange.getRemoteAddress());
            bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            signatures.add(exchange.getRequestHeaders().getFirst("X-JobServ-Sig"));
            byte[] answer = "{\"accepted\":true}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(202, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
        server.createContext("/chunked", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(401, 0); // 0: chunked
            try (OutputStream out = exchange.getResponseBody()) {
                out.write("{\"error\":".getBytes(StandardCharsets.UTF_8));
                out.flush();
                out.write("\"signature\"}".getBytes(StandardCharsets.UTF_8));
            }
        });
        server.createContext("/close", exchange -> {
            clients.add(exchange.getRemoteAddress());
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("Connection", "close");
            exchange.sendResponseHeaders(503, -1); // -1: no body
            exchange.close();
        });
        server.start();
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void postsEachBodyWithItsSignatureOnOneKeptAliveConnection() throws IOException {
        try (HttpConnection c = new HttpConnection(base.resolve("/fixed"))) {
            for (int i = 0; i < 20; i++) {
                assertThat(c.post("X-JobServ-Sig", "sha256:" + i, ("{\"build_id\": " + i + "}")
                        .getBytes(StandardCharsets.UTF_8))).isEqualTo(202);
            }
        }
        assertThat(bodies).hasSize(20).first().isEqualTo("{\"build_id\": 0}");
        assertThat(signatures).last().isEqualTo("sha256:19");
        assertThat(clients).as("one connection for all 20").hasSize(1);
    }

    @Test
    void readsAChunkedAnswerWholeAndGoesOnOnTheSameConnection() throws IOException {
        try (HttpConnection c = new HttpConnection(base.resolve("/chunked"))) {
            assertThat(c.post("X-JobServ-Sig", "sha256:00", new byte[] {'{', '}'})).isEqualTo(401);
            assertThat(c.post("X-JobServ-Sig", "sha256:00", new byte[] {'{', '}'})).isEqualTo(401);
        }
    }

    @Test
    void reconnectsAfterTheReceiverAskedToClose() throws IOException {
        try (HttpConnection c = new HttpConnection(base.resolve("/close"))) {
            for (int i = 0; i < 3; i++) {
                assertThat(c.post("X-JobServ-Sig", "sha256:00", new byte[] {'{', '}'})).isEqualTo(503);
            }
        }
        assertThat(clients).as("a new connection each time").hasSize(3);
    }

    @Test
    void aReceiverThatIsNotThereIsAnIoError() throws IOException {
        server.stop(0);
        try (HttpConnection c = new HttpConnection(base.resolve("/fixed"))) {
            assertThatThrownBy(() -> c.post("X-JobServ-Sig", "sha256:00", new byte[] {'{', '}'}))
                    .isInstanceOf(IOException.class);
        }
    }
}
