package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout36 F13: a start with a rules file that no longer has a rule (removed while the server was stopped, an
 * upgrade with a new rules file) ran that rule's stored jobs still to run, a job the stop had cut short among them,
 * without a word. Such a rule is still not cancelled (rulesknown23: in a cluster it may be another node's new
 * rule), but the start says in one {@code WARN} which rules, how many jobs each, and what to do. A real application
 * started on SQLite and on PostgreSQL (needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI), its
 * log read. Such a job's approval, and its preview before it (tryout39 F6), say that it runs its stored command.
 */
class RulesAbsentAtStartTest {

    private static final PostgresSchemas PG = new PostgresSchemas();
    private static final String ALL = "rules:\n"
            + "  - name: deploy\n    approval: {}\n    run: {command: [/bin/sh, -c, 'exit 0', deploy]}\n"
            + "  - name: notes\n    approval: {}\n    run: {command: [/bin/true]}\n"
            + "  - name: notify\n    approval: {}\n    run: {command: [/bin/true]}\n"
            + "  - name: archive\n    approval: {}\n    run: {command: [/bin/true]}\n";
    /** deploy and archive removed (archive renamed archive-v2), notes disabled, notify kept. */
    private static final String SOME_TAKEN_OUT = "rules:\n"
            + "  - name: notes\n    enabled: false\n    approval: {}\n    run: {command: [/bin/true]}\n"
            + "  - name: notify\n    approval: {}\n    run: {command: [/bin/true]}\n"
            + "  - name: archive-v2\n    renamed-from: archive\n    approval: {}\n    run: {command: [/bin/true]}\n";

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture log = new LogCapture(BuildhookApplication.class);

    @RegisterExtension
    final LogCapture adminLog = new LogCapture(AdminRequests.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @Test
    void aStartOnSqliteSaysWhichRulesTheFileLacksHaveJobsStillToRun() throws Exception {
        String warning = startWithRulesTakenOut(null);
        assertThat(warning).contains("(queued, waiting or awaiting an approval, or still marked running after a crash)")
                .contains("(a rule merely absent from the file at a start is not)");
    }

    @Test
    void aStartOnPostgresqlSaysWhichRulesTheFileLacksHaveJobsStillToRun() throws Exception {
        String warning = startWithRulesTakenOut(PG.newSchemaUrl());
        assertThat(warning).contains("(queued, waiting or awaiting an approval)")
                .contains("(a rule merely absent from the file at a start is not: it may be another node's new rule)");
    }

    /**
     * fixes38 F4: on PostgreSQL the start's count left out the jobs marked running (they may run on another node): a
     * job of a removed rule left running by a node that crashed, run again later from its stored plan, was never named.
     * It is now, apart, with its node.
     */
    @Test
    void aStartOnPostgresqlNamesTheJobsOfRulesTheFileLacksMarkedRunningOnANode() throws Exception {
        String url = PG.newSchemaUrl();
        Path rules = Files.writeString(dir.resolve("rules.yaml"), ALL);
        Path file = TestApplication.configuration(dir, url, "watchdog: off");
        String left;
        try (BuildhookApplication app = TestApplication.start(file)) {
            left = deliver(app, "build-67-passed.json");
            deliver(app, "build-68-failed.json");
        }
        // What a node that crashed while the job ran leaves: the job marked running on it.
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = 'RUNNING', node ="
                        + " 'node-gone', attempts = 1 WHERE id = ?")) {
            p.setString(1, left);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        Files.writeString(rules, SOME_TAKEN_OUT);
        log.clear();
        try (BuildhookApplication app = TestApplication.start(file)) {
            assertThat(absentWarnings()).singleElement().asString()
                    .contains("(queued, waiting or awaiting an approval, or marked running on a node, which runs them"
                            + " if it still runs; else they run again at its next start, or here once it is taken for"
                            + " dead)")
                    .contains(": rule 'archive': 2 job(s) (rule 'archive-v2' is renamed from it), rule 'deploy': 1"
                            + " job(s) and 1 marked running on node node-gone; they are not cancelled ");
        }
    }

    /** Stores jobs of every rule of {@link #ALL}, starts with {@link #SOME_TAKEN_OUT}; returns the start's WARN. */
    private String startWithRulesTakenOut(String storeUrl) throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), ALL);
        Path file = TestApplication.configuration(dir, storeUrl, "watchdog: off");
        String deploy;
        try (BuildhookApplication app = TestApplication.start(file)) {
            deploy = deliver(app, "build-67-passed.json");
            deliver(app, "build-68-failed.json");
            assertThat(job(app, deploy).ruleName()).isEqualTo("deploy");
            assertThat(absentWarnings()).as("every rule of the stored jobs is in the file").isEmpty();
        }
        Files.writeString(rules, SOME_TAKEN_OUT);
        log.clear();
        String warning;
        try (BuildhookApplication app = TestApplication.start(file)) {
            List<String> said = absentWarnings();
            assertThat(said).hasSize(1);
            warning = said.get(0);
            assertThat(warning).startsWith("stored jobs still to run ").contains(" are of rules neither enabled nor"
                    + " disabled in the rules in force on node ").contains("rules.yaml, loaded at ")
                    .contains(": rule 'archive': 2 job(s) (rule 'archive-v2' is renamed from it), rule 'deploy': 2"
                            + " job(s); they are not cancelled ")
                    .endsWith(" and run as they were stored, those awaiting an approval once approved. If a rule was"
                            + " removed on purpose, cancel its jobs (buildhook jobs --rule NAME lists them, buildhook"
                            + " cancel JOB cancels one), or put it back with enabled: false: the next reload or start"
                            + " cancels them")
                    .doesNotContain("'notes'").doesNotContain("'notify'");
            assertThat(job(app, deploy).state()).as("not cancelled").isEqualTo(JobState.AWAITING_APPROVAL);
            // tryout38 F1: approving it ran the removed rule's command without a word; the approval says so.
            String archive = app.store().jobs(new org.buildhook.runner.store.JobQuery(JobState.AWAITING_APPROVAL,
                    "archive", null, null, 10)).items().get(0).id();
            AdminRequests alice = new AdminRequests(app, "alice@test");
            assertThat(warnings(alice.approvePreview(archive))).as("a renamed rule's job: in force").isEmpty();
            alice.decide(archive, true);
            assertThat(adminLog.warnings("approved job " + archive)).as("a renamed rule's job: in force").isEmpty();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(1))
                    .until(() -> job(app, archive).state().isFinal());
            // tryout39 F6: said only in the approval's answer, once the job had started; its preview says it before,
            // with the command it runs, in the answer's words.
            List<String> before = warnings(alice.approvePreview(deploy));
            assertThat(before).singleElement().asString()
                    .startsWith("its rule 'deploy' is not in the rules in force on node ")
                    .endsWith("rules.yaml): approved, it runs the command it was stored with: \"/bin/sh\" \"-c\""
                            + " \"exit 0\" \"deploy\". If the rule was removed on purpose, reject the job instead"
                            + " (buildhook reject " + deploy + "); once approved, only a cancel stops it (buildhook"
                            + " cancel " + deploy + ")");
            assertThat(job(app, deploy).state()).as("a preview decides nothing").isEqualTo(JobState.AWAITING_APPROVAL);
            assertThat(warnings(alice.decide(deploy, true))).isEqualTo(before);
            assertThat(adminLog.warnings("approved job " + deploy)).singleElement().asString()
                    .isEqualTo("admin alice@test approved job " + deploy + ": " + before.get(0));
            assertThat(warnings(alice.approvePreview(deploy))).as("approved: no longer awaiting one").isEmpty();
            deploy = app.store().jobs(new org.buildhook.runner.store.JobQuery(JobState.AWAITING_APPROVAL, "deploy",
                    null, null, 10)).items().get(0).id();
        }
        // The rule back (disabled): its jobs are cancelled, and nothing is said of them as absent.
        Files.writeString(rules, SOME_TAKEN_OUT + "  - name: deploy\n    enabled: false\n    approval: {}\n"
                + "    run: {command: [/bin/true]}\n");
        log.clear();
        try (BuildhookApplication app = TestApplication.start(file)) {
            assertThat(job(app, deploy).state()).isEqualTo(JobState.CANCELLED);
            assertThat(absentWarnings()).singleElement().asString().contains(": rule 'archive': 1 job(s)")
                    .doesNotContain("'deploy'");
        }
        return warning;
    }

    /** An admin answer's {@code warnings} (none when it has no such field). */
    static List<String> warnings(JsonAnswer answer) throws Exception {
        List<String> warnings = new java.util.ArrayList<>();
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(answer.bytes()).path("warnings")
                .forEach(w -> warnings.add(w.asText()));
        return warnings;
    }

    private List<String> absentWarnings() {
        return log.warnings("are of rules neither enabled nor disabled");
    }
}
