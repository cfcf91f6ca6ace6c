package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

/**
 * review53 F0 (H): a job's command exits 1 while the store is away for the read made after it, before its record (the
 * count of its failed attempts, made for every exit other than 0 and every timeout); the node is stopped and its grace
 * ends with the store still away for that read. Only the record's own failure kept the outcome in stops-not-recorded:
 * nothing was kept, and the next start ran the command again. Now the outcome is kept whichever wait after the command
 * gave up, and the next start records it from there.
 */
class FailedOutcomeKeptAtStopTest extends AbstractStoreOutageTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    @Test
    void aFailedCommandIsNotRunAgainAfterAStopThatCouldNotCountItsFailures() throws Exception {
        AtomicBoolean met = new AtomicBoolean();
        doAnswer(inv -> {
            met.set(true);
            throw outage();
        }).when(ledger).failedAttempts(anyString());
        engine.stop(); // the unstarted fast one: a 10 s dead-node limit instead (no self-fencing on a loaded host)
        engine = JobEngine.create(storeWithOutages, launcher, AbstractEngineTest.steady("node-a"));
        engine.start();
        Path runs = dir.resolve("runs");
        Path script = Files.writeString(dir.resolve("fail.sh"), "#!/bin/sh\necho run >> " + runs + "\nexit 1\n");
        String jobId = store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("failing", List.of("/bin/sh", script.toString())))).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).untilTrue(met);

        engine.stop(); // its grace (5 s) ends with the store still away for that read
        Path notRecorded = dir.resolve("data").resolve(StopsNotRecorded.FILE_NAME);
        assertThat(notRecorded).as("the outcome kept in the data folder").exists();
        assertThat(Files.readString(notRecorded)).contains(jobId);
        engine = JobEngine.create(store, launcher, AbstractEngineTest.steady("node-a")); // the store answers again
        engine.start();

        await().atMost(Duration.ofSeconds(60)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        JobDetail done = store.job(jobId).orElseThrow();
        assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("run");
        assertThat(done.job().state()).isEqualTo(JobState.FAILED);
        assertThat(done.attempts()).extracting(JobAttempt::attempt, JobAttempt::exitCode).containsExactly(
                org.assertj.core.groups.Tuple.tuple(1, 1));
    }
}
