package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code buildhook check} on a file with a mistake in every workflow key at once: each is reported,
 * all together, with its file, line and column.
 */
class WorkflowCheckTest {

    @Test
    void reportsAMistakeInEveryWorkflowKeyAtOnceWithItsLocation() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse("resources:\n"
                + "  boards: many\n"
                + "  \"lab boards\": 2\n"
                + "rules:\n"
                + "  - name: deploy\n"
                + "    supersede: {key: \"${job.id}\", running: stop}\n"
                + "    approval: {expires: soon}\n"
                + "    run: {command: [/opt/deploy.sh], resources: {phones: 1}}\n"
                + "    on-failure:\n"
                + "      command: [/opt/page.sh]\n"
                + "      approval: {}\n"
                + "      resources: {boards: 0}\n"
                + "    on-cancel: [/opt/unlock.sh]\n"));

        List<String> problems = e.problems().stream().map(Problem::toString).toList();
        assertThat(problems).containsExactly(
                "rules.yaml:2:11: the capacity of resource 'boards' must be a whole number, got a string ('many')",
                "rules.yaml:3:3: bad resource name 'lab boards': use letters, digits, '.', '_' and '-' (at most 100),"
                        + " starting with a letter or digit",
                "rules.yaml:6:22: placeholder '${job.id}' is only for follow-ups, not for a supersede key",
                "rules.yaml:6:44: 'running' must be keep (a running job of an older build goes on) or cancel (its"
                        + " process tree is killed), got 'stop'",
                "rules.yaml:7:25: bad duration 'soon': write a number and a unit (ms, s, m, h, d), for example 30s, 10m"
                        + " or 1h30m in 'expires'",
                "rules.yaml:8:50: unknown resource 'phones'; declare it with its capacity under the top-level"
                        + " 'resources:'",
                "rules.yaml:11:7: unknown key 'approval' in 'on-failure': a follow-up has no approval of its own, only a"
                        + " rule does (it starts when its job ends that way, as a job of that rule's delivery)",
                "rules.yaml:12:19: resource 'boards' has no valid capacity: fix its declaration under the"
                        + " top-level 'resources:'",
                "rules.yaml:13:16: 'on-cancel' (a follow-up: the keys of an action, e.g. on-cancel: {command:"
                        + " [/path/to/program, arg]}) must be a mapping (key: value lines), got a list");
    }

    /** tryout22: {@code on-failure:} with nothing after it was called "a string ('')". */
    @Test
    void aKeyWithNothingAfterItIsCalledEmptyNotAString() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "    on-failure:\n"
                + "    on-cancel: ''\n"
                + "  - name: page\n"
                + "    run:\n"));

        List<String> problems = e.problems().stream().map(Problem::toString).toList();
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("rules.yaml:4:").contains("'on-failure'")
                .endsWith(" is empty: write its keys under it, indented (key: value lines), or remove it"));
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("rules.yaml:5:").contains("'on-cancel'")
                .endsWith(" is empty: write its keys under it, indented (key: value lines), or remove it"));
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("rules.yaml:7:").contains("'run'")
                .contains(" is empty"));
        assertThat(problems).noneSatisfy(p -> assertThat(p).contains("got a string"));
    }
}
