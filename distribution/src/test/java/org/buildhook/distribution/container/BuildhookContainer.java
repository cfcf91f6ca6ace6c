package org.buildhook.distribution.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One {@code podman run -d} of the buildhook image, its port 8080 published on a free port of
 * 127.0.0.1. {@link #close()} removes it with its anonymous volumes.
 */
final class BuildhookContainer implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    /** Longer than any shutdown grace the tests configure: podman never has to SIGKILL. */
    static final int STOP_TIMEOUT_SECONDS = 120;

    final String name;
    private final String adminToken;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private BuildhookContainer(String name, String adminToken) {
        this.name = name;
        this.adminToken = adminToken;
    }

    /** Starts {@code image} with {@code options} (mounts, ...) and waits until /healthz answers 200. */
    static BuildhookContainer start(String image, String adminToken, List<String> options) {
        String name = "buildhook-it-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> args = new ArrayList<>(List.of("run", "-d", "--name", name, "-p", "127.0.0.1::8080",
                "--stop-timeout", String.valueOf(STOP_TIMEOUT_SECONDS)));
        args.addAll(options);
        args.add(image);
        BuildhookContainer container = new BuildhookContainer(name, adminToken);
        Podman.podman(args.toArray(String[]::new)).ok();
        container.awaitHealthy();
        return container;
    }

    /** http://127.0.0.1:PORT/ of the published port (it changes when the container is started again). */
    String base() {
        String mapping = Podman.podman("port", name, "8080/tcp").ok().out().strip();
        return "http://" + mapping.lines().findFirst().orElseThrow() + "/";
    }

    void awaitHealthy() {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .untilAsserted(() -> assertThat(get("healthz", false).statusCode()).isEqualTo(200));
    }

    HttpResponse<String> get(String path, boolean admin) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30));
        if (admin) {
            request.header("Authorization", "Bearer " + adminToken);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** GET of the admin API, asserted 200, as JSON. */
    JsonNode api(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = get("api/" + path, true);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    HttpResponse<String> post(byte[] body, String signature) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base() + "webhook")).timeout(Duration.ofSeconds(30))
                .header("X-JobServ-Sig", signature).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    Podman.Result exec(String... command) {
        List<String> args = new ArrayList<>(List.of("exec", name));
        args.addAll(List.of(command));
        return Podman.podman(args.toArray(String[]::new));
    }

    String inspect(String format) {
        return Podman.podman("inspect", "--format", format, name).ok().out().strip();
    }

    @Override
    public void close() {
        Podman.podman("rm", "-f", "-v", "-t", "0", name);
    }
}
