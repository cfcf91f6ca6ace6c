package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Follows of a job's log ({@code GET /api/jobs/{id}/log?follow=1}) of a job that prints nothing hold
 * no request thread, so clients that went away (Ctrl-C, a killed {@code curl -N}) without the server
 * noticing cannot starve deliveries and {@code /healthz}, nor hold up a graceful stop (tryout8, F14:
 * each held a thread for up to 10 minutes). Real processes: the server, and a client process that
 * opens more follows than the server has request threads, then is killed.
 */
class LogFollowsHoldNoThreadTest {

    static final String TOKEN = ServeProcesses.FOLLOW_TOKEN;
    /** More than the request threads of {@code server.threads.max: 16}, of which Jetty takes some itself. */
    static final int FOLLOWS = 24;

    @TempDir
    Path dir;
    ServeProcesses processes;
    Process client;

    @AfterEach
    void killAll() throws InterruptedException {
        if (client != null) {
            client.destroyForcibly().waitFor();
        }
        if (processes != null) {
            processes.close();
        }
    }

    @Test
    void followsOfAQuietJobWhoseClientWentAwayLeaveTheThreadsToDeliveriesAndToTheStop() throws Exception {
        Path config = ServeProcesses.followConfig(dir, "rules:\n  - name: gated\n    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/true]}\n",
                "stop-timeout: 5m, threads: {min: 4, max: 16}");
        processes = new ServeProcesses(dir);
        Path serveOut = dir.resolve("serve.out");
        Process server = processes.serve(config, serveOut);
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = deliver(url);

        Path followed = dir.resolve("follows.out");
        client = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), FollowClients.class.getName(), url.toString(), job, TOKEN,
                Integer.toString(FOLLOWS)).redirectErrorStream(true).redirectOutput(followed.toFile()).start();
        await().atMost(Duration.ofMinutes(1))
                .until(() -> ServeProcesses.printed(followed, "following " + FOLLOWS) || !client.isAlive());
        assertThat(Files.readString(followed, StandardCharsets.UTF_8)).as("every follow answered")
                .contains("following " + FOLLOWS);
        client.destroyForcibly(); // its connections closed by the kernel, as a Ctrl-C'd client's
        assertThat(client.waitFor(1, TimeUnit.MINUTES)).isTrue();

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(url.resolve("healthz"))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        assertThat(deliver(url)).as("the same delivery again (a duplicate), answered while the follows are open")
                .isEmpty();
        HttpResponse<String> detail = http.send(HttpRequest.newBuilder(url.resolve("api/jobs/" + job))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(detail.statusCode()).as(detail.body()).isEqualTo(200);

        server.destroy(); // SIGTERM: a graceful stop, which waits for requests in flight up to stop-timeout (5m)
        assertThat(server.waitFor(90, TimeUnit.SECONDS)).as("stopped without waiting out stop-timeout: "
                + Files.readString(serveOut, StandardCharsets.UTF_8)).isTrue();
        assertThat(Files.readString(serveOut, StandardCharsets.UTF_8)).contains("buildhook stopped");
        assertThat(server.exitValue()).as("the JVM's code after a SIGTERM").isEqualTo(143);
    }

    @Test
    void aFollowOfAQuietJobOutlastsTheIdleTimeoutAndEndsWhenTheAttemptEnds() throws Exception {
        Path config = ServeProcesses.followConfig(dir, "rules:\n  - name: gated\n    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/true]}\n",
                "idle-timeout: 1s");
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = deliver(url);
        Path followed = dir.resolve("follows.out");
        client = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), FollowClients.class.getName(), url.toString(), job, TOKEN, "2")
                .redirectErrorStream(true).redirectOutput(followed.toFile()).start();
        await().atMost(Duration.ofMinutes(1)).until(() -> ServeProcesses.printed(followed, "following 2"));

        // Several idle timeouts (1s) with nothing to write: the follows stay open.
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(30)).until(client::isAlive);

        HttpResponse<String> approved = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                url.resolve("api/jobs/" + job + "/approve")).header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
        assertThat(client.waitFor(2, TimeUnit.MINUTES)).as("the follows ended with the attempt").isTrue();
        assertThat(Files.readString(followed, StandardCharsets.UTF_8)).contains("every follow ended");
    }

    /**
     * Sends the sample as JobServ does, with its retries: with {@code idle-timeout: 1s} a loaded machine (load 40-50)
     * let the server close the connection before it read the request ("header parser received no bytes"), and one
     * attempt only failed the test (ci42-b). A repeat of a stored body is a duplicate, answered 200.
     */
    private String deliver(URI url) throws Exception {
        StringWriter sent = new StringWriter();
        picocli.CommandLine send = BuildhookCommand.commandLine();
        send.setOut(new PrintWriter(sent, true));
        assertThat(send.execute("send", url.resolve("webhook").toString(), "--sample", "--secret-file",
                dir.resolve("webhook-secret").toString())).as(sent.toString()).isZero();
        return new ObjectMapper().readTree(sent.toString().substring(sent.toString().indexOf('{')))
                .path("jobs").path(0).asText();
    }
}
