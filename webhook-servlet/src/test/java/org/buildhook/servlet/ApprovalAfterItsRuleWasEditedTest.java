package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;
import static org.buildhook.servlet.RulesAbsentAtStartTest.warnings;
import static org.buildhook.servlet.TestApplication.rewriteRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * approve41: a job runs the command, environment and working directory it was stored with (by design), so an operator
 * who fixed a broken command in the rules file and then approved the waiting job ran the broken one, and was not told;
 * so did a re-run, and an approval of a job whose rule was renamed ({@code renamed-from}) and edited while the server
 * was stopped. The approval's preview and answer, and the re-run's preview, say what differs (the environment by
 * names, no value), that the stored one runs, and the reject and replay that run the rule in force instead. A real
 * application, its rules file rewritten between the queue and the approval as an operator does, real commands; on
 * SQLite and on PostgreSQL (needs {@code BUILDHOOK_TEST_PG_URL}; fails without it on CI).
 */
class ApprovalAfterItsRuleWasEditedTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture adminLog = new LogCapture(AdminRequests.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    /** Rule {@code name}, asking for an approval, that writes {@code word} to {@code dir/ran}. */
    private String deploy(String name, String word, String more) {
        return "rules:\n  - name: " + name + "\n" + more + "    when: {status: PASSED}\n    approval: {}\n"
                + "    run:\n      command: [/bin/sh, -c, 'echo " + word + " > " + dir.resolve("ran") + "', "
                + word + "]\n      env: {DEPLOY_ENV: " + word + "-env, API_TOKEN: " + word + "-token-value-1234"
                + (word.equals("fixed") ? ", REGION: eu" : "") + "}\n"
                + (word.equals("fixed") ? "      workdir: " + dir + "\n" : "");
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void anApprovalAfterTheRuleWasEditedSaysWhatDiffersAndThatTheStoredCommandRuns(boolean postgres) throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), deploy("deploy", "broken", ""));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String deploy = deliver(app, "build-67-passed.json");
            assertThat(job(app, deploy).state()).isEqualTo(JobState.AWAITING_APPROVAL);
            String delivery = job(app, deploy).deliveryId();
            AdminRequests alice = new AdminRequests(app, "alice@test");
            // A change that leaves what runs as it was says nothing.
            rewriteRules(dir, deploy("deploy", "broken", "    description: the same command\n"));
            assertThat(warnings(alice.approvePreview(deploy))).as("the same command").isEmpty();

            rewriteRules(dir, deploy("deploy", "fixed", ""));
            List<String> before = warnings(alice.approvePreview(deploy));

            String node = app.config().engine().nodeId();
            assertThat(before).singleElement().asString().isEqualTo("its rule 'deploy' has changed since the job was"
                    + " stored: in the rules in force on node " + node + " (" + dir.resolve("rules.yaml") + ") it plans"
                    + " for its delivery the command \"/bin/sh\" \"-c\" \"echo fixed > " + dir.resolve("ran")
                    + "\" \"fixed\" (stored: \"/bin/sh\" \"-c\" \"echo broken > " + dir.resolve("ran") + "\""
                    + " \"broken\"); another environment (changed API_TOKEN, DEPLOY_ENV; added REGION; values not"
                    + " shown); the working directory \"" + dir + "\" (stored: the runner's default). Approved, it runs"
                    + " the command, environment and working directory the job was stored with, not its rule's now. To"
                    + " run the rule in force instead, reject the job and replay its delivery for the rule: buildhook"
                    + " reject " + deploy + " && buildhook replay " + delivery + " --rule deploy; once approved, only"
                    + " a cancel stops it (buildhook cancel " + deploy + ")")
                    .doesNotContain("token-value");
            assertThat(job(app, deploy).state()).as("a preview decides nothing").isEqualTo(JobState.AWAITING_APPROVAL);

            assertThat(warnings(alice.decide(deploy, true))).as("the answer, in the preview's words").isEqualTo(before);
            assertThat(adminLog.warnings("approved job " + deploy)).singleElement().asString()
                    .isEqualTo("admin alice@test approved job " + deploy + ": " + before.get(0));
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, deploy).state().isFinal());
            assertThat(Files.readString(dir.resolve("ran"))).as("jobs run as stored").isEqualTo("broken\n");

            // A re-run runs the old job's stored plan too: its preview says so, with the replay that runs the rule.
            assertThat(warnings(alice.rerunPreview(deploy))).singleElement().asString()
                    .startsWith("its rule 'deploy' has changed since the job was stored: in the rules in force on node ")
                    .contains(" (stored: \"/bin/sh\" \"-c\" \"echo broken > ")
                    .endsWith(". A re-run runs the command, environment and working directory the job was stored with,"
                            + " not its rule's now. To run the rule in force instead, replay its delivery for the rule:"
                            + " buildhook replay " + delivery + " --rule deploy");
        }
    }

    /**
     * The rule no longer fires for the job's delivery (its {@code when} narrowed): an approval runs the stored command
     * anyway, and a replay would plan nothing; reject is the way.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void anApprovalAfterTheRuleStoppedFiringForTheDeliverySaysTheStoredCommandRunsAllTheSame(boolean postgres)
            throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), deploy("deploy", "broken", ""));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String deploy = deliver(app, "build-67-passed.json");
            String delivery = job(app, deploy).deliveryId();
            rewriteRules(dir, deploy("deploy", "broken", "").replace("status: PASSED", "status: FAILED"));

            assertThat(warnings(new AdminRequests(app, "alice@test").approvePreview(deploy))).singleElement()
                    .asString().startsWith("its rule 'deploy' has changed since the job was stored: in the rules in"
                            + " force on node ")
                    .contains(" it does not fire for its delivery " + delivery + " (")
                    .endsWith("). Approved, it runs the command it was stored with all the same: \"/bin/sh\" \"-c\""
                            + " \"echo broken > " + dir.resolve("ran") + "\" \"broken\". If that is not meant, reject"
                            + " the job instead (buildhook reject " + deploy + "); once approved, only a cancel stops"
                            + " it (buildhook cancel " + deploy + ")");
        }
    }

    /**
     * Renamed ({@code renamed-from}) and edited while the server was stopped: a start leaves the old name's job
     * awaiting its approval, taken over by the new name, which plans another command. The warning names the new rule,
     * which the replay needs.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void anApprovalOfARuleRenamedAndEditedWhileStoppedNamesTheRuleThatTookItOver(boolean postgres) throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), deploy("deploy", "broken", ""));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        String deploy;
        try (BuildhookApplication app = TestApplication.start(file)) {
            deploy = deliver(app, "build-67-passed.json");
        }
        Files.writeString(dir.resolve("rules.yaml"), deploy("deploy-v2", "fixed", "    renamed-from: deploy\n"));
        try (BuildhookApplication app = TestApplication.start(file)) {
            assertThat(job(app, deploy).state()).isEqualTo(JobState.AWAITING_APPROVAL);
            String delivery = job(app, deploy).deliveryId();
            AdminRequests alice = new AdminRequests(app, "alice@test");
            List<String> before = warnings(alice.approvePreview(deploy));
            assertThat(before).singleElement().asString()
                    .startsWith("its rule 'deploy', now 'deploy-v2' (renamed-from), has changed since the job was"
                            + " stored: in the rules in force on node ")
                    .contains(" (stored: \"/bin/sh\" \"-c\" \"echo broken > ")
                    .contains("another environment (changed API_TOKEN, DEPLOY_ENV; added REGION; values not shown)")
                    .endsWith("reject the job and replay its delivery for the rule: buildhook reject " + deploy
                            + " && buildhook replay " + delivery + " --rule deploy-v2; once approved, only a cancel"
                            + " stops it (buildhook cancel " + deploy + ")");
            assertThat(warnings(alice.decide(deploy, true))).isEqualTo(before);
        }
    }

    /**
     * tryout42 F12: the password in the command's arguments rotated in the rule, nothing else: both commands read the
     * same, masked, so the preview says which arguments hold another hidden value instead of the same text twice, and
     * gives no value.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void anApprovalAfterOnlyASecretArgumentChangedSaysWhichArgumentsDifferUnseen(boolean postgres) throws Exception {
        String rule = "rules:\n  - name: archive\n    when: {status: PASSED}\n    approval: {}\n    run:\n"
                + "      command: [/bin/true, '${build.id}', 'https://archiver:UrlPassw0rd%s@store.example.com/r',"
                + " --password, S3cretArch1ve%s]\n";
        Files.writeString(dir.resolve("rules.yaml"), String.format(rule, "Old", "Old"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String archive = deliver(app, "build-67-passed.json");
            AdminRequests alice = new AdminRequests(app, "alice@test");
            rewriteRules(dir, String.format(rule, "New", "New"));

            assertThat(warnings(alice.approvePreview(archive))).singleElement().asString()
                    .contains(" it plans for its delivery the command \"/bin/true\" \"67\""
                            + " \"https://archiver:***@store.example.com/r\" \"--password\" \"***\" with another hidden"
                            + " value in its arguments 2, 4 (the program is argument 0; values not shown). Approved,")
                    .doesNotContain("(stored:").doesNotContain("Old").doesNotContain("New");

            rewriteRules(dir, String.format(rule, "Old", "New").replace("/bin/true", "/usr/bin/true"));
            assertThat(warnings(alice.approvePreview(archive))).singleElement().asString()
                    .contains("\"--password\" \"***\" (stored: \"/bin/true\" \"67\" \"https://archiver:***@"
                            + "store.example.com/r\" \"--password\" \"***\"), and another hidden value in its argument 4"
                            + " (the program is argument 0; values not shown). Approved,");
        }
    }
}
