package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.distribution.reliability.TcpProxy;
import org.junit.jupiter.api.Test;

/**
 * {@code /healthz} of a standalone server on PostgreSQL answers {@code 503} promptly while the
 * database refuses connections: within a second or so, not after the store's 5 s connection wait,
 * which load balancers with a shorter health-check timeout took for a timeout (tryout8, F9). The
 * outage is a {@link TcpProxy} between the server and PostgreSQL, cut; the shared PostgreSQL server
 * is never touched. Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI where it
 * fails.
 */
class HealthzWithStoreDownTest extends AbstractProxiedServeTest {

    HealthzWithStoreDownTest() {
        super("health_");
    }

    @Test
    void healthzAnswers503BeforeTheConnectionWaitWhilePostgresqlRefusesConnections() throws Exception {
        TcpProxy proxy = pg.proxy;
        String store = pg.storeUrl;
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-the-health-test\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "store: {url: '" + store + "'}",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        processes = new ServeProcesses(dir);
        Path out = dir.resolve("serve.out");
        Process server = processes.serve(config, out);
        URI health = ServeProcesses.awaitUrl(server, dir.resolve("data")).resolve("healthz");
        HttpClient http = HttpClient.newHttpClient();
        assertThat(http.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(200);

        proxy.cut();

        for (int i = 0; i < 3; i++) {
            long started = System.nanoTime();
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(60))
                    .build(), HttpResponse.BodyHandlers.ofString());
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(503);
            // Its connection cut, then no new one: nothing listens at the proxy's port any more.
            assertThat(answer.body()).containsAnyOf("the store does not answer",
                    "the store refuses connections: nothing listens at its address (connection refused)");
            assertThat(took).as("answered before the store's connection wait (5 s)")
                    .isLessThan(Duration.ofMillis(4500));
        }
    }
}
