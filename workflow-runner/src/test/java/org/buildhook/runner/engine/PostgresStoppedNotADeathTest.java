package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.AttemptStartSeams;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

class PostgresStoppedNotADeathTest extends AbstractStoppedNotADeathTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    /**
     * review29 R4, the other order: another node's pick found nothing to conclude from, and its start holds the job's
     * row and is about to write attempt 2 (held there by the seam), when the stopped node's start records the exit it
     * knew. The record waits for that start, then finds attempt 2 and records the exit late, in attempt 1's history
     * ("recorded late … meanwhile … attempt 2 on node node-3"). Before, it wrote its conclusion into attempt 1 beside
     * the start: attempt 2 ran all the same, and attempt 1 kept {@code INTERRUPTED} with a record nobody reads.
     * (SQLite's one writer runs the two transactions one after the other.)
     */
    @Test
    void anExitRecordedWhileAnotherNodeStartsTheJobAgainWaitsForThatStartAndIsRecordedLate() throws Exception {
        String jobId = store.accept(Plans.delivery("{\"build_id\": 1}"), List.of(Plans.job("deploy",
                List.of("/bin/true"), Map.of(), 0, Duration.ZERO, 0))).jobIds().get(0);
        Instant exited = Instant.now().minusSeconds(180).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        assertThat(store.ledger().startAttempt(jobId, "node-2b")).isEqualTo(1);
        Path noted = dir.resolve(StopsNotRecorded.FILE_NAME);
        new StopsNotRecorded(noted, "node-2b").add(jobId, 1, new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0,
                exited, null));
        sweptWhileItsNodeRuns(store, jobId, "node-3");
        CountDownLatch looked = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        AttemptStartSeams.afterStartLook(id -> {
            if (id.equals(jobId)) {
                looked.countDown();
                try {
                    go.await(2, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        ExecutorService threads = Executors.newCachedThreadPool();
        try {
            Future<Integer> start = threads.submit(() -> store.ledger().startAttempt(jobId, "node-3"));
            assertThat(looked.await(1, TimeUnit.MINUTES)).as("the start held at its look").isTrue();
            Future<?> record = threads.submit(() -> {
                new LeftoverSweep(store.ledger(), "node-2b", new StopsNotRecorded(noted, "node-2b")).sweepDeadNodes();
                return null;
            });
            await().atMost(Duration.ofMinutes(1)).until(() -> record.isDone() || waitsForTheJobsRow());
            assertThat(record.isDone()).as("the record went through while the start held the job's row").isFalse();
            go.countDown();
            assertThat(start.get(1, TimeUnit.MINUTES)).isEqualTo(2);
            record.get(1, TimeUnit.MINUTES);
        } finally {
            AttemptStartSeams.clear();
            go.countDown();
            threads.shutdownNow();
            threads.awaitTermination(1, TimeUnit.MINUTES);
        }

        var detail = store.job(jobId).orElseThrow();
        var first = detail.attempts().get(0);
        assertThat(first.outcome()).as("%s", first).isEqualTo(AttemptOutcome.SUCCEEDED);
        assertThat(first.exitCode()).isZero();
        assertThat(first.message()).startsWith("exited with 0 at " + exited + "; recorded late")
                .endsWith("attempt 2 on node node-3");
        assertThat(store.ledger().decided(jobId, 1)).as("nothing left to conclude from").isEmpty();
        assertThat(detail.attempts().get(1).outcome()).isEqualTo(AttemptOutcome.RUNNING);
    }

    /** Whether a session waits for a row lock at recordKnownOutcome's lock of the job's row. */
    private boolean waitsForTheJobsRow() throws Exception {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        + " AND query = 'SELECT attempts FROM jobs WHERE id = $1 FOR UPDATE'");
                ResultSet rs = p.executeQuery()) {
            return rs.next() && rs.getLong(1) > 0;
        }
    }
}
