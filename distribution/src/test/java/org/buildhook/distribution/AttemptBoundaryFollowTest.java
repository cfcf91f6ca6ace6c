package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout41 F13: a follow of an attempt that ended while its job went on (its node died and the attempt was recorded
 * interrupted by the node that ran it again; a timeout with a retry) ended with no word of that end: {@code logs -f}
 * went from one attempt's output straight into the next one's, and a follow asked with {@code state=1} of an attempt
 * whose job ended later in another attempt ended with the job's end line, as if that attempt were the job's last. The
 * follow's last line is now the server's own (marked), saying how the attempt ended and what comes next. Real
 * processes: the server (SQLite; killed with SIGKILL and started again on the same data folder), its jobs, the log API
 * over HTTP.
 */
class AttemptBoundaryFollowTest {

    @TempDir
    Path dir;
    ServeProcesses processes;
    final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void killAll() throws Exception {
        if (processes != null) {
            processes.close();
        }
    }

    /** Runs {@code echo first} and sleeps the first time, {@code echo second} and exits 0 the second time. */
    private String twice(String settings) {
        Path once = dir.resolve("ran-once");
        return "rules:\n  - name: twice\n    run:\n" + settings + "      command: [/bin/sh, -c, 'if [ -f \"$0\" ]; then"
                + " echo second; exit 0; fi; echo first; : > \"$0\"; exec sleep 600', '" + once + "']\n";
    }

    @Test
    void aFollowOfAnAttemptWhoseServerWasKilledSaysItWasInterruptedAndThatAttempt2Follows() throws Exception {
        Path config = ServeProcesses.followConfig(dir, twice(""), "");
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(dir.resolve("ran-once")) && http.send(request(url,
                "jobs/" + job + "/log?attempt=1"), HttpResponse.BodyHandlers.ofString()).body().equals("first\n"));
        server.destroyForcibly().waitFor();
        Files.delete(dir.resolve("data/server-url"));

        // Its next start records the attempt it left interrupted, and runs the job again.
        Process again = processes.serve(config, dir.resolve("serve-again.out"));
        URI restarted = ServeProcesses.awaitUrl(again, dir.resolve("data"));
        await().atMost(Duration.ofMinutes(2)).until(() -> job(restarted, job).path("job").path("state").asText()
                .equals("SUCCEEDED"));

        HttpResponse<String> followed = follow(restarted, job, 1);
        String mark = followed.headers().firstValue("X-Buildhook-Follow-Mark").orElseThrow();
        String message = job(restarted, job).path("attempts").get(0).path("message").asText();
        assertThat(message).contains("was gone");
        assertThat(followed.body()).as(followed.body()).isEqualTo("first\n" + mark + " [buildhook] attempt 1 of job "
                + job + " ended INTERRUPTED (" + message + "); the job is SUCCEEDED (exited with 0): the log of"
                + " attempt 2 follows\n");
        // The follow of the job's last attempt ends with the job's end, as before.
        HttpResponse<String> last = follow(restarted, job, 2);
        assertThat(last.body()).isEqualTo("second\n" + last.headers().firstValue("X-Buildhook-Follow-Mark").orElseThrow()
                + " [buildhook] job " + job + " SUCCEEDED: exited with 0 (2 attempt(s), 1 interrupted)\n");
    }

    @Test
    void aFollowOfAnAttemptThatTimedOutWithARetryLeftSaysHowItEndedAndWhatComesNext() throws Exception {
        Path config = ServeProcesses.followConfig(dir, twice("      timeout: 2s\n      retries: 1\n      backoff: 1s\n"),
                "");
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);
        await().atMost(Duration.ofMinutes(2)).until(() -> job(url, job).path("job").path("state").asText()
                .equals("SUCCEEDED"));

        HttpResponse<String> followed = follow(url, job, 1);
        String mark = followed.headers().firstValue("X-Buildhook-Follow-Mark").orElseThrow();
        JsonNode first = job(url, job).path("attempts").get(0);
        // The log's own last line says how the command was killed; the follow's, how the attempt ended and what next.
        assertThat(followed.body()).as(followed.body()).startsWith("first\n").endsWith("\n" + mark
                + " [buildhook] attempt 1 of job " + job + " ended " + first.path("outcome").asText() + " (" + first.path("message").asText()
                + "); the job is SUCCEEDED (exited with 0): the log of attempt 2 follows\n");
    }

    private HttpResponse<String> follow(URI url, String job, int attempt) throws Exception {
        HttpResponse<String> answer = http.send(request(url, "jobs/" + job + "/log?attempt=" + attempt
                + "&follow=1&state=1&mark=1"), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return answer;
    }

    private JsonNode job(URI url, String job) throws Exception {
        return new ObjectMapper().readTree(http.send(request(url, "jobs/" + job), HttpResponse.BodyHandlers.ofString())
                .body());
    }

    private static HttpRequest request(URI url, String path) {
        return HttpRequest.newBuilder(url.resolve("api/" + path))
                .header("Authorization", "Bearer " + ServeProcesses.FOLLOW_TOKEN).timeout(Duration.ofMinutes(2)).build();
    }
}
