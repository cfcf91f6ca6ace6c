package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.RulesAbsentAtStartTest.warnings;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;
import static org.buildhook.servlet.TestApplication.rewriteRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * takeover42: the approve and re-run previews and answers, and the re-run's approval gate, took a job's rule that is
 * no longer in force as taken over by any rule in force with the same {@code run} word for word, also by one in force
 * beside it all along, which had made its own job of the same delivery: the re-run's warning called that rule the
 * job's rule's new name and advised a replay that would run it a second time for the delivery; the re-run awaited
 * that rule's approval; an approval compared the stored command with that rule's, which plans the same, and said
 * nothing, not that the job's rule is not in force. A rule with a job of that {@code run} planned together with one
 * of the job's rule for the job's delivery was in force beside it, and is not its new name; a rename made after (a
 * rule new in the file with the same {@code run}) still is, also once its delivery was replayed for it. A real
 * application, its rules file rewritten as an operator does, real commands; on SQLite and on PostgreSQL (needs
 * {@code BUILDHOOK_TEST_PG_URL}; fails without it on CI).
 */
class ARuleInForceBesideIsNotItsNewNameTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture adminLog = new LogCapture(AdminRequests.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    /** The job of {@code rule} that delivery {@code delivery} has (exactly one). */
    private static Job jobOf(BuildhookApplication app, String delivery, String rule) {
        return app.store().jobs(new JobQuery(null, rule, delivery, null, 10)).items().stream().filter(j -> j.rerunOf()
                == null).reduce((a, b) -> {
                    throw new AssertionError("two jobs of " + rule + " for delivery " + delivery);
                }).orElseThrow();
    }

    private static String quoted(Job job) {
        return job.argv().stream().map(a -> "\"" + a + "\"").collect(java.util.stream.Collectors.joining(" "));
    }

    /**
     * {@code deploy} disabled beside {@code notify} (in force all along, asking for an approval): the re-run of
     * deploy's job says its rule is not in force, not that notify takes it over, and does not await notify's approval.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRerunOfAJobOfARuleDisabledBesideARuleWithTheSameRunIsNotTakenOverByIt(boolean postgres) throws Exception {
        String rules = "rules:\n  - name: deploy\n    run: {command: [/bin/true]}\n"
                + "  - name: notify\n    approval: {}\n    run: {command: [/bin/true]}\n";
        Files.writeString(dir.resolve("rules.yaml"), rules);
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String deploy = deliver(app, "build-67-passed.json");
            String delivery = job(app, deploy).deliveryId();
            assertThat(job(app, deploy).ruleName()).isEqualTo("deploy");
            assertThat(jobOf(app, delivery, "notify").state()).as("notify's own job of the delivery")
                    .isEqualTo(JobState.AWAITING_APPROVAL);
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, deploy).state() == JobState.SUCCEEDED);

            rewriteRules(dir, rules.replace("  - name: deploy\n", "  - name: deploy\n    enabled: false\n"));

            AdminRequests alice = new AdminRequests(app, "alice@test");
            List<String> before = warnings(alice.rerunPreview(deploy));
            assertThat(before).singleElement().asString().isEqualTo("its rule 'deploy' is not in the rules in force on"
                    + " node " + app.config().engine().nodeId() + " (" + dir.resolve("rules.yaml") + "): a re-run runs"
                    + " the command it was stored with all the same: " + quoted(job(app, deploy)) + ". If the rule was"
                    + " disabled or removed on purpose, do not re-run the job; once re-run, only a cancel of the new"
                    + " job stops it (buildhook cancel NEW_JOB)");

            JsonAnswer answer = alice.rerun(deploy);
            assertThat(warnings(answer)).as("the answer, in the same words").isEqualTo(before);
            String rerun = new com.fasterxml.jackson.databind.ObjectMapper().readTree(answer.bytes()).path("job")
                    .asText();
            assertThat(job(app, rerun).state()).as("not gated by notify's approval")
                    .isNotEqualTo(JobState.AWAITING_APPROVAL);
            assertThat(adminLog.messages()).noneMatch(m -> m.contains("awaits the approval"));
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, rerun).state() == JobState.SUCCEEDED);
        }
    }

    /**
     * {@code deploy}, asking for an approval, removed while the server was stopped, beside {@code notify} with the same
     * run: its job is left awaiting, and its approval says that its rule is not in force and that the stored command
     * runs (before, it compared the job with notify's plan, the same, and said nothing).
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void anApprovalOfAJobOfARuleRemovedBesideARuleWithTheSameRunSaysItsRuleIsNotInForce(boolean postgres)
            throws Exception {
        String notify = "  - name: notify\n    run: {command: [/bin/true]}\n";
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: deploy\n    approval: {}\n"
                + "    run: {command: [/bin/true]}\n" + notify);
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        String deploy;
        try (BuildhookApplication app = TestApplication.start(file)) {
            deploy = deliver(app, "build-67-passed.json");
            String delivery = job(app, deploy).deliveryId();
            await().atMost(Duration.ofMinutes(1)).until(() -> jobOf(app, delivery, "notify").state()
                    == JobState.SUCCEEDED);
        }
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n" + notify);
        try (BuildhookApplication app = TestApplication.start(file)) {
            assertThat(job(app, deploy).state()).isEqualTo(JobState.AWAITING_APPROVAL);
            AdminRequests alice = new AdminRequests(app, "alice@test");
            List<String> before = warnings(alice.approvePreview(deploy));
            assertThat(before).singleElement().asString().isEqualTo("its rule 'deploy' is not in the rules in force on"
                    + " node " + app.config().engine().nodeId() + " (" + dir.resolve("rules.yaml") + "): approved, it"
                    + " runs the command it was stored with: " + quoted(job(app, deploy)) + ". If the rule was"
                    + " removed on purpose, reject the job instead (buildhook reject " + deploy + "); once approved,"
                    + " only a cancel stops it (buildhook cancel " + deploy + ")");
            assertThat(warnings(alice.decide(deploy, true))).as("the answer, in the same words").isEqualTo(before);
        }
    }

    /**
     * {@code deploy} renamed in place to {@code deploy-v2} (the same run, no {@code renamed-from}) beside {@code
     * notify}, which has that run too and comes first in the file: the re-run's warning names deploy-v2, the rename,
     * not notify; and still does once the delivery was replayed for deploy-v2 (a replay is no planning beside deploy).
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRuleRenamedBesideARuleWithTheSameRunIsTakenOverByItsNewNameNotByThatRule(boolean postgres)
            throws Exception {
        String notify = "  - name: notify\n    run: {command: [/bin/true]}\n";
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n" + notify + "  - name: deploy\n"
                + "    run: {command: [/bin/true]}\n");
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String delivery = job(app, deliver(app, "build-67-passed.json")).deliveryId();
            String deploy = jobOf(app, delivery, "deploy").id();
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, deploy).state() == JobState.SUCCEEDED);

            rewriteRules(dir, "rules:\n" + notify + "  - name: deploy-v2\n    run: {command: [/bin/true]}\n");

            AdminRequests alice = new AdminRequests(app, "alice@test");
            String expected = "its rule 'deploy' is not in the rules in force on node " + app.config().engine()
                    .nodeId() + " (" + dir.resolve("rules.yaml") + "); rule 'deploy-v2' takes it over (the same run):"
                    + " a re-run makes a job of the old name 'deploy', which runs the command it was stored with: "
                    + quoted(job(app, deploy)) + ". For a job of the rule in force, replay its delivery instead:"
                    + " buildhook replay " + delivery + " --rule deploy-v2";
            assertThat(warnings(alice.rerunPreview(deploy))).singleElement().asString().isEqualTo(expected);

            alice.replay(delivery, new String[] {"deploy-v2"});
            assertThat(jobOf(app, delivery, "deploy-v2").ruleName()).isEqualTo("deploy-v2");
            assertThat(warnings(alice.rerunPreview(deploy))).as("after the replay the warning advised")
                    .singleElement().asString().isEqualTo(expected);
        }
    }
}
