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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.ProcessIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's bookkeeping on PostgreSQL in round trips, counted on the job's own thread
 * ({@link RoundTrips}): each round trip is a wake-up of the server's backend and of the job thread,
 * and they were most of a job's cost on PostgreSQL (docs/BENCHMARKS.md, "Fifth pass: PostgreSQL").
 * What each step records is checked by {@link AbstractStoreTest} on both engines.
 */
class PostgresJobBookkeepingTest {

    @TempDir
    Path dir;
    String url;
    Store store;

    @BeforeEach
    void open() {
        url = TestStores.postgresUrl();
        store = Store.open(StoreConfig.of(RoundTrips.counted(url), dir)
                .withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private String acceptJob() {
        return store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
    }

    private static JobOutcome succeeded() {
        Instant now = Instant.now();
        return new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, now, now, "exit 0", null, false);
    }

    /**
     * As the engine runs a job that succeeds at its first attempt, on its thread: its read with its
     * start under the pick ({@code version}), its process, its outcome with the execution's removal.
     */
    private RoundTrips.Counted<Void> succeedsUnderItsPick(String jobId, long version) {
        return RoundTrips.of(() -> {
            int attempt = store.ledger().jobToStart(jobId, "node-a", version).orElseThrow().started();
            assertThat(attempt).as("started under its pick").isEqualTo(1);
            store.ledger().recordProcess(jobId, attempt, new ProcessIdentity(4242, 4242, 99));
            store.ledger().finishAttempt(jobId, attempt, succeeded(), JobState.SUCCEEDED, version);
        });
    }

    /** Picks the job's execution for node-a as db-scheduler does; returns the version it picked. */
    private long pick(String jobId) throws SQLException {
        updateExecution(jobId, "picked = true, picked_by = 'node-a', last_heartbeat = now(), version = version + 1");
        return executionVersion(jobId);
    }

    /** Sets {@code assignments} (SQL, constants of the test) on the job's execution. */
    private void updateExecution(String jobId, String assignments) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET " + assignments + " WHERE task_instance = ?")) {
            p.setString(1, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    private long executionVersion(String jobId) throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
                PreparedStatement p = c.prepareStatement("SELECT version FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    @Test
    void aJobsFirstAttemptStartsInOneRoundTrip() {
        String jobId = acceptJob();

        RoundTrips.Counted<Integer> started = RoundTrips.of(() -> store.ledger().startAttempt(jobId, "node-a"));

        assertThat(started.result()).isEqualTo(1);
        assertThat(started.trips()).as("round trips to start a first attempt").hasSize(1);
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.job().state()).isEqualTo(JobState.RUNNING);
        assertThat(job.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.RUNNING);
        assertThat(store.ledger().runningAttempt(jobId)).hasValueSatisfying(a -> {
            assertThat(a.attempt()).isEqualTo(1);
            assertThat(a.node()).isEqualTo("node-a");
        });
    }

    @Test
    void anAttemptsProcessIsRecordedInOneRoundTrip() {
        String jobId = acceptJob();
        int attempt = store.ledger().startAttempt(jobId, "node-a");

        RoundTrips.Counted<Void> recorded = RoundTrips.of(() -> store.ledger().recordProcess(jobId, attempt,
                new ProcessIdentity(4242, 4242, 99)));

        assertThat(recorded.trips()).as("round trips to record an attempt's process").hasSize(1);
        assertThat(store.ledger().runningAttempt(jobId).orElseThrow().process())
                .isEqualTo(new ProcessIdentity(4242, 4242, 99));
    }

    @Test
    void aFinalOutcomeIsRecordedWithItsExecutionRemovedInOneRoundTrip() throws SQLException {
        String jobId = acceptJob();
        long version = executionVersion(jobId);
        int attempt = store.ledger().startAttempt(jobId, "node-a");

        RoundTrips.Counted<ExecutionLedger.Finished> finished = RoundTrips.of(() ->
                store.ledger().finishAttempt(jobId, attempt, succeeded(), JobState.SUCCEEDED, version));

        assertThat(finished.result()).isEqualTo(ExecutionLedger.Finished.RECORDED_AND_DEQUEUED);
        assertThat(finished.trips()).as("round trips to record a final outcome").hasSize(1);
        assertThat(executionVersion(jobId)).as("its execution is gone").isEqualTo(-1);
        assertThat(store.job(jobId).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                .containsExactly(AttemptOutcome.SUCCEEDED);
    }

    @Test
    void aFailedAttemptToBeRetriedIsRecordedInOneRoundTripAndKeepsItsExecution() throws SQLException {
        String jobId = acceptJob();
        long version = executionVersion(jobId);
        int attempt = store.ledger().startAttempt(jobId, "node-a");
        Instant now = Instant.now();

        RoundTrips.Counted<ExecutionLedger.Finished> finished = RoundTrips.of(() -> store.ledger().finishAttempt(jobId,
                attempt, new JobOutcome(JobOutcome.Result.FAILED, 1, now, now, "exit 1", null, false), JobState.QUEUED,
                version));

        assertThat(finished.result()).isEqualTo(ExecutionLedger.Finished.RECORDED);
        assertThat(finished.trips()).hasSize(1);
        assertThat(executionVersion(jobId)).isEqualTo(version);
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
    }

    /**
     * The job thread's whole bookkeeping of a job that succeeds at its first attempt: its read with
     * its start, its process, its outcome with the execution's removal. It was 14 round trips: three
     * transactions each with a {@code SET LOCAL synchronous_commit} and a {@code COMMIT} of their own;
     * then four, the read and the start each one (docs/BENCHMARKS.md, "Eighth pass").
     */
    @Test
    void aJobThatSucceedsTakesThreeRoundTripsOnItsThread() throws SQLException {
        String jobId = acceptJob();

        RoundTrips.Counted<Void> job = succeedsUnderItsPick(jobId, pick(jobId));

        assertThat(job.trips()).hasSize(3);
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
    }

    /**
     * A job that can start at once (a first attempt, no cancellation asked, no slot or resource to
     * take) is read and started under its pick in one round trip: the job as it was read, its body,
     * and its first attempt running on the node with the pick's heartbeat renewed.
     */
    @Test
    void aJobThatCanStartAtOnceIsReadAndStartedInOneRoundTrip() throws SQLException {
        String jobId = acceptJob();
        long version = pick(jobId);
        Instant picked = aMinuteBack(jobId);

        RoundTrips.Counted<ExecutionLedger.JobToRun> read = RoundTrips.of(() ->
                store.ledger().jobToStart(jobId, "node-a", version).orElseThrow());

        assertThat(read.trips()).as("round trips to read and start a job").hasSize(1);
        assertThat(read.result().started()).isEqualTo(1);
        assertThat(read.result().job().id()).isEqualTo(jobId);
        assertThat(read.result().job().argv()).containsExactly("/bin/true");
        assertThat(read.result().bodyRead()).isTrue();
        assertThat(new String(read.result().body(), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(Plans.fixture());
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.job().state()).isEqualTo(JobState.RUNNING);
        assertThat(job.job().attempts()).isEqualTo(1);
        assertThat(store.ledger().runningAttempt(jobId)).hasValueSatisfying(a -> {
            assertThat(a.attempt()).isEqualTo(1);
            assertThat(a.node()).isEqualTo("node-a");
        });
        assertThat(heartbeat(jobId)).as("the pick's heartbeat, renewed as the lease").isAfter(picked);
        assertThat(executionVersion(jobId)).isEqualTo(version);
    }

    /**
     * A job that cannot start at once is only read, with nothing written: the caller decides what to
     * do with it as after a read (a cancellation asked, a slot or resources to take, an earlier
     * attempt to end, a final state, a pick lost).
     */
    @Test
    void aJobThatCannotStartAtOnceIsOnlyReadAndNothingIsWritten() throws SQLException {
        // A cancellation asked of a job about to run (as a supersede asks it), and a job already final
        // whose execution is still queued.
        String cancelled = acceptJob();
        String ended = acceptJob(400);
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE jobs SET cancel_requested = 1 WHERE id = '" + cancelled + "'");
            st.executeUpdate("UPDATE jobs SET state = 'SUCCEEDED' WHERE id = '" + ended + "'");
        }
        PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null,
                false, null, Map.of("db", 1), Map.of("db", 2), null, null, 0));
        List<String> waiting = store.accept(Plans.delivery("{\"build_id\": 100}"),
                List.of(Plans.job("limited", List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1), sharing))
                .jobIds();
        String rerun = acceptJob(200);
        store.ledger().startAttempt(rerun, "node-b");
        String lost = acceptJob(300);
        long lostVersion = pick(lost);
        pick(lost); // released and picked again meanwhile: a later version

        Map<String, Long> versions = new java.util.LinkedHashMap<>();
        for (String id : List.of(cancelled, ended, waiting.get(0), waiting.get(1), rerun)) {
            versions.put(id, pick(id));
        }
        versions.put(lost, lostVersion);
        for (Map.Entry<String, Long> e : versions.entrySet()) {
            JobDetail before = store.job(e.getKey()).orElseThrow();

            ExecutionLedger.JobToRun read = store.ledger().jobToStart(e.getKey(), "node-a", e.getValue()).orElseThrow();

            assertThat(read.started()).as(e.getKey()).isZero();
            assertThat(read.job().id()).isEqualTo(e.getKey());
            JobDetail after = store.job(e.getKey()).orElseThrow();
            assertThat(after.job().state()).as(e.getKey()).isEqualTo(before.job().state());
            assertThat(after.attempts()).as(e.getKey()).hasSameSizeAs(before.attempts());
        }
        assertThat(store.ledger().jobToStart(cancelled, "node-a", versions.get(cancelled)).orElseThrow().job()
                .cancelRequested()).isTrue();
        assertThat(store.ledger().jobToStart(waiting.get(0), "node-a", versions.get(waiting.get(0))).orElseThrow()
                .bodyRead()).as("a job that may wait is read without its body").isFalse();
        assertThat(store.ledger().jobToStart("no-such-job", "node-a", 1)).isEmpty();
    }

    /**
     * A cancellation asked while the read-and-start waits for the job's row (another session holds it
     * and asks it) stops the start: the row's lock reads the row again once it is free.
     */
    @Test
    void aCancellationAskedWhileTheStartWaitsForTheJobsRowStopsTheStart() throws Exception {
        String jobId = acceptJob();
        long version = pick(jobId);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection holder = DriverManager.getConnection(url)) {
            holder.setAutoCommit(false);
            try (PreparedStatement p = holder.prepareStatement("UPDATE jobs SET cancel_requested = 1 WHERE id = ?")) {
                p.setString(1, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            Future<ExecutionLedger.JobToRun> read = pool.submit(() ->
                    store.ledger().jobToStart(jobId, "node-a", version).orElseThrow());
            long holderPid = backendPid(holder);
            await().atMost(Duration.ofMinutes(1)).until(() -> lockWaiters(holderPid) == 1);
            holder.commit();

            assertThat(read.get().started()).isZero();
        } finally {
            pool.shutdownNow();
        }
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.attempts()).isEmpty();
        assertThat(job.job().state()).isEqualTo(JobState.QUEUED);
    }

    private String acceptJob(int buildId) {
        return store.accept(Plans.delivery("{\"build_id\": " + buildId + "}"),
                List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
    }

    /** Sets the heartbeat of the job's execution a minute back; returns it. */
    private Instant aMinuteBack(String jobId) throws SQLException {
        updateExecution(jobId, "last_heartbeat = last_heartbeat - interval '1 minute'");
        return heartbeat(jobId);
    }

    /** The heartbeat of the job's execution. */
    private Instant heartbeat(String jobId) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); PreparedStatement p = c.prepareStatement(
                "SELECT last_heartbeat FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getTimestamp(1).toInstant();
            }
        }
    }

    /**
     * Every statement of a job's bookkeeping finds the job's execution by its whole key, in the plan
     * PostgreSQL keeps for a prepared statement (the generic one, whatever the values): the outcome's
     * removal named it by {@code task_instance IN (SELECT id FROM job)}, which the planner took as a
     * look-up of {@code task_name} alone, and each job's outcome read every queued execution
     * (docs/BENCHMARKS.md, "Sixth pass: PostgreSQL all done").
     */
    @Test
    void aJobsBookkeepingFindsItsExecutionByItsWholeKeyNotByScanningTheQueue() throws SQLException {
        for (int i = 0; i < 50; i++) {
            store.accept(Plans.delivery("{\"build_id\": " + i + "}"), List.of(Plans.job("deploy", List.of("/bin/true"))));
        }
        String jobId = acceptJob();

        RoundTrips.Counted<Void> job = succeedsUnderItsPick(jobId, pick(jobId));

        assertThat(executionLookups(job.trips())).as("the outcome removes the execution").isNotEmpty();
        assertThat(executionVersion(jobId)).as("its execution is gone").isEqualTo(-1);
    }

    /**
     * A job of a rule with a concurrency limit, and one that needs a shared resource, free the slots
     * and units of jobs no longer running by looking each holder's execution up by its key: {@code
     * job_id NOT IN (SELECT task_instance FROM scheduled_tasks WHERE task_name = ? AND picked = ?)}
     * read the whole queue at every start of such a job.
     */
    @Test
    void slotsAndResourcesFindTheirHoldersExecutionsByTheirWholeKey() throws SQLException {
        for (int i = 0; i < 50; i++) {
            store.accept(Plans.delivery("{\"build_id\": " + i + "}"), List.of(Plans.job("deploy", List.of("/bin/true"))));
        }
        PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null,
                false, null, Map.of("db", 1), Map.of("db", 2), null, null, 0));
        List<String> ids = store.accept(Plans.delivery("{\"build_id\": 100}"),
                List.of(Plans.job("limited", List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1), sharing))
                .jobIds();
        Job needsUnits = store.ledger().jobToRun(ids.get(1)).orElseThrow().job();

        RoundTrips.Counted<Void> taken = RoundTrips.of(() -> {
            assertThat(store.ledger().tryAcquireSlot("limited", 1, ids.get(0), "node-a", -1))
                    .isEqualTo(ExecutionLedger.Take.TAKEN);
            assertThat(store.resources().tryAcquire(needsUnits, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        });

        List<String> lookups = executionLookups(taken.trips());
        // The resources' take reads the resources of stale holds before it locks them, then frees those of the
        // resources it locked (wake36, bd0e21fb): two look-ups of the holders, each by the whole key.
        assertThat(lookups).as("the slot's holders, the rule's line, the stale holds' resources, the stale holds")
                .hasSize(4);
        assertThat(genericPlan(lookups.get(1))).as("the rule's line: only its jobs that may still run")
                .anyMatch(line -> line.contains("jobs_slot_line_idx"));
        RoundTrips.Counted<Boolean> freed = RoundTrips.of(() -> store.ledger().releaseSlot(ids.get(0), "limited",
                "node-a"));
        List<String> wake = executionLookups(freed.trips());
        assertThat(wake).as("the rule's line, then the wake of its first jobs, each by its whole key").hasSize(2);
        assertThat(genericPlan(wake.get(0))).anyMatch(line -> line.contains("jobs_slot_line_idx"));
    }

    /**
     * Checks the generic plan of every statement of {@code trips} that names db-scheduler's table
     * reads it by the execution's whole key; returns those statements.
     */
    private List<String> executionLookups(List<String> trips) throws SQLException {
        List<String> statements = trips.stream().flatMap(t -> Arrays.stream(t.split("; ")))
                .filter(q -> q.contains("scheduled_tasks")).toList();
        for (String sql : statements) {
            List<String> plan = genericPlan(sql);
            for (int i = 0; i < plan.size(); i++) {
                if (plan.get(i).contains(" Scan") && plan.get(i).contains(" on scheduled_tasks")) {
                    assertThat(plan.get(i)).as("%s%nreads the queue: %s", sql, plan).contains("Index");
                    assertThat(plan.get(i + 1)).as("%s%nlooks up the execution by: %s", sql, plan)
                            .contains("Index Cond").contains("task_instance");
                }
            }
        }
        return statements;
    }

    /** The generic plan of {@code sql} (parameters {@code $1…}), the one a prepared statement ends up with. */
    private List<String> genericPlan(String sql) throws SQLException {
        int parameters = 0;
        Matcher m = Pattern.compile("\\$(\\d+)").matcher(sql);
        while (m.find()) {
            parameters = Math.max(parameters, Integer.parseInt(m.group(1)));
        }
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET LOCAL plan_cache_mode = force_generic_plan");
            s.execute("PREPARE bookkeeping AS " + sql);
            List<String> plan = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("EXPLAIN EXECUTE bookkeeping("
                    + String.join(", ", Collections.nCopies(parameters, "NULL")) + ")")) {
                while (rs.next()) {
                    plan.add(rs.getString(1));
                }
            } finally {
                c.rollback();
            }
            return plan;
        }
    }

    /** A deferred transaction commits without a {@code SET LOCAL synchronous_commit} round trip first. */
    @Test
    void aDeferredTransactionIsItsStatementsAndItsCommit() {
        String jobId = acceptJob();

        RoundTrips.Counted<Void> released = RoundTrips.of(() -> store.ledger().releaseSlot(jobId, "node-a"));

        assertThat(released.trips()).as("the DELETE and the COMMIT").hasSize(2);
    }

    /**
     * Two nodes start the same job's first attempt at once (the job's row held meanwhile by a third
     * session): the second to get the row finds the first's attempt, ends it and starts the next, as
     * the start's transaction always did — never two attempts marked running.
     */
    @Test
    void twoNodesStartingTheSameJobAtOnceLeaveOneAttemptRunning() throws Exception {
        String jobId = acceptJob();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Store other = Store.open(StoreConfig.of(url, dir.resolve("other")));
                Connection holder = DriverManager.getConnection(url)) {
            holder.setAutoCommit(false);
            try (PreparedStatement p = holder.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                p.setString(1, jobId);
                p.executeQuery().close();
            }
            Future<Integer> a = pool.submit(() -> store.ledger().startAttempt(jobId, "node-a"));
            Future<Integer> b = pool.submit(() -> other.ledger().startAttempt(jobId, "node-b"));
            long holderPid = backendPid(holder);
            await().atMost(Duration.ofMinutes(1)).until(() -> lockWaiters(holderPid) == 2);
            holder.commit();
            assertThat(List.of(a.get(), b.get())).containsExactlyInAnyOrder(1, 2);
        } finally {
            pool.shutdownNow();
        }
        List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
        assertThat(attempts).extracting(JobAttempt::outcome)
                .containsExactlyInAnyOrder(AttemptOutcome.INTERRUPTED, AttemptOutcome.RUNNING);
        assertThat(store.ledger().runningAttempt(jobId).orElseThrow().attempt()).isEqualTo(2);
        assertThat(store.job(jobId).orElseThrow().job().attempts()).isEqualTo(2);
    }

    private static long backendPid(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT pg_backend_pid()"); ResultSet rs = p.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The sessions waiting for {@code holder}'s locks, directly or behind another waiter. */
    private int lockWaiters(long holder) throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
                PreparedStatement p = c.prepareStatement("WITH RECURSIVE waiting(pid) AS (SELECT pid FROM"
                        + " pg_stat_activity WHERE ?::int = ANY(pg_blocking_pids(pid)) UNION SELECT a.pid FROM"
                        + " pg_stat_activity a JOIN waiting w ON w.pid = ANY(pg_blocking_pids(a.pid)))"
                        + " SELECT count(*) FROM waiting")) {
            p.setLong(1, holder);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
