package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An attempt its node could not start (it cannot write its payload folder: a full disk, a data folder remounted
 * read-only; here a file where the folder goes) runs again once the node can write, as attempt 2 (tryout42 F8, F10).
 * Before, the first attempt read as a run cut short: {@code 2 (1 interrupted)}, {@code logs JOB} pointed at its log
 * ({@code --attempt 1}), which answered that the log file was deleted or runner.log-dir changed; and {@code logs -f}
 * begun on attempt 2 printed its output with no word of an attempt before it. A real server, its real job, the real
 * {@code logs -f} to a file; the other commands in this JVM.
 */
class AttemptNeverStartedTest {

    @TempDir
    Path dir;

    private AdminServer server;
    private Process follow;

    @AfterEach
    void stop() throws Exception {
        if (follow != null) {
            follow.destroyForcibly().waitFor();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anAttemptItsNodeCouldNotStartIsToldFromOneCutShortAndAFollowOfTheNextSaysItFirst() throws Exception {
        server = AdminServer.start(dir);
        Path payloads = JobsPausedHealthTest.fileWhereTheFolderGoes(dir.resolve("data/payloads"));
        String delivery = server.deliver("build-68-failed.json"); // the 'wait' rule: waits for the file 'go'
        await().atMost(Duration.ofMinutes(2)).until(() -> !server.getJson("deliveries/" + delivery).path("jobs")
                .path(0).path("id").asText("").isEmpty());
        String job = server.getJson("deliveries/" + delivery).path("jobs").path(0).path("id").asText();
        await().atMost(Duration.ofMinutes(2)).until(() -> server.getJson("jobs/" + job).path("attempts").path(0)
                .path("outcome").asText().equals("INTERRUPTED"));
        Files.delete(payloads);
        await().atMost(Duration.ofMinutes(2)).until(() -> server.getJson("jobs/" + job).path("attempts").size() == 2);

        // tryout42 F8: a follow begun on attempt 2 says first which attempt it shows and how the one before ended.
        Path followed = dir.resolve("follow.out");
        follow = new ProcessBuilder(RealCommand.command(server, dir, "logs", "-f", job))
                .redirectOutput(followed.toFile()).redirectError(dir.resolve("follow.err").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.readString(followed).lines().anyMatch("started"::equals));
        Files.writeString(dir.resolve("go"), "");
        assertThat(follow.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(followed);
        List<String> lines = out.lines().toList();
        assertThat(follow.exitValue()).as(out + Files.readString(dir.resolve("follow.err"))).isZero();
        String notStarted = "attempt 1 never started its command: node ";
        assertThat(lines.get(0)).as(out).startsWith("[buildhook] the log below is attempt 2 of job " + job + "; "
                + notStarted).contains(" cannot write " + payloads).doesNotContain("--attempt 1");
        assertThat(lines.get(1)).as(out).isEqualTo("started");
        assertThat(lines.get(lines.size() - 1)).as(out).startsWith("[buildhook] job " + job + " SUCCEEDED")
                .endsWith("(2 attempt(s), 1 not started)");

        // tryout42 F10: counted and said apart from a run cut short, everywhere.
        JsonNode detail = server.getJson("jobs/" + job);
        assertThat(detail.path("job").path("interruptedAttempts").asInt()).isEqualTo(1); // as before: INTERRUPTED
        assertThat(detail.path("job").path("notStartedAttempts").asInt()).isEqualTo(1);
        assertThat(detail.path("attempts").path(0).path("neverStarted").asBoolean()).isTrue();
        assertThat(detail.path("attempts").path(1).path("neverStarted").asBoolean()).isFalse();
        AdminCli cli = new AdminCli(server);
        assertThat(cli.run("jobs")).isZero();
        assertThat(cli.out().lines().filter(l -> l.startsWith(job))).as(cli.out()).singleElement().asString()
                .contains(" 2 (1 not started) ").doesNotContain("interrupted");
        assertThat(cli.run("job", "show", job)).isZero();
        assertThat(cli.out()).contains("attempts  2 (1 not started)\n");
        assertThat(cli.run("logs", job)).isZero();
        assertThat(cli.err()).contains("[buildhook] the output above is attempt 2 of job " + job + "; " + notStarted)
                .doesNotContain("--attempt 1");
        // The status page's list said "(1 interrupted)" (follow43), in both its views: the deliveries' and one delivery's.
        String cookie = server.signIn();
        for (String list : List.of("", "?delivery=" + delivery)) {
            String page = server.page(list, cookie).body();
            assertThat(page).as(list).contains("attempts 2 (1 not started)</span>").doesNotContain("interrupted)");
        }
        assertThat(cli.run("logs", job, "--attempt", "1")).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("attempt 1 of job " + job + " never started its command, so it has no log: node ")
                .doesNotContain("missing").doesNotContain("log-dir");
    }
}
