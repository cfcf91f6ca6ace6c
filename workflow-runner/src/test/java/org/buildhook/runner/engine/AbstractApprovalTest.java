package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.AdminAction;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.Test;

/** Jobs that wait for an approval; on SQLite and PostgreSQL. */
abstract class AbstractApprovalTest extends AbstractWorkflowTest {

    private Path ran;

    private RuleSet deploy(String approval) throws IOException {
        ran = dir.resolve("ran");
        return rules("rules:\n"
                + "  - name: deploy-prod\n"
                + "    supersede: {key: \"${build.project}\"}\n"
                + "    approval: " + approval + "\n"
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "echo $1 >> " + ran) + "\", \"${build.id}\"]}\n"
                + "    on-cancel: {command: [/bin/true]}\n");
    }

    @Test
    void aJobWaitsForItsApprovalAndRunsOnceApprovedWithWhoAndWhenInTheAuditTrail() throws IOException {
        RuleSet rules = deploy("{expires: 1h}");
        openStore();
        startEngine();
        Instant before = Instant.now();

        String job = deliver(rules, 67).jobIds().get(0);
        assertState(job(job), JobState.AWAITING_APPROVAL);
        assertThat(job(job).expiresAt()).isAfter(before.plus(Duration.ofMinutes(59)));
        // Nothing runs it meanwhile: it has no execution in the queue.
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                .until(() -> job(job).state() == JobState.AWAITING_APPROVAL);

        assertThat(store.approve(job, "alice@10.0.0.7")).isTrue();
        assertState(awaitFinal(job).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactly("67");
        assertThat(store.approve(job, "bob")).as("approving twice changes nothing").isFalse();
        assertThat(store.actionsOnJob(job)).singleElement().satisfies(a -> {
            assertThat(a.actor()).isEqualTo("alice@10.0.0.7");
            assertThat(a.action()).isEqualTo("approve");
            assertThat(a.at()).isBetween(before, Instant.now());
        });
    }

    /**
     * tryout47b F18: when a job began to await its approval nothing could tell the approver (only someone watching
     * the page or alerting on buildhook_jobs_awaiting_approval learnt of it). A rule's on-approval-request starts once,
     * with the job's id, state and page: not again at later looks, after a restart, nor by a second node's start of it
     * (the follow-up job stored is the record), nor when the job is approved and runs; a job decided before a node
     * looked gets none.
     */
    @Test
    void aJobThatBeginsToAwaitItsApprovalStartsItsApprovalRequestOnceAcrossLooksRestartsAndNodes()
            throws IOException {
        Path asked = dir.resolve("asked");
        ran = dir.resolve("ran");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy-prod\n"
                + "    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "echo $1 >> " + ran) + "\", \"${build.id}\"]}\n"
                + "    on-approval-request:\n"
                + "      command: [/bin/sh, \"" + script("ask.sh", "echo \"$1 $2 $3 $BUILDHOOK_JOB_ATTEMPTS\" >> " + asked)
                        + "\", \"${job.id}\", \"${job.outcome}\", \"${job.url}\"]\n");
        openStore();
        String decided = deliver(rules, 66).jobIds().get(0);
        assertThat(store.reject(decided, "carol")).isTrue(); // before any node looked
        EngineConfig linked = AbstractEngineTest.steady("node-a")
                .withStatusPage(java.net.URI.create("https://ci.example.com/"));
        startEngine(linked);

        String job = deliver(rules, 67).jobIds().get(0);
        Job request = awaitOnlyJobOf("deploy-prod/on-approval-request");

        assertState(request, JobState.SUCCEEDED);
        assertThat(request.workflow().parentId()).isEqualTo(job);
        assertState(job(job), JobState.AWAITING_APPROVAL);
        assertThat(Files.readAllLines(asked)).containsExactly(
                job + " AWAITING_APPROVAL https://ci.example.com/?job=" + job + " 0");
        assertThat(store.followUps().awaitingRequests(100)).as("no job left to ask for").isEmpty();
        // A second node that planned it at the same time stores nothing: the first one's job is the record.
        org.buildhook.runner.PlannedJob again = org.buildhook.runner.rules.FollowUps.plan(job(job).workflow().followUps(),
                "default", new org.buildhook.core.BuildEventParser().parse(body(67)), null,
                new org.buildhook.runner.rules.FollowUpParent(job, "deploy-prod", "AWAITING_APPROVAL", null, 0, null))
                .orElseThrow();
        assertThat(store.followUps().startApprovalRequest(job(job), again)).isEmpty();

        stopAll();
        openStore();
        startEngine(linked);
        assertThat(store.followUps().awaitingRequests(100)).as("after a restart").isEmpty();
        assertThat(store.approve(job, "alice")).isTrue();
        assertState(awaitFinal(job).job(), JobState.SUCCEEDED);

        assertThat(Files.readAllLines(ran)).containsExactly("67");
        assertThat(jobsOfRule("deploy-prod/on-approval-request")).singleElement()
                .satisfies(j -> assertThat(j.id()).isEqualTo(request.id()));
        assertThat(Files.readAllLines(asked)).hasSize(1);
    }

    /**
     * review49 F1: a job past its approval's expiry that no sweep had marked EXPIRED yet (the sweep and the follow-ups'
     * look run on their own schedules; after an outage either may come first) started its on-approval-request: the
     * approvers were asked for an approval that could no longer be given. It is ended EXPIRED instead, and asks none.
     */
    @Test
    void aJobPastItsExpiryNotYetSweptStartsNoApprovalRequestAndEndsExpired() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy-prod\n"
                + "    approval: {expires: 300ms}\n"
                + "    run: {command: [/bin/true]}\n"
                + "    on-approval-request:\n"
                + "      command: [/bin/true, \"${job.id}\"]\n");
        openStore(); // and no engine: nothing sweeps expiries
        String job = deliver(rules, 68).jobIds().get(0);
        String other = deliver(rules, 69).jobIds().get(0);
        Instant expires = job(other).expiresAt();
        await().atMost(Duration.ofMinutes(1)).until(() -> Instant.now().isAfter(expires));
        assertState(job(job), JobState.AWAITING_APPROVAL);
        org.buildhook.runner.PlannedJob request = org.buildhook.runner.rules.FollowUps.plan(job(job).workflow()
                .followUps(), "default", new org.buildhook.core.BuildEventParser().parse(body(68)), null,
                new org.buildhook.runner.rules.FollowUpParent(job, "deploy-prod", "AWAITING_APPROVAL", null, 0, null))
                .orElseThrow();

        // A node that listed it just before its expiry starts it just after.
        assertThat(store.followUps().startApprovalRequest(job(job), request)).isEmpty();
        assertState(job(job), JobState.EXPIRED);
        assertThat(jobsOfRule("deploy-prod/on-approval-request")).isEmpty();
        assertThat(store.actionsOnJob(job)).singleElement().satisfies(a -> {
            assertThat(a.action()).isEqualTo("expire");
            assertThat(a.actor()).isEqualTo("buildhook");
        });
        assertState(job(other), JobState.AWAITING_APPROVAL);
        assertThat(store.followUps().awaitingRequests(100)).as("not a candidate past its expiry").isEmpty();
    }

    /**
     * review49 F2: the look for approval requests read the oldest 100 candidates, and a job whose follow-ups only name
     * on-approval-request (here an on-success argument) stays one, as it starts none: 100 of them hid every newer job's
     * request. Each look now goes on from where the last stopped.
     */
    @Test
    void jobsThatOnlyNameOnApprovalRequestDoNotHideANewerJobsRequest() throws IOException {
        StringBuilder yaml = new StringBuilder("rules:\n");
        for (int i = 0; i < 101; i++) {
            yaml.append("  - name: gate-").append(i).append("\n")
                    .append("    approval: {expires: 1h}\n")
                    .append("    run: {command: [/bin/true]}\n")
                    .append("    on-success: {command: [/bin/true, on-approval-request]}\n");
        }
        RuleSet gates = rules(yaml.toString());
        RuleSet asking = rules("rules:\n"
                + "  - name: deploy-prod\n"
                + "    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/true]}\n"
                + "    on-approval-request: {command: [/bin/true, \"${job.id}\"]}\n");
        openStore();
        assertThat(deliver(gates, 70).jobIds()).hasSize(101);
        assertThat(store.followUps().awaitingRequests(100)).as("candidates by their text").hasSize(100);
        String job = deliver(asking, 71).jobIds().get(0);
        startEngine();

        Job request = awaitOnlyJobOf("deploy-prod/on-approval-request");
        assertThat(request.workflow().parentId()).isEqualTo(job);
    }

    @Test
    void aRejectedJobNeverRunsAndACancelledOneStartsItsOnCancel() throws IOException {
        RuleSet rules = deploy("{}");
        openStore();
        startEngine();

        String rejected = deliver(rules, 67).jobIds().get(0);
        assertThat(store.reject(rejected, "carol")).isTrue();
        String cancelled = deliver(rules, 68).jobIds().get(0);
        assertThat(store.cancel(cancelled)).isTrue();

        assertState(job(rejected), JobState.REJECTED);
        assertThat(job(rejected).message()).isEqualTo("rejected by carol");
        assertThat(store.actionsOnJob(rejected)).extracting(AdminAction::action).containsExactly("reject");
        assertState(job(cancelled), JobState.CANCELLED);
        await().atMost(Duration.ofSeconds(30)).until(() -> jobsOfRule("deploy-prod/on-cancel").size() == 1);
        assertThat(ran).doesNotExist();
    }

    @Test
    void anApprovalNobodyGaveExpiresAsItsOwnFinalState() throws IOException {
        RuleSet rules = deploy("{expires: 1s}");
        openStore();
        startEngine();

        String job = deliver(rules, 67).jobIds().get(0);

        assertState(awaitFinal(job).job(), JobState.EXPIRED);
        assertThat(store.approve(job, "too-late")).isFalse();
        assertThat(store.actionsOnJob(job)).extracting(AdminAction::actor, AdminAction::action)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("buildhook", "expire"));
        assertThat(ran).doesNotExist();
    }

    /**
     * A decision after the expiry, before any node's sweep marked the job (a sweep runs every poll
     * interval, and none while the server was down): the approval ran a job that had expired
     * (tryout11 F10: stopped 14 s with an 8 s expiry, approved within a second of the start, it ran).
     */
    @Test
    void anApprovalGivenAfterTheExpiryBeforeTheSweepDoesNotRunTheJob() throws IOException {
        RuleSet rules = deploy("{expires: 1s}");
        openStore();
        String job = deliver(rules, 67).jobIds().get(0);
        Instant expiry = job(job).expiresAt();
        await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(expiry));

        assertThat(store.approve(job, "too-late")).isFalse();
        assertThat(store.reject(job, "too-late")).isFalse();

        assertState(job(job), JobState.EXPIRED);
        assertThat(store.actionsOnJob(job)).extracting(AdminAction::actor, AdminAction::action)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("buildhook", "expire"));
        startEngine();
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(ran));
    }

    /** As for a late approval: a cancel in the same window ended it CANCELLED and started its on-cancel (tryout11 F11). */
    @Test
    void aCancelAfterTheExpiryBeforeTheSweepFindsItExpiredAndStartsNoOnCancel() throws IOException {
        RuleSet rules = deploy("{expires: 1s}");
        openStore();
        String job = deliver(rules, 67).jobIds().get(0);
        Instant expiry = job(job).expiresAt();
        await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(expiry));

        assertThat(store.cancel(job)).as("it had ended").isFalse();

        assertState(job(job), JobState.EXPIRED);
        startEngine();
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                .until(() -> jobsOfRule("deploy-prod/on-cancel").isEmpty());
    }

    /**
     * review50 F4: the cancel of a delivery whose job it finds past its approval's expiry ends it EXPIRED, as its
     * single cancel does, and counts it among the delivery's jobs that had ended, as the server's log line does; before,
     * it was in neither count ({@code cancelled} 0, {@code ended} 0: `buildhook cancel --delivery` said "0 job(s)
     * cancelled" above a line saying it had already ended) while the log said 1 had ended.
     */
    @Test
    void aCancelOfItsDeliveryAfterTheExpiryCountsItAmongTheJobsThatHadEnded() throws IOException {
        RuleSet rules = deploy("{expires: 1s}");
        openStore(); // and no engine: nothing sweeps expiries
        org.buildhook.runner.store.AcceptResult delivered = deliver(rules, 67);
        String job = delivered.jobIds().get(0);
        Instant expiry = job(job).expiresAt();
        await().atMost(Duration.ofMinutes(1)).until(() -> Instant.now().isAfter(expiry));

        org.buildhook.runner.store.DeliveryCancel done = store.cancelDelivery(delivered.deliveryId(), "alice")
                .orElseThrow();

        assertThat(done.jobs()).singleElement().satisfies(j -> {
            assertThat(j.id()).isEqualTo(job);
            assertThat(j.cancelled()).isFalse();
            assertThat(j.state()).isEqualTo(JobState.EXPIRED);
        });
        assertThat(done.ended()).as("every job is cancelled or counted as ended").isEqualTo(1);
        assertState(job(job), JobState.EXPIRED);
    }

    @Test
    void anApprovalSurvivesARestart() throws IOException {
        RuleSet rules = deploy("{expires: 1h}");
        openStore();
        startEngine();
        String job = deliver(rules, 67).jobIds().get(0);
        stopAll();

        openStore();
        startEngine();
        assertState(job(job), JobState.AWAITING_APPROVAL);
        assertThat(store.approve(job, "alice")).isTrue();

        assertState(awaitFinal(job).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactly("67");
    }

    @Test
    void aNewerBuildSupersedesAJobThatAwaitsItsApproval() throws IOException {
        RuleSet rules = deploy("{}");
        openStore();

        String job67 = deliver(rules, 67).jobIds().get(0);
        String job68 = deliver(rules, 68).jobIds().get(0);

        assertState(job(job67), JobState.SUPERSEDED);
        assertThat(job(job67).supersededBy()).isEqualTo(job68);
        assertThat(job(job67).expiresAt()).isNull();
        assertState(job(job68), JobState.AWAITING_APPROVAL);
        assertThat(store.approve(job67, "alice")).isFalse();
    }

    /**
     * A deploy rule with an approval and {@code running: cancel}: build 67's job approved and
     * running, then build 68 arrives (tryout11 F6). 68 awaits its approval; 67 runs on.
     */
    private RuleSet approvedDeployThatWaits(Path started, Path go, Path cleaned) throws IOException {
        return rules("rules:\n"
                + "  - name: deploy-prod\n"
                + "    supersede: {key: \"${build.project}\", running: cancel}\n"
                + "    approval: {}\n"
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "echo $1 >> " + started
                        + "\n[ \"$1\" = 67 ] && while [ ! -e " + go + " ]; do [ -d " + dir + " ] || exit 1; sleep 0.05;"
                        + " done\necho $1 >> " + dir.resolve("ran")) + "\", \"${build.id}\"]}\n"
                + "    on-cancel: {command: [/bin/sh, -c, 'echo \"$0 $1\" >> " + cleaned
                        + "', \"${job.outcome}\", \"${build.id}\"]}\n");
    }

    private RuleSet approvedRules;

    /** Build 67's job under {@code rules}, approved and started (its script has written "started"). */
    private String approvedAndRunning(RuleSet rules) throws IOException {
        approvedRules = rules;
        openStore();
        startEngine();
        String job67 = deliver(rules, 67).jobIds().get(0);
        assertThat(store.approve(job67, "alice")).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("started")));
        return job67;
    }

    /**
     * tryout11 F6: a newer build that nobody has approved yet killed the approved deploy of the older
     * one at once, and if it was then rejected nothing was deployed. An approved job now goes on until
     * the newer one is approved.
     */
    @Test
    void aNewerBuildAwaitingItsApprovalLeavesTheApprovedRunningJobAloneAndARejectionKeepsIt() throws IOException {
        Path go = dir.resolve("go");
        String job67 = approvedAndRunning(approvedDeployThatWaits(dir.resolve("started"), go, dir.resolve("cleaned")));

        String job68 = deliver(approvedRules, 68).jobIds().get(0);

        assertState(job(job68), JobState.AWAITING_APPROVAL);
        assertState(job(job67), JobState.RUNNING);
        assertThat(job(job67).supersededBy()).isNull();
        assertThat(store.reject(job68, "bob")).isTrue();
        Files.createFile(go);
        assertState(awaitFinal(job67).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(dir.resolve("ran"))).containsExactly("67");
    }

    /**
     * tryout11 F6, the rest: once the newer build is approved, the older running job is stopped as
     * {@code running: cancel} says, and the job whose command was so stopped starts its
     * {@code on-cancel} (it started none, so a half-done deploy's clean-up never ran).
     */
    @Test
    void approvingTheNewerBuildStopsTheOlderRunningJobWhichStartsItsOnCancel() throws IOException {
        Path cleaned = dir.resolve("cleaned");
        String job67 = approvedAndRunning(approvedDeployThatWaits(dir.resolve("started"), dir.resolve("go"), cleaned));
        String job68 = deliver(approvedRules, 68).jobIds().get(0);
        assertState(job(job67), JobState.RUNNING);

        assertThat(store.approve(job68, "carol")).isTrue();

        assertState(awaitFinal(job67).job(), JobState.SUPERSEDED);
        assertThat(job(job67).supersededBy()).isEqualTo(job68);
        assertState(awaitFinal(job68).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(dir.resolve("ran"))).containsExactly("68");
        await().atMost(Duration.ofSeconds(30)).until(() -> jobsOfRule("deploy-prod/on-cancel").size() == 1
                && jobsOfRule("deploy-prod/on-cancel").get(0).state().isFinal());
        assertThat(Files.readAllLines(cleaned)).containsExactly("SUPERSEDED 67");
    }

    /** A job superseded before it ever started has nothing to clean up: no on-cancel. */
    @Test
    void aJobSupersededBeforeItStartedStartsNoOnCancel() throws IOException {
        RuleSet rules = approvedDeployThatWaits(dir.resolve("started"), dir.resolve("go"), dir.resolve("cleaned"));
        openStore();
        String job67 = deliver(rules, 67).jobIds().get(0);
        String job68 = deliver(rules, 68).jobIds().get(0);
        assertState(job(job67), JobState.SUPERSEDED);
        startEngine();

        assertThat(store.approve(job68, "carol")).isTrue();

        assertState(awaitFinal(job68).job(), JobState.SUCCEEDED);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.followUps().pending(10).isEmpty());
        assertThat(jobsOfRule("deploy-prod/on-cancel")).isEmpty();
    }

    /**
     * tryout24 F1: a rule disabled or removed still ran its stored jobs (a deploy awaiting approval was
     * approved after {@code enabled: false} and deployed, its follow-up too). Its jobs still to run are
     * cancelled, with why in their message, start no follow-up, and can no longer be approved; its running
     * job goes on, with its follow-ups; the jobs of the rules still in force are left alone.
     */
    @Test
    void theStoredJobsOfARuleNoLongerInForceAreCancelledAndCannotBeApprovedWhileItsRunningJobGoesOn()
            throws IOException {
        Path go = dir.resolve("go");
        Path log = dir.resolve("ran");
        Path deploy = script("deploy.sh", "echo $1 >> " + log + "\nwhile [ ! -e " + go + " ]; do [ -d "
                + go.getParent() + " ] || exit 1; sleep 0.05; done");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    when: {status: PASSED}\n"
                + "    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/sh, \"" + deploy + "\", \"deploy-${build.id}\"]}\n"
                + "    on-success: {command: [/bin/sh, \"" + deploy + "\", \"smoke-${build.id}\"]}\n"
                + "    on-cancel: {command: [/bin/sh, \"" + deploy + "\", \"unlock-${build.id}\"]}\n"
                + "  - name: other\n"
                + "    when: {status: PASSED}\n"
                + "    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/true]}\n");
        openStore();
        startEngine();
        List<String> first = deliver(rules, 1).jobIds();
        String running = first.get(0);
        assertThat(store.approve(running, "alice")).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> job(running).state() == JobState.RUNNING);
        org.buildhook.runner.store.AcceptResult secondDelivery = deliver(rules, 2);
        List<String> second = secondDelivery.jobIds();
        String awaiting = second.get(0);
        String otherRule = second.get(1);
        assertThat(job(otherRule).ruleName()).isEqualTo("other");

        // The file now has only 'other' enabled: 'deploy' was taken out (a rule never named is never cancelled).
        assertThat(store.cancelJobsOfRules(java.util.Set.of("deploy", "never-had"), r -> "rule " + r))
                .containsExactly(new org.buildhook.runner.store.Store.RuleNotInForce("deploy", 1, List.of(
                        new org.buildhook.runner.store.Store.JobOfDelivery(awaiting, secondDelivery.deliveryId()))));
        // A second cancel in a row, with the same message, returns its own job only (follow40: the WARN named the
        // jobs found by their message afterwards, which an earlier cancel's jobs had too).
        org.buildhook.runner.store.AcceptResult third = deliver(rules, 3);
        assertThat(store.cancelJobsOfRules(java.util.Set.of("deploy"), r -> "rule " + r))
                .containsExactly(new org.buildhook.runner.store.Store.RuleNotInForce("deploy", 1, List.of(
                        new org.buildhook.runner.store.Store.JobOfDelivery(third.jobIds().get(0),
                                third.deliveryId()))));

        assertState(job(awaiting), JobState.CANCELLED);
        assertThat(job(awaiting).message()).isEqualTo("not started: rule deploy");
        assertThat(store.approve(awaiting, "bob")).as("approving a job of a rule no longer in force").isFalse();
        assertState(job(otherRule), JobState.AWAITING_APPROVAL);
        assertThat(job(running).state()).as("the running job goes on").isEqualTo(JobState.RUNNING);
        Files.createFile(go);
        assertState(awaitFinal(running).job(), JobState.SUCCEEDED);
        // A follow-up follows a command that ran: the deploy that went on is smoke-tested.
        await().atMost(Duration.ofSeconds(30)).until(() -> jobsOfRule("deploy/on-success").size() == 1);
        assertState(awaitFinal(jobsOfRule("deploy/on-success").get(0).id()).job(), JobState.SUCCEEDED);
        await().atMost(Duration.ofSeconds(30)).until(() -> !store.followUps().isPending(awaiting));
        assertThat(jobsOfRule("deploy/on-cancel")).as("no on-cancel of a job that never ran").isEmpty();
        assertThat(Files.readAllLines(log)).containsExactly("deploy-1", "smoke-1");
    }

    /**
     * tryout33 F2: a job of a rule taken out by a reload, cancelled while it waited for its retry, said "not started:
     * …" beside the attempt it had had (and its on-cancel did start). It says what is true of it, then why.
     */
    @Test
    void aJobOfARuleTakenOutWhileItWaitsForARetrySaysItsAttemptRanNotThatItNeverStarted() throws IOException {
        Path log = dir.resolve("cleaned");
        String id = flakyJobCleaningUpInto(log);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(id).retryDueAt().isPresent());

        assertFlakyTakenOutCancelsItsJobAtOnceSayingWhy(id);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(log));
    }

    /**
     * flakes35: as above, the cancel coming while the node that ran attempt 1 still has the execution picked (its record
     * of the retry's wait commits before db-scheduler puts the execution back; seen on a loaded machine). It was only
     * flagged then: queued for the whole backoff, and the rule's reason lost. Held picked here, as in that moment.
     */
    @Test
    void aJobOfARuleTakenOutWhileItsNodeIsStillPuttingItBackForItsRetryIsCancelledAtOnceWithWhy() throws Exception {
        Path log = dir.resolve("cleaned");
        String id = flakyJobCleaningUpInto(log);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(id).retryDueAt().isPresent() && putBack(id));
        try (var c = store.schedulerDataSource().getConnection();
                var p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ? WHERE task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, id);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }

        assertFlakyTakenOutCancelsItsJobAtOnceSayingWhy(id);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(log));
    }

    /**
     * Rule 'flaky' (its command exits 3, retried twice an hour apart; its on-cancel appends "cleaned" to {@code log}) on
     * a started engine, and build 67 delivered to it: its job's id.
     */
    private String flakyJobCleaningUpInto(Path log) throws IOException {
        RuleSet rules = rules("rules:\n"
                + "  - name: flaky\n"
                + "    run: {command: [/bin/sh, -c, 'exit 3'], retries: 2, backoff: 1h}\n"
                + "    on-cancel: {command: [/bin/sh, -c, 'echo cleaned >> " + log + "']}\n");
        openStore();
        startEngine();
        return deliver(rules, 67).jobIds().get(0);
    }

    /** Takes rule 'flaky' out: its job {@code id}, waiting for retry 1 of 2, is cancelled at once, saying why. */
    private void assertFlakyTakenOutCancelsItsJobAtOnceSayingWhy(String id) {
        assertThat(store.cancelJobsOfRules(java.util.Set.of("flaky"), r -> "its rule '" + r + "' is removed"))
                .singleElement().satisfies(stop -> {
                    assertThat(stop.rule()).isEqualTo("flaky");
                    assertThat(stop.cancelled()).isEqualTo(1);
                    assertThat(stop.jobs()).extracting(org.buildhook.runner.store.Store.JobOfDelivery::jobId)
                            .containsExactly(id);
                });

        assertState(job(id), JobState.CANCELLED);
        assertThat(job(id).message()).isEqualTo("cancelled while waiting for retry 1 of 2; attempt 1 exited with 3;"
                + " its rule 'flaky' is removed");
    }

    /**
     * tryout33 F11: {@code approval} added to a rule by a reload let its jobs already queued run without anyone's yes.
     * The rule's jobs not started yet are made to await one as its new deliveries' jobs do ({@link
     * org.buildhook.runner.store.Store#gateJobsOfRules}): {@code AWAITING_APPROVAL}, expiring after its {@code
     * approval.expires}, out of the queue and of its rule's line, with a {@code gate} entry by {@code buildhook}; the
     * running job goes on, a job whose attempt ran (waiting for its retry) is not gated; a second call (another node)
     * gates nothing more. Once the running job ends the gated one does not start; approved, it runs once.
     */
    @Test
    void theJobsNotStartedYetOfARuleThatAsksForAnApprovalNowAwaitOneAndRunOnlyOnceApproved() throws IOException {
        Path go = dir.resolve("go");
        Path log = dir.resolve("ran");
        Path deploy = script("deploy.sh", "echo $1 >> " + log + "\nwhile [ ! -e " + go + " ]; do [ -d "
                + go.getParent() + " ] || exit 1; sleep 0.05; done");
        String yaml = "rules:\n"
                + "  - name: long\n%s"
                + "    run: {command: [/bin/sh, \"" + deploy + "\", \"${build.id}\"], concurrency: 1}\n"
                + "  - name: flaky\n%s"
                + "    run: {command: [/bin/sh, -c, 'exit 3'], retries: 2, backoff: 1h}\n";
        RuleSet before = rules(yaml.formatted("", ""));
        RuleSet after = rules(yaml.formatted("    approval: {expires: 1h}\n", "    approval: {expires: 1h}\n"));
        openStore();
        // A slot's next try only when woken: the queued job's execution, once put back, is not picked again by itself
        // (one picked at the gate's moment is the next test's).
        startEngine(new EngineConfig("node-a", 4, Duration.ofMillis(200), Duration.ofMillis(200), 50,
                Duration.ofSeconds(5), Duration.ofHours(1), Duration.ofMillis(100)));
        List<String> first = deliver(before, 1).jobIds();
        String running = first.get(0);
        String retrying = first.get(1);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(running).state() == JobState.RUNNING
                && job(retrying).retryDueAt().isPresent());
        // Build 2 for 'long' only: a job of 'flaky' not started yet would be gated too.
        String queued = deliver(rules(yaml.formatted("", "    enabled: false\n")), 2).jobIds().get(0);
        assertState(job(queued), JobState.QUEUED);
        await().atMost(Duration.ofSeconds(60)).until(() -> putBack(queued));
        Instant gatedAt = Instant.now();

        List<org.buildhook.runner.store.Store.GatedRule> gated = store.gateJobsOfRules(after.approvalExpiries(),
                after.approvalRequests(), r -> "gated: " + r);

        assertThat(gated).singleElement().satisfies(g -> {
            assertThat(g.rule()).isEqualTo("long");
            assertThat(g.gated()).extracting(org.buildhook.runner.store.Job::id).containsExactly(queued);
            assertThat(g.atItsStart()).isEmpty();
            assertThat(g.expiresAt()).isBetween(gatedAt.plus(Duration.ofHours(1)).minusMillis(1),
                    Instant.now().plus(Duration.ofHours(1)));
        });
        assertState(job(queued), JobState.AWAITING_APPROVAL);
        assertThat(job(queued).message()).isEqualTo("gated: long");
        assertThat(job(queued).expiresAt()).isEqualTo(gated.get(0).expiresAt());
        assertThat(store.actionsOnJob(queued)).extracting(AdminAction::actor, AdminAction::action)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("buildhook", "gate"));
        assertThat(queueEntries(queued)).as("its execution removed").isZero();
        assertState(job(running), JobState.RUNNING);
        assertState(job(retrying), JobState.QUEUED);
        assertThat(job(retrying).retryDueAt()).as("a retry of a job that ran is not gated").isPresent();
        assertThat(store.gateJobsOfRules(after.approvalExpiries(), after.approvalRequests(), r -> "again"))
                .as("once, not per node").isEmpty();

        Files.createFile(go);
        assertState(awaitFinal(running).job(), JobState.SUCCEEDED);
        assertState(job(queued), JobState.AWAITING_APPROVAL);
        assertThat(store.approve(queued, "alice")).isTrue();
        assertState(awaitFinal(queued).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(log)).containsExactly("1", "2");
        assertThat(store.actionsOnJob(queued)).extracting(AdminAction::action).containsExactly("gate", "approve");
    }

    /**
     * tryout33 F11, the moment of a pick: a node picked the job and is starting its attempt when the rule's approval
     * is put in force. The gate cannot take the picked execution away from that node: it asks the job to await the
     * approval at its start, and the node's start honours it, so the job awaits (its execution removed, its slot
     * freed, never run) and runs once approved. Its start first (a job already running) is left to run: the test
     * above.
     */
    @Test
    void aJobPickedAtTheMomentTheApprovalIsPutInForceAwaitsItInsteadOfStarting() throws IOException {
        Path log = dir.resolve("ran");
        Path asked = dir.resolve("asked");
        String yaml = "rules:\n  - name: long\n%s    run: {command: [/bin/sh, -c, 'echo $1 >> " + log
                + "', sh, \"${build.id}\"], concurrency: 1}\n";
        RuleSet before = rules(yaml.formatted(""));
        // approval50: with a request, which the job asked to await the approval at its start starts once it awaits.
        RuleSet after = rules(yaml.formatted("    approval: {expires: 1h}\n    on-approval-request: {command: [/bin/sh,"
                + " -c, 'echo $1 >> " + asked + "', sh, \"${job.id}\"]}\n"));
        openStore();
        String job = deliver(before, 1).jobIds().get(0);
        java.util.concurrent.atomic.AtomicReference<List<org.buildhook.runner.store.Store.GatedRule>> gated =
                new java.util.concurrent.atomic.AtomicReference<>();
        org.buildhook.runner.store.AttemptStartSeams.beforeStart(id -> {
            if (id.equals(job) && gated.get() == null) {
                gated.set(store.gateJobsOfRules(after.approvalExpiries(), after.approvalRequests(), r -> "gated: " + r));
            }
        });
        try {
            startEngine();
            await().atMost(Duration.ofSeconds(60)).until(() -> job(job).state() != JobState.QUEUED);
        } finally {
            org.buildhook.runner.store.AttemptStartSeams.clear();
        }

        assertThat(gated.get()).singleElement().satisfies(g -> {
            assertThat(g.gated()).isEmpty();
            assertThat(g.atItsStart()).extracting(org.buildhook.runner.store.Job::id).containsExactly(job);
        });
        assertState(job(job), JobState.AWAITING_APPROVAL);
        assertThat(job(job).attempts()).isZero();
        assertThat(job(job).expiresAt()).isAfter(Instant.now().plus(Duration.ofMinutes(59)));
        assertThat(store.actionsOnJob(job)).extracting(AdminAction::actor, AdminAction::action)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("buildhook", "gate"));
        assertThat(queueEntries(job)).as("its execution removed").isZero();
        assertThat(log).as("never run").doesNotExist();
        Job request = awaitOnlyJobOf("long/on-approval-request");
        assertThat(request.workflow().parentId()).isEqualTo(job);
        assertThat(Files.readAllLines(asked)).containsExactly(job);

        assertThat(store.approve(job, "alice")).isTrue();
        assertState(awaitFinal(job).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(log)).containsExactly("1");
        assertThat(jobsOfRule("long/on-approval-request")).hasSize(1);
    }

    /**
     * approval50: a reload that adds {@code approval} and {@code on-approval-request} to a rule gates its jobs already
     * stored, which were planned without either: they awaited the approval but never told the approvers (their plan
     * had no request). The gate keeps the rule's request with each job (its own follow-ups as planned): the job tells
     * the approvers once it awaits, once only across looks, a second node and a restart; one approved before any node
     * looked starts none; a later change of the rule's request changes no job gated before.
     */
    @Test
    void aJobGatedByAReloadThatAddsAnApprovalRequestStartsItOnceAcrossNodesAndRestarts() throws IOException {
        Path asked = dir.resolve("asked");
        Path done = dir.resolve("done");
        String yaml = "rules:\n  - name: deploy\n%s"
                + "    run: {command: [/bin/true, \"${build.id}\"], env: {DEPLOY_TARGET: prod-eu-1}}\n"
                + "    on-success: {command: [/bin/sh, -c, 'echo \"$1 %s\" >> " + done + "', sh, \"${build.id}\"]}\n";
        RuleSet before = rules(yaml.formatted("", "planned"));
        String request = "    approval: {expires: 1h}\n    on-approval-request:\n      command: [/bin/sh, \""
                + script("ask.sh", "echo \"$1 $2 $3 $4 $BUILDHOOK_JOB_ATTEMPTS\" >> " + asked) + "\", \"%s\", \"${job.id}\","
                + " \"${job.outcome}\", \"${job.url}\"]\n";
        RuleSet after = rules(yaml.formatted(request.formatted("asked"), "edited"));
        openStore(); // no node yet: nothing picks them, nothing looks for requests
        String told = deliver(before, 1).jobIds().get(0);
        String approvedFirst = deliver(before, 2).jobIds().get(0);
        assertThat(job(told).workflow().followUps()).doesNotContain("on-approval-request");

        assertThat(store.gateJobsOfRules(after.approvalExpiries(), after.approvalRequests(), r -> "gated: " + r))
                .singleElement().satisfies(g -> assertThat(g.gated()).extracting(Job::id)
                        .containsExactly(told, approvedFirst));
        assertState(job(told), JobState.AWAITING_APPROVAL);
        assertThat(store.approve(approvedFirst, "alice")).isTrue(); // before any node looked
        // A reload that edits the request afterwards gates nothing more, and changes no job gated before.
        RuleSet edited = rules(yaml.formatted(request.formatted("edited"), "edited"));
        assertThat(store.gateJobsOfRules(edited.approvalExpiries(), edited.approvalRequests(), r -> "again")).isEmpty();

        EngineConfig linked = AbstractEngineTest.steady("node-a")
                .withStatusPage(java.net.URI.create("https://ci.example.com/"));
        startEngine(linked);
        Job started = awaitOnlyJobOf("deploy/on-approval-request");
        assertState(started, JobState.SUCCEEDED);
        assertThat(started.workflow().parentId()).isEqualTo(told);
        assertThat(started.env()).as("the job's own environment is not passed on").doesNotContainKey("DEPLOY_TARGET")
                .containsEntry("BUILDHOOK_JOB_ID", told);
        assertThat(Files.readAllLines(asked)).containsExactly(
                "asked " + told + " AWAITING_APPROVAL https://ci.example.com/?job=" + told + " 0");
        assertState(awaitFinal(approvedFirst).job(), JobState.SUCCEEDED);
        assertState(job(told), JobState.AWAITING_APPROVAL);
        // A second node that planned it at the same time stores nothing: the first one's job is the record.
        org.buildhook.runner.PlannedJob again = org.buildhook.runner.rules.FollowUps.plan(job(told).workflow()
                .followUps(), "default", new org.buildhook.core.BuildEventParser().parse(body(1)), null,
                new org.buildhook.runner.rules.FollowUpParent(told, "deploy", "AWAITING_APPROVAL", null, 0, null))
                .orElseThrow();
        assertThat(store.followUps().startApprovalRequest(job(told), again)).isEmpty();

        stopAll();
        openStore();
        startEngine(linked);
        assertThat(store.followUps().awaitingRequests(100)).as("after a restart").isEmpty();
        assertThat(store.approve(told, "alice")).isTrue();
        assertState(awaitFinal(told).job(), JobState.SUCCEEDED);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(done) && Files.readAllLines(done).size() == 2);
        assertThat(Files.readAllLines(done)).as("their own follow-ups as planned").containsExactlyInAnyOrder(
                "1 planned", "2 planned");
        assertThat(jobsOfRule("deploy/on-approval-request")).singleElement()
                .satisfies(j -> assertThat(j.id()).isEqualTo(started.id()));
        assertThat(Files.readAllLines(asked)).hasSize(1);
    }

    /**
     * approval50: a re-run of a job planned without an approval, whose rule asks for one (and an {@code
     * on-approval-request}) in the rules in force now, awaits one (rename34) and tells the approvers once, as the
     * rule's new jobs do; before, it awaited without telling anyone.
     */
    @Test
    void aReRunMadeToAwaitAnApprovalStartsTheRulesApprovalRequest() throws IOException {
        Path asked = dir.resolve("asked");
        String yaml = "rules:\n  - name: deploy\n%s    run: {command: [/bin/true]}\n";
        RuleSet before = rules(yaml.formatted(""));
        RuleSet after = rules(yaml.formatted("    approval: {expires: 1h}\n    on-approval-request: {command:"
                + " [/bin/sh, -c, 'echo $1 >> " + asked + "', sh, \"${job.id}\"]}\n"));
        openStore();
        startEngine();
        String old = deliver(before, 1).jobIds().get(0);
        assertState(awaitFinal(old).job(), JobState.SUCCEEDED);

        String rerun = store.rerun(old, after.approvalExpiries().get("deploy"), after.approvalRequests().get("deploy"));

        assertState(job(rerun), JobState.AWAITING_APPROVAL);
        Job request = awaitOnlyJobOf("deploy/on-approval-request");
        assertThat(request.workflow().parentId()).isEqualTo(rerun);
        assertThat(Files.readAllLines(asked)).containsExactly(rerun);
    }

    /**
     * review50b R7: a job a node had picked (about to start it) when a reload took its rule out is only flagged by that
     * cancel, which also leaves it no follow-up to start (its command never ran, and nothing of the rule is to start);
     * its node's start ends it. A reload that put the rule back, now asking for an approval, before that start gated it
     * all the same: asked to await the approval at its start, its follow-ups pending again, so that once its start
     * ended it cancelled, its on-cancel ran though its rule had been taken out. A job whose cancel was asked is no
     * longer one to gate, nor counted as one.
     */
    @Test
    void aJobPickedWhenItsRuleWasTakenOutIsNotGatedWhenTheRuleComesBackAndStartsNoOnCancel() throws Exception {
        Path cleaned = dir.resolve("cleaned");
        String yaml = "rules:\n  - name: deploy\n%s    run: {command: [/bin/true]}\n"
                + "    on-cancel: {command: [/bin/sh, -c, 'echo cleaned >> " + cleaned + "']}\n";
        RuleSet back = rules(yaml.formatted("    approval: {expires: 1h}\n"));
        openStore();
        String id = deliver(rules(yaml.formatted("")), 1).jobIds().get(0);
        picked(id, true);
        assertThat(store.cancelJobsOfRules(java.util.Set.of("deploy"), r -> "its rule '" + r + "' is removed"))
                .singleElement().satisfies(stop -> assertThat(stop.jobs())
                        .extracting(org.buildhook.runner.store.Store.JobOfDelivery::jobId).containsExactly(id));
        assertThat(job(id).cancelRequested()).as("picked: only flagged").isTrue();
        assertThat(store.followUps().isPending(id)).isFalse();

        assertThat(store.jobsToGate(java.util.Set.of("deploy"))).isEmpty();
        assertThat(store.gateJobsOfRules(back.approvalExpiries(), back.approvalRequests(), r -> "gated: " + r))
                .isEmpty();

        assertThat(store.followUps().isPending(id)).as("no follow-up to start").isFalse();
        assertThat(job(id).expiresAt()).isNull();
        picked(id, false); // its node let it go: the next pick ends it
        startEngine();
        assertState(awaitFinal(id).job(), JobState.CANCELLED);
        assertThat(job(id).attempts()).isZero();
        assertThat(store.followUps().isPending(id)).isFalse();
        assertThat(jobsOfRule("deploy/on-cancel")).isEmpty();
        assertThat(cleaned).doesNotExist();
    }

    /**
     * review50b R7: a job asked to await an approval at its start (a node had it picked when a reload added the
     * approval and an {@code on-approval-request}) keeps the request and the expiry it was gated with, as a job gated
     * while queued does. A second reload (or another node) before that start wrote the request then in force over it,
     * or dropped it when the rule's request was gone: the job told the approvers with another request, or none. Gated
     * again while still picked, it is left as it is; gated again once its node let it go, it awaits at once, with what
     * it keeps.
     */
    @Test
    void aJobAskedToAwaitAnApprovalAtItsStartKeepsTheRequestAndExpiryItWasGatedWith() throws Exception {
        Path asked = dir.resolve("asked");
        Path log = dir.resolve("ran");
        String yaml = "rules:\n  - name: deploy\n%s    run: {command: [/bin/sh, -c, 'echo $1 >> " + log
                + "', sh, \"${build.id}\"]}\n";
        String request = "    approval: {expires: %s}\n    on-approval-request: {command: [/bin/sh, -c, 'echo %s $1 >> "
                + asked + "', sh, \"${job.id}\"]}\n";
        RuleSet first = rules(yaml.formatted(request.formatted("1h", "first")));
        RuleSet edited = rules(yaml.formatted(request.formatted("2h", "edited")));
        RuleSet removed = rules(yaml.formatted("    approval: {expires: 3h}\n"));
        openStore();
        String id = deliver(rules(yaml.formatted("")), 1).jobIds().get(0);
        picked(id, true);

        assertThat(store.gateJobsOfRules(first.approvalExpiries(), first.approvalRequests(), r -> "gated: " + r))
                .singleElement().satisfies(g -> assertThat(g.atItsStart()).extracting(Job::id).containsExactly(id));
        String kept = job(id).workflow().followUps();
        assertThat(kept).contains("on-approval-request").contains("echo first");
        // A second reload while its node still has it picked: left as it is, still to await the approval at its start.
        assertThat(store.gateJobsOfRules(edited.approvalExpiries(), edited.approvalRequests(), r -> "again: " + r))
                .singleElement().satisfies(g -> assertThat(g.atItsStart()).extracting(Job::id).containsExactly(id));
        assertThat(job(id).workflow().followUps()).isEqualTo(kept);
        // Its node let it go; a third reload, the request removed: it awaits now, with the request and expiry it kept.
        picked(id, false);
        Instant gatedAt = Instant.now();
        assertThat(store.gateJobsOfRules(removed.approvalExpiries(), removed.approvalRequests(), r -> "now: " + r))
                .singleElement().satisfies(g -> assertThat(g.gated()).extracting(Job::id).containsExactly(id));
        assertState(job(id), JobState.AWAITING_APPROVAL);
        assertThat(job(id).workflow().followUps()).isEqualTo(kept);
        assertThat(job(id).expiresAt()).isBetween(gatedAt.plus(Duration.ofHours(1)).minusMillis(1),
                Instant.now().plus(Duration.ofHours(1)));

        startEngine();
        Job told = awaitOnlyJobOf("deploy/on-approval-request");
        assertState(awaitFinal(told.id()).job(), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(asked)).containsExactly("first " + id);
        assertState(job(id), JobState.AWAITING_APPROVAL);
        assertThat(log).as("not run unapproved").doesNotExist();
    }

    /** Holds {@code job}'s execution picked by a node (gone, or about to start it), or lets it go again. */
    private void picked(String job, boolean picked) throws java.sql.SQLException {
        try (var c = store.schedulerDataSource().getConnection();
                var p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = ? WHERE"
                        + " task_instance = ?")) {
            p.setBoolean(1, picked);
            p.setString(2, picked ? "node-gone" : null);
            p.setString(3, job);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /** Whether {@code job}'s execution was picked and put back (for want of a slot), and is not picked now. */
    private boolean putBack(String job) {
        try (var c = store.schedulerDataSource().getConnection();
                var p = c.prepareStatement("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ?"
                        + " AND picked = ? AND version > 1")) {
            p.setString(1, job);
            p.setBoolean(2, false);
            try (var rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 1;
            }
        } catch (java.sql.SQLException e) {
            throw new AssertionError(e);
        }
    }

    /** How many executions of {@code job} the queue holds. */
    private int queueEntries(String job) {
        try (var c = store.schedulerDataSource().getConnection();
                var p = c.prepareStatement("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, job);
            try (var rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (java.sql.SQLException e) {
            throw new AssertionError(e);
        }
    }
}
