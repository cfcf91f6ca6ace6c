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

    /** Builds delivered so far: each job of a test comes from a delivery of its own (the same one is deduplicated). */
    private int builds;

    private String job() {
        String body = Plans.fixture().replace("\"build_id\": 67", "\"build_id\": " + (67 + builds++));
        return store.accept(Plans.delivery(body), List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
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
        assertThat(store.ledger().interruptByStop(jobId, attempt, new JobOutcome(JobOutcome.Result.CANCELLED, 143,
                now, now, "killed", null, false), ExecutionLedger.stoppedByShutdownOf(node) + "; run again")).isTrue();
    }

    /** An attempt on {@code node} whose stop could not record it: its next start does, from its data folder's note. */
    private void stoppedNotRecorded(String jobId, String node) throws InterruptedException {
        int attempt = store.ledger().startAttempt(jobId, node);
        assertThat(attempt).isPositive();
        assertThat(store.ledger().interruptLeftover(jobId, attempt, () -> "its node " + node + " was killed during its"
                + " stop, before the stop could record the attempt's end; " + ExecutionLedger.NONE_LEFT + "; run again",
                NodeEnd.STOPPED)).isPresent();
    }

    /** An attempt on {@code node} that its own node fenced itself under: neither its death nor its stop. */
    private void fenced(String jobId, String node) {
        int attempt = store.ledger().startAttempt(jobId, node);
        assertThat(attempt).isPositive();
        Instant now = Instant.now();
        assertThat(store.ledger().interruptAttempt(jobId, attempt, new JobOutcome(JobOutcome.Result.CANCELLED, 137,
                now, now, "killed", null, false), "killed by its own node: no heartbeat could be written for 28870 ms;"
                + " run again")).isTrue();
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
    void gracefulStopsAreNoDeaths() throws Exception {
        String jobId = job();
        for (int i = 0; i < 4; i++) {
            stopped(jobId, "node-" + i);
        }
        assertThat(store.ledger().startAttempt(jobId, "next")).isEqualTo(5);
    }

    /**
     * review21 R2: a job whose last {@link ExecutionLedger#STOPS_IN_A_ROW} attempts were each cut short by its node's
     * graceful stop (recorded by the stopping node, or at its next start from its note) starts no further attempt: its
     * command may stop or restart its own server. One stop fewer does not end it.
     */
    @Test
    void aJobWhoseNodeWasStoppedUnderEachOfItsLastAttemptsStartsNoMore() throws Exception {
        String jobId = job();
        for (int i = 0; i < ExecutionLedger.STOPS_IN_A_ROW - 2; i++) {
            stopped(jobId, "node-" + i);
        }
        stoppedNotRecorded(jobId, "killed-in-its-stop");
        int next = ExecutionLedger.STOPS_IN_A_ROW;
        assertThat(store.ledger().startAttempt(jobId, "next")).as("%d stops in a row", next - 1).isEqualTo(next);
        assertThat(store.ledger().startAttempt(jobId, "again", -1, new ExecutionLedger.InARow(3, next - 1)))
                .as("runner.stops-in-a-row %d: the attempt just ended unrecorded by the node taking it over counts as"
                        + " a death, the row is of stops and deaths", next - 1)
                .isEqualTo(ExecutionLedger.NODE_STOPPED_IN_A_ROW);
        JobDetail before = store.job(jobId).orElseThrow();
        assertThat(before.attempts()).hasSize(next).allMatch(a -> a.outcome() == AttemptOutcome.INTERRUPTED);

        String other = job();
        for (int i = 0; i < ExecutionLedger.STOPS_IN_A_ROW; i++) {
            stopped(other, "node-" + i);
        }
        assertThat(store.ledger().startAttempt(other, "next")).isEqualTo(ExecutionLedger.NODE_STOPPED_IN_A_ROW);
        assertThat(store.ledger().deathsAmongLast(other, ExecutionLedger.STOPS_IN_A_ROW)).isZero();
        assertThat(store.ledger().deathsAmongLast(jobId, next - 1)).isEqualTo(1);
    }

    /**
     * What "in a row" means for stops: any other end (an outcome, a retried failure, its node's self-fencing) between
     * them starts the count again; deaths count with stops (at least one a stop), and a row of deaths only is
     * runner.deaths-in-a-row's, which is looked at first.
     */
    @Test
    void stopsInARowMixWithDeathsAndAnyOtherEndStartsTheCountAgain() throws Exception {
        ExecutionLedger.InARow three = new ExecutionLedger.InARow(5, 3);
        String jobId = job();
        stopped(jobId, "a");
        stopped(jobId, "b");
        fenced(jobId, "c");
        stopped(jobId, "d");
        stopped(jobId, "e");
        assertThat(store.ledger().startAttempt(jobId, "f", -1, three)).as("2 stops in a row after the fencing")
                .isEqualTo(6);
        Instant now = Instant.now();
        store.ledger().finishAttempt(jobId, 6, new JobOutcome(JobOutcome.Result.FAILED, 1, now, now, "exited with 1",
                null, false), JobState.QUEUED);
        died(jobId, "g");
        stopped(jobId, "h");
        assertThat(store.ledger().startAttempt(jobId, "i", -1, three)).as("a death and a stop after the failure")
                .isEqualTo(9);
        // The 9th ends unrecorded (taken over: a death); with the 8th stop and the 7th death, 3 in a row.
        assertThat(store.ledger().startAttempt(jobId, "j", -1, three)).isEqualTo(ExecutionLedger.NODE_STOPPED_IN_A_ROW);

        String deaths = job();
        died(deaths, "a");
        died(deaths, "b");
        died(deaths, "c");
        assertThat(store.ledger().startAttempt(deaths, "d", -1, three)).as("deaths only: not the stops' bound")
                .isEqualTo(4);
        assertThat(store.ledger().startAttempt(deaths, "e", -1, new ExecutionLedger.InARow(4, 2)))
                .as("4 deaths: the deaths' bound first").isEqualTo(ExecutionLedger.NODE_DIED_IN_A_ROW);
    }

    /**
     * tryout22 F1: the end of an attempt that completes a row says that the job is not run again, not "run again";
     * one that does not says "run again".
     */
    @Test
    void theEndThatCompletesARowSaysTheJobIsNotRunAgain() throws Exception {
        ExecutionLedger.InARow bounds = new ExecutionLedger.InARow(2, 3);
        ExecutionLedger ledger = store.ledger();
        String jobId = job();
        stopped(jobId, "a");
        int second = ledger.startAttempt(jobId, "b");
        assertThat(ledger.afterCutShort(jobId, second, NodeEnd.STOPPED, bounds)).isEqualTo(ExecutionLedger.RUN_AGAIN);
        assertThat(ledger.afterCutShort(jobId, second, NodeEnd.DIED, bounds)).isEqualTo(ExecutionLedger.RUN_AGAIN);
        ledger.interruptByStop(jobId, second, null, "stopped by the shutdown of b; run again");
        int third = ledger.startAttempt(jobId, "c");
        assertThat(ledger.afterCutShort(jobId, third, NodeEnd.STOPPED, bounds)).isEqualTo("not run again: its node was"
                + " stopped before each of its last 3 attempts ended (runner.stops-in-a-row: 3); the node that picks it"
                + " next ends it FAILED");
        assertThat(ledger.afterCutShort(jobId, third, NodeEnd.DIED, bounds)).isEqualTo("not run again: its node was"
                + " stopped or died before each of its last 3 attempts ended (runner.stops-in-a-row: 3); the node that"
                + " picks it next ends it FAILED");
        assertThat(ledger.afterCutShort(jobId, third, NodeEnd.NONE, bounds)).isEqualTo(ExecutionLedger.RUN_AGAIN);
        assertThat(ledger.afterCutShort(jobId, third)).isEqualTo(ExecutionLedger.RUN_AGAIN);

        String deaths = job();
        died(deaths, "a");
        int next = ledger.startAttempt(deaths, "b");
        assertThat(ledger.afterCutShort(deaths, next, NodeEnd.DIED, bounds)).isEqualTo("not run again: its node died"
                + " before each of its last 2 attempts ended (runner.deaths-in-a-row: 2); the node that picks it next"
                + " ends it FAILED");
        // As recorded (null): the dead-node release's words, after the sweep recorded the death.
        assertThat(ledger.interruptLeftover(deaths, next, () -> "its node b died; none of its processes was left;"
                + " not run again")).isPresent();
        assertThat(ledger.afterCutShort(deaths, next, null, bounds)).startsWith("not run again: its node died before");
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
