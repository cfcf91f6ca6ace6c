package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAR in a Tomcat with few request threads: more clients than threads trickle their bodies to
 * {@code /webhook}; {@code /healthz} and a signed delivery are answered meanwhile (the body is read
 * with a ReadListener, holding no thread), and each slow client is answered {@code 408} at the
 * request deadline ({@code server.request-timeout}). The 408s are logged folded, as the other
 * refusals: the first in full, the rest counted in summaries that account for every one by the time
 * the application has stopped.
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
        StandardOutput captured = StandardOutput.capture();
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
            captured.close();
            senders.shutdownNow();
            readers.shutdownNow();
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        // The container has stopped: every window has been summed up.
        String log = captured.text();
        long full = 0;
        long folded = 0;
        for (String line : log.lines().toList()) {
            Matcher summary = SUMMARY.matcher(line);
            if (summary.find()) {
                folded += Long.parseLong(summary.group(1));
            } else if (line.contains("delivery from 127.0.0.1 to endpoint 'default' cut: its body was not complete after")) {
                full++;
            }
        }
        assertThat(full).as("408s logged in full").isGreaterThanOrEqualTo(1).isLessThan(SLOW);
        assertThat(full + folded).as("408s in the log").isEqualTo(SLOW);
    }

    private static final Pattern SUMMARY = Pattern.compile("\\.\\.\\. and (\\d+) more like it in [0-9.]+ s since \\S+:"
            + " deliveries to endpoint 'default' cut: body not complete within 30s \\(server.request-timeout\\), from"
            + " 127\\.0\\.0\\.1$");

    @Test
    void aClientThatStallsIsAnswered408AlsoWhenTomcatsReadTimeoutEndsItBeforeTheDeadline(@TempDir Path dir)
            throws Exception {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET + "\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "endpoints: {default: {secrets: [{file: secret}]}}",
                "server: {request-timeout: 60s}",
                ""));
        // Tomcat's own wait for a connection's next bytes (server.xml ships 20 s) ends first.
        StandardOutput captured = StandardOutput.capture();
        try (captured; Container container = new TomcatContainer(dir.resolve("container"), 0, null,
                Map.of("connectionTimeout", "2000"))) {
            assertThat(container.deploy(Container.war(), config)).as("the WAR deployed and started").isTrue();
            URI webhook = container.base().resolve("webhook");
            try (Socket socket = new Socket(webhook.getHost(), webhook.getPort())) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST " + webhook.getPath() + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1000\r\nX-JobServ-Sig: sha256:00\r\n\r\n{\"build_id\": 1").getBytes(
                                StandardCharsets.ISO_8859_1));
                out.flush();
                // Neither more bytes nor a close. Tomcat closes the connection on its timeout, so no answer
                // reaches the client; but the log calls it what it is, a body not complete in time, folded
                // with the others (it had said "webhook body not read", one line per client).
                assertThat(answer(socket)).isEmpty();
            }
        }
        assertThat(captured.text()).contains("delivery from 127.0.0.1 to endpoint 'default' cut: its body was not"
                + " complete after").doesNotContain("webhook body not read");
    }

    /** What is written to standard output, where the WAR logs (its logback.xml), as into catalina.out. */
    static final class StandardOutput implements AutoCloseable {
        private final PrintStream original = System.out;
        private final ByteArrayOutputStream text = new ByteArrayOutputStream();

        static StandardOutput capture() {
            StandardOutput captured = new StandardOutput();
            System.setOut(new PrintStream(new OutputStream() {
                @Override
                public void write(int b) {
                    captured.original.write(b);
                    synchronized (captured.text) {
                        captured.text.write(b);
                    }
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    captured.original.write(b, off, len);
                    synchronized (captured.text) {
                        captured.text.write(b, off, len);
                    }
                }
            }, true));
            return captured;
        }

        String text() {
            synchronized (text) {
                return text.toString(StandardCharsets.UTF_8);
            }
        }

        @Override
        public void close() {
            System.setOut(original);
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
