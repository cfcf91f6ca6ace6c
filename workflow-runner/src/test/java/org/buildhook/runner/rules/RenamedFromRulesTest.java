package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** rename35 (tryout34 F7): {@code renamed-from} names the old name(s) of a renamed rule, validated like any key. */
class RenamedFromRulesTest {

    @Test
    void aRuleSaysTheNamesItWasRenamedFromOneOrAList() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: deploy-v2\n    renamed-from: deploy\n    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: lab\n    renamed-from: [lab-old, lab-older]\n    run: {command: [/opt/lab.sh]}\n"
                + "  - name: plain\n    run: {command: [/opt/plain.sh]}\n");

        assertThat(rules.renamedFrom()).containsExactly(Map.entry("deploy-v2", List.of("deploy")),
                Map.entry("lab", List.of("lab-old", "lab-older")));
    }

    @Test
    void aNameThatIsGoneIsFineAndADisabledRuleMayBeTheOldName() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: deploy\n    enabled: false\n    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: deploy-v2\n    renamed-from: [deploy, deploy-2019]\n    run: {command: [/opt/deploy.sh]}\n");

        assertThat(rules.renamedFrom()).containsExactly(Map.entry("deploy-v2", List.of("deploy", "deploy-2019")));
    }

    @Test
    void refusesARuleInForceItselfAnOldNameTakenTwiceAndABadNameWithTheirLocations() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse("rules:\n"
                + "  - name: deploy\n    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: deploy-v2\n    renamed-from: deploy\n    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: lab\n    renamed-from: [lab, old]\n    run: {command: [/opt/lab.sh]}\n"
                + "  - name: lab2\n    renamed-from: [old, 'a b']\n    run: {command: [/opt/lab.sh]}\n"
                + "  - name: none\n    renamed-from: []\n    run: {command: [/opt/lab.sh]}\n"));

        assertThat(e.problems()).extracting(Problem::toString).containsExactly(
                "rules.yaml:5:19: rule 'deploy-v2' says it is renamed from 'deploy', which is a rule in force in this"
                        + " file: its jobs are its own; remove 'deploy' from 'renamed-from', or remove (or disable with"
                        + " enabled: false) rule 'deploy'",
                "rules.yaml:8:20: rule 'lab' is renamed from itself: 'renamed-from' names the rule's old name(s), the"
                        + " ones its jobs were stored under before (remove 'lab')",
                "rules.yaml:11:20: rule 'lab2' says it is renamed from 'old', as rule 'lab' does (line 8): a rule's"
                        + " old name belongs to one rule only",
                "rules.yaml:11:25: bad rule name 'a b' in 'renamed-from': a rule's old name is a rule name (letters,"
                        + " digits, '.', '_' and '-', at most 100, starting with a letter or digit)",
                "rules.yaml:14:19: 'renamed-from' is an empty list: write the rule's old name (or a list of them),"
                        + " or remove the key");
    }

    /**
     * tryout36 F2: a rule with a mistake of its own was left out of the names {@code renamed-from} is checked
     * against, so naming it was reported only once that mistake was fixed. Its name is known: both in one run.
     */
    @Test
    void aRenamedFromNamingARuleInForceWithAMistakeOfItsOwnIsReportedWithThatMistake() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse("rules:\n"
                + "  - name: deploy-staging\n    renamed-from: [deploy-staging, lab-test]\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: lab-test\n    run: {command: [/opt/lab.sh, '${build.idd}']}\n"));

        assertThat(e.problems()).extracting(Problem::toString).anySatisfy(p -> assertThat(p)
                .startsWith("rules.yaml:3:20: rule 'deploy-staging' is renamed from itself"))
                .anySatisfy(p -> assertThat(p).startsWith("rules.yaml:3:36: rule 'deploy-staging' says it is renamed"
                        + " from 'lab-test', which is a rule in force in this file"))
                .anySatisfy(p -> assertThat(p).startsWith("rules.yaml:6:").contains("${build.idd}"))
                .hasSize(3);
    }

    /**
     * tryout36 F9: {@code renamed-from} on a rule without {@code concurrency} was accepted silently, though it then
     * keeps nothing from running beside the old name's running jobs (supersede stops only those of older builds): a warning at
     * the key, not a mistake; none on a rule with a concurrency.
     */
    @Test
    void aRenamedFromOnARuleWithoutConcurrencyIsAWarningAtTheKeySayingItProtectsNothing() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: deploy-v9\n    renamed-from: deploy-v8\n"
                + "    supersede: {key: '${build.project}', running: cancel}\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "  - name: lab\n    renamed-from: lab-old\n    run: {command: [/opt/lab.sh], concurrency: 1}\n");

        assertThat(rules.size()).as("a warning, not a mistake: the file loads").isEqualTo(2);
        assertThat(rules.writingWarnings()).extracting(Problem::toString).containsExactly("rules.yaml:3:5:"
                + " 'renamed-from' keeps nothing from running beside the old name's running jobs here: rule"
                + " 'deploy-v9' has no 'concurrency', and the key only makes a rule's concurrency count them"
                + " ('supersede' with running: cancel stops only those of an older build of its key); add"
                + " 'concurrency: 1' to its run for its jobs to wait for them");
    }
}
