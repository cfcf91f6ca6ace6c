package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout39 F6: a job awaiting an approval whose rule was removed while the server was stopped (not cancelled at the
 * start: it may be another node's new rule) runs the command it was stored with once approved, and {@code buildhook
 * approve} said so only after the approval, on standard error, once the job had started: its advice came too late.
 * The preview {@code GET /api/jobs/{id}/approve-warnings} says it first, in the words the approval's answer has; the
 * command prints it on standard error before it approves, once, and on a terminal (util-linux's {@code script}) asks
 * y/N first unless {@code --yes}, as {@code rerun} does of an older build (OlderBuildRerunTest); with standard input
 * not a terminal it does not ask. A real server started again on the same data with the rule removed.
 */
class ApprovalOfARuleNotInForceTest {

    @TempDir
    Path dir;
    Removed removed;

    /** A server whose store holds {@code job}, of a rule it does not have, awaiting an approval; its preview's line. */
    record Removed(AdminServer server, String job, String warning) {
    }

    /**
     * Starts a server in {@code dir} with rule {@code deploy} (an approval; it touches {@code dir/deployed}), delivers
     * build 67, stops it with the job awaiting the approval, and starts it again on the same data without the rule.
     */
    static Removed removedWhileStopped(Path dir) throws Exception {
        String job;
        try (AdminServer before = AdminServer.withRules(dir, "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
                + "    approval: {}\n    run: {command: [/usr/bin/touch, '" + dir.resolve("deployed") + "']}\n")) {
            job = before.awaitJob(before.deliver("build-67-passed.json"), "AWAITING_APPROVAL").path("id").asText();
        }
        AdminServer after = AdminServer.withRules(dir, "rules:\n  - name: notify\n    when: {status: FAILED}\n"
                + "    run: {command: [/bin/true]}\n");
        String node = after.app().config().engine().nodeId();
        return new Removed(after, job, "its rule 'deploy' is not in the rules in force on node " + node + " ("
                + dir.resolve("rules.yaml") + "): approved, it runs the command it was stored with:"
                + " \"/usr/bin/touch\" \"" + dir.resolve("deployed") + "\". If the rule was removed on purpose, reject"
                + " the job instead (buildhook reject " + job + "); once approved, only a cancel stops it (buildhook"
                + " cancel " + job + ")");
    }

    @BeforeEach
    void storeAJobThenRemoveItsRule() throws Exception {
        removed = removedWhileStopped(dir);
    }

    @AfterEach
    void stop() throws Exception {
        removed.server().close();
    }

    private String state() throws Exception {
        return removed.server().getJson("jobs/" + removed.job()).path("job").path("state").asText();
    }

    @Test
    void withoutATerminalItSaysItOnceBeforeApprovingAndDoesNotAsk() throws Exception {
        AdminServer server = removed.server();
        assertThat(server.getJson("jobs/" + removed.job() + "/approve-warnings").path("warnings").toString())
                .isEqualTo("[\"" + removed.warning().replace("\"", "\\\"") + "\"]");
        assertThat(state()).as("a preview decides nothing").isEqualTo("AWAITING_APPROVAL");

        AdminCli cli = new AdminCli(server);
        assertThat(cli.run("approve", removed.job())).as(cli.err()).isZero();
        assertThat(cli.err()).isEqualTo("[buildhook] warning: " + removed.warning() + "\n");
        assertThat(cli.out()).isEqualTo("approved job " + removed.job() + "; it is queued\n");
        await().atMost(Duration.ofMinutes(1)).until(() -> dir.resolve("deployed").toFile().exists());
    }

    @Test
    void onATerminalItAsksFirstAndOnlyYesApproves() throws Exception {
        RealCommand.Typed no = RealCommand.typedInATerminal(removed.server(), dir, "n\n", "approve", removed.job());
        assertThat(no.exit()).as(no.text()).isEqualTo(ExitCodes.FAILED);
        assertThat(no.text()).contains("[buildhook] warning: " + removed.warning() + "\nApprove it anyway? [y/N] ")
                .contains("[buildhook] nothing was done (--yes goes ahead without asking)")
                .doesNotContain("approved job");
        assertThat(state()).isEqualTo("AWAITING_APPROVAL");
        assertThat(dir.resolve("deployed")).doesNotExist();

        RealCommand.Typed yes = RealCommand.typedInATerminal(removed.server(), dir, "y\n", "approve", removed.job());
        assertThat(yes.exit()).as(yes.text()).isZero();
        assertThat(yes.text()).contains("Approve it anyway? [y/N] ").contains("approved job " + removed.job())
                .containsOnlyOnce(removed.warning());
        await().atMost(Duration.ofMinutes(1)).until(() -> dir.resolve("deployed").toFile().exists());
    }
}
