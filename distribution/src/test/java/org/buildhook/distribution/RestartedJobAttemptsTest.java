package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * tryout20 F7: a job whose attempt a stop cut short runs again after the next start, and every surface
 * that shows it says it is its second attempt and that the first was interrupted, as {@code buildhook
 * jobs} did alone: the status page's list (whole and live), the job's page (whole and live), the admin
 * API's job and delivery, {@code job show} and {@code logs -f}. A real server with a real child process,
 * stopped with its grace ended (the attempt is {@code INTERRUPTED}), then started again on the same data.
 */
class RestartedJobAttemptsTest {

    private static final String TWICE = "2 (1 interrupted)";

    @TempDir
    Path dir;

    /** A server started again on the data of one whose stop cut a job's attempt short, that job running again. */
    record Restarted(AdminServer server, String delivery, String jobId) {
    }

    /**
     * Starts a server in {@code dir} with {@code runner.shutdown-grace: 0s}, delivers build 68 (its {@code wait}
     * job runs until the file {@code go} exists), stops the server while the job runs (its attempt 1 killed,
     * {@code INTERRUPTED}), starts a server again on the same data and waits until the job's attempt 2 runs.
     */
    static Restarted cutShortAndRestarted(Path dir) throws Exception {
        AdminServer first = AdminServer.withRunner(dir, "  shutdown-grace: 0s");
        String delivery = first.deliver("build-68-failed.json");
        String jobId = first.awaitJob(delivery, "RUNNING").path("id").asText();
        // Not first.close(): that lets the job end. The grace is 0 s, so the stop kills the attempt at once.
        first.server.close();
        AdminServer second = AdminServer.withRunner(dir, "  shutdown-grace: 0s");
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            JsonNode j = second.getJson("jobs/" + jobId);
            return j.path("job").path("state").asText().equals("RUNNING") && j.path("attempts").size() == 2;
        });
        return new Restarted(second, delivery, jobId);
    }

    @Test
    void aJobRunAgainAfterARestartShowsItsSecondAttemptAndTheInterruptedOneEverywhere() throws Exception {
        Restarted restarted = cutShortAndRestarted(dir);
        String delivery = restarted.delivery();
        String jobId = restarted.jobId();
        try (AdminServer second = restarted.server()) {
            JsonNode job = second.getJson("jobs/" + jobId);
            assertThat(job.path("job").path("interruptedAttempts").asInt()).as(job.toString()).isEqualTo(1);
            assertThat(job.path("attempts").path(0).path("outcome").asText()).isEqualTo("INTERRUPTED");
            assertThat(second.getJson("deliveries/" + delivery).path("jobs").path(0).path("interruptedAttempts")
                    .asInt()).isEqualTo(1);
            assertThat(second.getJson("deliveries/" + delivery + "?jobs=10").path("jobs").path(0)
                    .path("interruptedAttempts").asInt()).isEqualTo(1);

            String cookie = second.signIn();
            for (String list : new String[] {"", "?part=live"}) {
                String line = jobLine(second.page(list, cookie).body(), jobId);
                assertThat(line).as(list).contains("RUNNING").contains("attempts " + TWICE);
            }
            for (String page : new String[] {"?job=" + jobId, "?job=" + jobId + "&part=live"}) {
                assertThat(second.page(page, cookie).body()).as(page)
                        .contains("<tr><th>Attempts</th><td>" + TWICE + "</td></tr>");
            }

            StringWriter out = new StringWriter();
            CommandLine cl = BuildhookCommand.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(new StringWriter(), true));
            assertThat(cl.execute("job", "show", jobId, "--url", second.uri().toString(), "--token-file",
                    dir.resolve("admin-token").toString())).isZero();
            assertThat(out.toString()).contains("attempts  " + TWICE + "\n").contains("  #1 INTERRUPTED ");

            Files.writeString(dir.resolve("go"), "");
            second.awaitJobState(jobId, "SUCCEEDED");
            out.getBuffer().setLength(0);
            assertThat(cl.execute("logs", "-f", jobId, "--url", second.uri().toString(), "--token-file",
                    dir.resolve("admin-token").toString())).isZero();
            assertThat(out.toString()).endsWith(" SUCCEEDED: exited with 0 (2 attempt(s), 1 interrupted)\n");
            // An ended job keeps saying it: the list's line, as buildhook jobs' ATTEMPTS.
            assertThat(jobLine(second.page("", cookie).body(), jobId)).contains("attempts " + TWICE);
        }
    }

    /** The job's line in the status page's list of deliveries. */
    private static String jobLine(String html, String jobId) {
        Matcher m = Pattern.compile("<li class=\"job-line\" data-job=\"" + jobId + "\">.*?</li>").matcher(html);
        assertThat(m.find()).as("the job's line in the list").isTrue();
        return m.group();
    }
}
