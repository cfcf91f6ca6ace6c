package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.buildhook.distribution.reliability.TcpProxy;
import org.junit.jupiter.api.Test;

/**
 * A standalone server on PostgreSQL stopped (SIGTERM) while its database cannot be reached exits
 * promptly, saying what it could not do, well within systemd's stop timeout (90 s by default), after
 * which it would be killed. It had waited for connections that could not come (seen by hand after
 * tryout8). The outage is a {@link TcpProxy} between the server and PostgreSQL, cut; the shared
 * PostgreSQL server is never touched. Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it,
 * except on CI where it fails.
 */
class StopWithStoreDownTest extends AbstractProxiedServeTest {

    StopWithStoreDownTest() {
        super("stop_");
    }

    @Test
    void aServerStoppedWhileItsPostgresqlCannotBeReachedExitsPromptlySayingWhatItCouldNotDo() throws Exception {
        TcpProxy proxy = pg.proxy;
        String store = pg.storeUrlGenerousLogins;
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-the-stop-test\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: slow\n    run: {command: [/bin/sleep, '600']}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "store: {url: '" + store + "'}",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "runner: {node-id: stop-test-node, shutdown-grace: 1s}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        processes = new ServeProcesses(dir);
        Path out = dir.resolve("serve.out");
        Process server = processes.serve(config, out);
        URI base = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        StringWriter sent = new StringWriter();
        picocli.CommandLine send = BuildhookCommand.commandLine();
        send.setOut(new PrintWriter(sent, true));
        assertThat(send.execute("send", base.resolve("webhook").toString(), "--sample", "--secret-file",
                dir.resolve("webhook-secret").toString(), "--no-retry")).as(sent.toString()).isZero();

        await().atMost(Duration.ofMinutes(1)).until(() -> server.toHandle().descendants()
                .anyMatch(p -> p.info().command().orElse("").endsWith("sleep"))); // the job runs
        proxy.cut();
        // The server has noticed: /healthz says the store does not answer.
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        await().atMost(Duration.ofMinutes(1)).until(() -> http.send(java.net.http.HttpRequest.newBuilder(
                base.resolve("healthz")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
        long stopAt = System.nanoTime();
        server.destroy(); // SIGTERM, as systemd's stop

        assertThat(server.waitFor(60, TimeUnit.SECONDS)).as("exited within 60 s: %s",
                Files.readString(out, StandardCharsets.UTF_8)).isTrue();
        Duration took = Duration.ofNanos(System.nanoTime() - stopAt);
        assertThat(took).as("well within systemd's default stop timeout").isLessThan(Duration.ofSeconds(45));
        String log = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(server.exitValue()).as(log).isEqualTo(143);
        assertThat(log).contains("node id stop-test-node was not given back")
                .contains("buildhook stopped");
    }
}
