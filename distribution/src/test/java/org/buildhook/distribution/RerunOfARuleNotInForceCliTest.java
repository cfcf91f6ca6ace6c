package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout41 F2: {@code buildhook rerun} of a job whose rule had been removed (or renamed away) from the rules in force
 * queued the removed rule's stored command at once, exit 0, nothing on standard error, although the cancel message had
 * sent the operator there; {@code approve} warns and asks before it runs such a job. The re-run's preview says it; the
 * command prints it on standard error before it acts, once, and on a terminal (util-linux's {@code script}) asks y/N
 * first unless {@code --yes}; with standard input not a terminal it does not ask (scripts go on as before). A real
 * server, its rules file replaced while it runs.
 */
class RerunOfARuleNotInForceCliTest {

    @TempDir
    Path dir;

    @Test
    void aRerunOfAJobWhoseRuleWasRemovedSaysSoFirstAndAsksOnATerminal() throws Exception {
        Path deployed = dir.resolve("deployed");
        try (AdminServer server = AdminServer.withRules(dir, "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
                + "    run: {command: [/bin/sh, -c, 'echo ran >> " + deployed + "']}\n")) {
            String job = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
            server.replaceRules("rules:\n  - name: notify\n    when: {status: FAILED}\n    run: {command: [/bin/true]}\n");
            String node = server.app().config().engine().nodeId();
            String warning = "its rule 'deploy' is not in the rules in force on node " + node + " ("
                    + dir.resolve("rules.yaml") + "): a re-run runs the command it was stored with all the same:"
                    + " \"/bin/sh\" \"-c\" \"echo ran >> " + deployed + "\". If the rule was disabled or removed on"
                    + " purpose, do not re-run the job; once re-run, only a cancel of the new job stops it (buildhook"
                    + " cancel NEW_JOB)";
            await().atMost(Duration.ofMinutes(1)).until(() -> server.getJson("jobs/" + job + "/rerun-warnings")
                    .path("warnings").size() == 1);
            assertThat(server.getJson("jobs/" + job + "/rerun-warnings").path("warnings").path(0).asText())
                    .isEqualTo(warning);

            RealCommand.Typed no = RealCommand.typedInATerminal(server, dir, "n\n", "rerun", job);
            assertThat(no.exit()).as(no.text()).isEqualTo(ExitCodes.FAILED);
            assertThat(no.text()).contains("[buildhook] warning: " + warning + "\nRe-run it anyway? [y/N] ")
                    .contains("[buildhook] nothing was done (--yes goes ahead without asking)")
                    .doesNotContain("queued job");
            assertThat(server.getJson("jobs?rule=deploy").path("items").size()).as("no re-run made").isEqualTo(1);

            AdminCli cli = new AdminCli(server);
            assertThat(cli.run("rerun", job)).as(cli.err()).isZero();
            assertThat(cli.err()).as("said once, before").isEqualTo("[buildhook] warning: " + warning + "\n");
            assertThat(cli.out()).startsWith("queued job ").endsWith(" (a re-run of " + job + ")\n");
        }
    }
}
