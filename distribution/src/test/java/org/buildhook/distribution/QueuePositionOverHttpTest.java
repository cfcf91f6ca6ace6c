package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * queue49 (tryout49 F5): a job that waits its turn says where it is in line on every surface, over real HTTP: the
 * admin API's {@code queuePosition} (list and job), {@code buildhook jobs} and {@code job show}, the status page's job
 * page. A real server with {@code runner.threads: 1}, its thread held by a real command waiting for a file.
 */
class QueuePositionOverHttpTest {

    private static final String TEXT = "queued: 1 job due before it; 1 running on 1 node";

    @TempDir
    Path dir;

    @Test
    void aJobBehindAnotherSaysHowManyAreDueBeforeItOnEverySurface() throws Exception {
        try (AdminServer server = AdminServer.withRunner(dir, "  threads: 1")) {
            String holding = jobOf(server, server.deliver("build-68-failed.json")); // rule 'wait': holds the thread
            await().atMost(Duration.ofMinutes(1)).until(() -> server.getJson("jobs/" + holding).path("job")
                    .path("state").asText().equals("RUNNING"));
            String next = jobOf(server, server.deliver("build-7-unusual.json"));
            String last = jobOf(server, server.deliver("build-67-passed.json")); // rule 'echo'

            JsonNode shown = server.getJson("jobs/" + last).path("job");
            assertThat(shown.path("state").asText()).isEqualTo("QUEUED");
            assertThat(shown.path("message").isNull()).as("the stored message, unchanged").isTrue();
            assertThat(shown.path("queuePosition").path("dueBefore").asInt()).isEqualTo(1);
            assertThat(shown.path("queuePosition").path("running").asInt()).isEqualTo(1);
            assertThat(shown.path("queuePosition").path("runningNodes").asInt()).isEqualTo(1);
            assertThat(shown.path("queuePosition").path("text").asText()).isEqualTo(TEXT);
            JsonNode list = server.getJson("jobs?state=queued").path("items");
            assertThat(list).hasSize(2);
            assertThat(list.get(0).path("queuePosition").path("text").asText()).isEqualTo(TEXT);
            assertThat(list.get(1).path("queuePosition").path("text").asText())
                    .isEqualTo("queued: next in line; 1 running on 1 node");
            assertThat(server.getJson("jobs/" + holding).path("job").path("queuePosition").isNull()).isTrue();

            assertThat(cli(server, "jobs", "--state", "queued")).contains(TEXT);
            assertThat(cli(server, "job", "show", last)).contains("message   " + TEXT);
            String page = server.page("?job=" + last, server.signIn()).body();
            assertThat(page).contains(TEXT);

            Files.createFile(dir.resolve("go"));
            await().atMost(Duration.ofMinutes(1)).until(() -> server.getJson("jobs/" + last).path("job")
                    .path("state").asText().equals("SUCCEEDED"));
            assertThat(server.getJson("jobs/" + last).path("job").path("queuePosition").isNull()).isTrue();
        }
    }

    private static String jobOf(AdminServer server, String delivery) throws Exception {
        return server.getJson("deliveries/" + delivery).path("jobs").get(0).path("id").asText();
    }

    /** One {@code buildhook} command against the server, in this JVM: its output (exit 0 asserted). */
    private String cli(AdminServer server, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine command = BuildhookCommand.commandLine();
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--url", server.uri().toString(), "--token-file", dir.resolve("admin-token").toString()));
        assertThat(command.execute(all.toArray(String[]::new))).as(err.toString()).isZero();
        return out.toString();
    }
}
