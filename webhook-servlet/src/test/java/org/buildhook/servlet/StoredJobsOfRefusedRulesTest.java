package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.RulesAbsentAtStartTest.warnings;
import static org.buildhook.servlet.TestApplication.job;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.NewDelivery;
import org.buildhook.runner.store.Store;
import org.buildhook.servlet.config.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout42 F7: after an upgrade, jobs the older build stored (queued, awaiting an approval) of rules this build refuses,
 * their commands rendered with the payload's text in shell code, ran (or could be approved). The start names them, the
 * engine cancels them instead of running them, an approval and a re-run of one are refused 409 and their previews say
 * why. values43 V2 / tryout43 F8: so for jobs stored with a payload value this build refuses where it plans a job
 * ({@code ../victim} in {@code rm -rf}'s path), ended FAILED. A real application on SQLite and on PostgreSQL (needs
 * {@code BUILDHOOK_TEST_PG_URL}; fails without it on CI).
 */
class StoredJobsOfRefusedRulesTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture log = new LogCapture(BuildhookApplication.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    /** A job as the older build planned it for {@code rule}, with {@code code} as it wrote it and rendered it. */
    private static PlannedJob asOldBuildPlannedIt(String rule, String code, String trigger, boolean approval) {
        String snapshot = "{\"name\":\"" + rule + "\"," + (approval ? "\"approval\":{\"expires\":\"1d\"}," : "")
                + "\"run\":{\"command\":[\"/bin/bash\",\"-c\",\"" + code.replace("\"", "\\\"") + "\"]"
                + (approval ? "" : ",\"concurrency\":1") + "}}";
        return new PlannedJob(rule, snapshot, List.of("/bin/bash", "-c", code.replace("${build.trigger}", trigger)),
                Map.of(), null, true, Duration.ofMinutes(1), 0, Duration.ofSeconds(1), approval ? 0 : 1, null,
                new JobWorkflow(67L, null, false, approval ? Duration.ofDays(1) : null, Map.of(), Map.of(), null, null,
                        0));
    }

    /** A job of {@code rule} as the older build planned it: {@code argv} written with the trigger, unchecked. */
    private static PlannedJob withValue(String rule, List<String> argv, String trigger, boolean approval) {
        String snapshot = "{\"name\":\"" + rule + "\"," + (approval ? "\"approval\":{\"expires\":\"1d\"}," : "")
                + "\"run\":{\"command\":[" + String.join(",", argv.stream().map(a -> "\"" + a + "\"").toList()) + "]"
                + (approval ? "" : ",\"concurrency\":1") + "}}";
        return new PlannedJob(rule, snapshot, argv.stream().map(a -> a.replace("${build.trigger}", trigger)).toList(),
                Map.of(), null, true, Duration.ofMinutes(1), 0, Duration.ofSeconds(1), approval ? 0 : 1, null,
                new JobWorkflow(67L, null, false, approval ? Duration.ofDays(1) : null, Map.of(), Map.of(), null, null,
                        0));
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void theStartNamesThemTheEngineCancelsThemAndAnApprovalOrReRunIsRefused(boolean postgres) throws Exception {
        Path pwned = dir.resolve("PWNED");
        String trigger = "y\"; touch " + pwned + "; echo \"";
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n"
                + "  - name: deploy\n    run: {command: [/bin/bash, -c, 'echo \"$BUILDHOOK_TRIGGER\"'], concurrency: 1}\n"
                + "  - name: announce\n    approval: {expires: 1d}\n"
                + "    run: {command: [/bin/sh, -c, 'echo \"$BUILDHOOK_TRIGGER\"']}\n"
                + "  - name: cleanup\n    run: {command: [/bin/rm, -rf, '" + dir + "/builds/${build.trigger}'],"
                + " concurrency: 1}\n"
                + "  - name: greet\n    approval: {expires: 1d}\n"
                + "    run: {command: [/usr/bin/touch, '" + dir + "/marks/${build.trigger}-greeted']}\n");
        Path victim = Files.createDirectories(dir.resolve("victim"));
        Files.createDirectories(dir.resolve("builds"));
        Files.createDirectories(dir.resolve("marks"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1s");
        byte[] body = DeliveryServiceTest.fixture("build-67-passed.json");
        String text = new String(body, StandardCharsets.UTF_8).replace("\"trigger_name\": \"containers-devel\"",
                "\"trigger_name\": \"" + trigger.replace("\"", "\\\"") + "\"");
        BuildEvent event = new BuildEventParser().parse(text.getBytes(StandardCharsets.UTF_8));
        String deploy;
        String announce;
        String delivery;
        String cleanup;
        String greet;
        String valuesDelivery;
        try (Store old = Store.open(new ConfigLoader(Map.of(), dir).load(file).store())) {
            var stored = old.accept(new NewDelivery("default", Instant.now(), "127.0.0.1", Map.of(),
                    text.getBytes(StandardCharsets.UTF_8)),
                    DeliverySummary.of(event), List.of(
                            asOldBuildPlannedIt("deploy", "sleep 1; echo \"deployed ${build.trigger}\"", trigger, false),
                            asOldBuildPlannedIt("announce", "echo \"announcing ${build.trigger}\"", trigger, true)));
            deploy = stored.jobIds().get(0);
            announce = stored.jobIds().get(1);
            delivery = stored.deliveryId();
            String climbs = text.replace(trigger.replace("\"", "\\\""), "../victim");
            var withValues = old.accept(new NewDelivery("default", Instant.now(), "127.0.0.1", Map.of(),
                    climbs.getBytes(StandardCharsets.UTF_8)),
                    DeliverySummary.of(new BuildEventParser().parse(climbs.getBytes(StandardCharsets.UTF_8))), List.of(
                            withValue("cleanup", List.of("/bin/rm", "-rf", dir + "/builds/${build.trigger}"),
                                    "../victim", false),
                            withValue("greet", List.of("/usr/bin/touch", dir + "/marks/${build.trigger}-greeted"),
                                    "../victim", true)));
            cleanup = withValues.jobIds().get(0);
            greet = withValues.jobIds().get(1);
            valuesDelivery = withValues.deliveryId();
        }

        // The engine's own WARN, one per job (its class is the engine's own, not public).
        ch.qos.logback.classic.Logger engineLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger("org.buildhook.runner.engine.JobTask");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> engineWarnings =
                new ch.qos.logback.core.read.ListAppender<>();
        engineWarnings.start();
        engineLog.addAppender(engineWarnings);
        try (BuildhookApplication app = TestApplication.start(file)) {
            assertThat(log.warnings("stored job(s) not ended are of rules as stored that this build refuses"))
                    .singleElement().asString().startsWith("2 stored job(s) not ended")
                    .contains("job " + deploy + " of rule 'deploy' (QUEUED, delivery " + delivery + ")")
                    .contains("job " + announce + " of rule 'announce' (AWAITING_APPROVAL, delivery " + delivery + ")")
                    .contains("rule 'deploy': run.command element 3: placeholder '${build.trigger}' in shell code")
                    .contains("each is cancelled when a node of this build picks it")
                    .contains("2 stored job(s) not ended hold a payload value this build refuses where it plans a job")
                    .contains("job " + cleanup + " of rule 'cleanup' (QUEUED, delivery " + valuesDelivery + ")")
                    .contains("job " + greet + " of rule 'greet' (AWAITING_APPROVAL, delivery " + valuesDelivery + ")")
                    .contains("rule 'cleanup': rule 'cleanup' writes ${build.trigger} into argument 2 of 'command'")
                    .contains("each ends FAILED, as planning would have stored it");

            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, deploy).state() == JobState.CANCELLED);
            assertThat(job(app, deploy).message()).startsWith("not run: its rule 'deploy' as stored with the job")
                    .endsWith("buildhook replay " + delivery + " --rule deploy");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, cleanup).state() == JobState.FAILED);
            assertThat(job(app, cleanup).message()).startsWith("not started: rule 'cleanup' writes ${build.trigger}"
                    + " into argument 2 of 'command', and its value \"../victim\" is refused")
                    .endsWith("buildhook replay " + valuesDelivery + " --rule cleanup");
            assertThat(victim).isDirectory();
            assertThat(engineWarnings.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .anySatisfy(m -> assertThat(m).startsWith("job " + deploy + " of rule 'deploy' (build 67) is not"
                            + " run, and ends CANCELLED: its rule 'deploy' as stored"))
                    .anySatisfy(m -> assertThat(m).startsWith("job " + cleanup + " of rule 'cleanup' (build 67) is"
                            + " not run, and ends FAILED: not started: rule 'cleanup' writes ${build.trigger}"))
                    .hasSize(2);

            AdminRequests alice = new AdminRequests(app, "alice@test");
            // tryout49 F6: one awaiting an approval, which this build cannot give, is ended at the start, with why and
            // the replay, not left awaiting one (jobs, status and buildhook_jobs_awaiting_approval said it did).
            assertThat(job(app, announce).state()).isEqualTo(JobState.CANCELLED);
            assertThat(job(app, announce).message()).startsWith("not run: it awaited an approval, which this build"
                    + " cannot give: its rule 'announce' as stored with the job")
                    .endsWith("buildhook replay " + delivery + " --rule announce");
            ApiError approval = catchThrowableOfType(ApiError.class, () -> alice.decide(announce, true));
            assertThat(approval.status()).isEqualTo(409);
            // review50 F2 (5e452d84): so is one whose stored payload value this build refuses, which it cannot
            // approve either (it was left awaiting one until it expired, counted as awaiting meanwhile).
            assertThat(job(app, greet).state()).isEqualTo(JobState.CANCELLED);
            assertThat(job(app, greet).message()).startsWith("not run: it awaited an approval, which this build cannot"
                    + " give: rule 'greet' writes ${build.trigger} into argument 1 of 'command', and its value"
                    + " \"../victim\" is refused").endsWith("buildhook replay " + valuesDelivery + " --rule greet");
            assertThat(warnings(alice.approvePreview(greet))).as("not awaiting one: nothing to warn of").isEmpty();
            ApiError greeting = catchThrowableOfType(ApiError.class, () -> alice.decide(greet, true));
            assertThat(greeting.status()).isEqualTo(409);
            ApiError again = catchThrowableOfType(ApiError.class, () -> alice.rerun(cleanup));
            assertThat(again.status()).isEqualTo(409);
            assertThat(again.getMessage()).startsWith("job " + cleanup + " cannot be re-run: rule 'cleanup' writes");
            assertThat(warnings(alice.rerunPreview(cleanup))).singleElement().asString()
                    .startsWith("a re-run is refused: rule 'cleanup' writes");

            assertThat(warnings(alice.rerunPreview(deploy))).singleElement().asString()
                    .startsWith("a re-run is refused: its rule 'deploy' as stored");
            ApiError rerun = catchThrowableOfType(ApiError.class, () -> alice.rerun(deploy));
            assertThat(rerun.status()).isEqualTo(409);
            assertThat(rerun.getMessage()).startsWith("job " + deploy + " cannot be re-run: its rule 'deploy'");
            assertThat(app.store().jobs(new org.buildhook.runner.store.JobQuery(null, "deploy", null, null, 10))
                    .items()).hasSize(1);
        } finally {
            engineLog.detachAppender(engineWarnings);
        }
        assertThat(pwned).doesNotExist();
        assertThat(dir.resolve("victim-greeted")).doesNotExist();
    }
}
