package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;
import static org.buildhook.servlet.TestApplication.rewriteRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * review36: a rule renamed (renamed-from) while its job runs; that job fails and its retry is due after the renamed
 * rule's next job started. The retry is a job of the old name, which no rule in force is: its slot take counts only
 * the old name's slots, so it starts beside the renamed rule's running job (two deploys at once).
 */
class RenamedRulesOldJobRetryTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void theOldNamesRetryDoesNotStartBesideTheRenamedRulesRunningJob(boolean postgres) throws Exception {
        String before = "rules:\n  - name: deploy\n    run: {command: [/bin/sh, -c, 'case $BUILDHOOK_ATTEMPT in */1) "
                + waitFor("go1") + "; exit 1;; *) " + waitFor("go2") + ";; esac'], concurrency: 1, retries: 1,"
                + " backoff: 5s}\n";
        String after = "rules:\n  - name: deploy-v2\n    renamed-from: deploy\n"
                + "    run: {command: [/bin/sh, -c, '" + waitFor("go2") + "', v2], concurrency: 1}\n";
        Files.writeString(dir.resolve("rules.yaml"), before);
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "slot-retry: 1s");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String old = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, old).state() == JobState.RUNNING);
            rewriteRules(dir, after);
            await().atMost(Duration.ofMinutes(1)).until(() -> app.store().ledger().renames().takenBy("deploy", null).isPresent());

            Files.createFile(dir.resolve("go1")); // attempt 1 fails: its retry is due 5 s later
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, old).state() == JobState.QUEUED
                    && job(app, old).attempts() == 1);
            String next = deliver(app, "build-68-failed.json");
            assertThat(job(app, next).ruleName()).isEqualTo("deploy-v2");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, next).state() == JobState.RUNNING);

            // The retry's turn: it either starts or shows that it waits for a slot.
            await().atMost(Duration.ofMinutes(2)).until(() -> job(app, old).state() == JobState.RUNNING
                    || String.valueOf(job(app, old).message()).contains("waiting for a concurrency slot"));
            Job retry = job(app, old);
            Job renamed = job(app, next);
            Files.createFile(dir.resolve("go2"));
            assertThat(retry.state()).as("the old name's retry (attempt %d) while the renamed rule's job is %s",
                    retry.attempts(), renamed.state()).isNotEqualTo(JobState.RUNNING);
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, old).state().isFinal()
                    && job(app, next).state().isFinal());
        }
    }

    private String waitFor(String name) {
        return "while [ ! -e " + dir.resolve(name) + " ]; do sleep 0.05; done";
    }
}
