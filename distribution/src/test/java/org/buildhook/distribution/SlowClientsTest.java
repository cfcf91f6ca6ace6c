package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.buildhook.core.Signer;
import org.buildhook.servlet.config.BuildhookConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow clients cannot take the threads a real delivery or {@code /healthz} needs: more clients than
 * request threads, from real sockets, trickle their bodies to {@code /webhook} (some at 1 byte/s,
 * some fast enough never to look idle but never finishing), while a health check and a signed
 * delivery are answered; then every slow client is cut, the steady ones at the request deadline.
 */
class SlowClientsTest {

    static final int DRIBBLERS = 60;
    static final int STEADY = 60;
    static final String SECRET = "slow-clients-secret";

    @TempDir
    Path dir;

    @Test
    void healthAndARealDeliveryAreAnsweredWhileMoreSlowClientsThanThreadsTrickleAndEveryOneIsCut() throws Exception {
        Path config = TestConfig.writeWithSecret(dir, SECRET,
                "server:",
                "  host: 127.0.0.1",
                "  port: 0",
                "  request-timeout: 30s", // long enough that a loaded machine answers the others well before it
                "  threads: {min: 4, max: 32}");
        BuildhookConfig loaded = TestConfig.load(config);
        ScheduledExecutorService senders = Executors.newScheduledThreadPool(2);
        ExecutorService readers = Executors.newCachedThreadPool();
        Map<Socket, String> endings = new ConcurrentHashMap<>();
        List<Socket> dribblers = new ArrayList<>();
        List<Socket> steady = new ArrayList<>();
        try (BuildhookServer server = TestConfig.server(loaded)) {
            server.start();
            URI base = server.uri();
            for (int i = 0; i < DRIBBLERS + STEADY; i++) {
                boolean isSteady = i >= DRIBBLERS;
                Socket socket = new Socket(base.getHost(), base.getPort());
                (isSteady ? steady : dribblers).add(socket);
                OutputStream out = socket.getOutputStream();
                out.write(("POST " + base.getPath() + "webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + (isSteady ? 1 << 20 : 1000) + "\r\nX-JobServ-Sig: sha256:00\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                // A steady client sends 4 KiB every second: above any minimum rate, but never done.
                byte[] chunk = new byte[isSteady ? 4096 : 1];
                java.util.Arrays.fill(chunk, (byte) ' ');
                senders.scheduleAtFixedRate(() -> {
                    try {
                        out.write(chunk);
                        out.flush();
                    } catch (IOException closed) {
                        throw new IllegalStateException("closed"); // ends the schedule
                    }
                }, 1, 1, TimeUnit.SECONDS);
                readers.execute(() -> endings.put(socket, answer(socket)));
            }

            // While they trickle: answered promptly (generous bounds), not after the slow clients are gone.
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20)).build();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(base.resolve("healthz"))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            byte[] body = Files.readAllBytes(Path.of(System.getProperty("buildhook.fixtures"), "build-67-passed.json"));
            HttpResponse<String> delivery = http.send(HttpRequest.newBuilder(base.resolve("webhook"))
                    .timeout(Duration.ofSeconds(20))
                    .header("X-JobServ-Sig", Signer.sign(body, SECRET.getBytes(StandardCharsets.UTF_8)))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(endings).as("slow clients still connected while the others were answered").hasSizeLessThan(
                    DRIBBLERS + STEADY);

            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(delivery.statusCode()).as(delivery.body()).isEqualTo(202);
            // Every slow client is cut: the 1 byte/s ones by the minimum rate, the steady ones at the deadline.
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() ->
                    assertThat(endings).hasSize(DRIBBLERS + STEADY));
            for (Socket socket : steady) {
                assertThat(endings.get(socket)).as("a steady client at the deadline").startsWith("HTTP/1.1 408");
            }
        } finally {
            senders.shutdownNow();
            readers.shutdownNow();
            for (Socket socket : dribblers) {
                socket.close();
            }
            for (Socket socket : steady) {
                socket.close();
            }
        }
    }

    /** What the server answered before closing the connection ("" for a bare close). */
    static String answer(Socket socket) {
        StringBuilder text = new StringBuilder();
        try {
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                text.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (IOException reset) {
            // a reset is a close as well
        }
        return text.toString();
    }
}
