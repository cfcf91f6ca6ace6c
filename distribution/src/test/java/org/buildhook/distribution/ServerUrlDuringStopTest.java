package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
 * {@code <data-dir>/server-url} stays while a graceful stop drains, when the server still answers and the admin
 * commands must still find it, and is removed once the port has closed (tryout40 F1: it was removed by a shutdown
 * hook of its own as the stop began, so {@code buildhook logs -f} started during the drain asked
 * {@code localhost:8080} and said the server was not running). A real {@code serve} process and SIGTERM.
 */
class ServerUrlDuringStopTest {

    @TempDir
    Path dir;

    private ServeProcesses processes;

    @AfterEach
    void stop() throws InterruptedException {
        if (processes != null) {
            processes.close();
        }
    }

    @Test
    void staysWhileTheStopDrainsAndIsRemovedOnceThePortClosed() throws Exception {
        Path started = dir.resolve("started");
        Path go = dir.resolve("go");
        Path config = ServeProcesses.followConfig(dir, "rules:\n  - name: hold\n    run: {command: [/bin/sh, -c,"
                + " 'touch \"" + started + "\"; while [ ! -e \"" + go + "\" ]; do sleep 0.1; done']}\n", "");
        Files.writeString(config, Files.readString(config) + "runner: {shutdown-grace: 10m}\n");
        Path data = dir.resolve("data");
        processes = new ServeProcesses(dir);
        Path out = dir.resolve("serve.out");
        Process server = processes.serve(config, out);
        URI base = ServeProcesses.awaitUrl(server, data);
        ServeProcesses.sendSample(base, dir);
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(started));

        server.destroy(); // SIGTERM: the drain waits for the job (runner.shutdown-grace)
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(Duration.ofMinutes(2)).failFast(() -> !server.isAlive()).until(() -> http.send(
                HttpRequest.newBuilder(base.resolve("healthz")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode() == 503);

        assertThat(ServerUrlFile.read(data)).as("the server still answers: %s", read(out)).contains(base);

        Files.writeString(go, "go\n");
        assertThat(server.waitFor(5, TimeUnit.MINUTES)).as("the stop ended: %s", read(out)).isTrue();
        assertThat(data.resolve(ServerUrlFile.NAME)).as("removed at the end of the stop").doesNotExist();
    }

    private static String read(Path out) throws java.io.IOException {
        return Files.readString(out, StandardCharsets.UTF_8);
    }
}
