package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;

class ResourceRulesTest {

    @Test
    void aJobCarriesTheUnitsItNeedsAndTheirCapacities() {
        RuleSet rules = TestRules.parse("rules:\n  - name: soak\n"
                + "    run: {command: [/opt/soak.sh], resources: {boards: 2, power: 1}}\n"
                + "resources: {boards: 3, power: 1, phones: 5}\n");

        PlannedJob job = rules.match("default", TestEvents.seed()).get(0);

        assertThat(job.workflow().resources()).isEqualTo(Map.of("boards", 2, "power", 1));
        assertThat(job.workflow().capacities()).isEqualTo(Map.of("boards", 3, "power", 1));
        assertThat(rules.resources()).containsOnlyKeys("boards", "phones", "power");
        assertThat(new DryRunRenderer(false).render(rules.explain("default", TestEvents.seed()))).contains(
                "    resources: waits (WAITING, first come first served) until it can hold boards 2 of 3; power 1 of 1"
                        + " for each attempt\n");
    }

    @Test
    void reportsUnknownResourcesTooManyUnitsAndBadCapacitiesWithTheirLocations() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse("resources:\n"
                + "  boards: 3\n"
                + "  phones: 0\n"
                + "rules:\n"
                + "  - name: a\n"
                + "    run: {command: [/opt/a.sh], resources: {bords: 1, boards: 4}}\n"));

        assertThat(e.problems()).extracting(Problem::toString).containsExactly(
                "rules.yaml:3:11: the capacity of resource 'phones' must be between 1 and 10000, got 0",
                "rules.yaml:6:45: unknown resource 'bords' (did you mean 'boards'?); declared: boards",
                "rules.yaml:6:63: the units of resource 'boards' (its capacity is 3) must be between 1 and 3, got 4");
    }

    /**
     * units32: each resource tells its jobs their unit numbers in a variable named after it. Two names that give one
     * variable were refused at load (units32), so a rules file valid before the variables existed no longer loaded
     * after an upgrade (review32: the rules syntax is a contract). Now it loads with a warning at the second, saying
     * which other and what to do; a job holding units of both is told neither (either's numbers read as the other's
     * would name a board another job holds), one holding units of one of them is told its own.
     */
    @Test
    void twoResourceNamesThatGiveOneVariableStillLoadWithAWarningAndAJobHoldingBothIsToldNeither() {
        assertThat(ResourceVariable.of("lab-boards")).isEqualTo("BUILDHOOK_RESOURCE_LAB_BOARDS");
        assertThat(ResourceVariable.of("imx8.Boards_2")).isEqualTo("BUILDHOOK_RESOURCE_IMX8_BOARDS_2");
        assertThat(ResourceVariable.variables(Map.of("lab-boards", java.util.List.of(3, 1), "power", java.util.List.of(1))))
                .isEqualTo(Map.of("BUILDHOOK_RESOURCE_LAB_BOARDS", "1,3", "BUILDHOOK_RESOURCE_POWER", "1"));
        assertThat(ResourceVariable.variables(Map.of("lab-boards", java.util.List.of(2), "lab_boards",
                java.util.List.of(1), "Lab.Boards", java.util.List.of(1), "power", java.util.List.of(1))))
                .isEqualTo(Map.of("BUILDHOOK_RESOURCE_POWER", "1"));

        RuleSet rules = TestRules.parse("resources:\n"
                + "  lab-boards: 2\n"
                + "  power: 1\n"
                + "  lab_boards: 3\n"
                + "  Lab.Boards: 1\n"
                + "rules:\n"
                + "  - name: a\n"
                + "    run: {command: [/opt/a.sh], resources: {lab-boards: 1}}\n");

        assertThat(rules.resources()).containsOnlyKeys("lab-boards", "power", "lab_boards", "Lab.Boards");
        assertThat(rules.writingWarnings()).extracting(Problem::toString).containsExactly(
                "rules.yaml:4:3: resource 'lab_boards' would tell its jobs their units in"
                        + " BUILDHOOK_RESOURCE_LAB_BOARDS, as resource 'lab-boards' (line 2) does: names that differ only"
                        + " in case or in '.', '_' and '-' give one variable, so a job holding units of both is told"
                        + " neither; rename one",
                "rules.yaml:5:3: resource 'Lab.Boards' would tell its jobs their units in"
                        + " BUILDHOOK_RESOURCE_LAB_BOARDS, as resource 'lab-boards' (line 2) does: names that differ only"
                        + " in case or in '.', '_' and '-' give one variable, so a job holding units of both is told"
                        + " neither; rename one");
    }

    @Test
    void theDryRunSaysWhichResourcesAFollowUpWouldWaitFor() {
        RuleSet rules = TestRules.parse("resources: {boards: 3, power: 1}\n"
                + "rules:\n  - name: deploy\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "    on-failure:\n"
                + "      command: [/opt/bisect.sh, \"${job.id}\"]\n"
                + "      resources: {boards: 2, power: 1}\n"
                + "      on-success: {command: [/opt/log.sh]}\n");

        assertThat(new DryRunRenderer(false).render(rules.explain("default", TestEvents.seed()))).contains(
                "      on-failure: [\"/opt/bisect.sh\",\"${job.id}\"] (waits until it can hold boards 2 of 3; power 1 of 1)\n"
                        + "        on-success: [\"/opt/log.sh\"]\n");
    }
}
