package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review58 F1 (H): a node refuses at the pick, and at an approval, a job of a rule its own rules in force take out
 * (tryout57 F4), but knew whether another running node had other rules only from its last start or reload. A difference
 * that arose later (a rolling re-enable that reaches another node first; another node started with the rule enabled)
 * left the refusal armed, and the node cancelled the jobs the other node stored and runs, though while the nodes'
 * rules differ such jobs run when due or approved (the held-back cancel's {@code WARN}, docs/rules.md). Now the refusal
 * holds only where the cancel in the store would: while no running node has other rules. Two real applications on one
 * PostgreSQL schema, their rules files rewritten as an operator does, real commands. Needs {@code
 * BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI.
 */
class RuleEnabledOnAnotherNodeTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @Test
    void aJobOfARuleAnotherNodeEnabledFirstIsRunNotCancelledByTheNodeStillDisablingIt() throws Exception {
        String url = PG.newSchemaUrl();
        node("b", url, false);
        node("a", url, false);
        try (BuildhookApplication b = start("b")) {
            // node-b's only thread is busy: the job stored next is picked by node-a.
            String hold = deliver(b, "build-68-failed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(b, hold).state() == JobState.RUNNING);
            try (BuildhookApplication a = start("a")) {
                // Both disable deploy: node-a's start agrees with node-b, nothing held back.
                assertThat(a.leavesJobsOfRulesTakenOut()).isFalse();
                TestApplication.rewriteRules(dir.resolve("b"), rules(true, false)); // the re-enable reaches node-b first
                await().atMost(Duration.ofMinutes(1)).until(() -> b.rules().current().ruleNames().contains("deploy"));
                // Once node-b's claim carries its new rules: a job stored before that, picked by node-a before it, is
                // still refused (the moment node-b takes to record them after its reload).
                await().atMost(Duration.ofMinutes(1)).until(() -> recorded(a, "node-b")
                        .equals(Optional.of(RulesFingerprint.of(b.rules().current()))));
                String deploy = deliver(b, "build-67-passed.json");
                await().atMost(Duration.ofMinutes(1)).until(() -> job(b, deploy).state().isFinal());
                Job ended = job(b, deploy);
                assertThat(ended.state()).as(ended.node() + ": " + ended.message()).isEqualTo(JobState.SUCCEEDED);
            } finally {
                Files.createFile(dir.resolve("go"));
            }
        }
    }

    @Test
    void anApprovalThroughANodeThatDisablesTheRuleOfAJobAnotherNodeStartedWithItEnabledStoredIsGiven()
            throws Exception {
        String url = PG.newSchemaUrl();
        node("a", url, true);
        node("b", url, true);
        TestApplication.rewriteRules(dir.resolve("b"), rules(true, true));
        // node-a runs alone, then node-b starts with the rule enabled: a difference after node-a's start.
        try (BuildhookApplication a = start("a"); BuildhookApplication b = start("b")) {
            assertThat(a.leavesJobsOfRulesTakenOut()).isFalse();
            String deploy = deliver(b, "build-67-passed.json");
            assertThat(job(b, deploy).state()).isEqualTo(JobState.AWAITING_APPROVAL);

            // Refused 409 before (the job cancelled first: "its rule 'deploy' is disabled or removed in the rules in
            // force on node node-a").
            new AdminRequests(a, "alice").decide(deploy, true);

            await().atMost(Duration.ofMinutes(1)).until(() -> job(a, deploy).state().isFinal());
            Job ended = job(a, deploy);
            assertThat(ended.state()).as(ended.node() + ": " + ended.message()).isEqualTo(JobState.SUCCEEDED);
        }
    }

    /** The rules fingerprint running node {@code node} recorded, as {@code app} reads it. */
    private static Optional<RulesFingerprint> recorded(BuildhookApplication app, String node) {
        return app.store().nodeLeases().runningNodesRules(Duration.ofMinutes(1)).stream()
                .filter(n -> n.nodeId().equals(node)).findFirst().flatMap(n -> n.fingerprint());
    }

    private String rules(boolean deployEnabled, boolean approval) {
        Path go = dir.resolve("go");
        return "rules:\n  - name: hold\n    when: {status: FAILED}\n"
                + "    run: {command: [/bin/sh, -c, 'while [ ! -e " + go + " ]; do sleep 0.05; done']}\n"
                + "  - name: deploy\n" + (deployEnabled ? "" : "    enabled: false\n")
                + (approval ? "    approval: {}\n" : "")
                + "    when: {status: PASSED}\n    run: {command: [/bin/true]}\n";
    }

    private void node(String name, String url, boolean approval) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        TestApplication.configuration(home, url, "node-id: node-" + name + ", threads: 1, heartbeat-interval: 1s,"
                + " missed-heartbeats: 1000, watchdog: off");
        Files.writeString(home.resolve("rules.yaml"), rules(false, approval));
    }

    private BuildhookApplication start(String name) throws Exception {
        return TestApplication.start(dir.resolve(name).resolve("buildhook.yaml"));
    }
}
