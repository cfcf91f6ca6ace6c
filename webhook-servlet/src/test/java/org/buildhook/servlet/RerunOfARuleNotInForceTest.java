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
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout41 F2: a rule renamed in place (no {@code renamed-from}; the reload takes the new name as renamed by the same
 * {@code run}) cancelled its queued job with "run it again with buildhook rerun once the rule is back"; the rule is
 * never back, and following the advice, {@code buildhook rerun} ran the stored command of a rule not in force at once,
 * without a word (an approval warns of that first). The cancel names the replay that makes a job of the new name, with
 * the job's delivery; the re-run's preview and answer say, in the same words, that the job's rule is not in force and
 * what runs (and, after a rename, the replay instead). A real application, its rules file rewritten as an operator
 * does, real commands; on SQLite and on PostgreSQL (needs {@code BUILDHOOK_TEST_PG_URL}; fails without it on CI).
 */
class RerunOfARuleNotInForceTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture log = new LogCapture(BuildhookApplication.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    private String deploy(String name) {
        return "rules:\n  - name: " + name + "\n    run: {command: [/bin/sh, -c, 'while [ ! -e " + dir.resolve("go")
                + " ]; do sleep 0.05; done; echo ran >> " + dir.resolve("deploys") + "'], concurrency: 1}\n";
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRuleRenamedInPlaceCancelsItsQueuedJobNamingTheReplayAndARerunOfItWarns(boolean postgres) throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), deploy("deploy-devel"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1s");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String running = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, running).state() == JobState.RUNNING);
            String queued = deliver(app, "build-68-failed.json");
            String delivery = job(app, queued).deliveryId();

            rewriteRules(dir, deploy("deploy-staging"));

            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, queued).state() == JobState.CANCELLED);
            String node = app.config().engine().nodeId();
            assertThat(job(app, queued).message()).startsWith("not started: its rule 'deploy-devel' is renamed to"
                    + " 'deploy-staging' (the same run word for word) in the rules in force on node " + node + " (")
                    .endsWith("; for a job of the new name replay its delivery: buildhook replay " + delivery
                            + " --rule deploy-staging (buildhook rerun would make one of the old name)");
            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("rule 'deploy-devel' is disabled or"
                    + " removed").stream().filter(w -> w.contains("will not run")).toList().isEmpty());
            assertThat(log.warnings("will not run: cancelled")).singleElement().asString()
                    .endsWith("; rule 'deploy-staging' is renamed from it (the same run): for a job of the new name,"
                            + " replay its delivery: buildhook replay " + delivery + " --rule deploy-staging");

            AdminRequests alice = new AdminRequests(app, "alice@test");
            List<String> before = warnings(alice.rerunPreview(queued));
            assertThat(before).singleElement().asString().isEqualTo("its rule 'deploy-devel' is not in the rules in"
                    + " force on node " + node + " (" + dir.resolve("rules.yaml") + "); rule 'deploy-staging' takes it"
                    + " over (the same run): a re-run makes a job of the old name 'deploy-devel', which runs the"
                    + " command it was stored with: " + job(app, queued).argv().stream().map(a -> "\"" + a + "\"")
                            .collect(java.util.stream.Collectors.joining(" ")) + ". For a job of the rule in force,"
                    + " replay its delivery instead: buildhook replay " + delivery + " --rule deploy-staging");
            assertThat(warnings(alice.rerun(queued))).as("the answer, in the same words").isEqualTo(before);
            Files.createFile(dir.resolve("go"));
        }
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRerunOfAJobWhoseRuleWasRemovedWarnsThatItsStoredCommandRuns(boolean postgres) throws Exception {
        Files.createFile(dir.resolve("go"));
        Files.writeString(dir.resolve("rules.yaml"), deploy("deploy"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1s");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String done = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, done).state() == JobState.SUCCEEDED);
            AdminRequests alice = new AdminRequests(app, "alice@test");
            assertThat(warnings(alice.rerunPreview(done))).as("its rule in force, unchanged").isEmpty();

            rewriteRules(dir, "rules:\n  - name: notify\n    when: {status: FAILED}\n    run: {command: [/bin/true]}\n");

            String node = app.config().engine().nodeId();
            List<String> before = warnings(alice.rerunPreview(done));
            assertThat(before).singleElement().asString().isEqualTo("its rule 'deploy' is not in the rules in force on"
                    + " node " + node + " (" + dir.resolve("rules.yaml") + "): a re-run runs the command it was stored"
                    + " with all the same: " + job(app, done).argv().stream().map(a -> "\"" + a + "\"")
                            .collect(java.util.stream.Collectors.joining(" ")) + ". If the rule was disabled or removed"
                    + " on purpose, do not re-run the job; once re-run, only a cancel of the new job stops it"
                    + " (buildhook cancel NEW_JOB)");
            assertThat(warnings(alice.rerun(done))).as("the answer, in the same words").isEqualTo(before);
        }
    }

    /**
     * ci48: a rule disabled beside a rule in force all along with the same {@code run} was called renamed to it, and its
     * cancel advised a replay for that rule, whose job of the delivery had run already. A same-run rule is a rename
     * only when it was not in force together with the rule taken out.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRuleDisabledBesideARuleWithTheSameRunIsNotCalledRenamedToIt(boolean postgres) throws Exception {
        String rules = "rules:\n  - name: deploy\n    approval: {}\n    run: {command: [/bin/true]}\n"
                + "  - name: notify\n    run: {command: [/bin/true]}\n";
        Files.writeString(dir.resolve("rules.yaml"), rules);
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1s");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String awaiting = deliver(app, "build-67-passed.json");
            assertThat(job(app, awaiting).ruleName()).isEqualTo("deploy");
            assertThat(job(app, awaiting).state()).isEqualTo(JobState.AWAITING_APPROVAL);

            rewriteRules(dir, rules.replace("approval: {}", "enabled: false\n    approval: {}"));

            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, awaiting).state() == JobState.CANCELLED);
            assertThat(job(app, awaiting).message()).startsWith("not started: its rule 'deploy' is disabled or removed"
                    + " in the rules in force on node " + app.config().engine().nodeId() + " (");
            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("will not run: cancelled").isEmpty());
            assertThat(log.warnings("will not run: cancelled")).singleElement().asString()
                    .doesNotContain("renamed").endsWith("jobs of it already running go on");
        }
    }
}
