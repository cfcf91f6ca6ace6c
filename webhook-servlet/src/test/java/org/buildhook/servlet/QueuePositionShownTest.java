package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.QueuePosition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * queue49 (tryout49 F5): a job that waits only its turn is shown with its place in the queue, worked out when shown:
 * how many jobs are due before it, how many run on how many nodes (its message was {@code -}: behind 500 jobs a
 * deploy waited 132 s and nothing said why). A real application with {@code runner.threads: 1}, its one thread held
 * by a real command that waits for a file, three more deliveries waiting behind it; on SQLite and on PostgreSQL
 * (needs {@code BUILDHOOK_TEST_PG_URL}).
 */
class QueuePositionShownTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aWaitingJobSaysHowManyJobsAreDueBeforeItAndWhatRuns(boolean postgres) throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: flood\n    run: {command: [/bin/sh, -c, '"
                + "while [ ! -e " + dir.resolve("go") + " ]; do sleep 0.05; done']}\n");
        Path file = TestApplication.configuration(dir, postgres ? PG.newSchemaUrl() : null, "threads: 1");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String running = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, running).state() == JobState.RUNNING);
            String first = deliver(app, "build-68-failed.json");
            String second = deliver(app, "build-412-promoted.json");
            String third = deliver(app, "build-7-unusual.json");
            assertThat(List.of(first, second, third)).allSatisfy(id -> assertThat(job(app, id).waitsItsTurn())
                    .as("QUEUED, its message %s", job(app, id).message()).isTrue());
            assertThat(job(app, running).waitsItsTurn()).isFalse();

            Map<String, QueuePosition> positions = app.store().queuePositions(List.of(running, first, second, third));

            assertThat(positions).as("the running job has none").doesNotContainKey(running);
            assertThat(positions.get(first)).isEqualTo(new QueuePosition(0, 1, 1));
            assertThat(positions.get(second)).isEqualTo(new QueuePosition(1, 1, 1));
            assertThat(positions.get(third)).isEqualTo(new QueuePosition(2, 1, 1));
            assertThat(positions.get(third).text()).isEqualTo("queued: 2 jobs due before it; 1 running on 1 node");
            assertThat(positions.get(second).text()).isEqualTo("queued: 1 job due before it; 1 running on 1 node");
            assertThat(positions.get(first).text()).isEqualTo("queued: next in line; 1 running on 1 node");
            assertThat(AdminViews.queuePosition(positions.get(third))).containsEntry("dueBefore", 2)
                    .containsEntry("running", 1).containsEntry("runningNodes", 1)
                    .containsEntry("text", "queued: 2 jobs due before it; 1 running on 1 node");
            Job shown = job(app, third).withQueuePosition(positions.get(third));
            assertThat(shown.message()).isEqualTo("queued: 2 jobs due before it; 1 running on 1 node");
            assertThat(job(app, third).message()).as("not stored").isNull();

            Files.createFile(dir.resolve("go"));
            await().atMost(Duration.ofMinutes(2)).until(() -> job(app, third).state().isFinal());
            assertThat(app.store().queuePositions(List.of(running, first, second, third))).as("none waits").isEmpty();
        }
    }
}
