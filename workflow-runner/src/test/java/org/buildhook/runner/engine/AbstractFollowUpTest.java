package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.Test;

/** on-success, on-failure and on-cancel follow-ups, started once as jobs of their own; on SQLite and PostgreSQL. */
abstract class AbstractFollowUpTest extends AbstractWorkflowTest {

    @Test
    void aFailedJobsOnFailureRunsExactlyOnceAfterTheLastRetry() throws IOException {
        Path attempts = dir.resolve("attempts");
        Path paged = dir.resolve("paged");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "echo x >> " + attempts + "\nexit 3")
                        + "\"], retries: 2, backoff: 100ms}\n"
                + "    on-failure:\n"
                + "      command: [/bin/sh, \"" + script("page.sh", "echo \"$1 $2 $3 $4 $BUILDHOOK_JOB_ID"
                        + " $BUILDHOOK_JOB_RULE $BUILDHOOK_JOB_EXIT_CODE $BUILDHOOK_JOB_ATTEMPTS $(wc -l < " + attempts
                        + ") $BUILDHOOK_BUILD_ID\" >> " + paged + "\ntest -f \"$BUILDHOOK_JOB_LOG\"")
                        + "\", \"${job.id}\", \"${job.outcome}\", \"${job.exit_code}\", \"${job.attempts}\"]\n");
        openStore();
        startEngine();

        String deploy = deliver(rules, 67).jobIds().get(0);
        JobDetail parent = awaitFinal(deploy);
        Job followUp = awaitOnlyJobOf("deploy/on-failure");

        assertState(parent.job(), JobState.FAILED);
        assertThat(parent.attempts()).hasSize(3);
        assertState(followUp, JobState.SUCCEEDED);
        assertThat(followUp.workflow().parentId()).isEqualTo(deploy);
        assertThat(followUp.deliveryId()).isEqualTo(parent.job().deliveryId());
        assertThat(followUp.createdAt()).isAfterOrEqualTo(parent.job().endedAt());
        assertThat(Files.readAllLines(paged)).containsExactly(
                deploy + " FAILED 3 3 " + deploy + " deploy 3 3 3 67");
        assertThat(jobsOfRule("deploy/on-success")).isEmpty();
    }

    /**
     * tryout47b F18: the page a follow-up sends could point only at the failed attempt's log, a path on buildhook's
     * host the on-call person cannot open. With {@code admin.public-url} (the engine's status page address) its
     * {@code ${job.url}} and {@code BUILDHOOK_JOB_URL} are the failed job's page, {@code <address>?job=<id>}.
     */
    @Test
    void aFollowUpLinksToTheStatusPageOfTheJobItFollows() throws IOException {
        Path paged = dir.resolve("paged");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/false]}\n"
                + "    on-failure:\n"
                + "      command: [/bin/sh, \"" + script("page.sh", "echo \"$1 $BUILDHOOK_JOB_URL\" >> " + paged)
                        + "\", \"${job.url}\"]\n");
        openStore();
        startEngine(AbstractEngineTest.steady("node-a")
                .withStatusPage(java.net.URI.create("https://ci.example.com/buildhook/")));

        String deploy = deliver(rules, 67).jobIds().get(0);

        assertState(awaitOnlyJobOf("deploy/on-failure"), JobState.SUCCEEDED);
        String page = "https://ci.example.com/buildhook/?job=" + deploy;
        assertThat(Files.readAllLines(paged)).containsExactly(page + " " + page);
    }

    /**
     * A run name of 65011 characters, 195011 bytes in UTF-8 (within the parser's 65536 characters),
     * is more than Linux passes in one argument or variable (MAX_ARG_STRLEN, 128 KiB): the job that
     * puts it in an argument cannot start, and its on-failure follow-up, which pages someone about
     * exactly that, failed to start too because it inherited the value as BUILDHOOK_RUN_NAME
     * (tryout10 F2). Buildhook's own variables that Linux would refuse are now left out, with a line
     * in the job's log.
     */
    @Test
    void theOnFailureOfAJobWhoseRunNameIsTooLongForLinuxStillRuns() throws IOException {
        Path paged = dir.resolve("paged");
        RuleSet rules = rules("rules:\n"
                + "  - name: each-run\n"
                + "    when: {runs: {match: each, name: \"build-armhf*\"}}\n"
                + "    run: {command: [/bin/echo, \"${run.name}\"]}\n"
                + "    on-failure:\n"
                + "      command: [/bin/sh, \"" + script("page.sh", "echo \"$1 ${BUILDHOOK_RUN_NAME-unset}"
                        + " $BUILDHOOK_RUN_STATUS\" >> " + paged) + "\", \"${job.outcome}\"]\n");
        String longName = "build-armhf" + "\u69cb".repeat(65000);
        byte[] body = new String(body(68), StandardCharsets.UTF_8).replace("\"build-armhf\"", "\"" + longName + "\"").getBytes(StandardCharsets.UTF_8);
        openStore();
        startEngine();

        String parent = deliver(rules, body).jobIds().get(0);
        JobDetail failed = awaitFinal(parent);
        Job followUp = awaitOnlyJobOf("each-run/on-failure");

        assertState(failed.job(), JobState.FAILED);
        assertThat(failed.job().message()).contains("argument 1 is 195011 bytes long");
        assertState(followUp, JobState.SUCCEEDED);
        assertThat(Files.readAllLines(paged)).containsExactly("FAILED unset PASSED");
        assertThat(Files.readString(Path.of(store.job(followUp.id()).orElseThrow().attempts().get(0).logPath())))
                .contains("[buildhook] BUILDHOOK_RUN_NAME is left out of the environment: it is 195030 bytes long");
    }

    @Test
    void aChainOfFollowUpsRunsOneAfterTheOtherWithEachParentLinked() throws IOException {
        Path ran = dir.resolve("ran");
        String record = script("record.sh", "echo \"$1 $BUILDHOOK_JOB_RULE $BUILDHOOK_JOB_OUTCOME\" >> " + ran + "\nexit $2")
                .toString();
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + record + "\", deploy, \"0\"]}\n"
                + "    on-success:\n"
                + "      command: [/bin/sh, \"" + record + "\", smoke-test, \"1\"]\n"
                + "      on-success: {command: [/bin/sh, \"" + record + "\", announce, \"0\"]}\n"
                + "      on-failure:\n"
                + "        command: [/bin/sh, \"" + record + "\", roll-back, \"0\"]\n"
                + "        on-success: {command: [/bin/sh, \"" + record + "\", tell-ops, \"0\"]}\n");
        openStore();
        startEngine();

        String deploy = deliver(rules, 67).jobIds().get(0);
        Job tell = awaitOnlyJobOf("deploy/on-success/on-failure/on-success");
        Job rollBack = job(tell.workflow().parentId());
        Job smoke = job(rollBack.workflow().parentId());

        assertThat(smoke.workflow().parentId()).isEqualTo(deploy);
        assertState(smoke, JobState.FAILED);
        assertThat(List.of(smoke.workflow().depth(), rollBack.workflow().depth(), tell.workflow().depth()))
                .containsExactly(1, 2, 3);
        assertThat(Files.readAllLines(ran)).containsExactly("deploy  ", "smoke-test deploy SUCCEEDED",
                "roll-back deploy/on-success FAILED", "tell-ops deploy/on-success/on-failure SUCCEEDED");
        assertThat(jobsOfRule("deploy/on-success/on-success")).isEmpty();
    }

    @Test
    void aCancelledJobStartsItsOnCancel() throws IOException {
        Path started = dir.resolve("started");
        Path cancelled = dir.resolve("cancelled");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "touch " + started + "\nsleep 120") + "\"]}\n"
                + "    on-cancel: {command: [/usr/bin/touch, \"" + cancelled + "\"]}\n"
                + "    on-failure: {command: [/usr/bin/touch, \"" + dir.resolve("failed") + "\"]}\n");
        openStore();
        startEngine();

        String deploy = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(started));
        store.cancel(deploy);

        assertState(awaitOnlyJobOf("deploy/on-cancel"), JobState.SUCCEEDED);
        assertState(job(deploy), JobState.CANCELLED);
        assertThat(cancelled).exists();
        assertThat(jobsOfRule("deploy/on-failure")).isEmpty();
    }

    @Test
    void twoNodesRacingForTheSameFollowUpsStartEachOnce() throws IOException {
        Path ran = dir.resolve("ran");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/true]}\n"
                + "    on-success: {command: [/bin/sh, \"" + script("after.sh", "echo \"$BUILDHOOK_JOB_ID\" >> " + ran)
                        + "\"]}\n");
        openStore();
        // Jobs accepted while no engine runs end while both engines race for their follow-ups.
        List<String> parents = List.of(deliver(rules, 67).jobIds().get(0), deliver(rules, 68).jobIds().get(0),
                deliver(rules, 69).jobIds().get(0));
        startEngine();
        CommonsExecLauncher second = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-b")));
        try (JobEngine other = JobEngine.create(store, second, AbstractEngineTest.steady("node-b"))) {
            other.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> jobsOfRule("deploy/on-success").size() == 3
                    && jobsOfRule("deploy/on-success").stream().allMatch(j -> j.state().isFinal()));
        } finally {
            second.close();
        }

        assertThat(Files.readAllLines(ran)).containsExactlyInAnyOrderElementsOf(parents);
        assertThat(store.followUps().pending(10)).isEmpty();
    }

    /**
     * tryout18 F4: a job that ended during a graceful stop's grace period had its follow-up stored only at
     * the next start, and nothing said so: {@code buildhook jobs} showed the workflow's last job SUCCEEDED
     * and no follow-up, and another node of a cluster could not run it meanwhile. The follow-up is now
     * stored during the stop (for another node, or this one after its next start), not run by the stopping node.
     */
    @Test
    void aJobThatEndsDuringAGracefulStopHasItsFollowUpStoredForTheNextNode() throws Exception {
        Path go = dir.resolve("go");
        Path started = dir.resolve("started");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + script("wait.sh", "touch " + started + "\nwhile [ ! -f " + go
                        + " ]; do sleep 0.05; done") + "\"]}\n"
                + "    on-success: {command: [/bin/true]}\n");
        openStore();
        startEngine(AbstractEngineTest.steady("node-a").withShutdownGrace(Duration.ofMinutes(2)));
        String deploy = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(started));

        JobEngine stopping = engine;
        java.util.concurrent.CompletableFuture<Void> stop = java.util.concurrent.CompletableFuture.runAsync(stopping::stop);
        await().atMost(Duration.ofSeconds(30)).until(stopping::stopBegun);
        Files.createFile(go);
        await().atMost(Duration.ofMinutes(1)).until(stop::isDone);
        stop.get();
        engine = null;

        assertState(job(deploy), JobState.SUCCEEDED);
        assertThat(jobsOfRule("deploy/on-success")).as("stored during the stop, not run by the stopping node")
                .singleElement().satisfies(j -> assertState(j, JobState.QUEUED));
    }

    @Test
    void theFollowUpOfAJobThatEndedOnANodeThatThenDiedIsStartedByTheNextEngine() throws IOException {
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/false]}\n"
                + "    on-failure: {command: [/bin/true]}\n");
        openStore();
        String deploy = deliver(rules, 67).jobIds().get(0);
        // What a node that died right after recording the end of the job leaves behind.
        int attempt = store.ledger().startAttempt(deploy, "node-gone");
        store.ledger().finishAttempt(deploy, attempt, new JobOutcome(JobOutcome.Result.FAILED, 1, Instant.now(),
                Instant.now(), "exited with 1", null, false), JobState.FAILED);
        assertThat(store.followUps().pending(10)).containsExactly(deploy);

        startEngine();

        Job followUp = awaitOnlyJobOf("deploy/on-failure");
        assertState(followUp, JobState.SUCCEEDED);
        assertThat(followUp.workflow().parentId()).isEqualTo(deploy);
        assertThat(job(deploy).attempts()).isEqualTo(1);
    }
}
