package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.buildhook.core.Signer;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BuildhookServer#drainThenStop()} in this JVM (what the shutdown hook runs): while a running
 * job has its grace the port stays open, deliveries are stored, the admin API answers and
 * {@code /healthz} says the node is stopping; the port closes only after the job ended.
 */
class DrainingServerTest {

    static final String SECRET = "draining-secret";
    static final String TOKEN = "draining-admin-token";
    static final Duration UPPER_BOUND = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @Test
    void keepsStoringDeliveriesAndAnsweringTheAdminApiUntilTheRunningJobEnded() throws Exception {
        Path journal = dir.resolve("journal.txt");
        Path release = dir.resolve("release");
        Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: long",
                "    run:",
                "      command: [/bin/sh, -c, 'echo \"start $BUILDHOOK_BUILD_ID\" >> \"$1\";"
                        + " while [ ! -e \"$2\" ]; do [ -d \"$3\" ] || exit 1; sleep 0.1; done', sh, '" + journal + "', '"
                        + release + "', '" + dir + "']",
                ""), StandardCharsets.UTF_8);
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {default: {secrets: [{value: " + SECRET + "}]}}",
                "admin: {token: {value: " + TOKEN + "}}",
                "runner: {shutdown-grace: 10m}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        BuildhookConfig loaded = new ConfigLoader(Map.of(), dir).load(config);
        HttpClient http = HttpClient.newHttpClient();

        try (BuildhookServer server = BuildhookServer.create(loaded.server(), c -> ServeCommand.install(c, loaded))) {
            server.start();
            URI base = server.uri();
            assertThat(send(http, base, "build-67-passed.json").statusCode()).isEqualTo(202);
            await().atMost(UPPER_BOUND).until(() -> Files.exists(journal)
                    && Files.readString(journal).contains("start 67"));

            Thread stopping = new Thread(server::drainThenStop, "draining-server-test-stop");
            stopping.start();
            await().atMost(UPPER_BOUND).until(() -> get(http, base.resolve("healthz")).statusCode() == 503);
            HttpResponse<String> health = get(http, base.resolve("healthz"));
            assertThat(health.body()).contains("\"status\":\"stopping\"");
            assertThat(health.headers().firstValue("Retry-After")).isPresent();

            HttpResponse<String> during = send(http, base, "build-68-failed.json");
            assertThat(during.statusCode()).as(during.body()).isEqualTo(202);
            HttpResponse<String> jobs = http.send(HttpRequest.newBuilder(base.resolve("api/jobs"))
                    .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(jobs.statusCode()).isEqualTo(200);
            assertThat(jobs.body()).contains("\"state\":\"QUEUED\"", "\"state\":\"RUNNING\"");
            assertThat(stopping.isAlive()).as("the stop waits for the running job").isTrue();

            Files.createFile(release);
            stopping.join(UPPER_BOUND.toMillis());
            assertThat(stopping.isAlive()).isFalse();
            assertThat(Files.readString(journal)).as("no job started during the stop").isEqualTo("start 67\n");
            assertThatThrownBy(() -> get(http, base.resolve("healthz"))).isInstanceOf(IOException.class);
        }
    }

    static HttpResponse<String> send(HttpClient http, URI base, String fixture) throws Exception {
        byte[] body = Files.readAllBytes(Path.of(System.getProperty("buildhook.fixtures"), fixture));
        return http.send(HttpRequest.newBuilder(base.resolve("webhook"))
                .header("X-JobServ-Sig", Signer.sign(body, SECRET.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(HttpClient http, URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
