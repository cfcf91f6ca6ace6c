package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.junit.jupiter.api.Test;

/** tryout42 F7: a job stored by an older build carries its rule as it was; this build reads it through its checks. */
class StoredJobCheckTest {

    /** The canonical JSON an older build stored with the job of tryout42 F7's rule {@code deploy}. */
    static final String OLD_DEPLOY = "{\"name\":\"deploy\",\"run\":{\"command\":[\"/bin/bash\",\"-c\","
            + "\"sleep 1; echo \\\"deployed ${build.trigger}\\\"\"],\"concurrency\":1}}";

    private static Job job(String rule, String snapshot, JobWorkflow workflow, String runName) {
        return new Job("01JOB", "01DELIVERY", rule, snapshot, List.of("/bin/true"), Map.of(), null, true,
                Duration.ofMinutes(1), 0, Duration.ofSeconds(1), 1, runName, JobState.QUEUED, 0, null, Instant.EPOCH,
                null, null, null, null, null, false, null, workflow, null, null);
    }

    @Test
    void aRuleAsAnOlderBuildStoredItWithPayloadTextInShellCodeIsRefusedNamingTheElementAndTheReplay() {
        String why = StoredJobCheck.refusal(job("deploy", OLD_DEPLOY, JobWorkflow.NONE, null)).orElseThrow();

        assertThat(why).startsWith("its rule 'deploy' as stored with the job (planned by an older buildhook, or by a"
                + " node of one) is refused by this build: run.command element 3: placeholder '${build.trigger}' in"
                + " shell code: ")
                .contains("\"$BUILDHOOK_TRIGGER\"")
                .endsWith("make a new one of its delivery with the fixed rule in force: buildhook replay 01DELIVERY"
                        + " --rule deploy")
                .doesNotContain("(stored)").doesNotContain(":1:");
    }

    /**
     * tryout43 F9: in a rolling upgrade a node of this build picked a job that a newer node had planned from a rule
     * with a key added since ({@code payload-values} then) and cancelled it, "planned by an older buildhook". A key
     * this build does not know is not a refusal; a known element that is refused still is.
     */
    @Test
    void aKeyThisBuildDoesNotKnowIsNoRefusalButAKnownRefusedElementStillIs() {
        String newer = "{\"name\":\"deploy\",\"run\":{\"command\":[\"/opt/deploy.sh\",\"${build.trigger}\"],"
                + "\"sandbox\":\"strict\"},\"rollout\":{\"waves\":2}}";
        assertThat(StoredJobCheck.refusal(job("deploy", newer, JobWorkflow.NONE, null))).isEmpty();

        String both = OLD_DEPLOY.replace("\"concurrency\":1", "\"concurrency\":1,\"sandbox\":\"strict\"");
        assertThat(StoredJobCheck.refusal(job("deploy", both, JobWorkflow.NONE, null))).get().asString()
                .contains("placeholder '${build.trigger}' in shell code").doesNotContain("unknown key");
    }

    @Test
    void aFollowUpAsStoredIsCheckedAsTheActionItIs() {
        JobWorkflow followUp = new JobWorkflow(7L, null, false, null, Map.of(), Map.of(), null, "01PARENT", 1);
        String action = "{\"command\":[\"/bin/sh\",\"-c\",\"echo ${build.project} ${job.outcome}\"]}";

        String why = StoredJobCheck.refusal(job("deploy/on-failure", action, followUp, null)).orElseThrow();

        assertThat(why).startsWith("its follow-up 'on-failure' of rule 'deploy' as stored with the job")
                .contains("refused by this build: on-failure.command element 3: placeholder '${build.project}' in"
                        + " shell code")
                .endsWith("buildhook replay 01DELIVERY --rule deploy");
    }

    @Test
    void everyRuleAndFollowUpThisBuildPlansIsNotRefused() {
        RuleSet rules = TestRules.parse("resources: {boards: 3}\n"
                + "rules:\n"
                + "  - name: deploy\n"
                + "    description: the whole \"works\"\n"
                + "    when: {endpoint: default, project: ['andy-corp/*', x], runs: {match: each}}\n"
                + "    supersede: {key: '${build.project}-${run.name}', running: cancel}\n"
                + "    approval: {expires: 8h}\n"
                + "    renamed-from: [deploy-old]\n"
                + "    run:\n"
                + "      command: [/bin/sh, -c, 'deploy \"$BUILDHOOK_TRIGGER\"', '${build.trigger}', '${run.name}']\n"
                + "      env: {TARGET: 'prod ${build.project}', LEVEL: 3}\n"
                + "      workdir: /tmp\n"
                + "      timeout: 10m\n"
                + "      retries: 2\n"
                + "      backoff: 5s\n"
                + "      concurrency: 1\n"
                + "      stdin: false\n"
                + "      resources: {boards: 2}\n"
                + "    on-failure:\n"
                + "      command: [/opt/page.sh, '${job.id}', '${run.name}']\n"
                + "      resources: {boards: 1}\n"
                + "      on-success: {command: [/opt/log.sh, '${job.rule}']}\n"
                + "  - name: plain\n"
                + "    run: {command: [/opt/plain.sh, '${build.id}']}\n");
        rules.snapshots().forEach((name, snapshot) -> assertThat(StoredJobCheck.why(name, snapshot, 0, false))
                .as(name).isEmpty());

        PlannedJob deploy = rules.match("default", TestEvents.seed()).get(0);
        assertThat(StoredJobCheck.refusal(job(deploy.ruleName(), deploy.ruleSnapshot(), deploy.workflow(),
                deploy.runName()))).isEmpty();
        PlannedJob page = FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(),
                deploy.runName(), new FollowUpParent("01JOB", "deploy", "FAILED", 1, 1, null)).orElseThrow();
        assertThat(StoredJobCheck.refusal(job(page.ruleName(), page.ruleSnapshot(), page.workflow(),
                page.runName()))).isEmpty();
        PlannedJob log = FollowUps.plan(page.workflow().followUps(), "default", TestEvents.seed(), page.runName(),
                new FollowUpParent("01PAGE", "deploy/on-failure", "SUCCEEDED", 0, 1, null)).orElseThrow();
        assertThat(StoredJobCheck.refusal(job(log.ruleName(), log.ruleSnapshot(), log.workflow(), log.runName())))
                .isEmpty();
    }

    @Test
    void aSnapshotThatIsNoRuleBuildhookWroteIsNotRefused() {
        assertThat(StoredJobCheck.why("deploy", "name: deploy", 0, false)).isEmpty();
        assertThat(StoredJobCheck.why("deploy", null, 0, false)).isEmpty();
        assertThat(StoredJobCheck.why("deploy", "{}", 0, false)).isEmpty();
        assertThat(StoredJobCheck.why("deploy/on-failure", "{}", 1, false)).isEmpty();
    }

    /** tryout43 F8's rule as an older build stored it: its command writes the trigger into a path. */
    private static final String CLEANUP = "{\"name\":\"cleanup\",\"run\":{\"command\":[\"/bin/rm\",\"-rf\","
            + "\"/srv/builds/${build.trigger}\"]}}";

    private static byte[] trigger(String trigger) {
        return Plans.fixture().replace("\"trigger_name\": \"containers-devel\"", "\"trigger_name\": \"" + trigger
                + "\"").getBytes(StandardCharsets.UTF_8);
    }

    private static int deliveries;

    /**
     * {@code job}'s values against {@code body}, as those of a delivery of its own (a delivery's event is kept by its
     * id); the replay in the message names {@code 01DELIVERY}.
     */
    private static java.util.Optional<String> values(Job job, byte[] body) {
        return values(job, body, "01DELIVERY" + ++deliveries);
    }

    /** As {@link #values(Job, byte[])}, as a job of delivery {@code delivery}. */
    private static java.util.Optional<String> values(Job job, byte[] body, String delivery) {
        Job stored = new Job(job.id(), delivery, job.ruleName(), job.ruleSnapshot(), job.argv(), job.env(),
                job.workdir(), job.stdin(), job.timeout(), job.retries(), job.backoff(), job.concurrency(),
                job.runName(), job.state(), job.attempts(), job.exitCode(), job.createdAt(), job.startedAt(),
                job.endedAt(), job.node(), job.logPath(), job.message(), job.cancelRequested(), job.rerunOf(),
                job.workflow(), job.supersededBy(), job.expiresAt());
        return StoredJobCheck.valuesRefusal(stored, () -> body, id -> java.util.Optional.empty())
                .map(why -> why.replace(delivery, "01DELIVERY"));
    }

    /**
     * values43 V2 / tryout43 F8: a job an older build stored with {@code ../victim}, {@code /} or {@code @/etc/passwd}
     * written into its path is refused against its delivery, in planning's words with the replay; the same rule as
     * stored with {@code payload-values: as-sent}, or with a value that passes, is not; a rule that writes no payload
     * value has its body never read.
     */
    @Test
    void aStoredJobsValuesAreCheckedAgainstItsDeliveryUnlessItsRuleTakesThemAsSent() {
        Job cleanup = job("cleanup", CLEANUP, JobWorkflow.NONE, null);
        assertThat(values(cleanup, trigger("../victim"))).get().asString()
                .startsWith("rule 'cleanup' writes ${build.trigger} into argument 2 of 'command', and its value"
                        + " \"../victim\" is refused: it holds a '..' path segment")
                .contains("payload-values: as-sent").contains("planned by an older buildhook")
                .endsWith("buildhook replay 01DELIVERY --rule cleanup");
        assertThat(values(cleanup, trigger("/"))).get().asString().contains("it has no letter or digit");
        assertThat(values(cleanup, trigger("@/etc/passwd"))).get().asString().contains("'@' (U+0040)");
        assertThat(values(cleanup, trigger("nightly"))).isEmpty();
        assertThat(StoredJobCheck.refusal(cleanup)).as("the rule itself loads").isEmpty();
        assertThat(values(cleanup, null)).get().asString().contains("its delivery's body is gone");

        Job asSent = job("cleanup", CLEANUP.replace("]}}", "],\"payload-values\":\"as-sent\"}}"), JobWorkflow.NONE,
                null);
        assertThat(values(asSent, trigger("../victim"))).isEmpty();
        Job plain = job("plain", "{\"name\":\"plain\",\"run\":{\"command\":[\"/opt/plain.sh\",\"${build.id}\"]}}",
                JobWorkflow.NONE, null);
        assertThatCode(() -> assertThat(StoredJobCheck.valuesRefusal(plain, () -> {
            throw new AssertionError("the body was read");
        }, id -> java.util.Optional.empty())).isEmpty()).doesNotThrowAnyException();

        JobWorkflow followUp = new JobWorkflow(7L, null, false, null, Map.of(), Map.of(), null, "01PARENT", 1);
        Job page = job("cleanup/on-failure", "{\"command\":[\"/opt/page.sh\",\"${job.id}\","
                + "\"/srv/pages/${build.trigger}\"]}", followUp, null);
        assertThat(values(page, trigger("../x"))).get().asString().startsWith("rule 'cleanup/on-failure' writes"
                + " ${build.trigger} into argument 2 of 'command'").endsWith("buildhook replay 01DELIVERY --rule cleanup");
    }

    /**
     * tryout44 F6: the re-run (409) of a job planning stored refused (FAILED, no attempt, planning's words) said it was
     * "stored with this value unchecked (planned by an older buildhook, or by a node of one)": not so. It says that
     * planning refused it and it never ran; a job an older build stored, refused at its start, keeps the old words.
     */
    @Test
    void aJobPlanningRefusedIsSaidToHaveBeenRefusedWhenPlannedNotStoredUnchecked() {
        Job queued = job("cleanup", CLEANUP, JobWorkflow.NONE, null);
        String plannedWords = "not started: rule 'cleanup' writes ${build.trigger} into argument 2 of 'command', and its"
                + " value \"../victim\" is refused: …";
        Job refusedWhenPlanned = withEnd(queued, JobState.FAILED, plannedWords);
        assertThat(values(refusedWhenPlanned, trigger("../victim"))).get().asString()
                .startsWith("rule 'cleanup' writes ${build.trigger} into argument 2 of 'command'")
                .contains("The job was refused for this value when it was planned, and never ran")
                .doesNotContain("unchecked").doesNotContain("older buildhook")
                .endsWith("buildhook replay 01DELIVERY --rule cleanup");

        String atItsStart = values(queued, trigger("../victim")).orElseThrow();
        Job refusedAtItsStart = withEnd(queued, JobState.FAILED, "not started: " + atItsStart);
        assertThat(values(refusedAtItsStart, trigger("../victim"))).get().asString()
                .contains("stored with this value unchecked (planned by an older buildhook");
        assertThat(values(withEnd(queued, JobState.SUCCEEDED, "exited with 0"), trigger("../victim"))).get()
                .asString().contains("planned by an older buildhook");
    }

    /** {@code job} ended {@code state} with {@code message}, no attempt. */
    private static Job withEnd(Job job, JobState state, String message) {
        return new Job(job.id(), job.deliveryId(), job.ruleName(), job.ruleSnapshot(), job.argv(), job.env(),
                job.workdir(), job.stdin(), job.timeout(), job.retries(), job.backoff(), job.concurrency(),
                job.runName(), state, 0, null, job.createdAt(), null, Instant.EPOCH, null, null, message, false,
                null, job.workflow(), null, null);
    }

    /**
     * tryout44 F12: a stored job keeps its run's name, not which run it was. A body with two runs of one name, the
     * first's host tag plain and the second's {@code ../victim}: the job stored for the second (by an older build)
     * was checked against the first run's values, passed, and deleted the sibling folder. Each run of the name is
     * checked now, and a refused value in either refuses the job.
     */
    @Test
    void aJobOfARunWhoseNameTwoRunsShareIsCheckedAgainstEachOfThem() throws IOException {
        String f68 = Files.readString(Path.of(System.getProperty("buildhook.fixtures", "fixtures"),
                "build-68-failed.json"));
        byte[] twoOfOneName = f68.replace("\"name\": \"build-amd64-partner\"", "\"name\": \"build-aarch64\"")
                .replace("\"host_tag\": \"aarch64\"", "\"host_tag\": \"../victim\"").getBytes(StandardCharsets.UTF_8);
        assertThat(new String(twoOfOneName, StandardCharsets.UTF_8)).contains("\"host_tag\": \"amd64-partner\"")
                .contains("\"host_tag\": \"../victim\"");
        // The snapshot and run name planning gives the job of build-aarch64 (the fixture's own, one run of the name).
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: clean-host\n"
                + "    when: {runs: {match: each, name: build-aarch64}}\n"
                + "    run:\n"
                + "      command: [/bin/rm, -rf, '/srv/hosts/${run.host_tag}']\n");
        PlannedJob planned = rules.match("default", new org.buildhook.core.BuildEventParser()
                .parse(f68.getBytes(StandardCharsets.UTF_8))).get(0);
        assertThat(planned.runName()).isEqualTo("build-aarch64");
        assertThat(planned.refused()).isFalse();
        Job clean = job(planned.ruleName(), planned.ruleSnapshot(), planned.workflow(), planned.runName());
        assertThat(StoredJobCheck.refusal(clean)).as("the rule loads").isEmpty();
        assertThat(values(clean, twoOfOneName)).get().asString()
                .startsWith("rule 'clean-host' writes ${run.host_tag} into argument 2 of 'command', and its value"
                        + " \"../victim\" is refused");
        assertThat(values(clean, f68.getBytes(StandardCharsets.UTF_8))).as("one run of the name, a plain tag").isEmpty();
    }

    /**
     * Every real JobServ delivery of the fixtures passes a stored job of a rule that writes each of its values into
     * its command and env (no false refusal), as it passes planning; and a value planning refuses is refused here too.
     */
    @Test
    void everyFixturesValuesPassAStoredJobAsTheyPassPlanning() throws IOException {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: build\n"
                + "    run:\n"
                + "      command: [/opt/b.sh, '${build.project}', '/srv/${build.factory}/${build.project}',"
                + " 'trigger=${build.trigger}', '${build.status}', '${build.url}', '${build.web_url}']\n"
                + "      env: {TRIGGER: '${build.trigger}'}\n"
                + "  - name: each\n"
                + "    when: {runs: {match: each}}\n"
                + "    run:\n"
                + "      command: [/opt/r.sh, '/srv/${run.name}', '${run.status}', '${run.host_tag}', '${run.url}',"
                + " '${run.log_url}', 'tag=${build.trigger}']\n");
        Path fixtures = Path.of(System.getProperty("buildhook.fixtures", "fixtures"));
        List<Path> bodies;
        try (var files = Files.list(fixtures)) {
            bodies = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        assertThat(bodies).hasSizeGreaterThanOrEqualTo(6);
        for (Path f : bodies) {
            byte[] body = Files.readAllBytes(f);
            String delivery = "01FIXTURE" + ++deliveries; // its jobs', whose event is kept as the engine's are
            List<PlannedJob> planned = rules.match("default", new org.buildhook.core.BuildEventParser().parse(body));
            assertThat(planned).as(f.toString()).isNotEmpty();
            for (PlannedJob p : planned) {
                assertThat(p.refused()).as(f + " " + p.ruleName() + " " + p.runName()).isFalse();
                assertThat(values(job(p.ruleName(), p.ruleSnapshot(), p.workflow(), p.runName()), body, delivery))
                        .as(f + " " + p.ruleName() + " " + p.runName()).isEmpty();
            }
        }
        byte[] climbs = trigger("../victim");
        PlannedJob refused = rules.match("default", new org.buildhook.core.BuildEventParser().parse(climbs)).get(0);
        assertThat(refused.refused()).isTrue();
        assertThat(values(job(refused.ruleName(), refused.ruleSnapshot(), refused.workflow(), null), climbs)).get()
                .asString().startsWith(refused.refusal().substring("not started: ".length()));
    }

    /**
     * review44 R3: a backlog of 6 builds' jobs picked in turn (a job of each, three times over) reads and parses each
     * delivery's body once. The events kept were 4, all dropped past them: a body was read and parsed at every pick
     * (18 of 18).
     */
    @Test
    void jobsOfSixDeliveriesPickedInTurnReadEachBodyOnce() {
        Job cleanup = job("cleanup", CLEANUP, JobWorkflow.NONE, null);
        byte[] body = trigger("nightly");
        String prefix = "01R3LRU" + System.nanoTime() + "-";
        java.util.Map<String, Integer> reads = new java.util.TreeMap<>();
        for (int pass = 0; pass < 3; pass++) {
            for (int d = 0; d < 6; d++) {
                String delivery = prefix + d;
                Job stored = new Job("01JOB" + pass + d, delivery, cleanup.ruleName(), cleanup.ruleSnapshot(),
                        cleanup.argv(), cleanup.env(), null, true, cleanup.timeout(), 0, cleanup.backoff(), 1, null,
                        JobState.QUEUED, 0, null, Instant.EPOCH, null, null, null, null, null, false, null,
                        JobWorkflow.NONE, null, null);
                assertThat(StoredJobCheck.valuesRefusal(stored, () -> {
                    reads.merge(delivery, 1, Integer::sum);
                    return body;
                }, id -> java.util.Optional.empty())).isEmpty();
            }
        }

        assertThat(reads).hasSize(6).allSatisfy((delivery, times) -> assertThat(times).as(delivery).isEqualTo(1));
    }
}
