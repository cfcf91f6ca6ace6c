package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A follow of a running job's log ({@code GET /api/jobs/{id}/log?follow=1}) whose server loses its
 * PostgreSQL ends with a last line saying that the store could not be read and what to do, and the
 * server logs it once per follow (review M2: it ended as if the attempt had ended, so the client
 * could not tell "the job ended" from "the server could not read the store"); {@code buildhook logs -f}
 * prints that line and exits 3. Real server process,
 * real PostgreSQL behind a {@link org.buildhook.distribution.reliability.TcpProxy} that the test
 * cuts, a real job. Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI.
 */
class FollowWithStoreDownTest extends AbstractProxiedServeTest {

    static final String TOKEN = "admin-token-for-the-follow-store-test-0123";

    FollowWithStoreDownTest() {
        super("follow_");
    }

    /** A follow's body as it arrives, read on a thread of its own. */
    static final class Body {
        private final StringBuffer text = new StringBuffer();
        private volatile boolean ended;

        Body(InputStream in) {
            Thread reader = new Thread(() -> {
                byte[] buffer = new byte[4096];
                try (in) {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        text.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    text.append("<read failed: ").append(e).append('>');
                } finally {
                    ended = true;
                }
            }, "follow-body");
            reader.setDaemon(true);
            reader.start();
        }

        String text() {
            return text.toString();
        }

        boolean ended() {
            return ended;
        }
    }

    @Test
    void aFollowWhoseServerLosesItsStoreEndsWithALineSayingSo() throws Exception {
        Path go = dir.resolve("go");
        Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-the-follow-store-test\n");
        // Prints, then runs until the test creates "go" (or its folder is gone: a failed run leaves no loop).
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: prints\n    run: {command: [/bin/sh, -c,"
                + " 'echo started; while [ ! -e " + go + " ]; do [ -d " + dir + " ] || exit 1; sleep 0.1; done']}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "store: {url: '" + pg.storeUrlGenerousLogins + "'}",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "admin: {token: {file: admin-token}}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        processes = new ServeProcesses(dir);
        Path out = dir.resolve("serve.out");
        Process server = processes.serve(config, out);
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = deliver(url);

        HttpClient http = HttpClient.newHttpClient();
        List<Body> follows = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            HttpResponse<InputStream> answer = http.send(HttpRequest.newBuilder(url.resolve("api/jobs/" + job
                    + "/log?follow=1")).header("Authorization", "Bearer " + TOKEN).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(answer.statusCode()).isEqualTo(200);
            follows.add(new Body(answer.body()));
        }
        for (Body follow : follows) {
            await().atMost(Duration.ofMinutes(1)).until(() -> follow.text().contains("started\n") || follow.ended());
            assertThat(follow.text()).isEqualTo("started\n");
        }
        StringWriter printed = new StringWriter();
        picocli.CommandLine logs = BuildhookCommand.commandLine();
        logs.setOut(new PrintWriter(printed, true));
        CompletableFuture<Integer> command = CompletableFuture.supplyAsync(() -> logs.execute("logs", "-f", job,
                "--url", url.toString(), "--token-file", dir.resolve("admin-token").toString()));
        await().atMost(Duration.ofMinutes(1)).until(() -> printed.toString().contains("started\n") || command.isDone());
        assertThat(printed.toString()).isEqualTo("started\n");

        pg.proxy.cut();

        for (Body follow : follows) {
            await().atMost(Duration.ofMinutes(1)).until(follow::ended);
            assertThat(follow.text()).isEqualTo("started\n[buildhook] the log follow stopped: the store could not be"
                    + " read (it is unavailable; the server's log says why); fetch the log again once the store"
                    + " answers (GET /healthz says 200)\n");
        }
        assertThat(command.get(1, TimeUnit.MINUTES)).as("buildhook logs -f: " + printed).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(printed.toString()).isEqualTo(follows.get(0).text());
        String log = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(Pattern.compile("following the log of job " + job + " stopped: store unavailable").matcher(log)
                .results().count()).as("once per follow: " + log).isEqualTo(3);
    }

    private String deliver(URI url) throws Exception {
        StringWriter sent = new StringWriter();
        picocli.CommandLine send = BuildhookCommand.commandLine();
        send.setOut(new PrintWriter(sent, true));
        assertThat(send.execute("send", url.resolve("webhook").toString(), "--sample", "--secret-file",
                dir.resolve("webhook-secret").toString(), "--no-retry")).as(sent.toString()).isZero();
        return new ObjectMapper().readTree(sent.toString().substring(sent.toString().indexOf('{')))
                .path("jobs").path(0).asText();
    }
}
