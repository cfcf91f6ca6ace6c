package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

    static final String TOKEN = ServeProcesses.FOLLOW_TOKEN;

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
        Path config = ServeProcesses.followConfig(dir, "rules:\n  - name: gated\n    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/true]}\n", "stop-timeout: 5m");
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);

        Path followed = dir.resolve("logs.out");
        client = ServeProcesses.logsFollow(job, url, dir, followed);
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
