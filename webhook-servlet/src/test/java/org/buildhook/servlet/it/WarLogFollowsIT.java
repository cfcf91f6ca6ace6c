package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The WAR in a Tomcat with few request threads: follows of a job's log ({@code ?follow=1}) of a job
 * that prints nothing (one awaiting an approval) hold none of them, also once their clients went
 * away without the server noticing: {@code /healthz} and a delivery are answered, and the
 * application stops without waiting for them (tryout8, F14).
 */
class WarLogFollowsIT {

    static final String TOKEN = "admin-token-for-the-war-follow-test-0123";
    static final int THREADS = 4;
    static final int FOLLOWS = 3 * THREADS;

    @Test
    void followsOfAQuietJobWhoseClientsWentAwayHoldNoTomcatThread(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET + "\n");
        Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: gated\n    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/true]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {default: {secrets: [{file: secret}]}}",
                "admin: {token: {file: admin-token}}",
                ""));
        Container container = new TomcatContainer(dir.resolve("container"), THREADS);
        try {
            assertThat(container.deploy(Container.war(), config)).as("the WAR deployed and started").isTrue();
            HttpResponse<String> first = Deliveries.postSigned(container.base().resolve("webhook"),
                    Deliveries.seedWithBuildId(701));
            assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
            String job = new ObjectMapper().readTree(first.body()).path("jobs").path(0).asText();
            URI log = container.base().resolve("api/jobs/" + job + "/log");

            List<Socket> follows = new ArrayList<>();
            for (int i = 0; i < FOLLOWS; i++) {
                Socket socket = new Socket(log.getHost(), log.getPort());
                socket.setSoTimeout(60_000);
                follows.add(socket);
                OutputStream out = socket.getOutputStream();
                out.write(("GET " + log.getRawPath() + "?follow=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                        + TOKEN + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
            for (Socket socket : follows) {
                InputStream in = socket.getInputStream();
                assertThat(new String(in.readNBytes(12), StandardCharsets.ISO_8859_1)).as("a follow answered")
                        .isEqualTo("HTTP/1.1 200");
            }
            for (Socket socket : follows) {
                socket.close(); // gone, as a Ctrl-C'd client
            }

            assertThat(Deliveries.get(container.base().resolve("healthz")).statusCode()).isEqualTo(200);
            HttpResponse<String> second = Deliveries.postSigned(container.base().resolve("webhook"),
                    Deliveries.seedWithBuildId(702));
            assertThat(second.statusCode()).as(second.body()).isEqualTo(202);
        } finally {
            // Stopping the application ends the follows still open: the stop waits for none of them.
            CompletableFuture<Void> closed = CompletableFuture.runAsync(container::close);
            closed.get(2, TimeUnit.MINUTES);
        }
    }

    /**
     * A follow of a running job's log on a WAR that is undeployed (fixes39: it got no last line, where the standalone
     * server's graceful stop ends it with one): it ends with the stop's line, saying how the job stands and to follow
     * again once the server runs, as the standalone server's does, and the end of the answer is marked (mark=1).
     */
    @ParameterizedTest
    @ValueSource(strings = {"jetty", "tomcat"})
    void aFollowOfAWarThatIsUndeployedEndsWithTheStopsLine(String which, @TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET + "\n");
        Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: long\n    run: {command: [/bin/sh, -c,"
                + " 'echo started; exec sleep 600']}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {default: {secrets: [{file: secret}]}}",
                "admin: {token: {file: admin-token}}",
                "runner: {shutdown-grace: 1s}",
                "store: {connect-timeout: 60s}", // a loaded machine: the first connection may take more than 5 s
                ""));
        Container container = which.equals("jetty") ? new JettyContainer(dir.resolve("container"))
                : new TomcatContainer(dir.resolve("container"));
        try {
            assertThat(container.deploy(Container.war(), config)).as("the WAR deployed and started").isTrue();
            HttpResponse<String> sent = Deliveries.postSigned(container.base().resolve("webhook"),
                    Deliveries.seedWithBuildId(703));
            assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
            String job = new ObjectMapper().readTree(sent.body()).path("jobs").path(0).asText();
            URI log = container.base().resolve("api/jobs/" + job + "/log");
            HttpClient http = HttpClient.newHttpClient();
            org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(2)).until(() -> http.send(
                    HttpRequest.newBuilder(log).header("Authorization", "Bearer " + TOKEN).build(),
                    HttpResponse.BodyHandlers.ofString()).body().equals("started\n"));

            HttpResponse<InputStream> follow = http.send(HttpRequest.newBuilder(URI.create(log
                    + "?follow=1&state=1&mark=1")).header("Authorization", "Bearer " + TOKEN).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            String mark = follow.headers().firstValue("X-Buildhook-Follow-Mark").orElseThrow();
            CompletableFuture<String> body = CompletableFuture.supplyAsync(() -> {
                try (InputStream in = follow.body()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    return "cut: " + e;
                }
            });
            container.undeploy();

            String got = body.get(2, TimeUnit.MINUTES);
            assertThat(got).as(got).startsWith("started\n").endsWith("\n");
            List<String> lines = got.lines().toList();
            // Its job was cut short by the stop (runner.shutdown-grace: 1s): it runs again after the next start.
            assertThat(lines.get(lines.size() - 1)).as(got).startsWith(mark + " [buildhook] the log follow stopped:"
                    + " the server is stopping (graceful stop) while job " + job + " is ")
                    .endsWith("; follow again once the server runs (buildhook logs -f " + job + ")");
        } finally {
            CompletableFuture<Void> closed = CompletableFuture.runAsync(container::close);
            closed.get(2, TimeUnit.MINUTES);
        }
    }
}
