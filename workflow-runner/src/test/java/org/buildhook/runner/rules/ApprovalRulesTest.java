package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;

class ApprovalRulesTest {

    @Test
    void aRuleWithApprovalPlansJobsThatNeedOneWithItsExpiryOrTheDefault() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: prod\n    approval: {expires: 8h}\n    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: staging\n    approval: {}\n    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: plain\n    run: {command: [/opt/deploy.sh]}\n");

        var jobs = rules.match("default", TestEvents.seed());

        assertThat(jobs).extracting(j -> j.workflow().approvalExpiry())
                .containsExactly(Duration.ofHours(8), Duration.ofHours(24), null);
    }

    @Test
    void reportsABadApprovalWithItsLocation() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse("rules:\n"
                + "  - name: prod\n    approval: {expires: 0s, by: ops}\n    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: other\n    approval: yes\n    run: {command: [/opt/deploy.sh]}\n"));

        assertThat(e.problems()).extracting(Problem::toString).containsExactly(
                "rules.yaml:3:25: 'expires' must be longer than zero",
                "rules.yaml:3:29: unknown key 'by' in approval",
                "rules.yaml:6:15: 'approval' must be a mapping (key: value lines), got a boolean ('yes')");
    }

    @Test
    void theDryRunSaysTheJobWaitsForAnApproval() {
        RuleSet rules = TestRules.parse("rules:\n  - name: prod\n    approval: {expires: 2h}\n"
                + "    run: {command: [/opt/deploy.sh]}\n");
        PlannedJob job = rules.match("default", TestEvents.seed()).get(0);

        assertThat(job.workflow().needsApproval()).isTrue();
        assertThat(new DryRunRenderer(false).render(rules.explain("default", TestEvents.seed())))
                .contains("    approval: waits as AWAITING_APPROVAL until approved (buildhook approve, the admin API"
                        + " or the status page) or rejected; expires after 2h\n");
    }
}
