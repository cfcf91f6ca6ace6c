package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review20 R3: the store tells an attempt its node's death ended (its end recorded by another node: a sweep,
 * or the node that took the job over) from one its own node ended (a graceful stop, a start it could not make,
 * its self-fencing), and a job whose last {@link ExecutionLedger#DEATHS_IN_A_ROW} attempts were each ended by a
 * death starts no further attempt. On SQLite and PostgreSQL by the subclasses; the engine's side, with real
 * nodes killed, is in {@code AbstractCrashTest}.
 */
abstract class AbstractDeathsInARowTest {

    @TempDir
    Path dir;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private String job() {
        return store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
    }

    /** An attempt on {@code node} that a sweep ends: its node died. */
    private void died(String jobId, String node) throws InterruptedException {
        int attempt = store.ledger().startAttempt(jobId, node);
        assertThat(attempt).isPositive();
        assertThat(store.ledger().interruptLeftover(jobId, attempt, () -> "its node " + node + " died before the"
                + " attempt ended; " + ExecutionLedger.NONE_LEFT + "; run again")).isPresent();
    }

    /** An attempt on {@code node} that its own node's graceful stop ends. */
    private void stopped(String jobId, String node) {
        int attempt = store.ledger().startAttempt(jobId, node);
        assertThat(attempt).isPositive();
        Instant now = Instant.now();
        assertThat(store.ledger().interruptAttempt(jobId, attempt, new JobOutcome(JobOutcome.Result.CANCELLED, 143,
                now, now, "killed", null, false), ExecutionLedger.stoppedByShutdownOf(node) + "; run again")).isTrue();
    }

    @Test
    void aJobWhoseNodeDiedUnderEachOfItsLastThreeAttemptsStartsNoFourth() throws Exception {
        String jobId = job();
        died(jobId, "first");
        assertThat(store.ledger().startAttempt(jobId, "x", -1, 1)).as("runner.deaths-in-a-row: 1")
                .isEqualTo(ExecutionLedger.NODE_DIED_IN_A_ROW);
        died(jobId, "second");
        assertThat(store.job(jobId).orElseThrow().job().attempts()).isEqualTo(2);
        died(jobId, "third");

        assertThat(store.ledger().startAttempt(jobId, "fourth")).isEqualTo(ExecutionLedger.NODE_DIED_IN_A_ROW);
        assertThat(store.job(jobId).orElseThrow().attempts()).hasSize(3)
                .allMatch(a -> a.outcome() == AttemptOutcome.INTERRUPTED);

        // The engine then ends the job, its attempts kept as they were.
        Instant ended = store.job(jobId).orElseThrow().attempts().get(2).endedAt();
        assertThat(store.ledger().finishWithoutAttempt(jobId, 3, new JobOutcome(JobOutcome.Result.FAILED, null, null,
                ended, "not run again: its node died", null, false), JobState.FAILED, -1, null))
                .isEqualTo(ExecutionLedger.Finished.RECORDED);
        JobDetail detail = store.job(jobId).orElseThrow();
        assertThat(detail.job().state()).isEqualTo(JobState.FAILED);
        assertThat(detail.job().message()).isEqualTo("not run again: its node died");
        assertThat(detail.job().endedAt()).isEqualTo(ended);
        assertThat(detail.attempts()).hasSize(3).allMatch(a -> a.outcome() == AttemptOutcome.INTERRUPTED)
                .allSatisfy(a -> assertThat(a.message()).contains(" died before the attempt ended"));
        assertThat(store.ledger().startAttempt(jobId, "fifth")).isZero();
    }

    @Test
    void gracefulStopsNeverCountHoweverMany() throws Exception {
        String jobId = job();
        for (int i = 0; i < 4; i++) {
            stopped(jobId, "node-" + i);
        }
        assertThat(store.ledger().startAttempt(jobId, "next")).isEqualTo(5);
    }

    /** Only deaths in a row: a stop, or a failure its rule retried, between them starts the count again. */
    @Test
    void anotherEndBetweenDeathsStartsTheCountAgain() throws Exception {
        String jobId = job();
        died(jobId, "a");
        died(jobId, "b");
        stopped(jobId, "c");
        died(jobId, "d");
        died(jobId, "e");
        int next = store.ledger().startAttempt(jobId, "f");
        assertThat(next).as("2 deaths in a row after the stop").isEqualTo(6);
        Instant now = Instant.now();
        store.ledger().finishAttempt(jobId, next, new JobOutcome(JobOutcome.Result.FAILED, 1, now, now, "exited with 1",
                null, false), JobState.QUEUED);
        died(jobId, "g");
        died(jobId, "h");
        assertThat(store.ledger().startAttempt(jobId, "i")).isEqualTo(9);
    }

    /**
     * An attempt still marked running whose end nobody recorded (its host died with its node) is ended by the
     * node that takes the job over: a death too, the third here. Its own node's late account of the same attempt
     * (it had fenced itself and lived on) replaces that guess, and is no death.
     */
    @Test
    void anAttemptEndedByTheNodeThatTookTheJobOverIsADeathUntilItsOwnNodeSaysOtherwise() throws Exception {
        String jobId = job();
        died(jobId, "a");
        died(jobId, "b");
        int third = store.ledger().startAttempt(jobId, "other-host");
        assertThat(store.ledger().startAttempt(jobId, "taker")).isEqualTo(ExecutionLedger.NODE_DIED_IN_A_ROW);
        JobAttempt unswept = store.job(jobId).orElseThrow().attempts().get(2);
        assertThat(unswept.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(unswept.message()).startsWith(
                "its node stopped heart-beating before the attempt's end was recorded");

        Instant now = Instant.now();
        store.ledger().interruptAttempt(jobId, third, new JobOutcome(JobOutcome.Result.CANCELLED, 137, now, now,
                "killed", null, false), "killed by its own node: no heartbeat could be written for 28870 ms; run again");
        assertThat(store.ledger().startAttempt(jobId, "taker")).isEqualTo(4);
    }
}
