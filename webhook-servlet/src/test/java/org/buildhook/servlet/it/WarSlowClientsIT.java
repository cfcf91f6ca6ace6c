package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAR in a Tomcat with few request threads: more clients than threads trickle their bodies to
 * {@code /webhook}; {@code /healthz} and a signed delivery are answered meanwhile (the body is read
 * with a ReadListener, holding no thread), and each slow client is answered {@code 408} at the
 * request deadline ({@code server.request-timeout}).
 */
class WarSlowClientsIT {

    static final int SLOW = 40;

    @Test
    void slowClientsHoldNoTomcatThreadAndAreCutAtTheDeadline(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET + "\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "endpoints: {default: {secrets: [{file: secret}]}}",
                "server: {request-timeout: 30s}", // long enough that a loaded machine answers the others well before it
                ""));
        ScheduledExecutorService senders = Executors.newScheduledThreadPool(1);
        ExecutorService readers = Executors.newCachedThreadPool();
        Map<Socket, String> endings = new ConcurrentHashMap<>();
        List<Socket> sockets = new ArrayList<>();
        try (Container container = new TomcatContainer(dir.resolve("container"), 16)) {
            assertThat(container.deploy(Container.war(), config)).as("the WAR deployed and started").isTrue();
            URI webhook = container.base().resolve("webhook");
            for (int i = 0; i < SLOW; i++) {
                Socket socket = new Socket(webhook.getHost(), webhook.getPort());
                sockets.add(socket);
                OutputStream out = socket.getOutputStream();
                out.write(("POST " + webhook.getPath() + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1000\r\nX-JobServ-Sig: sha256:00\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                senders.scheduleAtFixedRate(() -> {
                    try {
                        out.write(' ');
                        out.flush();
                    } catch (IOException closed) {
                        throw new IllegalStateException("closed"); // ends the schedule
                    }
                }, 1, 1, TimeUnit.SECONDS);
                readers.execute(() -> endings.put(socket, answer(socket)));
            }

            HttpResponse<String> health = Deliveries.get(container.base().resolve("healthz"));
            HttpResponse<String> delivery = Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(901));
            assertThat(endings).as("slow clients still connected while the others were answered").hasSizeLessThan(SLOW);

            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(delivery.statusCode()).as(delivery.body()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(endings).hasSize(SLOW));
            assertThat(endings.values()).allSatisfy(answer -> assertThat(answer).startsWith("HTTP/1.1 408"));
        } finally {
            senders.shutdownNow();
            readers.shutdownNow();
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }

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
