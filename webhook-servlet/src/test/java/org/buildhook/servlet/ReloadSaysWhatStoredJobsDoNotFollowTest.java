package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.buildhook.runner.store.JobState;
import org.buildhook.servlet.config.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * tryout33 F1, F11: a reload that renames a rule while its job runs, or that adds an {@code approval} to a rule
 * with jobs already stored, said only {@code reloaded: 3 rules (3 before)}: the renamed rule's {@code concurrency}
 * and {@code supersede} do not count the old name's running job (two deploys ran at once), and the queued jobs ran
 * without an approval. The reload says the first, naming the jobs; it makes the queued jobs await the approval
 * (rename34). A real application, a real rules file rewritten as an operator does (written elsewhere, moved over
 * it), real commands; on SQLite and on PostgreSQL (needs {@code BUILDHOOK_TEST_PG_URL}; fails without it on CI).
 */
class ReloadSaysWhatStoredJobsDoNotFollowTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> log = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            events.add(event);
        }
    };
    private final ch.qos.logback.classic.Logger appLog =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(BuildhookApplication.class);

    @BeforeEach
    void listen() {
        log.start();
        appLog.addAppender(log);
    }

    @AfterEach
    void stopListening() {
        appLog.detachAppender(log);
    }

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aReloadThatRenamesARuleWhileItsJobRunsSaysTheNewRuleDoesNotCountIt(boolean postgres) throws Exception {
        Path go = dir.resolve("go");
        String rule = "rules:\n  - name: %s\n    supersede: {key: \"${build.project}\", running: cancel}\n"
                + "    run: {command: [/bin/sh, -c, 'while [ ! -e " + go + " ]; do sleep 0.05; done'],"
                + " concurrency: 1}\n";
        Path file = configuration(postgres, rule.formatted("deploy"));
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            String job = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, job) == JobState.RUNNING);

            rewriteRules(rule.formatted("deploy-v2"));

            await().atMost(Duration.ofMinutes(1)).until(() -> !warnings("rule 'deploy' is disabled or removed").isEmpty());
            assertThat(warnings("rule 'deploy' is disabled or removed")).singleElement().asString()
                    .contains(", and 1 job(s) of it still run: " + job + " (delivery ")
                    .contains("; rule 'deploy-v2', in force with the same run word for word, is taken as renamed"
                            + " from it: its concurrency counts them while they run");
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, job).isFinal());
            assertThat(state(app, job)).isEqualTo(JobState.SUCCEEDED);
        }
    }

    /**
     * tryout33 F11 (rename34): the reload that adds the approval makes the rule's stored jobs not started yet await
     * it, as its new deliveries' jobs do, and says so naming them; the running job goes on; the gated one does not
     * start when the slot frees, and runs once approved.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aReloadThatAddsAnApprovalMakesTheStoredJobsNotStartedYetAwaitIt(boolean postgres) throws Exception {
        Path go = dir.resolve("go");
        String rule = "rules:\n  - name: long\n%s"
                + "    run: {command: [/bin/sh, -c, 'while [ ! -e " + go + " ]; do sleep 0.05; done'],"
                + " concurrency: 1}\n";
        Path file = configuration(postgres, rule.formatted(""));
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            String running = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, running) == JobState.RUNNING);
            String queued = deliver(app, "build-68-failed.json");
            assertThat(state(app, queued)).isIn(JobState.QUEUED, JobState.WAITING);
            await().atMost(Duration.ofMinutes(1)).until(() -> putBack(app, queued));

            rewriteRules(rule.formatted("    approval: {expires: 1h}\n"));

            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, queued) == JobState.AWAITING_APPROVAL);
            await().atMost(Duration.ofMinutes(1)).until(() -> !warnings("now await one").isEmpty());
            assertThat(warnings("now await one")).singleElement().asString()
                    .startsWith("rule 'long' asks for an approval in the rules in force on node ")
                    .contains(": 1 of its stored job(s) not started yet, planned without one, now await one (as its"
                            + " new deliveries' jobs do), expiring at ")
                    .contains(" unless approved or rejected: " + queued + " (delivery ")
                    .doesNotContain(running)
                    .endsWith("; approve one with buildhook approve JOB");
            assertThat(app.store().job(queued).orElseThrow().job().message())
                    .startsWith("awaiting the approval its rule 'long' asks for in the rules in force on node ")
                    .endsWith(": it was queued before, planned without one");
            assertThat(app.store().actionsOnJob(queued)).extracting(a -> a.actor() + " " + a.action())
                    .containsExactly("buildhook gate");
            assertThat(state(app, running)).isEqualTo(JobState.RUNNING);
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, running).isFinal());
            assertThat(state(app, running)).isEqualTo(JobState.SUCCEEDED);
            assertThat(state(app, queued)).as("the slot freed, it still awaits").isEqualTo(JobState.AWAITING_APPROVAL);
            assertThat(app.store().approve(queued, "alice")).isTrue();
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, queued).isFinal());
            assertThat(state(app, queued)).isEqualTo(JobState.SUCCEEDED);
        }
    }

    private List<String> warnings(String containing) {
        return events.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.contains(containing)).toList();
    }

    /**
     * Whether {@code job}'s execution was picked and put back (for want of a slot), and is not picked now: with
     * {@code runner.slot-retry: 1h} only a freed slot picks it again, so a gate finds it unpicked.
     */
    private static boolean putBack(BuildhookApplication app, String job) throws Exception {
        try (var c = app.store().schedulerDataSource().getConnection();
                var p = c.prepareStatement("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ?"
                        + " AND picked = ? AND version > 1")) {
            p.setString(1, job);
            p.setBoolean(2, false);
            try (var rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 1;
            }
        }
    }

    /** As an operator or a deploy tool does: written elsewhere, moved over the file. */
    private void rewriteRules(String text) throws Exception {
        Path next = Files.writeString(dir.resolve("rules.yaml.next"), text);
        Files.move(next, dir.resolve("rules.yaml"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private Path configuration(boolean postgres, String rules) throws Exception {
        Files.writeString(dir.resolve("webhook-secret"), DeliveryServiceTest.SECRET + "\n");
        Files.writeString(dir.resolve("rules.yaml"), rules);
        return Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\n"
                + (postgres ? "store: {url: '" + PG.newSchemaUrl() + "'}\n" : "")
                + "rules: rules.yaml\nendpoints: {default: {secrets: [{file: webhook-secret}]}}\n"
                + "runner: {slot-retry: 1h}\n");
    }

    private static String deliver(BuildhookApplication app, String fixture) throws Exception {
        return app.deliveries().receive(DeliveryServiceTest.signed(DeliveryServiceTest.fixture(fixture), "default"))
                .jobIds().get(0);
    }

    private static JobState state(BuildhookApplication app, String job) {
        return app.store().job(job).orElseThrow().job().state();
    }
}
