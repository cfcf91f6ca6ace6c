package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import org.buildhook.runner.exec.ProcessIdentity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * review51 S1: {@link ExecutionLedger#ownStartNotLaunched}, which the job's thread asks when a try of its start failed
 * with an outage, finds the attempt that try made when PostgreSQL committed it and only its answer was lost; it finds
 * none that this process launched already (its process recorded), nor one of another node. A cancel (or supersede)
 * flagged meanwhile is answered {@link ExecutionLedger#CANCEL_ASKED}, the attempt ended (review52 F1).
 */
class OwnStartNotLaunchedTest {

    @TempDir
    Path dir;

    @Test
    void aStartWhoseAnswerWasLostIsFoundByTheStartTriedAgain() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url); Store store = Store.open(StoreConfig.of(front.url(url), dir))) {
            String jobId = store.accept(Plans.delivery("{\"build_id\": 5239}"),
                    List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
            front.cutAnswerAt("job AS (UPDATE jobs SET state");
            StoreUnavailableException lost = catchThrowableOfType(
                    () -> store.ledger().startAttempt(jobId, "node-1", -1), StoreUnavailableException.class);
            assertThat(lost).as("an outage").isNotNull();
            assertThat(front.cutAnswers()).as("the start was sent, its answer dropped").isEqualTo(1);

            assertThat(store.ledger().ownStartNotLaunched(jobId, "node-1", -1, 1)).as("the lost try's attempt")
                    .isEqualTo(1);
            assertThat(store.job(jobId).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                    .containsExactly(AttemptOutcome.RUNNING);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres"})
    void noAttemptLaunchedAlreadyNorOneOfAnotherNodeNorOneNotMade(String which) throws Exception {
        StoreConfig config = which.equals("sqlite") ? TestStores.sqlite(dir) : TestStores.postgres(dir);
        try (Store store = Store.open(config)) {
            String jobId = store.accept(Plans.delivery("{\"build_id\": 5241}"),
                    List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
            assertThat(store.ledger().ownStartNotLaunched(jobId, "node-1", -1, 1)).as("no attempt yet").isZero();
            assertThat(store.ledger().startAttempt(jobId, "node-1", -1)).isEqualTo(1);
            assertThat(store.ledger().ownStartNotLaunched(jobId, "node-1", -1, 2)).as("not the latest").isZero();
            assertThat(store.ledger().ownStartNotLaunched(jobId, "node-2", -1, 1)).as("another node's").isZero();
            assertThat(store.ledger().ownStartNotLaunched(jobId, "node-1", -1, 1)).as("this process's").isEqualTo(1);
            store.ledger().recordProcess(jobId, 1, ProcessIdentity.of(ProcessHandle.current().pid()));
            assertThat(store.ledger().ownStartNotLaunched(jobId, "node-1", -1, 1)).as("launched already").isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres"})
    void aCancelAskedAfterTheLostStartIsAnsweredAndItsAttemptEnded(String which) throws Exception {
        StoreConfig config = which.equals("sqlite") ? TestStores.sqlite(dir) : TestStores.postgres(dir);
        try (Store store = Store.open(config)) {
            String jobId = store.accept(Plans.delivery("{\"build_id\": 5243}"),
                    List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
            assertThat(store.ledger().startAttempt(jobId, "node-1", -1)).isEqualTo(1); // its answer "lost"
            // A cancel (or a newer build's supersede) of the job, its execution picked by this node: only flagged.
            try (Connection c = store.dataSource().getConnection();
                    PreparedStatement p = c.prepareStatement("UPDATE jobs SET cancel_requested = 1 WHERE id = ?")) {
                p.setString(1, jobId);
                p.executeUpdate();
            }

            assertThat(store.ledger().ownStartNotLaunched(jobId, "node-1", -1, 1))
                    .as("the lost start's attempt is not launched: its cancel was asked")
                    .isEqualTo(ExecutionLedger.CANCEL_ASKED);
            assertThat(store.job(jobId).orElseThrow().attempts()).as("ended, not left RUNNING under the cancelled job")
                    .extracting(JobAttempt::outcome, JobAttempt::message)
                    .containsExactly(tuple(AttemptOutcome.CANCELLED,
                            ExecutionLedger.NOT_LAUNCHED_CANCELLED));
            assertThat(store.ledger().ownStartNotLaunched(jobId, "node-1", -1, 1)).as("asked again: none to launch")
                    .isZero();
            assertThat(store.ledger().startAttempt(jobId, "node-1", -1)).as("nor a next one started")
                    .isEqualTo(ExecutionLedger.CANCEL_ASKED);

            // What the job's thread then does (JobTask.cancelledBeforeItsStart).
            assertThat(store.ledger().markCancelled(jobId, Job.cancelledBeforeItsNextAttempt(0, null)))
                    .isEqualTo(ExecutionLedger.UnstartedEnd.CANCELLED);
            JobDetail job = store.job(jobId).orElseThrow();
            assertThat(job.job().state()).isEqualTo(JobState.CANCELLED);
            assertThat(job.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.CANCELLED);
        }
    }
}
