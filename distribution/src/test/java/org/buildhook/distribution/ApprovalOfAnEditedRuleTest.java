package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * approve41: an operator who fixed a broken command in the rules file and then ran {@code buildhook approve} on the
 * job waiting since ran the broken command, the one the job was stored with, and was not told. The command prints the
 * approval preview's warning (what differs, that the stored command runs, the reject and replay that run the rule's
 * instead) on standard error before it approves, once; on a terminal it asks y/N first, as for a rule not in force
 * (ApprovalOfARuleNotInForceTest). A real server, its rules file replaced while the job awaits the approval.
 */
class ApprovalOfAnEditedRuleTest {

    @TempDir
    Path dir;
    Edited edited;

    /** A server whose rule {@code deploy} was edited since {@code job} was stored; the approval preview's line. */
    record Edited(AdminServer server, String job, String warning) {
    }

    /**
     * Starts a server in {@code dir} with rule {@code deploy} (an approval; it touches {@code dir/broken}), delivers
     * build 67, and replaces the rule's command with one that touches {@code dir/fixed} while the job awaits.
     */
    static Edited editedWhileItWaits(Path dir) throws Exception {
        String rule = "rules:\n  - name: deploy\n    when: {status: PASSED}\n    approval: {}\n"
                + "    run: {command: [/usr/bin/touch, '%s']}\n";
        AdminServer server = AdminServer.withRules(dir, rule.formatted(dir.resolve("broken")));
        String delivery = server.deliver("build-67-passed.json");
        String job = server.awaitJob(delivery, "AWAITING_APPROVAL").path("id").asText();
        server.replaceRules(rule.formatted(dir.resolve("fixed")));
        String node = server.app().config().engine().nodeId();
        return new Edited(server, job, "its rule 'deploy' has changed since the job was stored: in the rules in force"
                + " on node " + node + " (" + dir.resolve("rules.yaml") + ") it plans for its delivery the command"
                + " \"/usr/bin/touch\" \"" + dir.resolve("fixed") + "\" (stored: \"/usr/bin/touch\" \""
                + dir.resolve("broken") + "\"). Approved, it runs the command, environment and working directory the"
                + " job was stored with, not its rule's now. To run the rule in force instead, reject the job and"
                + " replay its delivery for the rule: buildhook reject " + job + " && buildhook replay " + delivery
                + " --rule deploy; once approved, only a cancel stops it (buildhook cancel " + job + ")");
    }

    @AfterEach
    void stop() throws Exception {
        if (edited != null) {
            edited.server().close();
        }
    }

    @Test
    void itSaysItBeforeApprovingAsksOnATerminalAndTheStoredCommandRuns() throws Exception {
        edited = editedWhileItWaits(dir);
        AdminServer server = edited.server();
        assertThat(server.getJson("jobs/" + edited.job() + "/approve-warnings").path("warnings").toString())
                .isEqualTo("[\"" + edited.warning().replace("\"", "\\\"") + "\"]");

        RealCommand.Typed no = RealCommand.typedInATerminal(server, dir, "n\n", "approve", edited.job());
        assertThat(no.exit()).as(no.text()).isEqualTo(ExitCodes.FAILED);
        assertThat(no.text()).contains("[buildhook] warning: " + edited.warning() + "\nApprove it anyway? [y/N] ")
                .contains("[buildhook] nothing was done (--yes goes ahead without asking)")
                .doesNotContain("approved job");
        assertThat(server.getJson("jobs/" + edited.job()).path("job").path("state").asText())
                .isEqualTo("AWAITING_APPROVAL");

        AdminCli cli = new AdminCli(server);
        assertThat(cli.run("approve", edited.job())).as(cli.err()).isZero();
        assertThat(cli.err()).as("in a script: said once, before, not asked")
                .isEqualTo("[buildhook] warning: " + edited.warning() + "\n");
        assertThat(cli.out()).isEqualTo("approved job " + edited.job() + "; it is queued\n");
        await().atMost(Duration.ofMinutes(1)).until(() -> dir.resolve("broken").toFile().exists());
        assertThat(dir.resolve("fixed")).as("jobs run as stored").doesNotExist();
    }
}
