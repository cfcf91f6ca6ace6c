package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.core.Signer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout47b F18: the link a follow-up's {@code ${job.url}} gives is the status page of the job it follows, under the
 * server's context path, and it survives the sign-in (the person paged opens it on a phone and is asked the admin
 * token first). Over real HTTP, with a real server mounted at {@code /hooks} and {@code admin.public-url} the address
 * a proxy in front of it publishes: the test sends the link's path and query to the server's own address.
 */
class JobPageLinkTest {

    private static final String PUBLIC = "https://buildhook.example.com/hooks/";
    private static final String TOKEN = "an-admin-token-of-this-test";

    @TempDir
    Path dir;

    @Test
    void theLinkAFollowUpGetsOpensItsJobsPageUnderTheContextPathAlsoThroughTheSignIn() throws Exception {
        Path linked = dir.resolve("linked");
        Files.writeString(dir.resolve("page.sh"), "echo \"$1\" > " + linked + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: deploy\n    run: {command: [/bin/false]}\n"
                + "    on-failure: {command: [/bin/sh, \"" + dir.resolve("page.sh") + "\", \"${job.url}\"]}\n");
        Files.writeString(dir.resolve("token"), TOKEN + "\n");
        Path config = TestConfig.write(dir, "rules: rules.yaml",
                "admin: {token: {file: token}, public-url: \"https://buildhook.example.com/hooks\"}",
                "server: {host: 127.0.0.1, port: 0, context-path: /hooks}");
        HttpClient http = HttpClient.newHttpClient();

        try (BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
            URI base = server.uri();
            byte[] body;
            try (InputStream sample = SendCommand.class.getResourceAsStream("sample-build.json")) {
                body = sample.readAllBytes();
            }
            assertThat(http.send(HttpRequest.newBuilder(base.resolve("webhook"))
                    .header("X-JobServ-Sig", Signer.sign(body, TestConfig.SECRET.getBytes(StandardCharsets.UTF_8)))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(linked) && Files.size(linked) > 0);

            String link = Files.readString(linked).strip();
            assertThat(link).startsWith(PUBLIC + "?job=");
            String job = link.substring((PUBLIC + "?job=").length());
            HttpResponse<String> shown = http.send(HttpRequest.newBuilder(base.resolve("api/jobs/" + job))
                    .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(shown.statusCode()).isEqualTo(200);
            assertThat(AdminServer.json(shown.body()).path("job").path("rule").asText()).isEqualTo("deploy");

            URI opened = base.resolve(link.substring(PUBLIC.length())); // as the proxy passes it on
            assertThat(http.send(HttpRequest.newBuilder(opened).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .as("signed out: the sign-in form").contains("<form method=\"post\"");
            HttpResponse<String> signedIn = http.send(HttpRequest.newBuilder(opened)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("token=" + TOKEN)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(signedIn.statusCode()).isEqualTo(303);
            assertThat(signedIn.headers().firstValue("Location")).hasValue("/hooks/?job=" + job);
            String cookie = signedIn.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(base.resolve("/hooks/?job=" + job))
                    .header("Cookie", cookie).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains(job).contains("deploy").contains("FAILED");
        }
    }
}
