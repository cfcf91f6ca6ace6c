package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a reload changed that the stored jobs do not follow (tryout33 F1, F11), from two real rules files. */
class RulesChangeTest {

    private static final String DEPLOY = "  - name: %s\n    when: {status: PASSED}\n%s"
            + "    run: {command: [/opt/deploy.sh, \"${build.id}\"], concurrency: 1}\n";

    @Test
    void aRuleTakenOutIsTakenForRenamedOnlyToANewRuleWithTheSameRun() {
        RuleSet before = TestRules.parse("rules:\n" + DEPLOY.formatted("deploy", "")
                + "  - name: notify\n    run: {command: [/bin/true]}\n");
        RuleSet renamed = TestRules.parse("rules:\n" + DEPLOY.formatted("deploy-v2", "    approval: {}\n")
                + "  - name: notify\n    run: {command: [/bin/true]}\n");
        RuleSet replaced = TestRules.parse("rules:\n  - name: deploy-v2\n    run: {command: [/opt/other.sh]}\n"
                + "  - name: notify\n    run: {command: [/bin/true]}\n");

        assertThat(RulesChange.between(before, renamed).renamedTo("deploy")).contains("deploy-v2");
        assertThat(RulesChange.between(before, renamed).approvalAdded()).as("a new rule is no rule changed").isEmpty();
        assertThat(RulesChange.between(before, replaced).renamedTo("deploy")).isEmpty();
        assertThat(RulesChange.between(before, before).renamedTo()).isEmpty();
    }

    @Test
    void anApprovalIsAddedOnlyToARuleThatHadNone() {
        RuleSet none = TestRules.parse("rules:\n" + DEPLOY.formatted("deploy", ""));
        RuleSet gated = TestRules.parse("rules:\n" + DEPLOY.formatted("deploy", "    approval: {expires: 1h}\n"));
        RuleSet longer = TestRules.parse("rules:\n" + DEPLOY.formatted("deploy", "    approval: {expires: 8h}\n"));

        assertThat(RulesChange.between(none, gated).approvalAdded()).containsExactly("deploy");
        assertThat(RulesChange.between(gated, longer).approvalAdded()).isEmpty();
        assertThat(RulesChange.between(gated, none).approvalAdded()).isEmpty();
    }
}
