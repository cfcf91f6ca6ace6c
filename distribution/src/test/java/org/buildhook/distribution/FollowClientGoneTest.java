package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
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
 * {@code buildhook logs -f} of a job that waits for an approval, stopped by its operator (Ctrl-C),
 * leaves nothing running on the server. It used to hold a follow request open, which the server
 * notices only when it has output to write: a request thread was held for up to 10 minutes, and a
 * graceful stop waited for it (found by tryout8). Real processes: the server, and the command.
 */
class FollowClientGoneTest {

    static final String TOKEN = "admin-token-for-follow-test-0123456789";

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
    void aFollowOfAJobAwaitingAnApprovalStoppedByItsOperatorDoesNotHoldUpTheServersStop() throws Exception {
        Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-follow-test\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: gated\n    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/true]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "admin: {token: {file: admin-token}}",
                "server: {host: 127.0.0.1, port: 0, stop-timeout: 5m}",
                ""));
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        StringWriter sent = new StringWriter();
        picocli.CommandLine send = BuildhookCommand.commandLine();
        send.setOut(new PrintWriter(sent, true));
        assertThat(send.execute("send", url.resolve("webhook").toString(), "--sample", "--secret-file",
                dir.resolve("webhook-secret").toString(), "--no-retry")).as(sent.toString()).isZero();
        String job = new ObjectMapper().readTree(sent.toString().substring(sent.toString().indexOf('{')))
                .path("jobs").path(0).asText();

        Path followed = dir.resolve("logs.out");
        client = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "logs", "-f", job, "--url", url.toString(),
                "--token-file", dir.resolve("admin-token").toString())
                .redirectErrorStream(true).redirectOutput(followed.toFile()).start();
        await().atMost(Duration.ofMinutes(1)).until(() -> ServeProcesses.printed(followed, "awaits an approval"));
        client.destroy();
        assertThat(client.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(state(url, job)).isEqualTo("AWAITING_APPROVAL");

        server.destroy(); // SIGTERM: a graceful stop, which waits for requests in flight up to stop-timeout (5m)

        assertThat(server.waitFor(90, TimeUnit.SECONDS)).as("stopped without waiting out stop-timeout: "
                + Files.readString(dir.resolve("serve.out"), StandardCharsets.UTF_8)).isTrue();
    }

    private static String state(URI url, String job) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url.resolve("api/jobs/" + job))
                .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode answer = new ObjectMapper().readTree(r.body());
        return answer.path("job").path("state").asText();
    }
}
