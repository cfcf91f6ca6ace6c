package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * confirm34: a re-run or replay of build 67 after build 69's job of the same rule succeeded runs the older build over
 * the newer one, and the CLI said nothing. Now the API's previews ({@code GET …/rerun-warnings}, {@code GET …/replay-warnings}) say it
 * in one line, {@code rerun} and {@code replay} print it on standard error and, on a terminal (util-linux's
 * {@code script}), ask y/N first unless {@code --yes}; with standard input not a terminal they do not ask.
 */
class OlderBuildRerunTest {

    @TempDir
    Path dir;
    AdminServer server;
    AdminCli cli;
    String oldDelivery;
    String oldJob;
    String newJob;

    @BeforeEach
    void runBuild67ThenBuild69() throws Exception {
        server = AdminServer.start(dir);
        cli = new AdminCli(server);
        oldDelivery = server.deliver("build-67-passed.json");
        oldJob = server.awaitJob(oldDelivery, "SUCCEEDED").path("id").asText();
        String newer = AdminServer.fixture("build-67-passed.json").replace("\"build_id\": 67", "\"build_id\": 69")
                .replace("/builds/67/", "/builds/69/");
        newJob = server.awaitJob(server.deliverBody(newer.getBytes(StandardCharsets.UTF_8)), "SUCCEEDED")
                .path("id").asText();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private String warning(String what) throws Exception {
        String ended = server.getJson("jobs/" + newJob).path("job").path("endedAt").asText();
        return "build 67 of andy-corp/lmp is older than build 69, whose 'echo' job (" + newJob + ") succeeded at "
                + java.time.Instant.parse(ended).truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + ": " + what
                + " runs the older build's 'echo' over it";
    }

    private int jobsOf(String delivery) throws Exception {
        return server.getJson("jobs?delivery=" + delivery).path("items").size();
    }

    @Test
    void thePreviewsSayItInOneLineAndNothingOfTheNewestBuild() throws Exception {
        assertThat(server.getJson("jobs/" + oldJob + "/rerun-warnings").path("warnings").toString())
                .isEqualTo("[\"" + warning("this re-run") + "\"]");
        assertThat(server.getJson("jobs/" + newJob + "/rerun-warnings").path("warnings")).isEmpty();
        assertThat(server.getJson("deliveries/" + oldDelivery + "/replay-warnings").path("warnings").toString())
                .isEqualTo("[\"" + warning("this replay") + "\"]");
        assertThat(server.getJson("deliveries/" + oldDelivery + "/replay-warnings").path("rules").toString())
                .isEqualTo("[\"echo\"]");
        // A preview makes nothing.
        assertThat(jobsOf(oldDelivery)).isEqualTo(1);
    }

    @Test
    void withoutATerminalTheyDoNotAskButWarnOnStandardError() throws Exception {
        assertThat(cli.run("rerun", oldJob)).as(cli.err()).isZero();
        assertThat(cli.err()).isEqualTo("[buildhook] warning: " + warning("this re-run") + "\n");
        assertThat(cli.out()).startsWith("queued job ");

        assertThat(cli.run("replay", oldDelivery)).as(cli.err()).isZero();
        assertThat(cli.err()).isEqualTo("[buildhook] warning: " + warning("this replay") + "\n");
        assertThat(jobsOf(oldDelivery)).isEqualTo(3);

        assertThat(cli.run("rerun", newJob)).isZero();
        assertThat(cli.err()).isEmpty();
    }

    @Test
    void onATerminalTheyAskAndOnlyYesOrDashDashYesGoesAhead() throws Exception {
        RealCommand.Typed no = RealCommand.typedInATerminal(server, dir, "n\n", "rerun", oldJob);
        assertThat(no.exit()).as(no.text()).isEqualTo(ExitCodes.FAILED);
        assertThat(no.text()).contains("[buildhook] warning: " + warning("this re-run"))
                .contains("Re-run it anyway? [y/N] ").contains("[buildhook] nothing was done (--yes goes ahead without"
                        + " asking)").doesNotContain("queued job");
        assertThat(jobsOf(oldDelivery)).isEqualTo(1);

        RealCommand.Typed yes = RealCommand.typedInATerminal(server, dir, "y\n", "replay", oldDelivery);
        assertThat(yes.exit()).as(yes.text()).isZero();
        assertThat(yes.text()).contains("Replay it anyway? [y/N] ").contains("1 job(s) queued:");
        assertThat(jobsOf(oldDelivery)).isEqualTo(2);

        RealCommand.Typed unasked = RealCommand.typedInATerminal(server, dir, "", "rerun", oldJob, "--yes");
        assertThat(unasked.exit()).as(unasked.text()).isZero();
        assertThat(unasked.text()).contains("[buildhook] warning: ").doesNotContain("[y/N]").contains("queued job ");
        assertThat(jobsOf(oldDelivery)).isEqualTo(3);
    }
}
