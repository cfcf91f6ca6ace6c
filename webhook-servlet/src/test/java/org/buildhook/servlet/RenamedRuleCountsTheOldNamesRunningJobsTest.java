package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;
import static org.buildhook.servlet.TestApplication.rewriteRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * rename35 (tryout34 F7): a rule renamed while one of its jobs runs counts that job against its {@code concurrency}:
 * the renamed rule's next job does not start until the old name's job ended (before, it started beside it: two
 * deploys at once). Without a key when the {@code run} is the same word for word; with {@code renamed-from} when the
 * {@code run} changed too. A real application, a real rules file rewritten as an operator does, real commands held
 * by a latch file; on SQLite and on PostgreSQL (needs {@code BUILDHOOK_TEST_PG_URL}).
 */
class RenamedRuleCountsTheOldNamesRunningJobsTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture log = new LogCapture(BuildhookApplication.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRuleRenamedWithTheSameRunDoesNotStartItsNextJobBesideTheOldNamesRunningJob(boolean postgres)
            throws Exception {
        String rule = "rules:\n  - name: %s\n    run: {command: [/bin/sh, -c, '" + waitForGo() + "'], concurrency: 1}\n";
        String warning = renameWhileARunningJobWaits(postgres, rule.formatted("deploy"), rule.formatted("deploy-v2"));

        assertThat(warning).contains("; rule 'deploy-v2', in force with the same run word for word, is taken as"
                + " renamed from it: its concurrency counts them while they run (each holds one of its slots), so with"
                + " a limit its next job waits for them to end (buildhook jobs --rule deploy-v2 shows it waiting for"
                + " a slot). Write renamed-from: deploy on rule 'deploy-v2' to say so");
    }

    /**
     * takeover42 T2: a rule disabled beside a rule in force all along with the same run: the WARN said the other was
     * "taken as renamed from it" and told the operator to write {@code renamed-from} on it, a rename that never was.
     * It says what that rule counts now, and no advice to write a rename.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRuleDisabledBesideARuleWithTheSameRunIsNotSaidRenamed(boolean postgres) throws Exception {
        String run = "    run: {command: [/bin/sh, -c, '" + waitForGo() + "'], concurrency: 1}\n";
        String rules = "rules:\n  - name: deploy\n" + run + "  - name: notify\n" + run;
        Files.writeString(dir.resolve("rules.yaml"), rules);
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1s");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String deploy = deliver(app, "build-67-passed.json");
            assertThat(job(app, deploy).ruleName()).isEqualTo("deploy");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, deploy).state() == JobState.RUNNING);

            rewriteRules(dir, rules.replace("name: deploy\n", "name: deploy\n    enabled: false\n"));

            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("rule 'deploy' is disabled or removed")
                    .isEmpty());
            assertThat(log.warnings("rule 'deploy' is disabled or removed").get(0))
                    .contains("; rule 'notify', in force beside it with the same run word for word, counts them as its"
                            + " own now: its concurrency counts them while they run")
                    .doesNotContain("renamed");
            Files.createFile(dir.resolve("go"));
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, deploy).state().isFinal());
        }
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRuleRenamedFromTheOldNameWithAnotherRunDoesNotStartItsNextJobBesideIt(boolean postgres) throws Exception {
        String before = "rules:\n  - name: deploy\n    run: {command: [/bin/sh, -c, '" + waitForGo() + "'],"
                + " concurrency: 1}\n";
        String after = "rules:\n  - name: deploy-v2\n    renamed-from: [deploy-2019, deploy]\n"
                + "    run: {command: [/bin/sh, -c, '" + waitForGo() + "', v2], concurrency: 1, timeout: 20m}\n";
        String warning = renameWhileARunningJobWaits(postgres, before, after);

        assertThat(warning).contains("; rule 'deploy-v2' is renamed from it (renamed-from): its concurrency counts"
                + " them while they run");
    }

    /**
     * Starts the application with {@code before}, holds a job of 'deploy' running, reloads to {@code after}, delivers
     * another build: its job of 'deploy-v2' waits for a slot while the old one runs, and starts only after it ended.
     *
     * @return the reload's {@code WARN} about the old rule's running job
     */
    private String renameWhileARunningJobWaits(boolean postgres, String before, String after) throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), before);
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1s");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String old = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, old).state() == JobState.RUNNING);

            rewriteRules(dir, after);
            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("rule 'deploy' is disabled or removed")
                    .isEmpty());
            String next = deliver(app, "build-68-failed.json");
            assertThat(job(app, next).ruleName()).isEqualTo("deploy-v2");

            await().atMost(Duration.ofMinutes(1)).until(() -> String.valueOf(job(app, next).message())
                    .contains("waiting for a concurrency slot of its rule (1 at once"));
            assertThat(job(app, next).attempts()).as("it waits while the old name's job runs").isZero();
            assertThat(job(app, old).state()).isEqualTo(JobState.RUNNING);

            Files.createFile(dir.resolve("go"));
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, next).state().isFinal());
            Job ended = job(app, old);
            Job started = job(app, next);
            assertThat(ended.state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(started.state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(started.startedAt()).as("started once the old name's job ended")
                    .isAfterOrEqualTo(ended.endedAt());
            return log.warnings("rule 'deploy' is disabled or removed").get(0);
        }
    }

    /**
     * wake36: the end of the old name's running job wakes the renamed rule's job waiting for a slot, as a freed slot of
     * its own rule does. {@code runner.poll-interval} and {@code runner.slot-retry} are 10 minutes, so only the wake
     * starts it within the bound (before, it started at its next try).
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void theEndOfTheOldNamesJobWakesTheRenamedRulesWaitingJob(boolean postgres) throws Exception {
        String rule = "rules:\n  - name: %s\n    run: {command: [/bin/sh, -c, '" + waitForGo() + "'], concurrency: 1}\n";
        Files.writeString(dir.resolve("rules.yaml"), rule.formatted("deploy"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null,
                "slot-retry: 10m, poll-interval: 10m");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String old = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, old).state() == JobState.RUNNING);
            rewriteRules(dir, rule.formatted("deploy-v2"));
            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("rule 'deploy' is disabled or removed")
                    .isEmpty());
            String next = deliver(app, "build-68-failed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> String.valueOf(job(app, next).message())
                    .contains("waiting for a concurrency slot of its rule (1 at once"));

            Files.createFile(dir.resolve("go"));

            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, next).state().isFinal());
            assertThat(job(app, old).state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(job(app, next).state()).isEqualTo(JobState.SUCCEEDED);
        }
    }

    private String waitForGo() {
        return "while [ ! -e " + dir.resolve("go") + " ]; do sleep 0.05; done";
    }
}
