package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on PostgreSQL (read committed) against a job added to a delivery it is deleting: the new
 * job is never deleted after whoever added it was told its id. Each race is made deterministic with a
 * row lock held by the test on a connection of its own, and waited for in {@code pg_stat_activity}
 * (who is blocked by whom), never by sleeping.
 */
class PostgresRetentionRaceTest {

    private static final Instant OLD = Instant.now().minus(Duration.ofDays(31));

    @TempDir
    Path dir;
    Store store;
    Connection test;
    final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeEach
    void open() throws SQLException {
        store = Store.open(TestStores.postgres(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
        test = store.dataSource().getConnection();
        test.setAutoCommit(false);
    }

    @AfterEach
    void close() throws Exception {
        test.rollback();
        test.close();
        threads.shutdownNow();
        threads.awaitTermination(30, TimeUnit.SECONDS);
        store.close();
    }

    @Test
    void aReRunRetentionOvertakesIsRefusedInsteadOfDeletedAfterItsIdWasGiven() throws Exception {
        String old = finishedJobOfAnOldDelivery();
        String delivery = store.job(old).orElseThrow().job().deliveryId();
        // Retention will stop at deleting the old job's attempt, after it chose the delivery.
        lock("SELECT 1 FROM job_attempts WHERE job_id = ? FOR UPDATE", old);
        CompletableFuture<Integer> retention = CompletableFuture.supplyAsync(store::runRetention, threads);
        int sweeper = awaitBlockedBy(pid(test));

        CompletableFuture<String> rerun = CompletableFuture.supplyAsync(() -> store.rerun(old), threads);
        // Either the re-run is done, or it waits for retention (which waits for the test).
        await().atMost(Duration.ofSeconds(30)).until(() -> rerun.isDone() || !blockedBy(sweeper).isEmpty());
        test.rollback();

        assertThat(retention.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(store.delivery(delivery)).isEmpty();
        // Before the fix the re-run was given an id, and its job then went with the delivery.
        String given = rerun.handle((id, failure) -> id).join();
        if (given != null) {
            assertThat(store.job(given)).as("the re-run job " + given + " whose id was given").isPresent();
        }
        assertThatThrownBy(() -> rerun.join()).hasCauseInstanceOf(RunnerException.class)
                .hasMessageContaining("no job " + old);
        assertThat(count("SELECT COUNT(*) FROM jobs")).isZero();
    }

    @Test
    void aJobAddedWhileRetentionChoosesItsDeliveryKeepsTheDeliveryAndTheJob() throws Exception {
        String old = finishedJobOfAnOldDelivery();
        String delivery = store.job(old).orElseThrow().job().deliveryId();
        // As any transaction adding a job to the delivery (a re-run, a replay) does: it locks the
        // delivery's row (the foreign key) and inserts the job, not committed yet.
        lock("SELECT 1 FROM deliveries WHERE id = ? FOR KEY SHARE", delivery);
        String added = old.substring(0, 25) + (old.endsWith("Z") ? "Y" : "Z");
        try (Statement s = test.createStatement()) {
            s.execute("CREATE TEMP TABLE added ON COMMIT DROP AS SELECT * FROM jobs WHERE id = '" + old + "'");
            s.execute("UPDATE added SET id = '" + added + "', state = 'QUEUED', ended_at = NULL, rerun_of = '"
                    + old + "'");
            s.execute("INSERT INTO jobs SELECT * FROM added");
        }
        CompletableFuture<Integer> retention = CompletableFuture.supplyAsync(store::runRetention, threads);
        awaitBlockedBy(pid(test));
        test.commit();

        // Before the fix retention deleted the old job and then failed on the new one (foreign key).
        assertThat(retention.get(30, TimeUnit.SECONDS)).isZero();
        assertThat(store.delivery(delivery)).isPresent();
        assertThat(store.job(added).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
        assertThat(store.job(old)).isPresent();
    }

    /**
     * review13 L1: a batch that kept a delivery (a job was added to it while the batch chose it) deleted
     * fewer than a batch, and the sweep took that for "nothing older left": the old deliveries after it
     * waited for the next sweep (an hour by default).
     */
    @Test
    void aBatchThatKeepsADeliveryDoesNotEndTheSweep() throws Exception {
        test.rollback();
        test.close();
        store.close();
        StoreConfig config = TestStores.postgres(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        store = Store.open(new StoreConfig(config.url(), config.dataDir(), config.dedupWindow(), config.retention(),
                config.retentionInterval(), 2, config.poolSize(), config.connectTimeout(), config.clock()));
        test = store.dataSource().getConnection();
        test.setAutoCommit(false);
        String first = finishedJobOfAnOldDelivery();
        String second = finishedJobOfAnOldDelivery();
        String third = finishedJobOfAnOldDelivery();
        String kept = store.job(first).orElseThrow().job().deliveryId();
        // A re-run of the first delivery's job, not committed yet, as in the test above.
        lock("SELECT 1 FROM deliveries WHERE id = ? FOR KEY SHARE", kept);
        String added = first.substring(0, 25) + (first.endsWith("Z") ? "Y" : "Z");
        try (Statement s = test.createStatement()) {
            s.execute("CREATE TEMP TABLE added ON COMMIT DROP AS SELECT * FROM jobs WHERE id = '" + first + "'");
            s.execute("UPDATE added SET id = '" + added + "', state = 'QUEUED', ended_at = NULL, rerun_of = '"
                    + first + "'");
            s.execute("INSERT INTO jobs SELECT * FROM added");
        }
        CompletableFuture<Integer> retention = CompletableFuture.supplyAsync(store::runRetention, threads);
        awaitBlockedBy(pid(test));
        test.commit();

        // The first batch chose the first two deliveries and kept the first; the sweep goes on to the third.
        assertThat(retention.get(30, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(store.delivery(kept)).isPresent();
        assertThat(store.job(second)).isEmpty();
        assertThat(store.job(third)).isEmpty();
    }

    /** A delivery older than the retention age whose one job failed; returns the job's id. */
    private String finishedJobOfAnOldDelivery() {
        PlannedJob job = Plans.job("deploy", List.of("/bin/true"));
        String id = store.accept(Plans.delivery("default", "{\"build_id\": 1, \"n\": \"" + System.nanoTime() + "\"}",
                OLD), List.of(job)).jobIds().get(0);
        int attempt = store.ledger().startAttempt(id, "test-node");
        store.ledger().finishAttempt(id, attempt, new JobOutcome(JobOutcome.Result.FAILED, 1, Instant.now(),
                Instant.now(), "exited with 1", null, false), JobState.FAILED);
        return id;
    }

    private void lock(String sql, String id) throws SQLException {
        try (PreparedStatement p = test.prepareStatement(sql)) {
            p.setString(1, id);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).as(sql).isTrue();
            }
        }
    }

    /** Waits until one session waits for {@code pid}'s locks; returns that session's pid. */
    private int awaitBlockedBy(int pid) {
        List<Integer> waiting = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            waiting.clear();
            waiting.addAll(blockedBy(pid));
            return !waiting.isEmpty();
        });
        assertThat(waiting).hasSize(1);
        return waiting.get(0);
    }

    private List<Integer> blockedBy(int pid) throws SQLException {
        try (Connection c = store.dataSource().getConnection()) {
            return PgSessions.blockedBy(c, pid);
        }
    }

    private static int pid(Connection c) throws SQLException {
        return PgSessions.pid(c);
    }

    private long count(String sql) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
