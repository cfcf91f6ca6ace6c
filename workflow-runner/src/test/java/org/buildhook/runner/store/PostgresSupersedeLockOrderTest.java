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
        // The store's sessions wait for a lock without limit ({@code lock_timeout} 0): only a deadlock can end a wait,
        // not a loaded machine (as PostgresDeliveryCancelRacesTest).
        store = Store.open(StoreConfig.of(TestStores.postgres(dir.resolve("data")).url()
                + "&options=-c%20lock_timeout%3D0", dir.resolve("data")));
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
            await().atMost(Duration.ofMinutes(2)).until(() -> delivery.isDone() || blockedBy(watch, nodePid));
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

    /**
     * review33: since the delivery takes the older jobs' rows before their queue entries, an operator's cancel of a
     * queued job, which took the job's queue entry first ({@code JobQueue.cancel}) and then its row, deadlocked with a
     * newer build's delivery superseding that job: the delivery held the row and asked for the entry, the cancel held
     * the entry and asked for the row. The cancel takes the job's row first now, as every other writer of both.
     */
    @Test
    void aCancelOfAQueuedJobWhileADeliverySupersedesItWaitsInsteadOfDeadlocking() throws Exception {
        JobWorkflow key = new JobWorkflow(995L, "k", true, null, Map.of(), Map.of(), null, null, 0);
        PlannedJob queued = Plans.job("deploy-cancel", List.of("/bin/true")).withWorkflow(key);
        String queuedId = store.accept(Plans.delivery("{\"build_id\": 995}"), List.of(queued)).jobIds().get(0);
        assertThat(store.job(queuedId).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);

        try (Connection delivery = DriverManager.getConnection(TestStores.postgresUrl());
                Connection watch = DriverManager.getConnection(TestStores.postgresUrl())) {
            delivery.setSchema(schema());
            delivery.setAutoCommit(false);
            int deliveryPid = backendPid(delivery);
            // build 996's delivery supersedes the key's older jobs: their rows first (Supersede.supersedeOlder) ...
            try (PreparedStatement p = delivery.prepareStatement("SELECT id, state FROM jobs WHERE rule_name = ?"
                    + " AND supersede_key = ? AND build_id < ? AND state IN ('QUEUED', 'WAITING',"
                    + " 'AWAITING_APPROVAL', 'RUNNING') ORDER BY id FOR UPDATE")) {
                p.setString(1, "deploy-cancel");
                p.setString(2, "k");
                p.setLong(3, 996L);
                try (ResultSet r = p.executeQuery()) {
                    assertThat(r.next()).isTrue();
                    assertThat(r.getString(1)).isEqualTo(queuedId);
                }
            }
            // ... meanwhile an operator cancels the queued job ...
            Future<Boolean> cancel = pool.submit(() -> store.cancel(queuedId));
            await().atMost(Duration.ofMinutes(2)).until(() -> cancel.isDone() || blockedBy(watch, deliveryPid));
            // ... and the delivery takes its queue entry (JobQueue.cancel), ends it superseded, and commits
            try (PreparedStatement p = delivery.prepareStatement("DELETE FROM scheduled_tasks WHERE task_name = ?"
                    + " AND task_instance = ? AND picked = false")) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setString(2, queuedId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            try (PreparedStatement p = delivery.prepareStatement("UPDATE jobs SET state = 'SUPERSEDED', ended_at = ?,"
                    + " message = 'superseded by a newer build' WHERE id = ?")) {
                p.setLong(1, System.currentTimeMillis());
                p.setString(2, queuedId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            delivery.commit();

            // the cancel then finds the job ended, and leaves it so
            assertThat(cancel.get(2, TimeUnit.MINUTES)).isFalse();
            assertThat(store.job(queuedId).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
        }
    }

    /**
     * review33: the approval of a newer build's job (build 2) locked its row, then the rows of the older jobs of its
     * key it supersedes (Supersede.approved); a delivery of build 3 of that key at the same moment locks the same
     * older jobs' rows in id order (ids sort by creation, so build 1's job first), then build 2's: each held a row the
     * other asked for. The approval takes the key's row first now, as a delivery does, so the two go one after the
     * other. The delivery's statements below are Supersede's; the lock of the older job's row on its own stands for
     * the first row its ordered SELECT … FOR UPDATE takes.
     */
    @Test
    void anApprovalWhileADeliveryOfANewerBuildSupersedesTheKeysJobsWaitsInsteadOfDeadlocking() throws Exception {
        JobWorkflow key = new JobWorkflow(1L, "k", true, Duration.ofHours(1), Map.of(), Map.of(), null, null, 0);
        PlannedJob first = Plans.job("deploy-approve", List.of("/bin/true")).withWorkflow(key);
        String firstId = store.accept(Plans.delivery("{\"build_id\": 1}"), List.of(first)).jobIds().get(0);
        assertThat(store.approve(firstId, "alice")).isTrue();
        PlannedJob second = Plans.job("deploy-approve", List.of("/bin/true")).withWorkflow(key.withBuildId(2L));
        String secondId = store.accept(Plans.delivery("{\"build_id\": 2}"), List.of(second)).jobIds().get(0);
        assertThat(store.job(firstId).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
        assertThat(store.job(secondId).orElseThrow().job().state()).isEqualTo(JobState.AWAITING_APPROVAL);
        assertThat(firstId).isLessThan(secondId);

        try (Connection delivery = DriverManager.getConnection(TestStores.postgresUrl());
                Connection watch = DriverManager.getConnection(TestStores.postgresUrl())) {
            delivery.setSchema(schema());
            delivery.setAutoCommit(false);
            int deliveryPid = backendPid(delivery);
            // build 3's delivery: the key's row (Supersede.claim) ...
            try (PreparedStatement p = delivery.prepareStatement("SELECT build_id, job_id FROM supersede_keys"
                    + " WHERE rule_name = ? AND supersede_key = ? FOR UPDATE")) {
                p.setString(1, "deploy-approve");
                p.setString(2, "k");
                try (ResultSet r = p.executeQuery()) {
                    assertThat(r.next()).isTrue();
                }
            }
            try (PreparedStatement p = delivery.prepareStatement("UPDATE supersede_keys SET build_id = 3"
                    + " WHERE rule_name = ? AND supersede_key = ?")) {
                p.setString(1, "deploy-approve");
                p.setString(2, "k");
                p.executeUpdate();
            }
            // ... then the older jobs' rows in id order: build 1's first
            try (PreparedStatement p = delivery.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                p.setString(1, firstId);
                p.executeQuery().close();
            }
            // meanwhile someone approves build 2's job
            Future<Boolean> approval = pool.submit(() -> store.approve(secondId, "bob"));
            await().atMost(Duration.ofMinutes(2)).until(() -> approval.isDone() || blockedBy(watch, deliveryPid));
            // the delivery's ordered lock goes on to build 2's row, supersedes both jobs and commits
            try (PreparedStatement p = delivery.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                p.setString(1, secondId);
                p.executeQuery().close();
            }
            try (PreparedStatement p = delivery.prepareStatement("DELETE FROM scheduled_tasks WHERE task_name = ?"
                    + " AND task_instance = ? AND picked = false")) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setString(2, firstId);
                p.executeUpdate();
            }
            try (PreparedStatement p = delivery.prepareStatement("UPDATE jobs SET state = 'SUPERSEDED', ended_at = ?,"
                    + " message = 'superseded by build 3' WHERE id IN (?, ?)")) {
                p.setLong(1, System.currentTimeMillis());
                p.setString(2, firstId);
                p.setString(3, secondId);
                assertThat(p.executeUpdate()).isEqualTo(2);
            }
            delivery.commit();

            // the approval then finds build 2's job no longer awaiting one, and changes nothing
            assertThat(approval.get(2, TimeUnit.MINUTES)).isFalse();
            assertThat(store.job(secondId).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
            assertThat(store.job(firstId).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
        }
    }

    /**
     * review33 L / loose34: a job that superseded two running older jobs (running: cancel) looks whether they still
     * run before it starts ({@code ExecutionLedger.putBackWhileSupersededRuns}), their rows locked {@code FOR UPDATE}
     * in the order of the scan, not by id. A newer build's delivery locks the same rows in id order
     * ({@code Supersede.supersedeOlder}): with the younger job's row first in the scan (index order by state, heap
     * order), the look held it and asked for the older one, the delivery held the older one and asked for the
     * younger: PostgreSQL ended one with "deadlock detected". The look locks in id order too now.
     */
    @Test
    void theLookForSupersededJobsStillRunningLocksTheirRowsInIdOrder() throws Exception {
        JobWorkflow key = new JobWorkflow(1L, "k", true, null, Map.of(), Map.of(), null, null, 0);
        PlannedJob first = Plans.job("deploy-look", List.of("/bin/true")).withWorkflow(key);
        String firstId = store.accept(Plans.delivery("{\"build_id\": 1}"), List.of(first)).jobIds().get(0);
        picked(firstId);
        store.ledger().startAttempt(firstId, "node-a");
        PlannedJob second = Plans.job("deploy-look", List.of("/bin/true")).withWorkflow(key.withBuildId(2L));
        String secondId = store.accept(Plans.delivery("{\"build_id\": 2}"), List.of(second)).jobIds().get(0);
        picked(secondId);
        store.ledger().startAttempt(secondId, "node-b");
        // build 3 asks both to stop; its job waits for them to end
        PlannedJob third = Plans.job("deploy-look", List.of("/bin/true")).withWorkflow(key.withBuildId(3L));
        String thirdId = store.accept(Plans.delivery("{\"build_id\": 3}"), List.of(third)).jobIds().get(0);
        assertThat(firstId).isLessThan(secondId);
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            // The older job waits for units (a state change: its row and index entry now after the younger one's,
            // so that neither a scan of the table nor one of jobs_supersede_idx meets it first).
            assertThat(s.executeUpdate("UPDATE jobs SET state = 'WAITING' WHERE id = '" + firstId + "'")).isEqualTo(1);
            try (ResultSet r = s.executeQuery("SELECT count(*) FROM jobs WHERE superseded_by = '" + thirdId + "'")) {
                r.next();
                assertThat(r.getInt(1)).isEqualTo(2);
            }
        }

        try (Connection delivery = DriverManager.getConnection(TestStores.postgresUrl());
                Connection watch = DriverManager.getConnection(TestStores.postgresUrl())) {
            delivery.setSchema(schema());
            delivery.setAutoCommit(false);
            int deliveryPid = backendPid(delivery);
            // build 4's delivery locks the key's older jobs in id order (Supersede.supersedeOlder): the first ...
            try (PreparedStatement p = delivery.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                p.setString(1, firstId);
                p.executeQuery().close();
            }
            // ... meanwhile build 3's job looks whether the jobs it superseded still run ...
            Future<ExecutionLedger.Take> look = pool.submit(() -> store.ledger().putBackWhileSupersededRuns(thirdId,
                    "deploy-look", "k", -1, java.time.Instant.now()));
            await().atMost(Duration.ofMinutes(2)).until(() -> look.isDone() || blockedBy(watch, deliveryPid));
            // ... and the delivery goes on to the second (deadlock detected here when the look held it) and commits
            try (PreparedStatement p = delivery.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                p.setString(1, secondId);
                p.executeQuery().close();
            }
            delivery.commit();

            assertThat(look.get(2, TimeUnit.MINUTES)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        }
    }

    /**
     * review50b R12: two first deliveries of two keys no delivery had made yet, whose jobs claim them in opposite
     * orders (the rules listed the other way round since a reload, or a {@code match: each} build naming its runs in
     * another order): each inserted its first key's row, then waited for the other's uncommitted insert of its second,
     * and PostgreSQL ended one with "deadlock detected" (JobServ got 500 and sent it again). {@link
     * Supersede#lockBeforeClaims} locks only the keys' rows that exist. The claims are made in (rule, key) order now,
     * whatever the order of the jobs: the second delivery waits for the first. The other delivery is a session of
     * the test, claiming deploy-r12a's key and then deploy-r12b's, as a delivery listing them in that order does; the
     * store's delivery lists deploy-r12b's job first. Its jobs keep their ids in their order.
     */
    @Test
    void twoFirstDeliveriesOfNewKeysClaimedInOppositeOrdersWaitInsteadOfDeadlocking() throws Exception {
        JobWorkflow key = new JobWorkflow(2L, "k", false, null, Map.of(), Map.of(), null, null, 0);
        try (Connection other = DriverManager.getConnection(TestStores.postgresUrl());
                Connection watch = DriverManager.getConnection(TestStores.postgresUrl())) {
            other.setSchema(schema());
            other.setAutoCommit(false);
            int otherPid = backendPid(other);
            // build 1's delivery claims deploy-r12a's key first (Supersede.claim's insert) ...
            assertThat(claimKey(other, "deploy-r12a")).isEqualTo(1);
            // ... meanwhile build 2's delivery, its jobs of deploy-r12b then deploy-r12a, claims its keys
            Future<AcceptResult> delivery = pool.submit(() -> store.accept(Plans.delivery("{\"build_id\": 2}"),
                    List.of(Plans.job("deploy-r12b", List.of("/bin/true")).withWorkflow(key),
                            Plans.job("deploy-r12a", List.of("/bin/true")).withWorkflow(key))));
            await().atMost(Duration.ofMinutes(2)).until(() -> delivery.isDone() || blockedBy(watch, otherPid));
            assertThat(delivery.isDone()).as("build 2's delivery did not wait for build 1's claim").isFalse();
            // ... and build 1's goes on to deploy-r12b's key ("deadlock detected" here, or in build 2's delivery, when
            // build 2's had claimed it first), and commits
            assertThat(claimKey(other, "deploy-r12b")).isEqualTo(1);
            other.commit();

            AcceptResult accepted = delivery.get(2, TimeUnit.MINUTES);
            List<String> ids = accepted.jobIds();
            assertThat(ids.get(0)).isLessThan(ids.get(1));
            assertThat(store.job(ids.get(0)).orElseThrow().job().ruleName()).isEqualTo("deploy-r12b");
            assertThat(store.job(ids.get(1)).orElseThrow().job().ruleName()).isEqualTo("deploy-r12a");
            for (String id : ids) {
                assertThat(store.job(id).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
            }
            // build 2 is the newest of both keys
            try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT rule_name, build_id, job_id FROM supersede_keys WHERE"
                            + " rule_name LIKE 'deploy-r12%' ORDER BY rule_name")) {
                assertThat(r.next()).isTrue();
                assertThat(List.of(r.getString(1), r.getLong(2), r.getString(3)))
                        .containsExactly("deploy-r12a", 2L, ids.get(1));
                assertThat(r.next()).isTrue();
                assertThat(List.of(r.getString(1), r.getLong(2), r.getString(3)))
                        .containsExactly("deploy-r12b", 2L, ids.get(0));
            }
        }
    }

    /**
     * Whether a session waits for a lock session {@code holder} holds: not any session waiting for a lock, as other
     * tests' sessions in other schemas of the same database may (then a wait was taken for the race's before it came).
     */
    private static boolean blockedBy(Connection watch, int holder) throws SQLException {
        try (PreparedStatement p = watch.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE"
                + " ? = ANY(pg_blocking_pids(pid))")) {
            p.setInt(1, holder);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1) > 0;
            }
        }
    }

    /** A delivery of build 1's claim of {@code rule}'s key {@code k} as {@code Supersede.claim} inserts it. */
    private static int claimKey(Connection c, String rule) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO supersede_keys (rule_name, supersede_key, build_id,"
                + " job_id) VALUES (?, 'k', 1, ?) ON CONFLICT DO NOTHING")) {
            p.setString(1, rule);
            p.setString(2, "build-1-" + rule);
            return p.executeUpdate();
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
}
