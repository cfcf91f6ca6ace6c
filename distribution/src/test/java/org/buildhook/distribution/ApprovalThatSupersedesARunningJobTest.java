package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout55 F1: approving build 69's job of a rule with {@code supersede: {key: …, running: cancel}} and an approval
 * stopped build 67's job of the rule, running, half-way through its deploy; the console's dialog ("It starts as soon as
 * its rule allows"), {@code buildhook approve} on a terminal (which asked nothing) and the approval's preview ({@code
 * approve-warnings}, empty) said nothing of it. The preview now names the job the approval stops, the CLI asks on a
 * terminal and says it before it approves in a script, and the approval then does what it said. A real server, real
 * deliveries, a real running command, the real CLI.
 */
class ApprovalThatSupersedesARunningJobTest {

    @TempDir
    Path dir;
    AdminServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void thePreviewAndTheCliSayWhichRunningJobTheApprovalStops() throws Exception {
        server = AdminServer.withRules(dir, "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
                + "    supersede: {key: '${build.project}', running: cancel}\n    approval: {}\n"
                + "    run:\n      command: [/bin/sleep, '600']\n      timeout: 15m\n");
        AdminCli cli = new AdminCli(server);
        String oldJob = server.awaitJob(server.deliver("build-67-passed.json"), "AWAITING_APPROVAL").path("id").asText();
        assertThat(server.getJson("jobs/" + oldJob + "/approve-warnings").path("warnings")).as("nothing older").isEmpty();
        assertThat(cli.run("approve", oldJob)).as(cli.err()).isZero();
        server.awaitJobState(oldJob, "RUNNING");

        String newer = AdminServer.fixture("build-67-passed.json").replace("\"build_id\": 67", "\"build_id\": 69")
                .replace("/builds/67/", "/builds/69/");
        String newJob = server.awaitJob(server.deliverBody(newer.getBytes(StandardCharsets.UTF_8)), "AWAITING_APPROVAL")
                .path("id").asText();
        String warning = "approved, it supersedes an older build's job of its rule's supersede key \"andy-corp/lmp\": job "
                + oldJob + " (build 67) runs, and is stopped now. The rule says running: cancel: a running job is stopped"
                + " (its process tree ended, its on-cancel follow-up, if the rule has one, started), and job " + newJob
                + " starts once it has ended. To let it finish first, approve once it has ended; if this build should"
                + " not go out, reject it instead (buildhook reject " + newJob + ")";
        assertThat(server.getJson("jobs/" + newJob + "/approve-warnings").path("warnings").toString())
                .isEqualTo("[\"" + warning.replace("\"", "\\\"") + "\"]");

        RealCommand.Typed no = RealCommand.typedInATerminal(server, dir, "n\n", "approve", newJob);
        assertThat(no.exit()).as(no.text()).isEqualTo(ExitCodes.FAILED);
        assertThat(no.text()).contains("[buildhook] warning: " + warning + "\nApprove it anyway? [y/N] ")
                .doesNotContain("approved job");
        assertThat(server.getJson("jobs/" + oldJob).path("job").path("state").asText()).isEqualTo("RUNNING");

        assertThat(cli.run("approve", newJob)).as(cli.err()).isZero();
        assertThat(cli.err()).as("in a script: said once, before, not asked")
                .isEqualTo("[buildhook] warning: " + warning + "\n");
        assertThat(server.awaitJobState(oldJob, "SUPERSEDED").path("job").path("supersededBy").asText())
                .isEqualTo(newJob);
        server.awaitJobState(newJob, "RUNNING");
    }

    private static byte[] build(int id) throws Exception {
        return AdminServer.fixture("build-67-passed.json").replace("\"build_id\": 67", "\"build_id\": " + id)
                .replace("/builds/67/", "/builds/" + id + "/").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * review56 F3: the approval's answer (and its WARN) was read after the approval's transaction had ended the older
     * queued job SUPERSEDED, so it named nothing, though the preview named it. A client of the API that approves
     * without asking the preview first (a script, curl) is told too. Build 66 runs (no running: cancel: it goes on and
     * is not named), 67 is approved and queued behind it (concurrency 1), 69's approval supersedes 67.
     */
    @Test
    void theApprovalsAnswerNamesTheQueuedJobItSupersededAndLeavesARunningOneAlone() throws Exception {
        server = AdminServer.withRules(dir, "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
                + "    supersede: {key: '${build.project}'}\n    approval: {}\n"
                + "    run:\n      command: [/bin/sleep, '600']\n      timeout: 15m\n      concurrency: 1\n");
        String running = server.awaitJob(server.deliverBody(build(66)), "AWAITING_APPROVAL").path("id").asText();
        assertThat(server.post("jobs/" + running + "/approve").statusCode()).isEqualTo(200);
        server.awaitJobState(running, "RUNNING");
        String queued = server.awaitJob(server.deliverBody(build(67)), "AWAITING_APPROVAL").path("id").asText();
        assertThat(server.post("jobs/" + queued + "/approve").body()).doesNotContain("warnings");
        String newJob = server.awaitJob(server.deliverBody(build(69)), "AWAITING_APPROVAL").path("id").asText();

        String answer = server.post("jobs/" + newJob + "/approve").body();

        assertThat(answer).contains("approved, it supersedes an older build's job of its rule's supersede key"
                + " \\\"andy-corp/lmp\\\": job " + queued + " (build 67) is queued, and ends SUPERSEDED without running."
                + " To let it finish first").doesNotContain(running);
        assertThat(server.awaitJobState(queued, "SUPERSEDED").path("job").path("supersededBy").asText()).isEqualTo(newJob);
        assertThat(server.getJson("jobs/" + running).path("job").path("state").asText()).isEqualTo("RUNNING");
    }
}
