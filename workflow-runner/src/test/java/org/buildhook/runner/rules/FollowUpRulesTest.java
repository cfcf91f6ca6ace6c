package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;

class FollowUpRulesTest {

    private static List<String> problems(String yaml) {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse(yaml));
        assertThat(e).as("a rules file with mistakes").isNotNull();
        return e.problems().stream().map(Problem::toString).toList();
    }

    private static final String CHAIN = "rules:\n"
            + "  - name: deploy\n"
            + "    when: {runs: {match: each, name: \"build-*\"}}\n"
            + "    run: {command: [/opt/deploy.sh]}\n"
            + "    on-failure:\n"
            + "      command: [/opt/page.sh, \"${job.id}\", \"${job.outcome}\", \"${run.name}\"]\n"
            + "      env: {WHY: \"exit ${job.exit_code} after ${job.attempts}\"}\n"
            + "      retries: 2\n"
            + "      on-success: {command: [/opt/log.sh, \"${job.rule}\"]}\n";

    @Test
    void plansAFollowUpWithThePlaceholdersAndVariablesOfTheJobItFollows() {
        RuleSet rules = TestRules.parse(CHAIN);
        PlannedJob deploy = rules.match("default", TestEvents.seed()).get(0);
        FollowUpParent parent = new FollowUpParent("01JOB", "deploy", "TIMED_OUT", null, 3, "/var/log/x.log");

        PlannedJob page = FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(), deploy.runName(),
                parent).orElseThrow();

        assertThat(page.ruleName()).isEqualTo("deploy/on-failure");
        assertThat(page.argv()).containsExactly("/opt/page.sh", "01JOB", "TIMED_OUT", deploy.runName());
        assertThat(page.retries()).isEqualTo(2);
        assertThat(page.env()).containsEntry("WHY", "exit  after 3").containsEntry("BUILDHOOK_JOB_ID", "01JOB")
                .containsEntry("BUILDHOOK_JOB_RULE", "deploy").containsEntry("BUILDHOOK_JOB_OUTCOME", "TIMED_OUT")
                .containsEntry("BUILDHOOK_JOB_EXIT_CODE", "").containsEntry("BUILDHOOK_JOB_ATTEMPTS", "3")
                .containsEntry("BUILDHOOK_JOB_LOG", "/var/log/x.log").containsEntry("BUILDHOOK_RULE", "deploy/on-failure");
        assertThat(page.workflow().parentId()).isEqualTo("01JOB");
        assertThat(page.workflow().depth()).isEqualTo(1);
        assertThat(page.workflow().followUps()).contains("on-success");
        assertThat(deploy.env()).doesNotContainKey("BUILDHOOK_JOB_ID");
    }

    @Test
    void anOutcomeWithoutAFollowUpStartsNone() {
        PlannedJob deploy = TestRules.parse(CHAIN).match("default", TestEvents.seed()).get(0);

        for (String outcome : List.of("SUCCEEDED", "CANCELLED", "SUPERSEDED", "REJECTED", "EXPIRED")) {
            assertThat(FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(), deploy.runName(),
                    new FollowUpParent("01JOB", "deploy", outcome, 0, 1, null))).as(outcome).isEmpty();
        }
    }

    @Test
    void refusesJobPlaceholdersOutsideFollowUpsAChainDeeperThanThreeAndUnknownKeys() {
        assertThat(problems("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/opt/deploy.sh, \"${job.id}\"]}\n"
                + "    on-success:\n"
                + "      command: [/opt/a.sh]\n"
                + "      on-success:\n"
                + "        command: [/opt/b.sh]\n"
                + "        on-success:\n"
                + "          command: [/opt/c.sh]\n"
                + "          on-failure: {command: [/opt/d.sh]}\n"
                + "    on-failure: {comand: [/opt/e.sh]}\n"))
                .containsExactly(
                        "rules.yaml:3:38: placeholder '${job.id}' describes the job a follow-up follows: use it only"
                                + " in on-success, on-failure, on-cancel or on-approval-request",
                        "rules.yaml:10:11: follow-ups nest at most 3 deep ('on-failure' here would be level 4)",
                        "rules.yaml:11:18: unknown key 'comand' in 'on-failure' (did you mean 'command'?)");
    }

    /**
     * A follow-up written like a rule, its action under {@code run:}, was told both that 'run' is unknown and,
     * untrue, that the follow-up "has no 'command'"; rule keys were only "unknown" (tryout21 F8.2). Each mistake
     * is now said once, under the key the author wrote, with what to write instead.
     */
    @Test
    void aFollowUpWrittenLikeARuleIsToldOnceWhatToWriteInstead() {
        assertThat(problems("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "    on-cancel: {run: {command: [/opt/unlock.sh]}}\n"
                + "    on-failure:\n"
                + "      when: {status: FAILED}\n"
                + "      command: [/opt/page.sh]\n"
                + "    on-success: {timeout: 1m}\n"))
                .containsExactly(
                        "rules.yaml:4:17: unknown key 'run' in 'on-cancel': a follow-up is itself the action, so write"
                                + " its keys (command, timeout …) directly under 'on-cancel', without 'run:'",
                        "rules.yaml:6:7: unknown key 'when' in 'on-failure': a follow-up has no when of its own, only"
                                + " a rule does (it starts when its job ends that way, as a job of that rule's delivery)",
                        "rules.yaml:8:17: 'on-success' has no 'command' (write command: [/path/to/program, arg, …])");
    }

    @Test
    void theDryRunListsTheFollowUpsWithTheirCommands() {
        String text = new DryRunRenderer(false).render(TestRules.parse(CHAIN).explain("default", TestEvents.seed()));

        assertThat(text).contains("    follow-ups (started once when the job ends that way, as jobs of their own):\n"
                + "      on-failure: [\"/opt/page.sh\",\"${job.id}\",\"${job.outcome}\",\"${run.name}\"]\n"
                + "        on-success: [\"/opt/log.sh\",\"${job.rule}\"]\n");
    }

    /**
     * tryout47b F18: a page could name the followed job only by its id and a log path on buildhook's host. {@code
     * ${job.url}} (and {@code BUILDHOOK_JOB_URL}) is its page on the status page, as the engine gives it; empty when no
     * public address is configured, and warned of at each place the file writes it, for a node without one.
     */
    @Test
    void aFollowUpGetsThePageOfTheJobItFollowsAndEachUseIsNotedForANodeWithoutAnAddress() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "    on-failure:\n"
                + "      command: [/opt/page.sh, \"${job.id}\", \"see ${job.url}\"]\n"
                + "      env: {LINK: \"${job.url}\"}\n");
        PlannedJob deploy = rules.match("default", TestEvents.seed()).get(0);
        String url = "https://ci.example.com/buildhook/?job=01JOB";

        PlannedJob page = FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(), deploy.runName(),
                new FollowUpParent("01JOB", "deploy", "FAILED", 1, 1, "/x.log", url)).orElseThrow();
        PlannedJob unlinked = FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(),
                deploy.runName(), new FollowUpParent("01JOB", "deploy", "FAILED", 1, 1, "/x.log")).orElseThrow();

        assertThat(page.argv()).containsExactly("/opt/page.sh", "01JOB", "see " + url);
        assertThat(page.env()).containsEntry("LINK", url).containsEntry("BUILDHOOK_JOB_URL", url);
        assertThat(unlinked.argv()).containsExactly("/opt/page.sh", "01JOB", "see ");
        assertThat(unlinked.env()).containsEntry("LINK", "").containsEntry("BUILDHOOK_JOB_URL", "");
        assertThat(deploy.env()).doesNotContainKey("BUILDHOOK_JOB_URL");
        assertThat(rules.jobPageWarnings()).extracting(Problem::toString).containsExactly(
                "rules.yaml:5:49: '${job.url}' is empty: the configuration sets no admin.public-url (the address people"
                        + " open the status page at, https://buildhook.example.com/), which a job's page link is made of"
                        + " (docs/configuration.md)",
                "rules.yaml:6:20: '${job.url}' is empty: the configuration sets no admin.public-url (the address people"
                        + " open the status page at, https://buildhook.example.com/), which a job's page link is made of"
                        + " (docs/configuration.md)");
        assertThat(TestRules.parse(CHAIN).jobPageWarnings()).isEmpty();
        assertThat(rules.writingWarnings()).isEmpty();
    }

    @Test
    void aRulesOwnCommandCannotWriteTheJobsPage() {
        assertThat(problems("rules:\n  - name: deploy\n    run: {command: [/opt/deploy.sh, \"${job.url}\"]}\n"))
                .containsExactly("rules.yaml:3:38: placeholder '${job.url}' describes the job a follow-up follows: use it"
                        + " only in on-success, on-failure, on-cancel or on-approval-request");
    }

    /**
     * tryout47b F18: nothing could tell the approver that a job awaits them. A rule with {@code approval} may have an
     * {@code on-approval-request}, planned as a follow-up of the job waiting ({@code ${job.outcome}}
     * {@code AWAITING_APPROVAL}); a final state never starts it.
     */
    @Test
    void aRuleWithAnApprovalPlansItsApprovalRequestForTheJobWaiting() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: deploy-prod\n"
                + "    approval: {expires: 8h}\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "    on-approval-request:\n"
                + "      command: [/opt/ask.sh, \"${job.id}\", \"${job.outcome}\", \"${job.url}\"]\n"
                + "      on-failure: {command: [/opt/page.sh, \"${job.rule}\"]}\n");
        PlannedJob deploy = rules.match("default", TestEvents.seed()).get(0);

        PlannedJob ask = FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(), deploy.runName(),
                new FollowUpParent("01JOB", "deploy-prod", "AWAITING_APPROVAL", null, 0, null,
                        "https://ci.example.com/?job=01JOB")).orElseThrow();

        assertThat(ask.ruleName()).isEqualTo("deploy-prod/on-approval-request");
        assertThat(ask.argv()).containsExactly("/opt/ask.sh", "01JOB", "AWAITING_APPROVAL",
                "https://ci.example.com/?job=01JOB");
        assertThat(ask.workflow().needsApproval()).as("a follow-up is never gated").isFalse();
        assertThat(ask.workflow().parentId()).isEqualTo("01JOB");
        assertThat(ask.workflow().followUps()).contains("on-failure");
        for (String outcome : List.of("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED", "EXPIRED")) {
            assertThat(FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(), deploy.runName(),
                    new FollowUpParent("01JOB", "deploy-prod", outcome, 0, 1, null))).as(outcome).isEmpty();
        }
        assertThat(FollowUps.describe(deploy.workflow().followUps())).containsExactly(
                "on-approval-request: [\"/opt/ask.sh\",\"${job.id}\",\"${job.outcome}\",\"${job.url}\"]",
                "  on-failure: [\"/opt/page.sh\",\"${job.rule}\"]");
    }

    @Test
    void anApprovalRequestWithoutAnApprovalOrUnderAFollowUpIsAMistakeAtItsKey() {
        assertThat(problems("rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "    on-approval-request: {command: [/opt/ask.sh]}\n"
                + "    on-failure:\n"
                + "      command: [/opt/page.sh]\n"
                + "      on-approval-request: {command: [/opt/ask.sh]}\n"))
                .containsExactly(
                        "rules.yaml:4:5: 'on-approval-request' starts when a job of the rule begins to await an"
                                + " approval, but rule 'deploy' asks for none: add 'approval: {expires: 24h}' beside"
                                + " it, or remove it",
                        "rules.yaml:7:7: unknown key 'on-approval-request' in 'on-failure': a follow-up never awaits"
                                + " an approval; write it on the rule, beside its 'approval'");
    }

    /**
     * approval50: a job planned without an approval that its rule's approval now gates keeps its own follow-ups as
     * planned and gets the rule's on-approval-request (with the capacities its resources need), which it then plans
     * as the rule's new jobs do; a rule without one leaves its plan word for word, and takes away one an earlier gate
     * gave it.
     */
    @Test
    void aGatedJobKeepsItsOwnFollowUpsAndGetsTheRulesApprovalRequest() {
        String before = "resources: {boards: 2}\nrules:\n  - name: deploy\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "    on-success: {command: [/opt/planned.sh]}\n";
        RuleSet after = TestRules.parse("resources: {boards: 3, phones: 1}\nrules:\n  - name: deploy\n"
                + "    approval: {expires: 8h}\n"
                + "    run: {command: [/opt/deploy.sh]}\n"
                + "    on-success: {command: [/opt/edited.sh]}\n"
                + "    on-approval-request: {command: [/opt/ask.sh, \"${job.id}\"], resources: {phones: 1}}\n");
        String planned = TestRules.parse(before).match("default", TestEvents.seed()).get(0).workflow().followUps();
        String rule = after.approvalRequests().get("deploy");

        String gated = FollowUps.withApprovalRequest(planned, rule);

        assertThat(FollowUps.describe(gated)).containsExactly(
                "on-approval-request: [\"/opt/ask.sh\",\"${job.id}\"] (waits until it can hold phones 1 of 1)",
                "on-success: [\"/opt/planned.sh\"]");
        PlannedJob ask = FollowUps.plan(gated, "default", TestEvents.seed(), null, new FollowUpParent("01JOB",
                "deploy", "AWAITING_APPROVAL", null, 0, null)).orElseThrow();
        assertThat(ask.ruleName()).isEqualTo("deploy/on-approval-request");
        assertThat(ask.argv()).containsExactly("/opt/ask.sh", "01JOB");
        assertThat(FollowUps.plan(gated, "default", TestEvents.seed(), null, new FollowUpParent("01JOB", "deploy",
                "SUCCEEDED", 0, 1, null)).orElseThrow().argv()).containsExactly("/opt/planned.sh");
        assertThat(FollowUps.withApprovalRequest(null, rule)).isEqualTo(FollowUps.withApprovalRequest(
                FollowUps.withApprovalRequest(null, null), rule)).contains("on-approval-request")
                .doesNotContain("on-success");
        assertThat(FollowUps.withApprovalRequest(planned, null)).as("word for word").isSameAs(planned);
        assertThat(FollowUps.withApprovalRequest(null, null)).isNull();
        assertThat(FollowUps.withApprovalRequest(planned, "{}")).isSameAs(planned);
        assertThat(FollowUps.describe(FollowUps.withApprovalRequest(gated, null))).as("an earlier gate's taken away")
                .containsExactly("on-success: [\"/opt/planned.sh\"]");
        assertThat(FollowUps.withApprovalRequest(FollowUps.withApprovalRequest(null, rule), null)).isNull();
        assertThat(after.approvalRequests()).containsOnlyKeys("deploy");
    }
}
