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
 * tryout17 F3: a node that cannot write its data folder (here a file where its payload folder goes)
 * while its store works still stores deliveries ({@code 202}), starts no job, and {@code /healthz} says
 * so: {@code 200} (a load balancer keeps sending) with {@code "status": "degraded"} and the folder in
 * {@code error}. Once the folder can be written, the job runs and {@code /healthz} is {@code ok} again.
 * Before, {@code /healthz} said {@code ok} throughout and the job ended FAILED.
 */
class JobsPausedHealthTest {

    @TempDir
    Path dir;

    @Test
    void healthzSaysDegradedWhileTheDataFolderCannotBeWrittenAndOkOnceItCan() throws Exception {
        Path ran = dir.resolve("ran");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: touch\n    run: {command: [/usr/bin/touch, \""
                + ran + "\"]}\n");
        Path config = TestConfig.write(dir, "rules: rules.yaml", TestConfig.LOCAL_SERVER);
        HttpClient http = HttpClient.newHttpClient();
        try (BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
            URI base = server.uri();
            Path payloads = fileWhereTheFolderGoes(dir.resolve("data/payloads"));
            byte[] body;
            try (InputStream sample = SendCommand.class.getResourceAsStream("sample-build.json")) {
                body = sample.readAllBytes();
            }

            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(base.resolve("webhook"))
                    .header("Content-Type", "application/json")
                    .header("X-JobServ-Sig", Signer.sign(body, TestConfig.SECRET.getBytes(StandardCharsets.UTF_8)))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);

            await().atMost(Duration.ofSeconds(60)).until(() -> health(http, base).body().contains("degraded"));
            HttpResponse<String> degraded = health(http, base);
            assertThat(degraded.statusCode()).isEqualTo(200);
            assertThat(degraded.body()).contains("\"status\":\"degraded\"")
                    .contains("jobs do not start on this node: it cannot write a folder a job needs")
                    .as("answers anyone: no file named (review18 R7)").doesNotContain(dir.toString());
            assertThat(ran).doesNotExist();

            Files.delete(payloads);

            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(ran));
            await().atMost(Duration.ofSeconds(60)).until(() -> health(http, base).body().contains("\"status\":\"ok\""));
            assertThat(health(http, base).statusCode()).isEqualTo(200);
        }
    }

    /**
     * final18 F1: a node started with a file where its payload folder goes is paused from its start, before
     * any delivery or job: {@code /healthz} says {@code degraded} and {@code buildhook_jobs_paused} is 1 as
     * soon as it answers (before, {@code ok} and 0 until its first job was picked and put back). It resumes as
     * before once the folder can be written.
     */
    @Test
    void aNodeStartedWithAPayloadFolderItCannotWriteSaysDegradedFromItsStart() throws Exception {
        Path payloads = fileWhereTheFolderGoes(dir.resolve("data/payloads"));
        Path config = TestConfig.write(dir, "", TestConfig.LOCAL_SERVER);
        HttpClient http = HttpClient.newHttpClient();
        try (BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
            URI base = server.uri();

            HttpResponse<String> degraded = health(http, base);
            assertThat(degraded.statusCode()).isEqualTo(200);
            assertThat(degraded.body()).contains("\"status\":\"degraded\"");
            assertThat(metrics(http, base)).contains("buildhook_jobs_paused 1");

            Files.delete(payloads);

            await().atMost(Duration.ofSeconds(60)).until(() -> health(http, base).body().contains("\"status\":\"ok\""));
            assertThat(metrics(http, base)).contains("buildhook_jobs_paused 0");
            assertThat(payloads).isDirectory();
        }
    }

    /**
     * disk18's report: the console said nothing of it. Its live part (what the page's script swaps in)
     * shows a banner with the folder and what to do while the node starts no jobs, and none once it can.
     */
    @Test
    void theConsoleSaysThatThisNodeStartsNoJobsAndWhyUntilItCan() throws Exception {
        Path payloads = dir.resolve("data/payloads");
        try (AdminServer server = AdminServer.start(dir)) {
            String cookie = server.signIn();
            assertThat(server.page("", cookie).body()).doesNotContain("jobs-paused-banner");
            fileWhereTheFolderGoes(payloads);
            String delivery = server.deliver("build-67-passed.json");

            await().atMost(Duration.ofSeconds(60)).until(() -> server.app().jobsPaused().isPresent());
            assertThat(server.page("", cookie).body()).contains("id=\"jobs-paused-banner\"",
                    "This node starts no jobs.", "It cannot write " + payloads, "free space on its disk");
            assertThat(server.page("?part=live", cookie).body()).as("the part the page refreshes")
                    .contains("id=\"jobs-paused-banner\"");

            Files.delete(payloads);
            server.awaitJob(delivery, "SUCCEEDED");
            await().atMost(Duration.ofSeconds(60)).until(() -> server.app().jobsPaused().isEmpty());
            assertThat(server.page("", cookie).body()).doesNotContain("jobs-paused-banner");
        }
    }

    /** Puts a file where the node's folder {@code folder} goes (even root cannot write into it); returns it. */
    /** Puts a file where {@code folder} goes (removing the folder and its files first): a folder no node can write. */
    static Path fileWhereTheFolderGoes(Path folder) throws java.io.IOException {
        Files.createDirectories(folder.getParent());
        if (Files.isDirectory(folder)) {
            try (var files = Files.list(folder)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(folder);
        }
        return Files.writeString(folder, "not a folder");
    }

    private static String metrics(HttpClient http, URI base) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve("metrics")).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static HttpResponse<String> health(HttpClient http, URI base) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve("healthz")).build(), HttpResponse.BodyHandlers.ofString());
    }
}
