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

    /**
     * tryout47b F1: a promoted build's name (JobServ's {@code name}, its release tag {@code v95}) had no placeholder, so
     * "archive a release when a build is promoted" needed a JSON parser in the script. {@code ${build.name}} and {@code
     * BUILDHOOK_BUILD_NAME} carry it; a build without one gives the empty string, as the other optional fields do.
     */
    @Test
    void aPromotedBuildsNameIsItsPlaceholderAndVariable() {
        RuleSet rules = TestRules.parse("""
                rules:
                  - name: archive-release
                    run:
                      command: [/opt/archive.sh, "${build.id}", "${build.name}", "--release=${build.name}"]
                      env: {RELEASE: "${build.name}"}
                """);

        PlannedJob promoted = rules.match("default", TestEvents.fixture("build-412-promoted.json")).get(0);
        assertThat(promoted.refused()).as(promoted.refusal()).isFalse();
        assertThat(promoted.argv()).containsExactly("/opt/archive.sh", "412", "v95", "--release=v95");
        assertThat(promoted.env()).containsEntry("RELEASE", "v95").containsEntry("BUILDHOOK_BUILD_NAME", "v95");

        PlannedJob unnamed = rules.match("default", TestEvents.seed()).get(0);
        assertThat(unnamed.argv()).containsExactly("/opt/archive.sh", "67", "", "--release=");
        assertThat(unnamed.env()).containsEntry("RELEASE", "").containsEntry("BUILDHOOK_BUILD_NAME", "");
    }

    /** The build's name is the sender's text: checked like the trigger, a name (no '/'), no '..', no leading '-'. */
    @ParameterizedTest
    @ValueSource(strings = {"../victim", "release/v95", "--upload-pack=id", "v95;id", "$(id)", "v 95"})
    void aBuildNameThatIsNotAPlainNameIsRefusedWhereItsJobIsPlanned(String name) {
        RuleSet rules = TestRules.parse("rules:\n  - name: archive-release\n    run: {command: [/opt/archive.sh,"
                + " \"${build.name}\"]}\n");
        BuildEvent named = new BuildEvent(412, "https://api.foundries.io/projects/acme/lmp/builds/412/",
                org.buildhook.core.BuildStatus.of("PROMOTED"), List.of(),
                "https://ci.foundries.io/projects/acme/lmp/builds/412", name, null, null, null, java.util.Map.of());

        PlannedJob job = rules.match("default", named).get(0);

        assertThat(job.refused()).as(name).isTrue();
        assertThat(job.refusal()).startsWith("not started: rule 'archive-release' writes ${build.name} into argument 1"
                + " of 'command'").contains("$BUILDHOOK_BUILD_NAME");
        assertThat(job.argv()).doesNotContain(name);
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
