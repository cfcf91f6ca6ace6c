package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;

class SupersedeRulesTest {

    private static List<String> problems(String yaml) {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse(yaml));
        assertThat(e).as("a rules file with mistakes").isNotNull();
        return e.problems().stream().map(Problem::toString).toList();
    }

    @Test
    void rendersTheSupersedeKeyAndTheBuildIdIntoThePlannedJob() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: deploy\n"
                + "    supersede: {key: \"${build.project}/${build.trigger}\", running: cancel}\n"
                + "    run: {command: [/opt/deploy.sh]}\n");

        PlannedJob job = rules.match("default", TestEvents.seed()).get(0);

        assertThat(job.workflow().supersedeKey()).isEqualTo("andy-corp/lmp/containers-devel");
        assertThat(job.workflow().buildId()).isEqualTo(67L);
        assertThat(job.workflow().supersedeRunning()).isTrue();
    }

    @Test
    void aRuleWithoutSupersedePlansAJobWithoutAKey() {
        PlannedJob job = TestRules.parse("rules:\n  - name: deploy\n    run: {command: [/opt/deploy.sh]}\n")
                .match("default", TestEvents.seed()).get(0);

        assertThat(job.workflow().supersedeKey()).isNull();
        assertThat(job.workflow().supersedeRunning()).isFalse();
    }

    @Test
    void reportsEveryMistakeOfASupersedeWithItsLocation() {
        assertThat(problems("rules:\n"
                + "  - name: a\n"
                + "    supersede: {running: stop}\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: b\n"
                + "    supersede: {key: \"${run.name}\", kee: x}\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: c\n"
                + "    supersede: \"${build.project}\"\n"
                + "    run: {command: [/opt/deploy.sh]}\n"))
                .containsExactly(
                        "rules.yaml:3:16: 'supersede' has no 'key' (write key: \"${build.project}/${build.trigger}\")",
                        "rules.yaml:3:26: 'running' must be keep (a running job of an older build goes on) or cancel"
                                + " (its process tree is killed), got 'stop'",
                        "rules.yaml:6:22: placeholder '${run.name}' needs a run: use it only in rules with runs:"
                                + " {match: each}",
                        "rules.yaml:6:37: unknown key 'kee' in supersede (did you mean 'key'?)",
                        "rules.yaml:9:16: 'supersede' must be a mapping (key: value lines), got a string"
                                + " ('${build.project}')");
    }

    @Test
    void theDryRunShowsTheKeyAndWhatItWouldSupersede() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: deploy\n"
                + "    supersede: {key: \"${build.project}\"}\n"
                + "    run: {command: [/opt/deploy.sh]}\n");

        String text = new DryRunRenderer(false).render(rules.explain("default", TestEvents.seed()));

        assertThat(text).contains("    supersede: key \"andy-corp/lmp\" at build 67: supersedes the queued and waiting"
                + " jobs of older builds with this key (running ones go on); superseded at once if a newer build was"
                + " already seen\n");
    }

    /**
     * tryout24 F6: for a rule with an approval the dry run said the newer build replaced the approved and
     * running jobs at once; it replaces only the older jobs awaiting an approval until it is approved.
     */
    @Test
    void theDryRunOfARuleWithAnApprovalSaysItSupersedesTheApprovedJobsOnlyOnceApproved() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: deploy\n"
                + "    supersede: {key: \"${build.project}\", running: cancel}\n"
                + "    approval: {}\n"
                + "    run: {command: [/opt/deploy.sh]}\n");

        String text = new DryRunRenderer(false).render(rules.explain("default", TestEvents.seed()));

        assertThat(text).contains("    supersede: key \"andy-corp/lmp\" at build 67: while it awaits its approval,"
                + " supersedes only the older builds' jobs with this key that await one too; once approved, supersedes"
                + " their queued and waiting jobs and cancels running ones; superseded at once if a newer build was"
                + " already seen\n");
    }
}
