package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.RulesAbsentAtStartTest.warnings;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;
import static org.buildhook.servlet.TestApplication.rewriteRules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout42 F6: after a rule asking for an approval was renamed in place, the re-run of the old name's job and the
 * replay its cancel advised both awaited an approval, and approving both archived the release twice: neither
 * approval's preview said a word. Each approval now says which other job of its rule (or of the rule that takes it
 * over, or that it takes over) ran, runs or awaits an approval for its delivery; a job alone for its delivery says
 * nothing. A real application, its rules file rewritten as an operator does, real commands; on SQLite and on
 * PostgreSQL (needs {@code BUILDHOOK_TEST_PG_URL}; fails without it on CI).
 */
class ApprovalOfARuleRunAgainForADeliveryTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    private String archive(String name) {
        return "rules:\n  - name: " + name + "\n    approval: {expires: 2h}\n    run:\n      command: [/bin/sh, -c,"
                + " 'echo \"archive $1\" >> " + dir.resolve("archives") + "', archive, '${build.id}']\n";
    }

    private static String field(JsonAnswer answer, String name) throws Exception {
        JsonNode node = new ObjectMapper().readTree(answer.bytes()).path(name);
        return node.isArray() ? node.path(0).asText() : node.asText();
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void theApprovalOfAReplayAndOfTheOldNamesRerunEachNameTheOther(boolean postgres) throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), archive("archive-release"));
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "watchdog: off");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String first = deliver(app, "build-67-passed.json");
            String delivery = job(app, first).deliveryId();
            AdminRequests alice = new AdminRequests(app, "alice@test");
            assertThat(warnings(alice.approvePreview(first))).as("alone for its delivery").isEmpty();
            rewriteRules(dir, archive("archive-release-v2"));
            app.rules().checkNow();
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, first).state() == JobState.CANCELLED);

            String replayed = field(alice.replay(delivery, new String[] {"archive-release-v2"}), "jobs");
            String rerun = field(alice.rerun(first), "job");
            assertThat(job(app, replayed).state()).isEqualTo(JobState.AWAITING_APPROVAL);
            assertThat(job(app, rerun).state()).isEqualTo(JobState.AWAITING_APPROVAL);

            assertThat(warnings(alice.approvePreview(replayed))).singleElement().asString().isEqualTo("its rule"
                    + " already has another job for its delivery " + delivery + ": job " + rerun + " of rule"
                    + " 'archive-release', which 'archive-release-v2' takes over, awaits an approval. Approved, job "
                    + replayed + " runs the rule's command for the delivery once more (approving the others too runs"
                    + " it as many times); if that is not meant, reject it instead (buildhook reject " + replayed + ")");
            assertThat(warnings(alice.approvePreview(rerun))).singleElement().asString().startsWith("its rule already"
                    + " has another job for its delivery " + delivery + ": job " + replayed + " of rule"
                    + " 'archive-release-v2', which takes 'archive-release' over, awaits an approval. Approved, job "
                    + rerun + " runs");

            List<String> answered = warnings(alice.decide(replayed, true));
            assertThat(answered).as("the answer, in the preview's words").hasSize(1);
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, replayed).state() == JobState.SUCCEEDED);
            assertThat(warnings(alice.approvePreview(rerun))).singleElement().asString()
                    .contains(": job " + replayed + " of rule 'archive-release-v2', which takes 'archive-release' over,"
                            + " ran (SUCCEEDED, ended ")
                    .endsWith("). Approved, job " + rerun + " runs the rule's command for the delivery once more; if"
                            + " that is not meant, reject it instead (buildhook reject " + rerun + ")");
            assertThat(Files.readAllLines(dir.resolve("archives"))).containsExactly("archive 67");

            // A second replay for the rule in force: the same name, one more job.
            String again = field(alice.replay(delivery, new String[] {"archive-release-v2"}), "jobs");
            assertThat(warnings(alice.approvePreview(again))).singleElement().asString().startsWith("its rule already"
                    + " has 2 other jobs for its delivery " + delivery + ": job " + rerun + " of rule"
                    + " 'archive-release', which 'archive-release-v2' takes over, awaits an approval; job " + replayed
                    + " ran (SUCCEEDED, ended ");
        }
    }
}
