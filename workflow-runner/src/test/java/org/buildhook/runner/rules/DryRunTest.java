package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DryRunTest {

    private final RuleSet rules = TestRules.load("rules-valid.yaml");

    @Test
    void listsTheFiringRulesWithTheExactJobsMatchWouldPlan() {
        DryRun dryRun = rules.explain("default", TestEvents.seed());

        assertThat(dryRun.verdicts()).extracting(DryRun.Verdict::rule)
                .containsExactly("deploy-devel", "test-each-build", "notify-everything");
        assertThat(dryRun.verdicts()).allMatch(DryRun.Verdict::fires);
        assertThat(dryRun.jobs()).isEqualTo(rules.match("default", TestEvents.seed()));
    }

    @Test
    void saysWhyARuleDoesNotFire() {
        DryRun dryRun = rules.explain("default", TestEvents.fixture("build-412-promoted.json"));

        assertThat(dryRun.verdicts().get(0).whyNot()).isEqualTo("trigger is absent from the event, so it cannot match containers-devel");
        assertThat(dryRun.verdicts().get(1).fires()).isTrue();
        assertThat(dryRun.verdicts().get(2).fires()).isTrue();
        assertThat(rules.explain("default", TestEvents.fixture("build-7-unusual.json")).verdicts().get(1).whyNot())
                .isEqualTo("runs (each): no run has run name build-*");
    }

    @Test
    void rendersEveryArgumentQuotedSoNoneCanHideAnother() {
        String text = new DryRunRenderer(true).render(rules.explain("hooks", TestEvents.fixture("build-68-failed.json")));

        assertThat(text).startsWith("build 68 on endpoint \"hooks\": 2 of 3 rules fire, 4 jobs\n");
        assertThat(text).contains("rule deploy-devel: does not fire: endpoint 'hooks' does not match default\n");
        assertThat(text).contains("""
                rule notify-everything: fires, 1 job
                  job
                    argv:    ["/usr/bin/logger", "build 68 is FAILED"]
                    workdir: (runner default)
                    timeout: 10m, retries: 0, backoff: 10s, concurrency: unlimited, stdin: on
                    env:
                      BUILDHOOK_BUILD_ID="68"
                """);
        assertThat(text).contains("  job for run \"build-amd64-partner\"\n    argv:    [\"/opt/scripts/test.sh\", \"--run=build-amd64-partner\", \"amd64-partner\"]");
    }

    /** "2 of 3 rules fire, 1 jobs" read as a typo in the first line an operator sees (tryout16 F5). */
    @Test
    void theFirstLineCountsOneJobInTheSingular() {
        String text = new DryRunRenderer(true).render(rules.explain("default", TestEvents.fixture("build-7-unusual.json")));

        assertThat(text).startsWith("build 7 on endpoint \"default\": 1 of 3 rules fire, 1 job\n");
    }

    /** The reason quotes the payload's value: its control characters are shown, not sent to the terminal. */
    @Test
    void showsTheControlCharactersOfAPayloadValueInTheReasonARuleDoesNotFire() {
        String text = new DryRunRenderer(true).render(rules.explain("default", TestEvents.event("andy-corp/lmp",
                "PASSED", "\u001b[2J\u001b[31mEVIL\rX", java.util.List.of(TestEvents.run("build-a", "x", "PASSED")))));

        assertThat(text).contains("rule deploy-devel: does not fire: trigger '\\x1b[2J\\x1b[31mEVIL\\x0dX' does not match"
                + " containers-devel\n").doesNotContain("\u001b").doesNotContain("\r");
    }

    /**
     * escape29: the jobs' values were quoted as JSON, which escapes C0 but writes a C1 CSI (U+009B) and the bidirectional
     * and zero-width characters (U+202E, U+200B) as they are: a run name could reorder or hide what {@code buildhook test}
     * shows. They are shown escaped as job show shows them; the reason a rule does not fire too.
     */
    @Test
    void showsTheC1AndInvisibleCharactersOfAPayloadValueInTheJobsAndTheReasons() {
        String text = new DryRunRenderer(true).render(rules.explain("default", TestEvents.event("andy-corp/lmp",
                "PASSED", "dev\u202eved\u200b", java.util.List.of(TestEvents.run("build-a\u009b2J\u202ex\u2066", "x",
                        "PASSED")))));

        assertThat(text).contains("  job for run \"build-a\\x9b2J\\u202ex\\u2066\"\n")
                .contains("rule deploy-devel: does not fire: trigger 'dev\\u202eved\\u200b' does not match");
        assertThat(text).doesNotContain("\u009b").doesNotContain("\u202e").doesNotContain("\u200b").doesNotContain("\u2066");
    }

    @Test
    void masksTheValuesOfSecretLookingVariablesAsTheAdminApiDoes() {
        RuleSet secrets = TestRules.parse("""
                rules:
                  - name: signs
                    run:
                      command: [/bin/true]
                      env: {GPG_PASSPHRASE: hunter2-passphrase, NPM_AUTH: npm-auth-value, TARGET: staging}
                """);

        String text = new DryRunRenderer(true).render(secrets.explain("default", TestEvents.seed()));

        // buildhook test is run in CI to check a rules change: its output lands in CI logs.
        assertThat(text).contains("GPG_PASSPHRASE=\"***\"", "NPM_AUTH=\"***\"", "TARGET=\"staging\"")
                .doesNotContain("hunter2-passphrase", "npm-auth-value");
    }

    @Test
    void leavesOutNonFiringRulesWhenAskedTo() {
        String text = new DryRunRenderer(false).render(rules.explain("hooks", TestEvents.fixture("build-68-failed.json")));

        assertThat(text).doesNotContain("deploy-devel");
    }
}
