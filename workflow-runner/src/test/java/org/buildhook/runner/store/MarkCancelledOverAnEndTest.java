package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * review51 C1: a node picked a job still marked running (its node silent past the dead-node limit) and read it with
 * its cancel asked; the silent node woke and recorded its command's own end; then the picking node marked it cancelled
 * ({@code JobTask.cancelledBeforeItsStart}). The mark wrote "cancelled while attempt 1 ran; its node stopped before the
 * attempt ended" over that end (and told the end a second time). Now a job that ended meanwhile stays as it ended.
 */
class MarkCancelledOverAnEndTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres"})
    void aJobThatEndedMeanwhileStaysAsItEnded(String which) throws Exception {
        StoreConfig config = which.equals("sqlite") ? TestStores.sqlite(dir) : TestStores.postgres(dir);
        try (Store store = Store.open(config)) {
            String jobId = store.accept(Plans.delivery("{\"build_id\": 5240}"),
                    List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
            assertThat(store.ledger().startAttempt(jobId, "node-1", -1)).isEqualTo(1);
            // The silent node's late record of its command's own end (exited 0 during its pause):
            store.ledger().finishAttempt(jobId, 1, new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, Instant.now(),
                    Instant.now(), "exited with 0", null, false), JobState.SUCCEEDED);
            Job ended = store.job(jobId).orElseThrow().job();
            assertThat(ended.state()).isEqualTo(JobState.SUCCEEDED);

            // The other node, whose pick read the job running with its cancel asked, ends it:
            ExecutionLedger.UnstartedEnd end = store.ledger().markCancelled(jobId, "cancelled while attempt 1 ran;"
                    + " its node stopped before the attempt ended, and it is not run again");

            Job now = store.job(jobId).orElseThrow().job();
            assertThat(end).isEqualTo(ExecutionLedger.UnstartedEnd.ENDED);
            assertThat(now.state()).as("a job that ended stays as it ended").isEqualTo(JobState.SUCCEEDED);
            assertThat(now.message()).isEqualTo(ended.message());
            assertThat(now.endedAt()).isEqualTo(ended.endedAt());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres"})
    void aJobNotEndedIsCancelled(String which) throws Exception {
        StoreConfig config = which.equals("sqlite") ? TestStores.sqlite(dir) : TestStores.postgres(dir);
        try (Store store = Store.open(config)) {
            String jobId = store.accept(Plans.delivery("{\"build_id\": 5242}"),
                    List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
            assertThat(store.ledger().markCancelled(jobId, "cancelled before it started"))
                    .isEqualTo(ExecutionLedger.UnstartedEnd.CANCELLED);
            Job now = store.job(jobId).orElseThrow().job();
            assertThat(now.state()).isEqualTo(JobState.CANCELLED);
            assertThat(now.message()).isEqualTo("cancelled before it started");
        }
    }
}
