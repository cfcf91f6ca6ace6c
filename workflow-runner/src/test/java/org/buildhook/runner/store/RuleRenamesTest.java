package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** rename35: which other rules' running jobs a rule in force counts as its own. */
class RuleRenamesTest {

    private static final String RUN = "{\"command\":[\"/opt/deploy.sh\"],\"concurrency\":1}";

    private static String rule(String name, String run) {
        return "{\"name\":\"" + name + "\",\"run\":" + run + "}";
    }

    @Test
    void aRuleCountsTheJobsOfTheNamesItIsRenamedFromWhateverTheirRun() {
        RuleRenames renames = RuleRenames.of(Map.of("deploy-v2", List.of("deploy")),
                Map.of("deploy-v2", rule("deploy-v2", RUN)));

        assertThat(renames.how("deploy-v2", "deploy", rule("deploy", "{\"command\":[\"/opt/old.sh\"]}")))
                .contains(RuleRenames.Taken.RENAMED_FROM);
        assertThat(renames.counts("deploy-v2", "other", rule("other", "{\"command\":[\"/opt/old.sh\"]}"))).isFalse();
    }

    @Test
    void withoutTheKeyARuleCountsTheJobsOfARuleNotInForceWithItsRunWordForWord() {
        RuleRenames renames = RuleRenames.of(Map.of(), Map.of("deploy-v2", rule("deploy-v2", RUN),
                "twin", rule("twin", RUN)));

        assertThat(renames.how("deploy-v2", "deploy", rule("deploy", RUN))).contains(RuleRenames.Taken.SAME_RUN);
        assertThat(renames.counts("deploy-v2", "deploy", rule("deploy", "{\"command\":[\"/opt/deploy.sh\"]}")))
                .as("another run").isFalse();
        assertThat(renames.counts("deploy-v2", "twin", rule("twin", RUN))).as("a rule in force: its own").isFalse();
        assertThat(renames.counts("deploy-v2", "deploy-v2", rule("deploy-v2", RUN))).isFalse();
        assertThat(RuleRenames.NONE.counts("deploy-v2", "deploy", rule("deploy", RUN))).isFalse();
    }

    /** review36: the old name's retry or re-run counts the running jobs of the rule that took its name over. */
    @Test
    void aJobOfARuleNotInForceCountsTheRunningJobsOfTheRuleThatTookItsNameOver() {
        RuleRenames renamed = RuleRenames.of(Map.of("deploy-v2", List.of("deploy", "deploy-2019")),
                Map.of("deploy-v2", rule("deploy-v2", RUN), "other", rule("other", RUN)));
        String old = rule("deploy", "{\"command\":[\"/opt/old.sh\"]}");

        assertThat(renamed.counts("deploy", old, "deploy-v2", rule("deploy-v2", RUN))).isTrue();
        assertThat(renamed.counts("deploy", old, "deploy-2019", rule("deploy-2019", "{}"))).as("a name it took over too")
                .isTrue();
        assertThat(renamed.counts("deploy", old, "other", rule("other", RUN))).as("not its taker").isFalse();
        assertThat(renamed.counts("deploy", old, "deploy", old)).isFalse();
        assertThat(renamed.counts("gone", rule("gone", "{\"command\":[\"/x\"]}"), "deploy-v2", rule("deploy-v2", RUN)))
                .as("a rule no rule in force took over").isFalse();

        RuleRenames sameRun = RuleRenames.of(Map.of(), Map.of("deploy-v2", rule("deploy-v2", RUN)));
        assertThat(sameRun.counts("deploy", rule("deploy", RUN), "deploy-v2", rule("deploy-v2", RUN))).isTrue();
        assertThat(sameRun.counts("deploy", rule("deploy", "{\"command\":[\"/opt/old.sh\"]}"), "deploy-v2",
                rule("deploy-v2", RUN))).as("another run").isFalse();
        assertThat(sameRun.counts("deploy-v2", null, "deploy", rule("deploy", RUN))).as("in force: as before").isTrue();
    }

    /**
     * takeover42: whether a rule in force has the run a stored job's snapshot writes (a job of it planned beside a job
     * of a rule no longer in force shows it was in force beside that rule, with this run).
     */
    @Test
    void sameRunComparesARuleInForceWithASnapshotsRunWordForWord() {
        RuleRenames renames = RuleRenames.of(Map.of(), Map.of("notify", rule("notify", RUN)));

        assertThat(renames.sameRun("notify", rule("notify", RUN))).isTrue();
        assertThat(renames.sameRun("notify", rule("notify", "{\"command\":[\"/opt/notify.sh\"]}"))).as("another run")
                .isFalse();
        assertThat(renames.sameRun("deploy", rule("deploy", RUN))).as("not in force").isFalse();
        assertThat(renames.sameRun("notify", null)).isFalse();
        assertThat(renames.sameRun("notify", "not json")).isFalse();
    }
}
