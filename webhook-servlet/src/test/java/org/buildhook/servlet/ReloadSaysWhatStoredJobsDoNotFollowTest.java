package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.putBack;
import static org.buildhook.servlet.TestApplication.rewriteRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    @RegisterExtension
    final LogCapture log = new LogCapture(BuildhookApplication.class);

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
        Files.writeString(dir.resolve("rules.yaml"), rule.formatted("deploy"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1h");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String job = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, job) == JobState.RUNNING);

            rewriteRules(dir, rule.formatted("deploy-v2"));

            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("rule 'deploy' is disabled or removed")
                    .isEmpty());
            assertThat(log.warnings("rule 'deploy' is disabled or removed")).singleElement().asString()
                    .contains(", and 1 job(s) of it still run: " + job + " (delivery ")
                    .contains("; rule 'deploy-v2', in force with the same run word for word, is taken as renamed"
                            + " from it: its concurrency counts them while they run");
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, job).isFinal());
            assertThat(state(app, job)).isEqualTo(JobState.SUCCEEDED);
        }
    }

    /**
     * tryout38 F4: renamed twice while the first name's job runs (v7, then v8 renamed from v7, then v9 renamed from
     * v8, each with another run): v9 counts only v8's jobs, not v7's, and its next job would run beside v7's. The
     * second reload said only "reloaded"; it says which rule to give which renamed-from.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aSecondRenameWhileTheFirstNamesJobRunsSaysToNameEveryEarlierName(boolean postgres) throws Exception {
        Path go = dir.resolve("go");
        String rule = "rules:\n  - name: deploy-%s\n%s"
                + "    run: {command: [/bin/sh, -c, 'while [ ! -e " + go + " ]; do sleep 0.05; done # %s'],"
                + " concurrency: 1}\n";
        Files.writeString(dir.resolve("rules.yaml"), rule.formatted("v7", "", "v7"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1h");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String job = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, job) == JobState.RUNNING);

            rewriteRules(dir, rule.formatted("v8", "    renamed-from: deploy-v7\n", "v8"));
            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("rule 'deploy-v7' is disabled or removed")
                    .isEmpty());
            rewriteRules(dir, rule.formatted("v9", "    renamed-from: deploy-v8\n", "v9"));

            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("rule 'deploy-v9' is renamed from")
                    .isEmpty());
            assertThat(log.warnings("rule 'deploy-v9' is renamed from")).singleElement().asString()
                    .startsWith("rule 'deploy-v9' is renamed from 'deploy-v8' in the rules in force on node ")
                    .contains(", which was renamed from 'deploy-v7', and 1 job(s) of 'deploy-v7' still run: " + job
                            + " (delivery ")
                    .endsWith("Write every earlier name whose jobs may still run: renamed-from: [deploy-v8,"
                            + " deploy-v7] on rule 'deploy-v9', and reload");
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, job).isFinal());
            assertThat(state(app, job)).isEqualTo(JobState.SUCCEEDED);
        }
    }

    /**
     * tryout33 F11 (rename34): the reload that adds the approval makes the rule's stored jobs not started yet await
     * it, as its new deliveries' jobs do, and says so naming them; the running job goes on; the gated one does not
     * start when the slot frees, and runs once approved. The reload adds the rule's on-approval-request too: the gated
     * job starts it once (approval50: before, planned without it, it started none), and the WARN says so.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aReloadThatAddsAnApprovalMakesTheStoredJobsNotStartedYetAwaitIt(boolean postgres) throws Exception {
        Path go = dir.resolve("go");
        String rule = "rules:\n  - name: long\n%s"
                + "    run: {command: [/bin/sh, -c, 'while [ ! -e " + go + " ]; do sleep 0.05; done'],"
                + " concurrency: 1}\n";
        Files.writeString(dir.resolve("rules.yaml"), rule.formatted(""));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1h");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String running = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, running) == JobState.RUNNING);
            String queued = deliver(app, "build-68-failed.json");
            assertThat(state(app, queued)).isIn(JobState.QUEUED, JobState.WAITING);
            await().atMost(Duration.ofMinutes(1)).until(() -> putBack(app, queued));

            // With an on-approval-request (tryout47b F18): the gated job, planned without it, gets the rule's and
            // starts it once (approval50; before, it started none).
            Path asked = dir.resolve("asked");
            rewriteRules(dir, rule.formatted("    approval: {expires: 1h}\n"
                    + "    on-approval-request: {command: [/bin/sh, -c, 'echo $1 >> " + asked + "', sh,"
                    + " \"${job.id}\"]}\n"));

            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, queued) == JobState.AWAITING_APPROVAL);
            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("now await one").isEmpty());
            assertThat(log.warnings("now await one")).singleElement().asString()
                    .startsWith("rule 'long' asks for an approval in the rules in force on node ")
                    .contains(": 1 of its stored job(s) not started yet, planned without one, now await one (as its"
                            + " new deliveries' jobs do), expiring at ")
                    .contains(" unless approved or rejected: " + queued + " (delivery ")
                    .doesNotContain(running)
                    .endsWith("; approve one with buildhook approve JOB; each starts the rule's on-approval-request"
                            + " once, as this file writes it, to tell the approvers (buildhook jobs --parent JOB shows"
                            + " it)");
            // The file's line, not the file: the shell's >> creates it before echo writes (flaky57: read empty).
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> Files.exists(asked) && !Files.readAllLines(asked).isEmpty());
            assertThat(Files.readAllLines(asked)).containsExactly(queued);
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
            assertThat(app.store().followUps().awaitingRequests(10)).isEmpty();
            assertThat(Files.readAllLines(asked)).as("once").containsExactly(queued);
        }
    }

    /**
     * tryout36 F8: a job awaiting an approval of a rule renamed with {@code renamed-from} is cancelled by the reload;
     * its message said "run it again with buildhook rerun once the rule is back", which never happens after a rename,
     * and a rerun makes a job of the old name. It names the new rule and the replay that makes a job of it; the
     * reload's WARN names the job and its delivery (tryout38 F7).
     */
    @org.junit.jupiter.api.Test
    void aJobAwaitingAnApprovalOfARenamedRuleIsCancelledSayingToReplayItsDeliveryForTheNewName() throws Exception {
        String rule = "rules:\n  - name: %s\n%s    approval: {expires: 1h}\n    run: {command: [/bin/true]}\n";
        Files.writeString(dir.resolve("rules.yaml"), rule.formatted("archive", ""));
        Path file = TestApplication.configuration(dir, null, "slot-retry: 1h");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String job = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, job) == JobState.AWAITING_APPROVAL);

            rewriteRules(dir, rule.formatted("archive-v2", "    renamed-from: archive\n"));

            await().atMost(Duration.ofMinutes(1)).until(() -> state(app, job) == JobState.CANCELLED);
            assertThat(TestApplication.job(app, job).message()).startsWith("not started: its rule 'archive' is renamed"
                    + " to 'archive-v2' (renamed-from) in the rules in force on node ")
                    .endsWith("; for a job of the new name replay its delivery: buildhook replay "
                            + TestApplication.job(app, job).deliveryId() + " --rule archive-v2 (buildhook rerun would"
                            + " make one of the old name)");
            // The WARN names the job and its delivery, which the replay needs (tryout38 F7: it named none). Logged once
            // the cancel has returned, so after the job reads CANCELLED: waited for, as its neighbours do.
            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("rule 'archive' is disabled or removed")
                    .isEmpty());
            assertThat(log.warnings("rule 'archive' is disabled or removed")).singleElement().asString()
                    .contains(": 1 of its stored job(s) still to run (queued, waiting or awaiting an approval) will not"
                            + " run: cancelled (" + job + " (delivery " + TestApplication.job(app, job).deliveryId()
                            + ")); jobs of it already running go on")
                    .endsWith("; rule 'archive-v2' is renamed from it (renamed-from): for a job of the new name,"
                            + " replay its delivery: buildhook replay " + TestApplication.job(app, job).deliveryId()
                            + " --rule archive-v2");
        }
    }

    /**
     * tryout39 F6: a rule removed from the rules file, and its job awaiting an approval approved the moment after
     * (before the watcher's next look, every 2 s), ran the removed rule's stored command: the approval was given first,
     * and the reload that cancels the jobs of a rule taken out came after it. An approval now puts the changed file in
     * force first, so it is refused 409 with the cancel's reason and the command never starts.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void anApprovalTheMomentAfterItsRuleWasRemovedIsRefusedWithTheReasonAndRunsNothing(boolean postgres)
            throws Exception {
        Path ran = dir.resolve("ran");
        String notify = "  - name: notify\n    when: {status: FAILED}\n    run: {command: [/bin/true]}\n";
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: deploy\n    approval: {}\n"
                + "    run: {command: [/bin/sh, -c, 'touch " + ran + "']}\n" + notify);
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String deploy = deliver(app, "build-67-passed.json");
            assertThat(state(app, deploy)).isEqualTo(JobState.AWAITING_APPROVAL);

            rewriteRules(dir, "rules:\n" + notify);
            ApiError refused = org.assertj.core.api.Assertions.catchThrowableOfType(
                    () -> new AdminRequests(app, "alice@test").decide(deploy, true), ApiError.class);

            assertThat(refused).as("approved: " + TestApplication.job(app, deploy)).isNotNull();
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.getMessage()).startsWith("job " + deploy + " is CANCELLED, not awaiting an approval:"
                    + " not started: its rule 'deploy' is disabled or removed in the rules in force on node ");
            assertThat(TestApplication.job(app, deploy).attempts()).isZero();
            assertThat(ran).doesNotExist();
        }
    }

    /**
     * tryout50 F5: a reload that takes the approval off a rule leaves its jobs awaiting one waiting until someone
     * decides (not dropped silently), and said only {@code reloaded: 1 rules (1 before)}: the operator who took it off
     * to let the queue flow saw them expire. It says which jobs still await one, and how to decide; a reload that
     * changes nothing of the approval says nothing of it.
     */
    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aReloadThatTakesTheApprovalOffARuleSaysWhichJobsStillAwaitOne(boolean postgres) throws Exception {
        String rule = "rules:\n  - name: short\n%s    run: {command: [/bin/true, %s]}\n";
        Files.writeString(dir.resolve("rules.yaml"), rule.formatted("    approval: {expires: 1h}\n", "v1"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1h");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String awaiting = deliver(app, "build-67-passed.json");
            assertThat(state(app, awaiting)).isEqualTo(JobState.AWAITING_APPROVAL);
            var first = app.rules().current();
            rewriteRules(dir, rule.formatted("    approval: {expires: 1h}\n", "v2")); // still asks: nothing said
            await().atMost(Duration.ofMinutes(1)).until(() -> app.rules().current() != first);

            rewriteRules(dir, rule.formatted("", "v3"));

            await().atMost(Duration.ofMinutes(1)).until(() -> !log.warnings("no longer asks for an approval").isEmpty());
            assertThat(log.warnings("no longer asks for an approval")).singleElement().asString()
                    .startsWith("rule 'short' no longer asks for an approval in the rules in force on node ")
                    .contains(": 1 of its job(s) still await the one asked for when they were stored, and do not run"
                            + " until someone decides (the last expires at ")
                    .contains("): " + awaiting + " (delivery ")
                    .endsWith("; run one with buildhook approve JOB, or drop it with buildhook reject JOB");
            assertThat(state(app, awaiting)).as("left waiting, not dropped").isEqualTo(JobState.AWAITING_APPROVAL);
        }
    }

    private static JobState state(BuildhookApplication app, String job) {
        return app.store().job(job).orElseThrow().job().state();
    }
}
