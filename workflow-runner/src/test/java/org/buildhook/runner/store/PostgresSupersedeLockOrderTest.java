package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * chaos33 F1: a newer build's delivery superseding the jobs of its key, while a node records the end of the
 * running older job, deadlocked on PostgreSQL. The node's transaction ({@code ExecutionLedger.finishAttempt}) locks
 * the running job's row, then wakes the job that superseded it ({@code SlotLine.wake}: its {@code scheduled_tasks}
 * row). The delivery's ({@code Supersede.supersedeOlder}) took the queued job's {@code scheduled_tasks} row first
 * ({@code JobQueue.cancel}), then asked the running job's row: each waited for the other, PostgreSQL ended one
 * ("deadlock detected"), and the node logged db-scheduler's "Unhandled exception … Treating as failure" with a stack
 * trace, the job's end recorded only at its next try (seed 33001: 11 s later). The job rows are taken first now, in
 * id order, as every other transaction takes a job's row before its queue entry.
 */
class PostgresSupersedeLockOrderTest {

    @TempDir
    Path dir;

    private Store store;
    private ExecutorService pool;

    @BeforeEach
    void open() {
        store = Store.open(TestStores.postgres(dir.resolve("data")));
        pool = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void close() throws Exception {
        pool.shutdownNow();
        pool.awaitTermination(30, TimeUnit.SECONDS);
        store.close();
    }

    @Test
    void aDeliverySupersedingWhileTheRunningJobsEndIsRecordedWaitsInsteadOfDeadlocking() throws Exception {
        JobWorkflow key = new JobWorkflow(990L, "k", true, null, Map.of(), Map.of(), null, null, 0);
        PlannedJob running = Plans.job("deploy-lock", List.of("/bin/true")).withWorkflow(key);
        String runningId = store.accept(Plans.delivery("{\"build_id\": 990}"), List.of(running)).jobIds().get(0);
        picked(runningId);
        store.ledger().startAttempt(runningId, "node-a");
        // build 991 asks the running job to stop (running: cancel) and waits in the queue for it to end
        PlannedJob queued = Plans.job("deploy-lock", List.of("/bin/true")).withWorkflow(key.withBuildId(991L));
        String queuedId = store.accept(Plans.delivery("{\"build_id\": 991}"), List.of(queued)).jobIds().get(0);
        assertThat(store.job(queuedId).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);

        try (Connection node = DriverManager.getConnection(TestStores.postgresUrl());
                Connection watch = DriverManager.getConnection(TestStores.postgresUrl())) {
            node.setSchema(schema());
            node.setAutoCommit(false);
            int nodePid = backendPid(node);
            // the node records the running job's end: its row first (as finishAttempt) ...
            try (PreparedStatement p = node.prepareStatement("UPDATE jobs SET state = 'SUPERSEDED', ended_at = ?,"
                    + " message = 'superseded by job ' || superseded_by WHERE id = ?")) {
                p.setLong(1, System.currentTimeMillis());
                p.setString(2, runningId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            // ... meanwhile build 992 arrives and supersedes the key's older jobs
            PlannedJob newest = Plans.job("deploy-lock", List.of("/bin/true")).withWorkflow(key.withBuildId(992L));
            Future<AcceptResult> delivery = pool.submit(
                    () -> store.accept(Plans.delivery("{\"build_id\": 992}"), List.of(newest)));
            await().atMost(Duration.ofMinutes(2)).until(() -> delivery.isDone() || waitsForALock(watch, nodePid));
            // ... and the node wakes the job that superseded it (as wakeSuperseding), then commits
            try (PreparedStatement p = node.prepareStatement("UPDATE scheduled_tasks SET execution_time = now()"
                    + " WHERE task_instance = ? AND picked = false")) {
                p.setString(1, queuedId);
                p.executeUpdate();
            }
            node.commit();

            String newestId = delivery.get(2, TimeUnit.MINUTES).jobIds().get(0);
            assertThat(store.job(queuedId).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
            assertThat(store.job(runningId).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
            assertThat(store.job(newestId).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
        }
    }

    private String schema() throws SQLException {
        try (Connection c = store.dataSource().getConnection()) {
            return c.getSchema();
        }
    }

    private void picked(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = ? WHERE task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, "node-a");
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
            r.next();
            return r.getInt(1);
        }
    }

    /** A session of the database other than {@code except} waits for a row lock (the delivery's transaction). */
    private static boolean waitsForALock(Connection watch, int except) throws SQLException {
        try (PreparedStatement p = watch.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE"
                + " datname = current_database() AND wait_event_type = 'Lock' AND pid <> ?")) {
            p.setInt(1, except);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1) > 0;
            }
        }
    }
}
