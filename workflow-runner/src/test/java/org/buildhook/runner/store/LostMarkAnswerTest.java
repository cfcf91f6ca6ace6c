package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * review53 F2: a job thread's mark of a job ended before its start (markCancelled, markFailedUnstarted) committed, and
 * its answer was lost; the wait tried it again, which found the job ended and answered ENDED: the thread said "it ended
 * meanwhile", never told the end, and did not poke for the jobs it freed. Tried again after a failed try ({@code
 * again}), the mark now recognises its own end; without one, or over an end of another's, ENDED as before.
 */
class LostMarkAnswerTest {

    @TempDir
    Path dir;

    private static Store open(String which, Path dir) {
        return Store.open(which.equals("sqlite") ? TestStores.sqlite(dir) : TestStores.postgres(dir));
    }

    private static String accept(Store store, int build) {
        return store.accept(Plans.delivery("{\"build_id\": " + build + "}"),
                List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres"})
    void aCancelTriedAgainAfterItsAnswerWasLostIsItsOwn(String which) {
        try (Store store = open(which, dir)) {
            String jobId = accept(store, 5301);
            String message = "cancelled before it ran";
            assertThat(store.ledger().markCancelled(jobId, message)).isEqualTo(ExecutionLedger.UnstartedEnd.CANCELLED);
            Job first = store.job(jobId).orElseThrow().job();

            assertThat(store.ledger().markCancelled(jobId, message, true))
                    .as("tried again: its own end").isEqualTo(ExecutionLedger.UnstartedEnd.CANCELLED);
            assertThat(store.ledger().markCancelled(jobId, message, false))
                    .as("no earlier try: an end of another's").isEqualTo(ExecutionLedger.UnstartedEnd.ENDED);
            Job now = store.job(jobId).orElseThrow().job();
            assertThat(now.state()).isEqualTo(JobState.CANCELLED);
            assertThat(now.endedAt()).isEqualTo(first.endedAt());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres"})
    void aFailedMarkTriedAgainAfterItsAnswerWasLostIsItsOwn(String which) throws Exception {
        try (Store store = open(which, dir)) {
            String jobId = accept(store, 5302);
            String message = "not started: refused";
            assertThat(store.ledger().markFailedUnstarted(jobId, message))
                    .isEqualTo(ExecutionLedger.UnstartedEnd.FAILED);
            assertThat(store.ledger().markFailedUnstarted(jobId, message, true))
                    .isEqualTo(ExecutionLedger.UnstartedEnd.FAILED);

            // Its cancel flagged since its pick: the first try ended it CANCELLED; tried again, so again.
            String flagged = accept(store, 5303);
            try (Connection c = store.dataSource().getConnection();
                    PreparedStatement p = c.prepareStatement("UPDATE jobs SET cancel_requested = 1 WHERE id = ?")) {
                p.setString(1, flagged);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            assertThat(store.ledger().markFailedUnstarted(flagged, message))
                    .isEqualTo(ExecutionLedger.UnstartedEnd.CANCELLED);
            assertThat(store.ledger().markFailedUnstarted(flagged, message, true))
                    .isEqualTo(ExecutionLedger.UnstartedEnd.CANCELLED);
            assertThat(store.job(flagged).orElseThrow().job().state()).isEqualTo(JobState.CANCELLED);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres"})
    void anEndOfAnothersStaysEndedEvenTriedAgain(String which) {
        try (Store store = open(which, dir)) {
            String jobId = accept(store, 5304);
            assertThat(store.ledger().startAttempt(jobId, "node-1", -1)).isEqualTo(1);
            store.ledger().finishAttempt(jobId, 1, new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, Instant.now(),
                    Instant.now(), "exited with 0", null, false), JobState.SUCCEEDED);
            assertThat(store.ledger().markCancelled(jobId, "cancelled while attempt 1 ran; its node stopped before the"
                    + " attempt ended, and it is not run again", true)).isEqualTo(ExecutionLedger.UnstartedEnd.ENDED);
            assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
        }
    }
}
