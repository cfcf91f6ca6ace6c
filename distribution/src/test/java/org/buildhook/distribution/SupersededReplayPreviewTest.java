package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout45 F5: a replay of build 67 of a rule whose supersede key's newest build is 69 makes a job that ends
 * SUPERSEDED at once and runs nothing; its preview said (and {@code buildhook replay} asked to confirm) that "this
 * replay runs the older build's 'deploy' over it". The preview now says what happens, and names the re-run that does
 * run build 67's job (a re-run is never superseded). The replay itself still makes the superseded job (its answer and
 * status code as before). A real server, real deliveries, the real CLI.
 */
class SupersededReplayPreviewTest {

    @TempDir
    Path dir;
    AdminServer server;
    AdminCli cli;
    String oldDelivery;
    String oldJob;
    String newDelivery;
    String newJob;

    @BeforeEach
    void runBuild67ThenBuild69() throws Exception {
        server = AdminServer.withRules(dir, "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
                + "    supersede: {key: '${build.project}'}\n    run:\n      command: [/bin/sh, '" + dir.resolve("echo.sh")
                + "', '${build.id}']\n      timeout: 30s\n");
        cli = new AdminCli(server);
        oldDelivery = server.deliver("build-67-passed.json");
        oldJob = server.awaitJob(oldDelivery, "SUCCEEDED").path("id").asText();
        String newer = AdminServer.fixture("build-67-passed.json").replace("\"build_id\": 67", "\"build_id\": 69")
                .replace("/builds/67/", "/builds/69/");
        newDelivery = server.deliverBody(newer.getBytes(StandardCharsets.UTF_8));
        newJob = server.awaitJob(newDelivery, "SUCCEEDED").path("id").asText();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private String warning() {
        return "build 67 of andy-corp/lmp is older than build 69 (job " + newJob + "), the newest of the supersede key"
                + " \"andy-corp/lmp\" of rule 'deploy': this replay's 'deploy' job ends SUPERSEDED at once and does not"
                + " run. A re-run is never superseded: to run build 67's 'deploy' again, re-run its job: buildhook rerun "
                + oldJob;
    }

    @Test
    void thePreviewSaysTheJobWillNotRunAndNamesTheRerunThatDoes() throws Exception {
        assertThat(server.getJson("deliveries/" + oldDelivery + "/replay-warnings").path("warnings").toString())
                .isEqualTo("[\"" + warning().replace("\"", "\\\"") + "\"]");
        assertThat(server.getJson("deliveries/" + newDelivery + "/replay-warnings").path("warnings")).isEmpty();
    }

    @Test
    void theCliSaysItThenTheReplayMakesTheSupersededJobAndTheRerunRunsTheBuild() throws Exception {
        assertThat(cli.run("replay", oldDelivery)).as(cli.err()).isZero();
        assertThat(cli.err()).isEqualTo("[buildhook] warning: " + warning() + "\n");
        assertThat(cli.out()).contains("is SUPERSEDED at once");

        assertThat(cli.run("rerun", oldJob, "--yes")).as(cli.err()).isZero();
        String rerun = cli.out().split("\\s+")[2];
        assertThat(server.awaitJobState(rerun, "SUCCEEDED").path("job").path("rerunOf").asText()).isEqualTo(oldJob);
    }
}
