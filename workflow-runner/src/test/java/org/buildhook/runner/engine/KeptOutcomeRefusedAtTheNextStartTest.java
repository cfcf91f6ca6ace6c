package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doThrow;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

/**
 * review54 F3 (L): a stop kept an outcome whose record and keeping the store refused (a trigger, no outage); the node
 * starts again while the store still refuses to record it. Every sweep tried again silently, and every pick of the job
 * threw the refusal to db-scheduler: only its generic WARN "Unhandled exception … Treating as failure" with a stack
 * trace, at each retry, and nothing saying what the job waited for. Now it is said in buildhook's words (once here:
 * again only every minute), the job stays picked by the node (review54 N1: handed back, another node could run it
 * again), and once the store takes it the job ends from it: the command ran once.
 */
class KeptOutcomeRefusedAtTheNextStartTest extends AbstractStoreOutageTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    @Test
    void anOutcomeTheStoreStillRefusesAtTheNextStartIsSaidOnceAndRecordedOnceItTakesIt() throws Exception {
        engine.stop();
        engine = JobEngine.create(storeWithOutages, launcher,
                AbstractEngineTest.steady("node-a").withShutdownGrace(Duration.ofSeconds(1)));
        doThrow(new RunnerException("record refused (injected trigger)")).when(ledger)
                .finishAttempt(anyString(), anyInt(), any(), any(), anyLong(), any());
        AtomicBoolean refusing = new AtomicBoolean(true);
        AtomicInteger keeps = new AtomicInteger();
        doAnswer(call -> {
            keeps.incrementAndGet();
            if (refusing.get()) {
                throw new RunnerException("keep refused (injected trigger)");
            }
            return call.callRealMethod();
        }).when(ledger).recordKnownOutcome(anyString(), anyInt(), anyString(), any(), any());
        engine.start();
        Path runs = dir.resolve("runs");
        String jobId = acceptCountingJob(runs);
        await().atMost(Duration.ofSeconds(60)).until(() -> keeps.get() >= 2);
        engine.stop();
        assertThat(Files.readString(store.config().dataDir().resolve(StopsNotRecorded.FILE_NAME))).contains(jobId);

        // The next start, the store still refusing.
        try (AbstractEngineTest.LogCapture sweep = new AbstractEngineTest.LogCapture(LeftoverSweep.class);
                AbstractEngineTest.LogCapture scheduler = new AbstractEngineTest.LogCapture(
                        com.github.kagkarlsson.scheduler.Scheduler.class)) {
            int keepsBefore = keeps.get();
            engine = JobEngine.create(storeWithOutages, launcher, AbstractEngineTest.steady("node-a"));
            engine.start();
            // The sweeps' tries (every heartbeat interval, 200 ms), all refused; past the dead-node limit (10 s), the
            // job stays picked by node-a, never handed back to the queue (review54 N1).
            await().during(Duration.ofSeconds(12)).atMost(Duration.ofSeconds(30))
                    .until(() -> "picked by node-a".equals(execution(jobId)));
            assertThat(keeps.get()).as("tried again by the sweeps").isGreaterThan(keepsBefore + 10);
            assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.RUNNING);
            assertThat(warnings(sweep.events())).as("said once, in buildhook's words").singleElement()
                    .satisfies(m -> assertThat(m).contains("job " + jobId + " attempt 1: its command exited 0 at ")
                            .contains("the store refuses to record it now (keep refused (injected trigger))")
                            .contains("its command is not run again meanwhile"));
            assertThat(warnings(scheduler.events())).as("db-scheduler's WARN at every retry").isEmpty();

            refusing.set(false); // the trigger dropped
            await().atMost(Duration.ofSeconds(60)).until(() -> store.job(jobId).orElseThrow().job().state()
                    .isFinal());
            assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("run");
            assertThat(sweep.events()).extracting(ILoggingEvent::getFormattedMessage)
                    .contains("job " + jobId + " attempt 1: the store took the record it had refused");
        }
    }

    private String execution(String jobId) throws java.sql.SQLException {
        try (var c = store.dataSource().getConnection(); var p = c.prepareStatement(
                "SELECT picked, picked_by FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (var rs = p.executeQuery()) {
                return !rs.next() ? "none" : rs.getBoolean(1) ? "picked by " + rs.getString(2) : "not picked";
            }
        }
    }

    private static List<String> warnings(List<ILoggingEvent> events) {
        return events.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }
}
