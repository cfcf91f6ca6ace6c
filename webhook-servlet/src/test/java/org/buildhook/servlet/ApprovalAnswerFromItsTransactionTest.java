package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.RulesAbsentAtStartTest.warnings;
import static org.buildhook.servlet.TestApplication.job;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * review57a F3: the approval's answer and its WARN named what it superseded from a read taken before the approval's
 * transaction, unlocked: build 67's job, queued behind the rule's one slot, started between that read and the
 * transaction, which (the rule says {@code running: cancel}) asked it to stop; the answer and the audit WARN said "is
 * queued, and ends SUPERSEDED without running" of a deploy the approval cut half-way. They are built from what the
 * transaction did now. The job's start in between is a trigger on the approval's own update (the one moment the old
 * read could not see), so the interleaving is the same every run. A real application; on SQLite and on PostgreSQL
 * (needs {@code BUILDHOOK_TEST_PG_URL}; fails without it on CI).
 */
class ApprovalAnswerFromItsTransactionTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture log = new LogCapture(AdminRequests.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    private static String deliver(BuildhookApplication app, String project, int build) throws Exception {
        String body = new String(DeliveryServiceTest.fixture("build-67-passed.json"), StandardCharsets.UTF_8)
                .replace("\"build_id\": 67", "\"build_id\": " + build).replace("/builds/67/", "/builds/" + build + "/")
                .replace("andy-corp/lmp", project);
        return app.deliveries().receive(DeliveryServiceTest.signed(body.getBytes(StandardCharsets.UTF_8), "default"))
                .jobIds().get(0);
    }

    /** When {@code approved} leaves AWAITING_APPROVAL, in that transaction: {@code started} is RUNNING, as a pick makes it. */
    private static void startsInTheApprovalsTransaction(BuildhookApplication app, boolean postgres, String approved,
            String started) throws Exception {
        try (Connection c = app.store().dataSource().getConnection(); Statement s = c.createStatement()) {
            if (postgres) {
                s.execute("CREATE FUNCTION started_meanwhile() RETURNS trigger AS $$ BEGIN UPDATE jobs SET state ="
                        + " 'RUNNING' WHERE id = '" + started + "'; RETURN NULL; END $$ LANGUAGE plpgsql");
                s.execute("CREATE TRIGGER started_meanwhile AFTER UPDATE ON jobs FOR EACH ROW WHEN (NEW.id = '"
                        + approved + "' AND OLD.state = 'AWAITING_APPROVAL' AND NEW.state = 'QUEUED')"
                        + " EXECUTE FUNCTION started_meanwhile()");
            } else {
                s.execute("CREATE TRIGGER started_meanwhile AFTER UPDATE OF state ON jobs WHEN NEW.id = '" + approved
                        + "' AND OLD.state = 'AWAITING_APPROVAL' AND NEW.state = 'QUEUED' BEGIN UPDATE jobs SET state ="
                        + " 'RUNNING' WHERE id = '" + started + "'; END");
            }
        }
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void theAnswerAndTheWarnNameAJobThatStartedBeforeTheApprovalsTransactionAsStopped(boolean postgres)
            throws Exception {
        Path go = dir.resolve("go");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
                + "    supersede: {key: '${build.project}', running: cancel}\n    approval: {}\n"
                + "    run:\n      command: [/bin/sh, -c, 'while [ ! -e " + go + " ]; do sleep 0.05; done']\n"
                + "      concurrency: 1\n");
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null,
                "watchdog: off, slot-retry: 1h");
        try (BuildhookApplication app = TestApplication.start(file)) {
            AdminRequests alice = new AdminRequests(app, "alice@test");
            // Another project's build holds the rule's one slot; build 67 is approved and queued behind it.
            String other = deliver(app, "andy-corp/other", 66);
            alice.decide(other, true);
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, other).state() == JobState.RUNNING);
            String queued = deliver(app, "andy-corp/lmp", 67);
            assertThat(warnings(alice.decide(queued, true))).isEmpty();
            String newer = deliver(app, "andy-corp/lmp", 69);
            assertThat(job(app, queued).state()).isEqualTo(JobState.QUEUED);
            assertThat(warnings(alice.approvePreview(newer))).as("the preview, a read before").singleElement()
                    .asString().contains("job " + queued + " (build 67) is queued, and ends SUPERSEDED without running.");

            startsInTheApprovalsTransaction(app, postgres, newer, queued);
            log.clear();
            java.util.List<String> answered = warnings(alice.decide(newer, true));

            String warning = "approved, it supersedes an older build's job of its rule's supersede key"
                    + " \"andy-corp/lmp\": job " + queued + " (build 67) runs, and is stopped now. The rule says running:"
                    + " cancel: a running job is stopped (its process tree ended, its on-cancel follow-up, if the rule has"
                    + " one, started), and job " + newer + " starts once it has ended. To let it finish first, approve"
                    + " once it has ended; if this build should not go out, reject it instead (buildhook reject " + newer
                    + ")";
            assertThat(answered).containsExactly(warning);
            assertThat(log.messages()).contains("admin alice@test approved job " + newer + ": " + warning);
            assertThat(job(app, queued).cancelRequested()).as("what the transaction did: asked it to stop").isTrue();
            Files.createFile(go);
        }
    }
}
