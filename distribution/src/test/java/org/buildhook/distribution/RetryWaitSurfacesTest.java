package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * tryout21 F6: a job waiting for its retry's backoff showed {@code QUEUED} and its failed attempt's message
 * ({@code exited with 3}) in {@code buildhook jobs}, {@code job show}, the status page, the admin API and
 * {@code logs -f}; only the server's log said {@code retry in 5m}. Every surface now says which retry it waits
 * for and when that is due, and the admin API's job answer has the due time as {@code retryDueAt}. The
 * backoff is an hour: nothing here waits for it.
 */
class RetryWaitSurfacesTest {

    /** The wait as the job's message says it, after its attempt's message. */
    private static final Pattern WAIT = Pattern.compile("exited with 3; waiting for retry 1 of 1 \\(attempt 2\\),"
            + " due at (\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ) \\(backoff 1h\\)");

    @TempDir
    Path dir;
    AdminServer server;

    @BeforeEach
    void start() throws Exception {
        server = AdminServer.start(dir);
        Files.writeString(server.dir.resolve("fail.sh"), "echo failing\nexit 3\n");
        server.replaceRules("rules:\n  - name: retry-long\n    run:\n      command: [/bin/sh, '"
                + server.dir.resolve("fail.sh") + "']\n      retries: 1\n      backoff: 1h\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("retry-long");
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    /** The job of a delivery, once its first attempt failed and it waits for its retry. */
    private JsonNode waitingJob() throws Exception {
        String id = server.awaitJob(server.deliver("build-67-passed.json"), "QUEUED").path("id").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> server.getJson("jobs/" + id).path("job").path("attempts")
                .asInt() == 1 && server.getJson("jobs/" + id).path("job").path("state").asText().equals("QUEUED"));
        return server.getJson("jobs/" + id).path("job");
    }

    private String run(StringWriter out, String... args) {
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--url", server.uri().toString(), "--token-file", dir.resolve("admin-token").toString()));
        assertThat(cl.execute(all.toArray(String[]::new))).as(out.toString()).isZero();
        return out.toString();
    }

    @Test
    void theApiTheCliAndTheStatusPageSayWhichRetryAJobWaitsForAndWhenItIsDue() throws Exception {
        JsonNode job = waitingJob();
        String id = job.path("id").asText();
        String message = job.path("message").asText();

        Matcher wait = WAIT.matcher(message);
        assertThat(wait.matches()).as(message).isTrue();
        Instant due = Instant.parse(wait.group(1));
        assertThat(job.path("retryDueAt").asText()).isEqualTo(due.toString());
        assertThat(due).isAfter(Instant.parse(server.getJson("jobs/" + id).path("attempts").get(0).path("endedAt")
                .asText()).plus(Duration.ofMinutes(59)));
        JsonNode listed = server.getJson("jobs?rule=retry-long").path("items").get(0);
        assertThat(listed.path("retryDueAt").asText()).isEqualTo(due.toString());
        assertThat(listed.path("message").asText()).isEqualTo(message);

        assertThat(run(new StringWriter(), "jobs", "--rule", "retry-long")).contains(id).contains("QUEUED")
                .contains(message);
        assertThat(run(new StringWriter(), "job", "show", id)).contains("message   " + message)
                .contains("#1 FAILED exit 3");

        String page = server.page("?job=" + id, server.signIn()).body();
        assertThat(page).contains("waiting for retry 1 of 1 (attempt 2), due at " + due + " (backoff 1h)");
    }

    @Test
    void logsFollowSaysTheJobWaitsForItsRetryAndWhenItIsDue() throws Exception {
        String id = waitingJob().path("id").asText();
        StringWriter following = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(following, true));
        cl.setErr(new PrintWriter(following, true));
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> cl.execute("logs", "-f", id,
                "--url", server.uri().toString(), "--token-file", dir.resolve("admin-token").toString()));

        await().atMost(Duration.ofSeconds(30)).until(() -> following.toString().contains("waiting for retry"));
        assertThat(following.toString()).containsPattern("failing\n\\[buildhook\\] attempt 1 of job " + id
                + " ended FAILED \\(exited with 3\\); the job is QUEUED \\(waiting for retry 1 of 1 \\(attempt 2\\), due at"
                + " \\S+Z \\(backoff 1h\\)\\): the log of its next attempt follows once it runs\n");
        run(new StringWriter(), "cancel", id);

        assertThat(code.get(60, TimeUnit.SECONDS)).isEqualTo(ExitCodes.FAILED);
        assertThat(following.toString()).contains("[buildhook] job " + id + " CANCELLED");
    }
}
