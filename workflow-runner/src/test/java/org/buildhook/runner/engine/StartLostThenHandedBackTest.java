package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.PgFront;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review53 F1 (L/M): PostgreSQL commits the start of a job's first attempt (at its read), the answer is lost, and the
 * outage goes on past half the dead-node limit: the read's wait gives up ("its heartbeat is too old") and the execution
 * is handed back, the attempt the lost start made left RUNNING, of this very process, never launched. The next pick
 * here recorded it INTERRUPTED "the store lost that record (a database server that crashed and lost commits it had
 * acknowledged …)" and ran attempt 2. Now that pick goes on with it: one attempt, the command run once.
 */
class StartLostThenHandedBackTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    @Test
    void aStartWhoseAnswerWasLostBeforeAHandBackGoesOnAsThatAttemptAtTheNextPick() throws Exception {
        String url = TestStores.postgresUrl();
        PgFront front = PgFront.to(url);
        closing.add(front);
        Store store = Store.open(StoreConfig.of(front.url(url), dir.resolve("data")));
        closing.add(store);
        CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        closing.add(launcher);
        Path runs = dir.resolve("runs");
        Path script = Files.writeString(dir.resolve("count.sh"), "#!/bin/sh\necho ran >> " + runs + "\n");
        StopLog log = new StopLog();
        closing.add(log);
        // The start's answer is lost, and the database stays away after it (a crash, then a long recovery).
        front.cutAnswerAt(", attempt AS (INSERT INTO job_attempts", () -> {
            front.refuseNewConnections("57P03", "the database system is starting up");
            front.cutForwarded();
        });
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy",
                List.of("/bin/sh", script.toString()), Map.of(), 0, Duration.ofMillis(100), 0)))
                .jobIds().get(0);
        JobEngine engine = JobEngine.create(store, launcher, AbstractEngineTest.steady("node-a"));
        closing.add(engine::stop);
        engine.start();

        await().atMost(Duration.ofSeconds(60)).until(() -> log.said().stream()
                .anyMatch(m -> m.contains("handing its execution back to the queue after waiting for the store")));
        front.forwardNewConnections();

        await().atMost(Duration.ofSeconds(90)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        JobDetail done = store.job(jobId).orElseThrow();
        assertThat(front.cutAnswers()).isEqualTo(1);
        assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("ran");
        assertThat(done.attempts()).as("the attempt the lost start made is the one that ran, no other")
                .extracting(JobAttempt::attempt, JobAttempt::outcome)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1, AttemptOutcome.SUCCEEDED));
        assertThat(log.said()).anyMatch(m -> m.contains("attempt 1 was started by a try of its start whose answer was"
                + " lost; its command runs as that attempt"));
    }
}
