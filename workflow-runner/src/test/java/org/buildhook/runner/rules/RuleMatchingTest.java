package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.buildhook.runner.rules.TestEvents.event;
import static org.buildhook.runner.rules.TestEvents.run;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.core.BuildEvent;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;

class RuleMatchingTest {

    private static final BuildEvent SEED = TestEvents.seed();           // andy-corp/lmp 67 PASSED containers-devel
    private static final BuildEvent FAILED = TestEvents.fixture("build-68-failed.json");
    private static final BuildEvent PROMOTED = TestEvents.fixture("build-412-promoted.json"); // acme/lmp, no trigger
    private static final BuildEvent UNUSUAL = TestEvents.fixture("build-7-unusual.json");     // zürich/lmp nightly

    private static List<String> firing(String when, BuildEvent event) {
        return firing(when, "default", event);
    }

    private static List<String> firing(String when, String endpoint, BuildEvent event) {
        RuleSet rules = TestRules.parse("rules:\n  - name: r\n    when: " + when + "\n    run: {command: [/bin/true]}\n");
        return rules.match(endpoint, event).stream().map(PlannedJob::ruleName).toList();
    }

    @Test
    void aRuleWithoutWhenMatchesEveryEvent() {
        RuleSet rules = TestRules.parse("rules:\n  - name: all\n    run: {command: [/bin/true]}\n");

        for (BuildEvent e : List.of(SEED, FAILED, PROMOTED, UNUSUAL)) {
            assertThat(rules.match("default", e)).extracting(PlannedJob::ruleName).containsExactly("all");
        }
    }

    @Test
    void projectIsAGlobOnFactorySlashProject() {
        assertThat(firing("{project: 'andy-corp/*'}", SEED)).containsExactly("r");
        assertThat(firing("{project: 'andy-corp/*'}", PROMOTED)).isEmpty();
        assertThat(firing("{project: 'andy-corp/lmp'}", SEED)).containsExactly("r");
        assertThat(firing("{project: '*'}", SEED)).as("* stops at /").isEmpty();
        assertThat(firing("{project: '**'}", SEED)).containsExactly("r");
        assertThat(firing("{project: '*/lm?'}", PROMOTED)).containsExactly("r");
        assertThat(firing("{project: 'z[uü]rich/*'}", UNUSUAL)).containsExactly("r");
    }

    @Test
    void factoryIsAGlobToo() {
        assertThat(firing("{factory: andy-corp}", SEED)).containsExactly("r");
        assertThat(firing("{factory: andy-*}", PROMOTED)).isEmpty();
        assertThat(firing("{factory: [andy-*, acme]}", PROMOTED)).as("a list is OR").containsExactly("r");
    }

    @Test
    void aValueBetweenSlashesIsAWholeValueRegex() {
        assertThat(firing("{project: '/(andy-corp|acme)/lmp/'}", SEED)).containsExactly("r");
        assertThat(firing("{project: '/(andy-corp|acme)/lmp/'}", PROMOTED)).containsExactly("r");
        assertThat(firing("{project: '/andy/'}", SEED)).as("whole value, not a search").isEmpty();
        assertThat(firing("{project: '/ANDY-CORP/.*/i'}", SEED)).as("/…/i ignores case").containsExactly("r");
    }

    @Test
    void triggerMatchesTheTriggerNameAndNeverAnAbsentOne() {
        assertThat(firing("{trigger: containers-devel}", SEED)).containsExactly("r");
        assertThat(firing("{trigger: containers-*}", UNUSUAL)).isEmpty();
        assertThat(firing("{trigger: '**'}", PROMOTED)).as("build 412 has no trigger").isEmpty();
        assertThat(firing("{trigger: [nightly, containers-devel]}", UNUSUAL)).containsExactly("r");
    }

    @Test
    void statusIsOneOrAListAndIgnoresCase() {
        assertThat(firing("{status: PASSED}", SEED)).containsExactly("r");
        assertThat(firing("{status: passed}", SEED)).containsExactly("r");
        assertThat(firing("{status: [FAILED, PROMOTED]}", SEED)).isEmpty();
        assertThat(firing("{status: [FAILED, PROMOTED]}", FAILED)).containsExactly("r");
        assertThat(firing("{status: [FAILED, PROMOTED]}", PROMOTED)).containsExactly("r");
    }

    @Test
    void endpointMatchesTheEndpointTheDeliveryCameIn() {
        assertThat(firing("{endpoint: factory-*}", "factory-a", SEED)).containsExactly("r");
        assertThat(firing("{endpoint: factory-*}", "default", SEED)).isEmpty();
    }

    @Test
    void matchersCombineWithAnd() {
        String when = "{project: 'andy-corp/*', trigger: containers-devel, status: PASSED}";

        assertThat(firing(when, SEED)).containsExactly("r");
        assertThat(firing(when, FAILED)).as("same project, trigger differs? status differs").isEmpty();
        assertThat(firing(when, event("andy-corp/lmp", "PASSED", "other", List.of()))).isEmpty();
        assertThat(firing(when, event("acme/lmp", "PASSED", "containers-devel", List.of()))).isEmpty();
        assertThat(firing(when, event("andy-corp/x", "PASSED", "containers-devel", List.of()))).containsExactly("r");
    }

    @Test
    void runsAnyNeedsOneRunWithAllItsProperties() {
        assertThat(firing("{runs: {name: 'build-*', host-tag: aarch64}}", SEED)).containsExactly("r");
        assertThat(firing("{runs: {match: any, name: 'publish-*', host-tag: aarch64}}", SEED))
                .as("publish-compose-apps runs on amd64-partner").isEmpty();
        assertThat(firing("{runs: {host-tag: [armhf, riscv64]}}", SEED)).containsExactly("r");
        assertThat(firing("{runs: {status: FAILED}}", SEED)).isEmpty();
        assertThat(firing("{runs: {status: FAILED}}", FAILED)).containsExactly("r");
    }

    @Test
    void runsAllNeedsEveryRunAndAtLeastOne() {
        assertThat(firing("{runs: {match: all, status: PASSED}}", SEED)).containsExactly("r");
        assertThat(firing("{runs: {match: all, status: PASSED}}", FAILED)).isEmpty();
        assertThat(firing("{runs: {match: all, name: 'build-*'}}", SEED)).as("publish-compose-apps").isEmpty();
        assertThat(firing("{runs: {match: all}}", event("a/b", "PASSED", null, List.of()))).isEmpty();
    }

    @Test
    void runsEachPlansOneJobPerMatchingRunOfTheSeedPayload() {
        RuleSet rules = TestRules.parse("""
                rules:
                  - name: per-run
                    when: {runs: {match: each, name: "build-*"}}
                    run: {command: [/opt/test.sh, "${run.name}", "${run.host_tag}"]}
                """);

        List<PlannedJob> jobs = rules.match("default", SEED);

        assertThat(jobs).hasSize(3);
        assertThat(jobs).extracting(PlannedJob::runName)
                .containsExactly("build-amd64-partner", "build-armhf", "build-aarch64");
        assertThat(jobs.get(2).argv()).containsExactly("/opt/test.sh", "build-aarch64", "aarch64");
        assertThat(jobs.get(2).env()).containsEntry("BUILDHOOK_RUN_NAME", "build-aarch64")
                .containsEntry("BUILDHOOK_RUN_LOG_URL",
                        "https://api.foundries.io/projects/andy-corp/lmp/builds/67/runs/build-aarch64/console.log");
    }

    @Test
    void runsEachWithoutAMatchingRunPlansNothing() {
        assertThat(firing("{runs: {match: each, host-tag: riscv64}}", SEED)).isEmpty();
        assertThat(firing("{runs: {match: each, host-tag: amd64-partner}}", SEED)).containsExactly("r", "r");
    }

    @Test
    void aRunWithoutHostTagNeverMatchesAHostTagMatcher() {
        BuildEvent e = event("a/b", "PASSED", null, List.of(run("build-x", null, "PASSED")));

        assertThat(firing("{runs: {host-tag: '**'}}", e)).isEmpty();
        assertThat(firing("{runs: {name: build-x}}", e)).containsExactly("r");
    }

    @Test
    void firingRulesComeInFileOrderWithTheirOwnSettingsAndDefaults() {
        RuleSet rules = TestRules.load("rules-valid.yaml");

        List<PlannedJob> jobs = rules.match("default", SEED);

        assertThat(jobs).extracting(PlannedJob::ruleName)
                .containsExactly("deploy-devel", "test-each-build", "test-each-build", "test-each-build", "notify-everything");
        PlannedJob deploy = jobs.get(0);
        assertThat(deploy.argv()).containsExactly("/opt/scripts/deploy.sh", "67", "containers-devel");
        assertThat(deploy.workdir()).isEqualTo(Path.of("/opt/scripts"));
        assertThat(deploy.env()).containsEntry("TARGET", "staging").containsEntry("PROJECT_COPY", "andy-corp/lmp");
        assertThat(deploy.timeout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(deploy.retries()).isEqualTo(2);
        assertThat(deploy.backoff()).isEqualTo(Duration.ofSeconds(30));
        assertThat(deploy.concurrency()).isEqualTo(1);
        assertThat(deploy.stdin()).isFalse();
        assertThat(deploy.runName()).isNull();

        PlannedJob notify = jobs.get(4);
        assertThat(notify.argv()).containsExactly("/usr/bin/logger", "build 67 is PASSED");
        assertThat(notify.workdir()).isNull();
        assertThat(notify.timeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(notify.retries()).isZero();
        assertThat(notify.backoff()).isEqualTo(Duration.ofSeconds(10));
        assertThat(notify.concurrency()).isZero();
        assertThat(notify.stdin()).isTrue();
    }

    @Test
    void aDisabledRuleIsCheckedButNeverFires() {
        RuleSet rules = TestRules.parse("rules:\n  - name: off\n    enabled: false\n    run: {command: [/bin/true]}\n");

        assertThat(rules.ruleNames()).isEmpty();
        assertThat(rules.match("default", SEED)).isEmpty();
    }

    @Test
    void theSnapshotIsTheRuleAsCanonicalJson() {
        RuleSet rules = TestRules.parse("""
                rules:
                  - run: {retries: 2, command: [/bin/echo, "${build.id}"]}   # keys in any order
                    name: snap
                """);

        assertThat(rules.snapshots()).containsOnlyKeys("snap");
        assertThat(rules.match("default", SEED).get(0).ruleSnapshot()).isEqualTo(rules.snapshots().get("snap"))
                .isEqualTo("{\"name\":\"snap\",\"run\":{\"command\":[\"/bin/echo\",\"${build.id}\"],\"retries\":2}}");
    }

    @Test
    void everyJobCarriesTheBuildhookVariables() {
        PlannedJob job = TestRules.parse("rules:\n  - name: env-rule\n    run: {command: [/bin/true]}\n")
                .match("hooks", SEED).get(0);

        assertThat(job.env()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
                "BUILDHOOK_BUILD_ID", "67",
                "BUILDHOOK_STATUS", "PASSED",
                "BUILDHOOK_PROJECT", "andy-corp/lmp",
                "BUILDHOOK_FACTORY", "andy-corp",
                "BUILDHOOK_TRIGGER", "containers-devel",
                "BUILDHOOK_BUILD_URL", "https://api.foundries.io/projects/andy-corp/lmp/builds/67/",
                "BUILDHOOK_WEB_URL", "https://ci.foundries.io/projects/andy-corp/lmp/builds/67",
                "BUILDHOOK_BUILD_NAME", "",
                "BUILDHOOK_ENDPOINT", "hooks",
                "BUILDHOOK_RULE", "env-rule"));
    }
}
