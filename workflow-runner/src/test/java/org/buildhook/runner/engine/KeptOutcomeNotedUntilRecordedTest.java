package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

/**
 * review55a F1 (M): a stop kept an outcome whose record and keeping the store refused (a trigger, no outage) in
 * {@value StopsNotRecorded#FILE_NAME}; the node starts again while the store still refuses it. That start's first sweep
 * could not record the note, yet deleted the file (StopsNotRecorded.swept, whatever the records came to): the outcome
 * was then known only in that engine's memory, and a second restart before the store took it found nothing, ran
 * attempt 2 and the command again, and said of attempt 1 that the store had lost its record. Now the note stays on disk
 * until the store records it, through any number of restarts: in one JVM (a WAR reloaded by its container: the
 * attempt's node process is alive), after a host reboot (the attempt is of another boot), and in a new JVM on the same
 * boot (the attempt's node process is gone).
 */
class KeptOutcomeNotedUntilRecordedTest extends AbstractStoreOutageTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    /** How the node comes back between its stops: what its attempt's row then says of the node that ran it. */
    private enum Restart { SAME_JVM, HOST_REBOOTED, NEW_JVM }

    @Test
    void anOutcomeTheStoreRefusesAtTwoStartsInOneJvmStaysNotedAndTheCommandRunsOnce() throws Exception {
        keptThroughTwoStarts(Restart.SAME_JVM);
    }

    @Test
    void anOutcomeTheStoreRefusesAtTwoStartsAfterAHostRebootStaysNotedAndTheCommandRunsOnce() throws Exception {
        keptThroughTwoStarts(Restart.HOST_REBOOTED);
    }

    @Test
    void anOutcomeTheStoreRefusesAtTwoStartsInANewJvmStaysNotedAndTheCommandRunsOnce() throws Exception {
        keptThroughTwoStarts(Restart.NEW_JVM);
    }

    private void keptThroughTwoStarts(Restart restart) throws Exception {
        engine.stop();
        engine = JobEngine.create(storeWithOutages, launcher,
                AbstractEngineTest.steady("node-a").withShutdownGrace(Duration.ofSeconds(1)));
        AtomicBoolean refusing = new AtomicBoolean(true);
        AtomicInteger keeps = new AtomicInteger();
        doAnswer(call -> {
            if (refusing.get()) {
                throw new RunnerException("record refused (injected trigger)");
            }
            return call.callRealMethod();
        }).when(ledger).finishAttempt(anyString(), anyInt(), any(), any(), anyLong(), any());
        // The same refusal meets the best-effort write of what the attempt came to, made as its program exits: it
        // writes the same columns as the keeping (a trigger or a privilege that refuses one refuses the other).
        doAnswer(call -> refusing.get()
                ? java.util.concurrent.CompletableFuture.failedFuture(new RunnerException("decided refused (injected)"))
                : call.callRealMethod()).when(ledger).recordDecidedLater(anyString(), anyInt(), any());
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
        Path notes = store.config().dataDir().resolve(StopsNotRecorded.FILE_NAME);
        assertThat(Files.readString(notes)).contains(jobId + " 1 SUCCEEDED 0 ");
        cameBack(restart, jobId);

        // The first start again: the store still refuses the record, at the start's sweep and after.
        int keepsBefore = keeps.get();
        try (AbstractEngineTest.LogCapture sweep = new AbstractEngineTest.LogCapture(LeftoverSweep.class);
                AbstractEngineTest.LogCapture start = new AbstractEngineTest.LogCapture(JobEngine.class)) {
            engine = JobEngine.create(storeWithOutages, launcher, AbstractEngineTest.steady("node-a"));
            engine.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> keeps.get() > keepsBefore);
            // review55a (c): the sweep said "its command is not run again meanwhile", then recorded attempt 1
            // cut short "…; run again" and put the job back in the queue "to run again".
            assertThat(java.util.stream.Stream.concat(sweep.events().stream(), start.events().stream())
                    .map(e -> e.getFormattedMessage()).filter(m -> m.contains(jobId)))
                    .as("what the start says of the job agrees with what it does: the command is not run again")
                    .noneMatch(m -> m.replace("not run again", "").contains("run again"));
        }
        assertThat(notes).as("still noted after the start's sweep").exists();
        assertThat(Files.readString(notes)).contains(jobId + " 1 SUCCEEDED 0 ");
        engine.stop();
        assertThat(Files.readString(notes)).as("still noted after the stop").contains(jobId + " 1 SUCCEEDED 0 ");
        cameBack(restart, jobId);

        // The second start: the trigger dropped meanwhile.
        refusing.set(false);
        engine = JobEngine.create(storeWithOutages, launcher, AbstractEngineTest.steady("node-a"));
        engine.start();
        JobDetail done = awaitFinal(jobId);
        assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("run");
        assertThat(done.attempts()).extracting(JobAttempt::attempt).containsExactly(1);
        assertThat(done.attempts().get(0).outcome().name()).isEqualTo("SUCCEEDED");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(notes)
                .as("the line recorded leaves the file, which goes once nothing else is in it").doesNotExist());
    }

    /** Makes attempt 1's row say what a start of {@code restart}'s kind finds of the node that ran it. */
    private void cameBack(Restart restart, String jobId) throws Exception {
        switch (restart) {
            case SAME_JVM -> { }
            case HOST_REBOOTED -> sql("UPDATE job_attempts SET boot_id = 'another-boot/pid:[4026531836]'"
                    + " WHERE job_id = ? AND attempt = 1", jobId, null);
            case NEW_JVM -> {
                Process gone = new ProcessBuilder("true").start();
                gone.waitFor();
                sql("UPDATE job_attempts SET node_pid = ?, node_started = 7 WHERE job_id = ? AND attempt = 1 AND"
                        + " outcome = 'RUNNING'", jobId, gone.pid());
            }
        }
    }

    private void sql(String update, String jobId, Long pid) throws SQLException {
        try (var c = store.dataSource().getConnection(); var p = c.prepareStatement(update)) {
            int at = 1;
            if (pid != null) {
                p.setLong(at++, pid);
            }
            p.setString(at, jobId);
            p.executeUpdate();
        }
    }
}
