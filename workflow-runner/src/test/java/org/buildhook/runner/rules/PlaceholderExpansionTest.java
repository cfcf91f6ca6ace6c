package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.buildhook.runner.rules.TestEvents.event;
import static org.buildhook.runner.rules.TestEvents.run;

import java.util.List;
import org.buildhook.core.BuildEvent;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class PlaceholderExpansionTest {

    private static final RuleSet PER_RUN = TestRules.parse("""
            rules:
              - name: per-run
                when: {runs: {match: each}}
                run:
                  command: [/opt/handle.sh, "${run.name}", "--run=${run.name}", "${build.trigger}"]
                  env: {RUN: "${run.name}", LABEL: "run ${run.name} of ${build.id}"}
                  payload-values: as-sent   # the values unchecked (PayloadValues): what this test is about
            """);

    @ParameterizedTest
    @ValueSource(strings = {"\"; rm -rf / #", "$(id)", "`id`", "--help", "line\nbreak", "../../x", "a b\tc", "${build.id}", "*", ""})
    void aHostileRunNameReachesTheCommandAsOneUnchangedArgument(String hostile) {
        BuildEvent e = event("andy-corp/lmp", "PASSED", hostile, List.of(run(hostile, "x86", "PASSED")));

        PlannedJob job = PER_RUN.match("default", e).get(0);

        assertThat(job.argv()).containsExactly("/opt/handle.sh", hostile, "--run=" + hostile, hostile);
        assertThat(job.env()).containsEntry("RUN", hostile)
                .containsEntry("LABEL", "run " + hostile + " of 42")
                .containsEntry("BUILDHOOK_RUN_NAME", hostile)
                .containsEntry("BUILDHOOK_TRIGGER", hostile);
        assertThat(job.runName()).isEqualTo(hostile);
    }

    @Test
    void anAbsentOptionalValueExpandsToAnEmptyArgumentNotToNone() {
        RuleSet rules = TestRules.parse("rules:\n  - name: r\n    run: {command: [/bin/echo, \"${build.trigger}\", end]}\n");

        PlannedJob job = rules.match("default", TestEvents.fixture("build-412-promoted.json")).get(0);

        assertThat(job.argv()).containsExactly("/bin/echo", "", "end");
        assertThat(job.env()).containsEntry("BUILDHOOK_TRIGGER", "");
    }

    @Test
    void doubleDollarWritesALiteralPlaceholder() {
        RuleSet rules = TestRules.parse("rules:\n  - name: r\n    run: {command: [/bin/echo, \"$${build.id} is ${build.id}, $HOME $$\"]}\n");

        assertThat(rules.match("default", TestEvents.seed()).get(0).argv())
                .containsExactly("/bin/echo", "${build.id} is 67, $HOME $$");
    }

    @Test
    void everyPlaceholderHasItsValue() {
        RuleSet rules = TestRules.parse("""
                rules:
                  - name: all
                    when: {runs: {match: each, name: build-aarch64}}
                    run:
                      command: [/bin/echo, "${build.id}", "${build.status}", "${build.project}", "${build.factory}",
                                "${build.trigger}", "${build.url}", "${build.web_url}", "${run.name}", "${run.status}",
                                "${run.host_tag}", "${run.url}", "${run.log_url}"]
                """);

        assertThat(rules.match("default", TestEvents.seed()).get(0).argv()).containsExactly(
                "/bin/echo", "67", "PASSED", "andy-corp/lmp", "andy-corp", "containers-devel",
                "https://api.foundries.io/projects/andy-corp/lmp/builds/67/",
                "https://ci.foundries.io/projects/andy-corp/lmp/builds/67",
                "build-aarch64", "PASSED", "aarch64",
                "https://api.foundries.io/projects/andy-corp/lmp/builds/67/runs/build-aarch64/",
                "https://api.foundries.io/projects/andy-corp/lmp/builds/67/runs/build-aarch64/console.log");
    }

    @Test
    void jobsOfOtherRulesGetNoRunVariables() {
        PlannedJob job = TestRules.parse("rules:\n  - name: r\n    when: {runs: {name: build-*}}\n    run: {command: [/bin/true]}\n")
                .match("default", TestEvents.seed()).get(0);

        assertThat(job.env().keySet()).noneMatch(k -> k.startsWith("BUILDHOOK_RUN_"));
        assertThat(job.runName()).isNull();
    }
}
