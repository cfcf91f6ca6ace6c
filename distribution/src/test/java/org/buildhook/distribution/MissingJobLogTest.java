package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout13 F5: on SQLite, after a restart (a new {@code <hostname>-<pid>} node id), the log of a job
 * the earlier start ran, deleted since, was answered 421 "the log of attempt 1 is on node vm-31369 …:
 * ask node vm-31369", a node that is this very server before its restart. One node uses a SQLite store:
 * its logs are on its disk or gone.
 */
class MissingJobLogTest {

    @TempDir
    Path dir;

    @Test
    void onSqliteALogDeletedSinceARestartIsMissingNotOnAnotherNode() throws Exception {
        String jobId;
        try (AdminServer first = AdminServer.withRunner(dir, "  node-id: first-start\n")) {
            String delivery = first.deliver("build-67-passed.json");
            AtomicReference<JsonNode> job = new AtomicReference<>();
            await().atMost(Duration.ofMinutes(2)).until(() -> {
                job.set(first.getJson("deliveries/" + delivery).path("jobs").path(0));
                return job.get().path("state").asText().equals("SUCCEEDED");
            });
            jobId = job.get().path("id").asText();
        }
        try (Stream<Path> files = Files.walk(dir.resolve("data/logs").resolve(jobId))) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }

        try (AdminServer second = AdminServer.withRunner(dir, "  node-id: second-start\n")) {
            HttpResponse<String> log = second.get("jobs/" + jobId + "/log");

            assertThat(log.statusCode()).as(log.body()).isEqualTo(404);
            assertThat(AdminServer.json(log.body()).path("error").asText()).isEqualTo("the log file of attempt 1 is"
                    + " missing on this node (no " + dir.resolve("data/logs").resolve(jobId).resolve("attempt-1.log")
                    + ": deleted outside buildhook, or runner.log-dir changed since it ran without its folders being"
                    + " moved there?)");
        }
    }
}
