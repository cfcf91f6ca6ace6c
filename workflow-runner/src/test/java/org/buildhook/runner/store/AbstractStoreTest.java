package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.github.kagkarlsson.scheduler.task.TaskInstanceId;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;

import java.nio.file.Files;
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
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every store test; run against SQLite and against PostgreSQL by the subclasses. */
abstract class AbstractStoreTest {

    @TempDir
    Path dir;
    StoreConfig config;
    Store store;

    abstract StoreConfig config(Path dir);

    /** A URL of this engine that cannot be reached. */
    abstract String unreachableUrl(Path dir);

    @BeforeEach
    void open() {
        config = config(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        store = Store.open(config);
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void acceptsADeliveryAndQueuesItsJobsInOneTransaction() throws SQLException {
        AcceptResult result = store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("deploy", List.of("/bin/true")), Plans.job("notify", List.of("/bin/echo", "x"))));

        assertThat(result.duplicate()).isFalse();
        assertThat(result.jobIds()).hasSize(2).allMatch(id -> id.matches("[A-Za-z0-9_-]{26}"));
        DeliveryDetail detail = store.delivery(result.deliveryId()).orElseThrow();
        assertThat(detail.delivery().body()).isEqualTo(Plans.fixtureBody());
        assertThat(detail.delivery().bodyHash()).isEqualTo(DeliveryWriter.sha256(Plans.fixtureBody())).hasSize(64);
        assertThat(detail.delivery().outcome()).isEqualTo(DeliveryOutcome.ACCEPTED);
        assertThat(detail.delivery().headers()).containsEntry("X-JobServ-Sig", "sha256:00");
        assertThat(detail.jobs()).extracting(Job::state).containsOnly(JobState.QUEUED);
        assertThat(detail.jobs()).extracting(Job::ruleName).containsExactly("deploy", "notify");
        assertThat(scheduledExecutions()).containsExactlyInAnyOrderElementsOf(result.jobIds());
    }

    @Test
    void aJobThatMayWaitForASlotOrAResourceIsReadWithoutItsBodyWhichIsReadWhenItRuns() {
        PlannedJob free = Plans.job("free", List.of("/bin/true"));
        PlannedJob limited = Plans.job("limited", List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1);
        PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null,
                false, null, Map.of("db", 1), Map.of("db", 2), null, null, 0));
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()), List.of(free, limited, sharing));
        ExecutionLedger ledger = store.ledger();

        ExecutionLedger.JobToRun now = ledger.jobToRun(r.jobIds().get(0)).orElseThrow();
        assertThat(now.bodyRead()).isTrue();
        assertThat(now.body()).isEqualTo(Plans.fixtureBody());
        for (String waiting : r.jobIds().subList(1, 3)) {
            ExecutionLedger.JobToRun later = ledger.jobToRun(waiting).orElseThrow();
            assertThat(later.bodyRead()).as("re-read after every wait for its slot otherwise").isFalse();
            assertThat(later.body()).isNull();
            assertThat(ledger.body(later.job().deliveryId())).hasValueSatisfying(
                    body -> assertThat(body).isEqualTo(Plans.fixtureBody()));
        }
        assertThat(ledger.jobToRun(r.jobIds().get(2)).orElseThrow().job().workflow().resources())
                .containsEntry("db", 1);
    }

    @Test
    void everyJobColumnIsReadAtTheIndexOfItsName() throws SQLException {
        List<String> names = List.of(Rows.JOB_COLUMNS.split(", "));
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT " + Rows.JOB_COLUMNS + " FROM jobs")) {
            assertThat(rs.getMetaData().getColumnCount()).isEqualTo(Rows.JOB_COLUMN_COUNT).isEqualTo(names.size());
            for (String name : names) {
                assertThat(rs.getMetaData().getColumnName(Rows.jobColumn(name))).isEqualToIgnoringCase(name);
            }
        }
        assertThatThrownBy(() -> Rows.jobColumn("no_such_column")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no_such_column");
    }

    @Test
    void anAcceptedJobsExecutionIsTheRowDbSchedulersOwnClientWrites() throws SQLException {
        // The accept writes the execution row itself (one statement instead of the client's look-up
        // and insert): it must be the row db-scheduler's client would have written, column by column.
        Instant when = Instant.now();
        SchedulerClient client = SchedulerClient.Builder
                .create(store.dataSource(), Tasks.oneTime(JobQueue.TASK_NAME).execute((instance, context) -> { }))
                .jdbcCustomization(JobQueue.customization(store.dialect()))
                .build();
        assertThat(client.scheduleIfNotExists(new TaskInstance<Void>(JobQueue.TASK_NAME, "by-the-client"), when))
                .isTrue();
        String ours = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);

        Map<String, Object> theirs = executionRow("by-the-client");
        Map<String, Object> mine = executionRow(ours);
        theirs.remove("task_instance");
        mine.remove("task_instance");
        // The times differ by the moments of the two writes: same type here, same instant below.
        assertThat(mine.remove("execution_time")).isInstanceOf(theirs.remove("execution_time").getClass());
        assertThat(mine).isEqualTo(theirs);
        assertThat(client.getScheduledExecution(TaskInstanceId.of(JobQueue.TASK_NAME, ours))).isPresent()
                .hasValueSatisfying(e -> {
                    assertThat(e.isPicked()).isFalse();
                    assertThat(e.getExecutionTime()).isBetween(when.minusSeconds(60), Instant.now().plusSeconds(1));
                });
    }

    @Test
    void theWorkflowQueriesCanStillUseTheirPartialIndexes() throws SQLException {
        // Since version 8 the workflow indexes hold only the jobs that use them; the queries must
        // still be able to use them (their conditions imply the indexes' WHERE).
        String followUps = "SELECT id FROM jobs WHERE follow_ups_pending = 1 AND state IN (?, ?) ORDER BY id LIMIT ?";
        String older = "SELECT id, state FROM jobs WHERE rule_name = ? AND supersede_key = ? AND build_id < ?"
                + " AND state IN (?, ?)";
        assertThat(plan(followUps, "SUCCEEDED", "FAILED", 10)).contains("jobs_follow_ups_idx");
        assertThat(plan(older, "deploy", "main", 5L, "QUEUED", "WAITING")).contains("jobs_supersede_idx");
        // A job's follow-ups (job show, the job page), as StoreReader.jobs asks for them.
        String followUpsOf = "SELECT id FROM jobs WHERE 1 = 1 AND parent_id = ? ORDER BY id DESC LIMIT 501";
        assertThat(plan(followUpsOf, "01AAAAAAAAAAAAAAAAAAAAAAAA")).contains("jobs_parent_idx");
    }

    private String plan(String sql, Object... parameters) throws SQLException {
        boolean postgres = store.dialect() == Dialect.POSTGRESQL;
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (postgres) {
                    try (Statement s = c.createStatement()) {
                        s.execute("SET LOCAL enable_seqscan = off"); // an empty table is read whole otherwise
                    }
                }
                try (PreparedStatement p = c.prepareStatement((postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql)) {
                    for (int i = 0; i < parameters.length; i++) {
                        p.setObject(i + 1, parameters[i]);
                    }
                    StringBuilder plan = new StringBuilder();
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            plan.append(rs.getString(postgres ? 1 : 4)).append('\n');
                        }
                    }
                    return plan.toString();
                }
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        }
    }

    private Map<String, Object> executionRow(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
             PreparedStatement p = c.prepareStatement("SELECT * FROM scheduled_tasks WHERE task_name = ?"
                     + " AND task_instance = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setString(2, jobId);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).as("execution of %s", jobId).isTrue();
                Map<String, Object> row = new TreeMap<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    Object value = rs.getObject(i);
                    row.put(rs.getMetaData().getColumnName(i).toLowerCase(Locale.ROOT),
                            value == null ? "NULL" : value);
                }
                return row;
            }
        }
    }

    @Test
    void readsTheNewestJobsOfSeveralDeliveriesInOneCall() {
        AcceptResult three = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("a", List.of("/bin/true")),
                Plans.job("b", List.of("/bin/true")), Plans.job("c", List.of("/bin/true"))));
        AcceptResult one = store.accept(Plans.delivery("{\"build_id\": 2}"),
                List.of(Plans.job("d", List.of("/bin/true"))));
        AcceptResult none = store.accept(Plans.delivery("{\"build_id\": 3}"),
                List.of());

        Map<String, Page<Job>> pages = store.jobsOfDeliveries(
                List.of(three.deliveryId(), one.deliveryId(), none.deliveryId()), 2);

        assertThat(pages.keySet()).containsExactly(three.deliveryId(), one.deliveryId(), none.deliveryId());
        assertThat(pages.get(three.deliveryId()).items()).extracting(Job::ruleName).containsExactly("c", "b");
        assertThat(pages.get(three.deliveryId()).nextCursor()).as("a third job is there").isNotNull();
        assertThat(pages.get(one.deliveryId()).items()).extracting(Job::ruleName).containsExactly("d");
        assertThat(pages.get(one.deliveryId()).nextCursor()).isNull();
        assertThat(pages.get(none.deliveryId()).items()).isEmpty();
        assertThat(store.jobsOfDeliveries(List.of(), 2)).isEmpty();
    }

    @Test
    void showsTheMostPressingJobsOfEachDeliveryAndCountsTheOthersByState() {
        List<PlannedJob> plans = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            plans.add(Plans.job("run-" + i, List.of("/bin/true")));
        }
        AcceptResult big = store.accept(Plans.delivery(Plans.fixture()), plans);
        AcceptResult small = store.accept(Plans.delivery("{\"build_id\": 2}"), List.of(Plans.job("d", List.of("/bin/true"))));
        AcceptResult none = store.accept(Plans.delivery("{\"build_id\": 3}"), List.of());
        List<String> ids = big.jobIds();
        for (int i = 4; i < 10; i++) {
            finish(ids.get(i), JobOutcome.Result.SUCCEEDED, JobState.SUCCEEDED, Duration.ofSeconds(1));
        }
        finish(ids.get(2), JobOutcome.Result.FAILED, JobState.FAILED, Duration.ofSeconds(1));
        store.ledger().startAttempt(ids.get(3), "test-node");

        Map<String, JobsAtAGlance> glance = store.jobsAtAGlance(List.of(big.deliveryId(), small.deliveryId(),
                none.deliveryId()), 3);

        assertThat(glance.keySet()).containsExactly(big.deliveryId(), small.deliveryId(), none.deliveryId());
        JobsAtAGlance b = glance.get(big.deliveryId());
        // Running, then failed, then the newest queued one; newest first as read.
        assertThat(b.shown()).extracting(Job::id).containsExactlyInAnyOrder(ids.get(3), ids.get(2), ids.get(11));
        assertThat(b.hidden()).containsOnly(Map.entry(JobState.QUEUED, 3L), Map.entry(JobState.SUCCEEDED, 6L));
        assertThat(b.total()).isEqualTo(12);
        assertThat(glance.get(small.deliveryId()).shown()).extracting(Job::ruleName).containsExactly("d");
        assertThat(glance.get(small.deliveryId()).hidden()).isEmpty();
        assertThat(glance.get(none.deliveryId()).total()).isZero();
        assertThat(store.jobsAtAGlance(List.of(), 3)).isEmpty();
    }

    @Test
    void countsTheDeliveriesOfTheLastDayByOutcomeAndTheirJobsByState() {
        Instant now = Instant.now();
        Instant before = now.minus(Duration.ofDays(2));
        Store past = Store.open(config.withClock(java.time.Clock.fixed(before, java.time.ZoneOffset.UTC)));
        try {
            past.accept(Plans.delivery("default", "{\"build_id\": 1}", before),
                    List.of(Plans.job("old", List.of("/bin/true"))));
        } finally {
            past.close();
        }
        AcceptResult fresh = store.accept(Plans.delivery("default", "{\"build_id\": 2}", now),
                List.of(Plans.job("a", List.of("/bin/true")), Plans.job("b", List.of("/bin/true"))));
        store.accept(Plans.delivery("default", "{\"build_id\": 2}", now), List.of());
        store.recordRejected(Plans.delivery("default", "not json", now), "not JSON");
        finish(fresh.jobIds().get(0), JobOutcome.Result.FAILED, JobState.FAILED, Duration.ofSeconds(3));

        Activity day = store.activitySince(now.minus(Duration.ofHours(24)));

        assertThat(day.deliveries()).containsOnly(Map.entry(DeliveryOutcome.ACCEPTED, 1L),
                Map.entry(DeliveryOutcome.DUPLICATE, 1L), Map.entry(DeliveryOutcome.REJECTED, 1L));
        assertThat(day.jobs()).containsOnly(Map.entry(JobState.FAILED, 1L), Map.entry(JobState.QUEUED, 1L));
        assertThat(day.deliveryTotal()).isEqualTo(3);
        assertThat(day.jobs(JobState.RUNNING)).isZero();
        assertThat(store.activitySince(now.plus(Duration.ofHours(1))).jobTotal()).isZero();
        assertThat(store.activitySince(now.minus(Duration.ofDays(3))).deliveryTotal()).isEqualTo(4);
        assertThat(store.activitySince(now.minus(Duration.ofDays(3))).jobs(JobState.QUEUED)).isEqualTo(2);
    }

    @Test
    void readsTheNewestJobsOfEachRuleWithTheirDurations() {
        Instant t = Instant.now();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("default", "{\"build_id\": " + i + "}", t),
                    List.of(Plans.job("r", List.of("/bin/true")))).jobIds());
        }
        finish(ids.get(1), JobOutcome.Result.SUCCEEDED, JobState.SUCCEEDED, Duration.ofMillis(1500));
        finish(ids.get(2), JobOutcome.Result.TIMED_OUT, JobState.TIMED_OUT, Duration.ofSeconds(30));

        Map<String, List<JobTiming>> recent = store.recentJobsOfRules(List.of("r", "never"), 2);

        assertThat(recent.keySet()).containsExactly("r", "never");
        assertThat(recent.get("r")).extracting(JobTiming::jobId).containsExactly(ids.get(2), ids.get(1));
        assertThat(recent.get("r")).extracting(JobTiming::state).containsExactly(JobState.TIMED_OUT,
                JobState.SUCCEEDED);
        assertThat(recent.get("r").get(1).duration()).hasValueSatisfying(d -> assertThat(d)
                .isGreaterThanOrEqualTo(Duration.ofMillis(1500)));
        assertThat(recent.get("r").get(0).timeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(recent.get("never")).isEmpty();
        assertThatThrownBy(() -> store.recentJobsOfRules(List.of("r"), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Two nodes sweep the same dead node's attempt at once: the second waits while the first kills,
     * then finds the attempt recorded and kills nothing, so the record says what the first killed
     * (before, the second found the processes already gone and wrote "none of its processes was
     * left" over it).
     */
    @Test
    void aDeadNodesAttemptIsEndedByOneOfTwoSweepingNodes() throws Exception {
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        int attempt = store.ledger().startAttempt(jobId, "dead-node");
        CountDownLatch killing = new CountDownLatch(1);
        CountDownLatch killed = new CountDownLatch(1);
        AtomicBoolean secondKilled = new AtomicBoolean();
        AtomicReference<Thread> secondThread = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Store other = Store.open(config)) {
            Future<Optional<String>> first = pool.submit(() -> store.ledger().interruptLeftover(jobId, attempt, () -> {
                killing.countDown();
                killed.await();
                return "node a killed what it left: 7 (sleep)";
            }));
            killing.await();
            Future<Optional<String>> second = pool.submit(() -> {
                secondThread.set(Thread.currentThread());
                return other.ledger().interruptLeftover(jobId, attempt, () -> {
                    secondKilled.set(true);
                    return "none of its processes was left";
                });
            });
            await().atMost(Duration.ofMinutes(1)).until(() -> second.isDone()
                    || (secondThread.get() != null && waitsForLock(secondThread.get())));
            assertThat(secondKilled).as("the second node killed while the first was killing").isFalse();
            killed.countDown();
            assertThat(first.get()).contains("node a killed what it left: 7 (sleep)");
            assertThat(second.get()).isEmpty();
            assertThat(secondKilled).isFalse();
        } finally {
            pool.shutdownNow();
        }
        JobAttempt recorded = store.job(jobId).orElseThrow().attempts().get(0);
        assertThat(recorded.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(recorded.message()).isEqualTo("node a killed what it left: 7 (sleep)");
        assertThat(store.ledger().runningAttempt(jobId)).isEmpty();
    }

    /**
     * A fenced attempt is recorded once the store answers again, maybe long after its processes
     * were killed: it ends when they were gone, not when it was recorded (the history showed a
     * fenced attempt overlapping the next node's attempt by the length of the outage).
     */
    @Test
    void anInterruptedAttemptEndsWhenItsProcessesWereGoneNotWhenRecorded() {
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        int attempt = store.ledger().startAttempt(jobId, "fenced-node");
        Instant started = store.job(jobId).orElseThrow().job().startedAt();
        Instant gone = started.plus(Duration.ofHours(1)); // any instant but the recording's
        assertThat(store.ledger().interruptAttempt(jobId, attempt, new JobOutcome(JobOutcome.Result.CANCELLED, 143,
                started, gone, "killed", null, false), "killed by its own node; run again")).isTrue();
        JobAttempt recorded = store.job(jobId).orElseThrow().attempts().get(0);
        assertThat(recorded.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(recorded.endedAt()).isEqualTo(gone);
    }

    /**
     * chaos31 F2: a node paused past the dead-node limit (SIGSTOP) wakes and records its watchdog's kill of the
     * attempt; meanwhile the node that took the job over had ended it for good (superseded by a newer build,
     * cancelled) without a later attempt. The late record put the final job back to QUEUED, with no execution left
     * to run it: it stayed QUEUED for ever. A final job stays final; the record says the job is not this node's.
     */
    @Test
    void aLateInterruptionNeverPutsAJobAnotherNodeEndedBackInTheQueue() {
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        int first = store.ledger().startAttempt(jobId, "paused-node");
        Instant started = store.job(jobId).orElseThrow().job().startedAt();
        store.ledger().markCancelled(jobId, "cancelled by the node that took it over");
        Instant ended = store.job(jobId).orElseThrow().job().endedAt();

        boolean current = store.ledger().interruptAttempt(jobId, first, new JobOutcome(JobOutcome.Result.CANCELLED,
                null, started, started.plusSeconds(5), "killed", null, false), "killed by the watchdog of node"
                        + " paused-node: its node gave no sign of life for 2.6 s; not run again", true);

        assertThat(current).as("the job is no longer this node's to put back").isFalse();
        Job job = store.job(jobId).orElseThrow().job();
        assertThat(job.state()).isEqualTo(JobState.CANCELLED);
        assertThat(job.endedAt()).isEqualTo(ended);
        assertThat(job.message()).isEqualTo("cancelled by the node that took it over");
    }

    /**
     * review31 (chaos31 F2's kind, through the own end): a node paused past the dead-node limit while its command
     * exited by itself; the node that took the job over ended it for good without a later attempt (its node's
     * deaths in a row: FAILED, its on-failure started); the woken node then recorded its command's own end. That
     * record overwrote the final job: FAILED became SUCCEEDED, or, with retries left, QUEUED with no execution to run
     * it (the other node had removed it): QUEUED for ever. A final job stays as the node that ended it recorded it;
     * the attempt's own row gets its own end; the record says the job is not this node's.
     */
    @Test
    void aLateOwnEndNeverOverwritesAJobAnotherNodeEnded() throws SQLException {
        for (boolean retry : new boolean[] {false, true}) {
            String jobId = store.accept(Plans.delivery("{\"build_id\": " + (retry ? 1981 : 1980) + "}"),
                    List.of(Plans.job("late-own-end", List.of("/bin/true"), Map.of(), retry ? 2 : 0,
                            Duration.ofSeconds(1), 0))).jobIds().get(0);
            picked(jobId);
            int first = store.ledger().startAttempt(jobId, "paused-node");
            Instant now = Instant.now();
            JobOutcome diedInARow = new JobOutcome(JobOutcome.Result.FAILED, null, now, now,
                    "not run again: its node died before its attempt ended 1 time in a row (paused-node)", null, false);
            store.ledger().finishWithoutAttempt(jobId, first, diedInARow, JobState.FAILED, -1, null);
            Job ended = store.job(jobId).orElseThrow().job();

            ExecutionLedger.Finished finished = retry
                    ? store.ledger().finishForRetry(jobId, first, new JobOutcome(JobOutcome.Result.FAILED, 1, now,
                            now.plusSeconds(1), "exited with 1", null, false), 7, null,
                            Job.retryWait(1, 3, 1, now.plusSeconds(2), Duration.ofSeconds(1)))
                    : store.ledger().finishAttempt(jobId, first, new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, now,
                            now.plusSeconds(1), "exited with 0", null, false), JobState.SUCCEEDED, 7, null);

            assertThat(finished).as("retry " + retry + ": the job is not this node's").isEqualTo(
                    ExecutionLedger.Finished.SUPERSEDED);
            Job job = store.job(jobId).orElseThrow().job();
            assertThat(job.state()).as("retry " + retry).isEqualTo(JobState.FAILED);
            assertThat(job.message()).as("retry " + retry).isEqualTo(ended.message());
            assertThat(job.endedAt()).as("retry " + retry).isEqualTo(ended.endedAt());
            assertThat(job.exitCode()).as("retry " + retry).isNull();
            JobAttempt own = store.job(jobId).orElseThrow().attempts().get(0);
            assertThat(own.exitCode()).as("retry " + retry + ": the attempt's own end").isEqualTo(retry ? 1 : 0);
        }
    }

    /** final18 F9: `buildhook jobs` says how many of a job's attempts were cut short, which use no retry. */
    @Test
    void countsTheInterruptedAttemptsOfAPageOfJobsInOneQuery() {
        List<String> ids = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("a", List.of("/bin/true")),
                Plans.job("b", List.of("/bin/true")))).jobIds();
        String cut = ids.get(0);
        int first = store.ledger().startAttempt(cut, "node-1");
        Instant started = store.job(cut).orElseThrow().job().startedAt();
        assertThat(store.ledger().interruptAttempt(cut, first, new JobOutcome(JobOutcome.Result.FAILED_TO_START, null,
                started, started, "not started", null, false), "not started: node node-1 cannot write")).isTrue();
        int second = store.ledger().startAttempt(cut, "node-2");
        assertThat(store.ledger().interruptAttempt(cut, second, null, "stopped by the shutdown of node-2; run again"))
                .isTrue();
        store.ledger().startAttempt(cut, "node-2");
        store.ledger().startAttempt(ids.get(1), "node-2");

        assertThat(store.interruptedAttempts(ids)).containsExactly(java.util.Map.entry(cut, 2));
        assertThat(store.interruptedAttempts(List.of())).isEmpty();
        assertThat(store.job(cut).orElseThrow().job().attempts()).isEqualTo(3);
        // tryout42 F10: the one its node could not start is told from the one cut short.
        assertThat(store.notStartedAttempts(ids)).containsExactly(java.util.Map.entry(cut, 1));
        List<JobAttempt> attempts = store.job(cut).orElseThrow().attempts();
        assertThat(attempts).extracting(JobAttempt::neverStarted).containsExactly(true, false, false);
        assertThat(Job.attemptsText(3, Job.interrupted(attempts), Job.notStarted(attempts)))
                .isEqualTo("3 (1 interrupted, 1 not started)");
    }

    /**
     * A node paused past the dead-node limit records, when it wakes, that its own node interrupted
     * the attempt; but another node of its host had already swept it (killed what it left and run the
     * job again): the sweep's record stays, the history shows no overlap and no kill that did not
     * happen (tryout10, F1: the late record replaced it, attempt 1 "ending" 17 s after attempt 2
     * started, with a message blaming the store).
     */
    @Test
    void aLateInterruptionOfItsOwnDoesNotReplaceTheRecordOfTheNodeThatSweptTheAttempt() throws Exception {
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        int first = store.ledger().startAttempt(jobId, "paused-node");
        Instant started = store.job(jobId).orElseThrow().job().startedAt();
        assertThat(store.ledger().interruptLeftover(jobId, first, () -> "its node paused-node stopped heart-beating"
                + " before the attempt ended; node sweeper killed what it left: 7 (sleep); run again")).isPresent();
        JobAttempt swept = store.job(jobId).orElseThrow().attempts().get(0);
        int second = store.ledger().startAttempt(jobId, "sweeper");
        assertThat(second).isEqualTo(first + 1);

        boolean current = store.ledger().interruptAttempt(jobId, first, new JobOutcome(JobOutcome.Result.CANCELLED,
                143, started, started.plus(Duration.ofHours(1)), "killed", null, false),
                "killed by its own node: no heartbeat could be written for 28870 ms; run again");

        assertThat(current).as("a later attempt runs").isFalse();
        // Nor does the watchdog's kill replace a sweep's record of what it killed itself.
        assertThat(store.ledger().interruptAttempt(jobId, first, new JobOutcome(JobOutcome.Result.CANCELLED, null,
                started, started.plusSeconds(5), "killed", null, false), "killed by the watchdog of node paused-node;"
                        + " run again", true)).isFalse();
        JobAttempt recorded = store.job(jobId).orElseThrow().attempts().get(0);
        assertThat(recorded.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(recorded.message()).isEqualTo(swept.message());
        assertThat(recorded.endedAt()).isEqualTo(swept.endedAt());
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.RUNNING);
    }

    /**
     * tryout17 F6: a node of the same host took the job over while the paused node's watchdog had already killed
     * the attempt's processes; its sweep found nothing left and recorded "none of its processes was left", ended
     * when it looked. The paused node, woken, knows from its watchdog's report who killed them and when: that
     * record replaces the sweep's. Its own fencing's account (no watchdog's word) does not. The sweep's words as
     * written now, and as a record from before 2026-12-06 has them (tryout46 F3).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"none of its processes was found by its session or its"
            + " marker", "none of its processes was left"})
    void theWatchdogsKillReplacesTheRecordOfASweepThatFoundNothingLeft(String noneLeft) throws Exception {
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        int first = store.ledger().startAttempt(jobId, "paused-node");
        Instant started = store.job(jobId).orElseThrow().job().startedAt();
        String sweep = "its node paused-node stopped heart-beating before the attempt ended; " + noneLeft
                + "; run again";
        assertThat(store.ledger().interruptLeftover(jobId, first, () -> sweep)).isPresent();
        assertThat(store.ledger().startAttempt(jobId, "sweeper")).isEqualTo(first + 1);
        Instant killed = started.plusSeconds(5);
        JobOutcome outcome = new JobOutcome(JobOutcome.Result.CANCELLED, null, started, killed, "killed", null, false);

        assertThat(store.ledger().interruptAttempt(jobId, first, outcome, "killed by its own node; run again"))
                .isFalse();
        assertThat(store.job(jobId).orElseThrow().attempts().get(0).message()).isEqualTo(sweep);

        String watchdog = "killed by the watchdog of node paused-node: its node gave no sign of life for 5.1 s (its JVM"
                + " was paused or stalled, not the store), and after 10s another node may run the job; run again";
        assertThat(store.ledger().interruptAttempt(jobId, first, outcome, watchdog, true)).as("a later attempt runs")
                .isFalse();

        JobDetail detail = store.job(jobId).orElseThrow();
        assertThat(detail.attempts().get(0).outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(detail.attempts().get(0).message()).isEqualTo(watchdog);
        assertThat(detail.attempts().get(0).endedAt()).as("when the watchdog killed it").isEqualTo(killed);
        assertThat(detail.attempts().get(1).outcome()).isEqualTo(AttemptOutcome.RUNNING);
        assertThat(detail.job().state()).isEqualTo(JobState.RUNNING);
    }

    /**
     * Across hosts no sweep can end a paused node's attempt: the node that takes the job over only
     * marks it ended as it starts the next one, and when the paused node records, late, what its own
     * fencing did, that record is the true one (its processes ran until then) and replaces the mark.
     */
    @Test
    void aLateInterruptionReplacesTheMarkOfANodeThatCouldNotSweepTheAttempt() {
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        int attempt = store.ledger().startAttempt(jobId, "paused-node");
        Instant started = store.job(jobId).orElseThrow().job().startedAt();
        assertThat(store.ledger().startAttempt(jobId, "node-on-another-host")).isEqualTo(attempt + 1);
        assertThat(store.job(jobId).orElseThrow().attempts().get(0).message())
                .startsWith(ExecutionLedger.UNSWEPT_END);

        store.ledger().interruptAttempt(jobId, attempt, new JobOutcome(JobOutcome.Result.CANCELLED, 143, started,
                started.plusSeconds(40), "killed", null, false), "killed by its own node; run again");

        JobAttempt recorded = store.job(jobId).orElseThrow().attempts().get(0);
        assertThat(recorded.message()).isEqualTo("killed by its own node; run again");
        assertThat(recorded.endedAt()).isEqualTo(started.plusSeconds(40));
    }

    /**
     * wording15: an outcome whose end nobody recorded (an attempt concluded after its node died on another
     * host) was stored with "now" as the attempt's end and the job's; both stay unknown (NULL).
     */
    @Test
    void anOutcomeWithoutAnEndTimeIsStoredWithoutOneForTheAttemptAndTheJob() {
        String jobId = store.accept(Plans.delivery("{\"build_id\": 990}"), List.of(Plans.job("no-end",
                List.of("/bin/false")))).jobIds().get(0);
        int attempt = store.ledger().startAttempt(jobId, "test-node");
        Instant started = store.job(jobId).orElseThrow().job().startedAt();

        store.ledger().finishAttempt(jobId, attempt, new JobOutcome(JobOutcome.Result.FAILED, 3, started, null,
                "exited with 3", null, false), JobState.FAILED);

        JobDetail detail = store.job(jobId).orElseThrow();
        assertThat(detail.job().state()).isEqualTo(JobState.FAILED);
        assertThat(detail.job().endedAt()).as("the job's end").isNull();
        assertThat(detail.attempts().get(0).endedAt()).as("the attempt's end").isNull();
        assertThat(detail.attempts().get(0).ended()).isTrue();
    }

    /** Whether {@code thread} waits for a lock another sweep holds (here: a monitor of this JVM). */
    boolean waitsForLock(Thread thread) throws SQLException {
        return thread.getState() == Thread.State.BLOCKED;
    }

    /** Runs one attempt that ends {@code ran} after it started (the ledger's clock sets the start). */
    private void finish(String jobId, JobOutcome.Result result, JobState state, Duration ran) {
        int attempt = store.ledger().startAttempt(jobId, "test-node");
        Instant started = store.job(jobId).orElseThrow().job().startedAt();
        store.ledger().finishAttempt(jobId, attempt, new JobOutcome(result, 0, started, started.plus(ran),
                result.name(), null, false), state);
    }

    @Test
    void aFinalOutcomeRemovesTheJobsExecutionInItsOwnTransactionOnlyWhileTheExecutionIsTheOnePicked()
            throws SQLException {
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true")),
                Plans.job("notify", List.of("/bin/true"))));
        String deploy = r.jobIds().get(0);
        String notify = r.jobIds().get(1);
        long version = executionVersion(deploy);
        ExecutionLedger ledger = store.ledger();

        int first = ledger.startAttempt(deploy, "test-node");
        assertThat(ledger.finishAttempt(deploy, first, outcome(JobOutcome.Result.FAILED), JobState.QUEUED, version))
                .as("a retry keeps its execution, for db-scheduler to reschedule").isEqualTo(ExecutionLedger.Finished.RECORDED);
        int second = ledger.startAttempt(deploy, "test-node");
        assertThat(ledger.finishAttempt(deploy, first, outcome(JobOutcome.Result.SUCCEEDED), JobState.SUCCEEDED,
                version)).as("an attempt no longer the latest").isEqualTo(ExecutionLedger.Finished.SUPERSEDED);
        assertThat(ledger.finishAttempt(deploy, second, outcome(JobOutcome.Result.SUCCEEDED), JobState.SUCCEEDED,
                version + 1)).as("the execution changed since it was picked (another node revived it)")
                .isEqualTo(ExecutionLedger.Finished.RECORDED);
        assertThat(scheduledExecutions()).contains(deploy, notify);

        int attempt = ledger.startAttempt(notify, "test-node");
        assertThat(ledger.finishAttempt(notify, attempt, outcome(JobOutcome.Result.SUCCEEDED), JobState.SUCCEEDED,
                executionVersion(notify))).isEqualTo(ExecutionLedger.Finished.RECORDED_AND_DEQUEUED);
        assertThat(scheduledExecutions()).containsExactly(deploy);
        assertThat(store.job(notify).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
    }

    /**
     * A rule's jobs held back by its concurrency take its slot in the order they were created (found by
     * tryout10, F3: whichever retry came first after the slot freed took it, so build 912 was deployed
     * before 911). A free slot is the oldest waiting job's; a cancelled job leaves the line at once; a
     * retry does not hold the line up during its backoff, and once over, it goes before the younger jobs.
     */
    @Test
    void aRulesSlotGoesToTheOldestOfItsJobsWaitingForOne() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (910 + i) + "}"), List.of(Plans.job("serial",
                    List.of("/bin/true"), Map.of(), 1, Duration.ofMillis(100), 1))).jobIds());
        }
        String first = ids.get(0);
        String second = ids.get(1);
        String third = ids.get(2);
        String fourth = ids.get(3);

        assertThat(ledger.tryAcquireSlot("serial", 1, second, "node-a", -1)).as("the free slot is the first job's")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(store.job(second).orElseThrow().job().message())
                .isEqualTo("waiting for a concurrency slot of its rule (1 at once; its older jobs first)");
        assertThat(ledger.tryAcquireSlot("serial", 1, first, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        int attempt = ledger.startAttempt(first, "node-b");
        ledger.finishAttempt(first, attempt, outcome(JobOutcome.Result.FAILED), JobState.QUEUED, -1);
        assertThat(ledger.releaseSlot(first, "serial", "node-b")).as("the second job is due already").isFalse();
        // Picked by a node: the cancellation is asked of it, and the job leaves the line at once.
        picked(second);
        assertThat(store.cancel(second)).isTrue();
        assertThat(store.job(second).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);

        assertThat(ledger.tryAcquireSlot("serial", 1, fourth, "node-a", -1)).as("the third job's turn")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        picked(third);
        assertThat(ledger.tryAcquireSlot("serial", 1, third, "node-a", -1))
                .as("the second job cancelled, the first waiting for its retry's backoff")
                .isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(ledger.tryAcquireSlot("serial", 1, first, "node-b", -1)).as("the first job's retry, the slot held")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        attempt = ledger.startAttempt(third, "node-a");
        ledger.finishAttempt(third, attempt, outcome(JobOutcome.Result.SUCCEEDED), JobState.SUCCEEDED, -1);
        ledger.releaseSlot(third, "serial", "node-a");

        assertThat(ledger.tryAcquireSlot("serial", 1, fourth, "node-a", -1)).as("the first job's retry waits before it")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(ledger.tryAcquireSlot("serial", 1, first, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.job(first).orElseThrow().job().message()).as("its failed attempt's, kept through the wait")
                .isEqualTo("FAILED");
    }

    /**
     * perf36: since rename35 every slot take of a rule with a concurrency read all other rules' running jobs and
     * parsed their rule snapshots whenever any rule was in force. It reads them only when a running job's rule is
     * not in force (the only jobs a rule can count as renamed), and still counts such a job.
     */
    @Test
    void aSlotTakeReadsOtherRulesRunningJobsOnlyWhileOneOfThemIsOfARuleNotInForce() {
        ExecutionLedger ledger = store.ledger();
        String run = "{\"command\":[\"/opt/deploy.sh\"],\"concurrency\":1}";
        ledger.renames(RuleRenames.of(Map.of(), Map.of("deploy-v2", "{\"name\":\"deploy-v2\",\"run\":" + run + "}",
                "notify", "{\"name\":\"notify\",\"run\":{\"command\":[\"/opt/notify.sh\"]}}")));
        for (int i = 0; i < 2; i++) {
            String notify = store.accept(Plans.delivery("{\"build_id\": " + (960 + i) + "}"),
                    List.of(Plans.job("notify", List.of("/opt/notify.sh")))).jobIds().get(0);
            ledger.startAttempt(notify, "node-b");
        }
        String old = store.accept(Plans.delivery("{\"build_id\": 962}"), List.of(new PlannedJob("deploy",
                "{\"name\":\"deploy\",\"run\":" + run + "}", List.of("/opt/deploy.sh"), Map.of(), null, true,
                Duration.ofSeconds(30), 0, Duration.ofMillis(100), 1, null))).jobIds().get(0);
        int oldAttempt = ledger.startAttempt(old, "node-b");
        String job = store.accept(Plans.delivery("{\"build_id\": 963}"), List.of(Plans.job("deploy-v2",
                List.of("/opt/deploy.sh"), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds().get(0);

        long reads = ledger.renamedReads();
        assertThat(ledger.tryAcquireSlot("deploy-v2", 1, job, "node-a", -1))
                .as("the old name's running job holds the slot").isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(ledger.renamedReads()).as("a running job of a rule not in force: read").isEqualTo(reads + 1);

        ledger.finishAttempt(old, oldAttempt, outcome(JobOutcome.Result.SUCCEEDED), JobState.SUCCEEDED, -1);
        assertThat(ledger.tryAcquireSlot("deploy-v2", 1, job, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(ledger.renamedReads()).as("the two running jobs' rule is in force: not read").isEqualTo(reads + 1);
    }

    /**
     * review12 L3: a retry waiting for its rule's slot showed only that wait; why its last attempt failed,
     * what the retry is about, was overwritten until the retry started. The wait now follows it, and goes
     * when the slot is taken. tryout21 F6: before that, during its backoff, the wait for the retry follows it
     * (which retry, when due); once the retry asks for the slot, the slot's wait takes its place (both said
     * the retry was due at a time already past), and the retry's start clears what is left.
     */
    @Test
    void aRetryWaitingForItsRulesSlotStillShowsWhyItsLastAttemptFailed() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (915 + i) + "}"), List.of(Plans.job("told",
                    List.of("/bin/true"), Map.of(), 1, Duration.ofMillis(100), 1))).jobIds());
        }
        String holder = ids.get(0);
        String retry = ids.get(1);
        picked(holder);
        assertThat(ledger.tryAcquireSlot("told", 1, holder, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        ledger.startAttempt(holder, "node-a");
        int attempt = ledger.startAttempt(retry, "node-b");
        Instant now = Instant.parse("2026-12-02T10:14:18.750Z");
        Instant due = Instant.parse("2026-12-02T10:14:19Z");
        ledger.finishForRetry(retry, attempt, new JobOutcome(JobOutcome.Result.FAILED, 3, now, now, "exited with 3",
                null, false), -1, "told", Job.retryWait(1, 1, attempt + 1, due, Duration.ofMillis(100)));
        Job backingOff = store.job(retry).orElseThrow().job();
        assertThat(backingOff.message()).isEqualTo("exited with 3; waiting for retry 1 of 1 (attempt 2), due at"
                + " 2026-12-02T10:14:19Z (backoff 100ms)");
        assertThat(backingOff.retryDueAt()).contains(due);
        assertThat(store.job(retry).orElseThrow().attempts().get(0).message()).isEqualTo("exited with 3");

        assertThat(ledger.tryAcquireSlot("told", 1, retry, "node-b", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(store.job(retry).orElseThrow().job().retryDueAt()).isEmpty();
        assertThat(store.job(retry).orElseThrow().job().message()).isEqualTo("exited with 3; waiting for a"
                + " concurrency slot of its rule (1 at once; its older jobs first)");
        assertThat(ledger.tryAcquireSlot("told", 1, retry, "node-b", -1)).as("still waiting: written once")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(store.job(retry).orElseThrow().job().message()).endsWith("first)").doesNotContain("first);");
        ledger.releaseSlot(holder, "told", "node-a");
        assertThat(ledger.tryAcquireSlot("told", 1, retry, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.job(retry).orElseThrow().job().message()).isEqualTo("exited with 3");
        ledger.startAttempt(retry, "node-b");
        assertThat(store.job(retry).orElseThrow().job().message()).isNull();
    }

    /**
     * review13 L10: a job interrupted by a graceful stop keeps its place in its rule's line (marked waiting
     * for a slot, 200407a); held back by the limit afterwards, it showed only why it was interrupted, not
     * the wait that every other job waiting for the slot shows: the wait was written only when the mark
     * changed. It now follows the job's own message, as for a retry (review12 L3), and goes with the slot.
     */
    @Test
    void aJobInterruptedByAStopAndHeldBackByItsRulesLimitShowsTheWaitAfterItsOwnMessage() throws Exception {
        interruptedAndHeldBack("kept", 955, (ledger, job, attempt) -> ledger.interruptAttempt(job, attempt, null,
                "stopped by the shutdown of node-b; run again"), "stopped by the shutdown of node-b; run again");
    }

    /** As above, for a job whose node died: the node that swept what it left records the interruption. */
    @Test
    void aJobCutShortByItsNodesDeathAndHeldBackByItsRulesLimitShowsTheWaitAfterItsOwnMessage() throws Exception {
        interruptedAndHeldBack("swept", 957, (ledger, job, attempt) -> ledger.interruptLeftover(job, attempt,
                () -> "its node node-b died before the attempt ended; node node-a killed what it left: none"),
                "its node node-b died before the attempt ended; node node-a killed what it left: none");
    }

    /** How a test ends an attempt as interrupted. */
    interface Interruption {
        void interrupt(ExecutionLedger ledger, String jobId, int attempt) throws Exception;
    }

    /**
     * Two jobs of a rule with one slot: the older one's first attempt failed (its retry waits for its
     * backoff), the younger one ran and was interrupted; the older one's retry then takes the slot before
     * it, and the interrupted job waits.
     */
    private void interruptedAndHeldBack(String rule, int build, Interruption interruption, String message)
            throws Exception {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (build + i) + "}"), List.of(Plans.job(rule,
                    List.of("/bin/true"), Map.of(), 1, Duration.ofMillis(100), 1))).jobIds());
        }
        String retry = ids.get(0);
        String interrupted = ids.get(1);
        picked(retry);
        assertThat(ledger.tryAcquireSlot(rule, 1, retry, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        int failed = ledger.startAttempt(retry, "node-a");
        ledger.finishAttempt(retry, failed, outcome(JobOutcome.Result.FAILED), JobState.QUEUED, -1);
        ledger.releaseSlot(retry, rule, "node-a");
        picked(interrupted);
        assertThat(ledger.tryAcquireSlot(rule, 1, interrupted, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        int attempt = ledger.startAttempt(interrupted, "node-b");
        interruption.interrupt(ledger, interrupted, attempt);
        ledger.releaseSlot(interrupted, rule, "node-b");
        assertThat(store.job(interrupted).orElseThrow().job().message()).isEqualTo(message);
        assertThat(ledger.tryAcquireSlot(rule, 1, retry, "node-a", -1)).as("the older job's retry goes first")
                .isEqualTo(ExecutionLedger.Take.TAKEN);

        assertThat(ledger.tryAcquireSlot(rule, 1, interrupted, "node-b", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        String waiting = message + "; waiting for a concurrency slot of its rule (1 at once; its older jobs first)";
        assertThat(store.job(interrupted).orElseThrow().job().message()).isEqualTo(waiting);
        assertThat(store.jobs(JobQuery.latest(10)).items()).filteredOn(j -> j.id().equals(interrupted))
                .extracting(Job::message).as("as the lists show it").containsExactly(waiting);
        assertThat(ledger.tryAcquireSlot(rule, 1, interrupted, "node-b", -1)).as("still waiting: written once")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(store.job(interrupted).orElseThrow().job().message()).isEqualTo(waiting);

        ledger.releaseSlot(retry, rule, "node-a");
        assertThat(ledger.tryAcquireSlot(rule, 1, interrupted, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.job(interrupted).orElseThrow().job().message()).isEqualTo(message);
    }

    /** A rule's line counts for as many slots as its limit has: the second of three takes the second slot. */
    @Test
    void aRuleWithTwoSlotsGivesThemToItsTwoOldestWaitingJobs() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (920 + i) + "}"), List.of(Plans.job("pair",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 2))).jobIds());
        }

        assertThat(ledger.tryAcquireSlot("pair", 2, ids.get(2), "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        picked(ids.get(1));
        assertThat(ledger.tryAcquireSlot("pair", 2, ids.get(1), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(ledger.tryAcquireSlot("pair", 2, ids.get(2), "node-a", -1)).as("the one free slot is the first's")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(ledger.tryAcquireSlot("pair", 2, ids.get(0), "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * chaos32 F2: a rule with {@code concurrency: 1} on a resource of capacity 1, many of its jobs {@code WAITING} for
     * the units. Each try takes the slot first, then asks for the units; a job waiting for units was not in the slot's
     * line, so any younger waiting job (or a first try) took the slot, was refused the units (the older one waits
     * before it) and gave it back, and the oldest, finding the slot held by one of them at each of its tries, waited
     * for minutes on three live nodes (16 jobs still {@code WAITING} after a 3-minute settle). The jobs waiting for
     * units now go before the others in their rule's line, in the units' own order (since when they wait), so the
     * first of them has the next free slot, and a freed slot wakes it.
     */
    @Test
    void theFirstJobWaitingForUnitsHasItsRulesSlotBeforeTheYoungerOnes() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        JobWorkflow lab = new JobWorkflow(null, null, false, null, Map.of("lab", 1), Map.of("lab", 1), null, null, 0);
        String holder = store.accept(Plans.delivery("{\"build_id\": 3200}"), List.of(Plans.job("other",
                List.of("/bin/true")).withWorkflow(lab))).jobIds().get(0);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (3201 + i) + "}"), List.of(Plans.job("lab",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1).withWorkflow(lab))).jobIds());
        }
        String never = ids.get(0);
        String first = ids.get(1);
        String second = ids.get(2);
        picked(holder);
        assertThat(store.resources().tryAcquire(store.ledger().jobToRun(holder).orElseThrow().job(), "node-a", -1))
                .isEqualTo(ExecutionLedger.Take.TAKEN);
        for (String waiting : List.of(first, second)) {
            assertThat(store.resources().tryAcquire(store.ledger().jobToRun(waiting).orElseThrow().job(), "node-a", -1))
                    .isEqualTo(ExecutionLedger.Take.NOT_FREE);
            assertThat(store.job(waiting).orElseThrow().job().state()).isEqualTo(JobState.WAITING);
        }
        store.resources().release(holder, "node-a");
        unpicked(holder);

        assertThat(ledger.tryAcquireSlot("lab", 1, second, "node-b", -1))
                .as("the first job waits for the units before it: the slot is its")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(ledger.tryAcquireSlot("lab", 1, never, "node-b", -1))
                .as("a first try comes after the jobs already waiting for the units, though older in its rule's line")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        picked(first);
        assertThat(ledger.tryAcquireSlot("lab", 1, first, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.resources().tryAcquire(store.ledger().jobToRun(first).orElseThrow().job(), "node-a", -1))
                .isEqualTo(ExecutionLedger.Take.TAKEN);

        // Its slot freed, the next job waiting for the units is woken, not the first try older in the line.
        dueIn(second, Duration.ofHours(1));
        dueIn(never, Duration.ofHours(1));
        int attempt = ledger.startAttempt(first, "node-a");
        ledger.finishAttempt(first, attempt, outcome(JobOutcome.Result.SUCCEEDED), JobState.SUCCEEDED, -1);
        // The units given back wake it already (tryout35 F4, UnitWake), the slot freed then finds it due.
        store.resources().release(first, "node-a");
        assertThat(executionTime(second)).isBefore(Instant.now().plusSeconds(60));
        ledger.releaseSlot(first, "lab", "node-a");
        assertThat(executionTime(second)).isBefore(Instant.now().plusSeconds(60));
        assertThat(executionTime(never)).as("one slot free: one woken").isAfter(Instant.now().plusSeconds(3000));
        picked(second);
        assertThat(ledger.tryAcquireSlot("lab", 1, never, "node-b", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(ledger.tryAcquireSlot("lab", 1, second, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.resources().tryAcquire(store.ledger().jobToRun(second).orElseThrow().job(), "node-a", -1))
                .isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * chaos32 F2 as it was seen: only jobs waiting for the units, the younger ones trying while the first's
     * turn had come (each took the slot and gave it back, again and again). A younger one is refused the slot, and the
     * first one cancelled passes its turn on to the next one waiting.
     */
    @Test
    void aYoungerJobWaitingForUnitsLeavesTheSlotToTheFirstAndACancelOfTheFirstWakesTheNext() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        JobWorkflow lab = new JobWorkflow(null, null, false, null, Map.of("lab", 1), Map.of("lab", 1), null, null, 0);
        String holder = store.accept(Plans.delivery("{\"build_id\": 3210}"), List.of(Plans.job("other",
                List.of("/bin/true")).withWorkflow(lab))).jobIds().get(0);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (3211 + i) + "}"), List.of(Plans.job("lab",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1).withWorkflow(lab))).jobIds());
        }
        picked(holder);
        assertThat(store.resources().tryAcquire(store.ledger().jobToRun(holder).orElseThrow().job(), "node-a", -1))
                .isEqualTo(ExecutionLedger.Take.TAKEN);
        for (String waiting : ids) {
            assertThat(store.resources().tryAcquire(store.ledger().jobToRun(waiting).orElseThrow().job(), "node-a", -1))
                    .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        }
        store.resources().release(holder, "node-a");
        unpicked(holder);

        for (String younger : ids.subList(1, 3)) {
            assertThat(ledger.tryAcquireSlot("lab", 1, younger, "node-b", -1)).as("the first waiting job's slot")
                    .isEqualTo(ExecutionLedger.Take.NOT_FREE);
            dueIn(younger, Duration.ofHours(1));
        }
        assertThat(store.cancel(ids.get(0))).isTrue();
        assertThat(executionTime(ids.get(1))).as("the next one waiting, woken").isBefore(Instant.now().plusSeconds(60));
        assertThat(executionTime(ids.get(2))).isAfter(Instant.now().plusSeconds(3000));
        assertThat(ledger.tryAcquireSlot("lab", 1, ids.get(2), "node-b", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(ledger.tryAcquireSlot("lab", 1, ids.get(1), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * review12 L1: a freed slot woke only the first job in line, and only while it waited for its next
     * try; two slots of a rule freed one after the other, before the job the first woke had taken its
     * slot, woke nobody the second time (the first in line was due already), and the next job waited for
     * {@code runner.slot-retry}. Each slot freed now wakes the line for as many slots as are free.
     */
    @Test
    void twoSlotsFreedOneAfterTheOtherWakeTheTwoNextJobsInLine() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (925 + i) + "}"), List.of(Plans.job("pair",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 2))).jobIds());
        }
        for (String running : ids.subList(0, 2)) {
            picked(running);
            assertThat(ledger.tryAcquireSlot("pair", 2, running, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
            ledger.startAttempt(running, "node-a");
        }
        for (String waiting : ids.subList(2, 5)) {
            assertThat(ledger.tryAcquireSlot("pair", 2, waiting, "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
            dueIn(waiting, Duration.ofHours(1));
        }

        assertThat(ledger.releaseSlot(ids.get(0), "pair", "node-a")).isTrue();
        assertThat(ledger.releaseSlot(ids.get(1), "pair", "node-a")).isTrue();

        assertThat(executionTime(ids.get(2))).as("woken by the first").isBeforeOrEqualTo(Instant.now());
        assertThat(executionTime(ids.get(3))).as("woken by the second").isBeforeOrEqualTo(Instant.now());
        assertThat(executionTime(ids.get(4))).as("no slot for it").isAfter(Instant.now().plusSeconds(3000));
    }

    /**
     * review12 L1: a job refused its rule's slot was put back in the queue afterwards, by db-scheduler in a
     * transaction of its own; a slot freed in between found it still picked, woke nobody, and the job
     * waited for {@code runner.slot-retry}. Refused under its pick, it is now put back in the same
     * transaction, so that the release finds it waiting and wakes it.
     */
    @Test
    void aJobRefusedItsSlotUnderItsPickIsPutBackAtOnceAndTheNextReleaseWakesIt() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (930 + i) + "}"), List.of(Plans.job("solo",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds());
        }
        String running = ids.get(0);
        String refused = ids.get(1);
        picked(running);
        assertThat(ledger.tryAcquireSlot("solo", 1, running, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        ledger.startAttempt(running, "node-a");
        picked(refused);
        long version = executionVersion(refused);

        assertThat(ledger.tryAcquireSlot("solo", 1, refused, "node-b", version, Instant.now().plus(Duration.ofHours(1))))
                .isEqualTo(ExecutionLedger.Take.PUT_BACK);
        assertThat(executionTime(refused)).isAfter(Instant.now().plusSeconds(3000));
        assertThat(executionVersion(refused)).as("put back: no longer picked at its version").isEqualTo(version + 1);
        assertThat(ledger.tryAcquireSlot("solo", 1, refused, "node-b", version, Instant.now()))
                .isEqualTo(ExecutionLedger.Take.PICK_LOST);

        assertThat(ledger.releaseSlot(running, "solo", "node-a")).isTrue();
        assertThat(executionTime(refused)).isBeforeOrEqualTo(Instant.now());
    }

    /**
     * review12 L1, after a reload raised a rule's limit from 1 to 3: its older jobs, refused while it was 1,
     * waited for their next try though two slots were free. A job that finds no slot only because older
     * jobs are ahead of it for the free ones now wakes them.
     */
    @Test
    void aJobHeldBackOnlyByOlderJobsAheadOfItForTheFreeSlotsWakesThem() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (935 + i) + "}"), List.of(Plans.job("raise",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds());
        }
        picked(ids.get(0));
        assertThat(ledger.tryAcquireSlot("raise", 1, ids.get(0), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        ledger.startAttempt(ids.get(0), "node-a");
        for (String waiting : ids.subList(1, 3)) {
            assertThat(ledger.tryAcquireSlot("raise", 1, waiting, "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
            dueIn(waiting, Duration.ofHours(1));
        }
        String newer = store.accept(Plans.delivery("{\"build_id\": 938}"), List.of(Plans.job("raise",
                List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 3))).jobIds().get(0);

        assertThat(ledger.tryAcquireSlot("raise", 3, newer, "node-a", -1)).as("the two free slots are the older jobs'")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);

        assertThat(executionTime(ids.get(1))).isBeforeOrEqualTo(Instant.now());
        assertThat(executionTime(ids.get(2))).isBeforeOrEqualTo(Instant.now());
    }

    /**
     * slots13: a freed slot wakes the first job in line; cancelled before any node picked it, that job
     * took the wake with it, and the next in line waited for {@code runner.slot-retry} though the slot was
     * free. The cancel now passes the wake on.
     */
    @Test
    void aWokenJobCancelledBeforeAnyNodePickedItPassesItsWakeToTheNextInLine() throws SQLException {
        List<String> ids = slotLine("handover", 940);
        String woken = ids.get(1);
        String next = ids.get(2);

        assertThat(store.cancel(woken)).isTrue();

        assertThat(store.job(woken).orElseThrow().job().state()).isEqualTo(JobState.CANCELLED);
        assertThat(executionTime(next)).as("woken in its place").isBeforeOrEqualTo(Instant.now());
    }

    /**
     * As above, for a woken job picked by a node when it was cancelled: the node finds its cancel flag
     * and marks it cancelled without asking for the slot, which is then the next job's.
     */
    @Test
    void aWokenJobCancelledAfterItWasPickedPassesItsWakeOnWhenItsNodeMarksItCancelled() throws SQLException {
        List<String> ids = slotLine("handover", 945);
        String woken = ids.get(1);
        String next = ids.get(2);
        picked(woken);
        assertThat(store.cancel(woken)).isTrue();
        assertThat(executionTime(next)).as("the node that picked it decides").isAfter(Instant.now().plusSeconds(3000));

        store.ledger().markCancelled(woken, "cancelled before it ran");

        assertThat(executionTime(next)).as("woken in its place").isBeforeOrEqualTo(Instant.now());
    }

    /**
     * A job that ran with its rule's only slot on a node that died, cancelled meanwhile: the node that picks
     * its revived execution marks it cancelled, and the slot its dead node held counts no more (the job
     * will never run again), so the next in line is woken then, not at its next try (review14 F1: its own
     * stale slot, its execution picked, was counted as held, and nobody was woken).
     */
    @Test
    void aCancelledJobWhoseNodeDiedHoldingItsSlotPassesTheWakeOnWhenMarkedCancelled() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (970 + i) + "}"), List.of(Plans.job("fenced",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds());
        }
        String ran = ids.get(0);
        String next = ids.get(1);
        picked(ran);
        assertThat(ledger.tryAcquireSlot("fenced", 1, ran, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        ledger.startAttempt(ran, "node-a");
        assertThat(ledger.tryAcquireSlot("fenced", 1, next, "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        dueIn(next, Duration.ofHours(1));
        // node-a dies; node-b picks the revived execution (still picked), and the job is cancelled meanwhile.
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked_by = ? WHERE task_instance = ?")) {
            p.setString(1, "node-b");
            p.setString(2, ran);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        assertThat(store.cancel(ran)).isTrue();
        assertThat(executionTime(next)).isAfter(Instant.now().plusSeconds(3000));

        ledger.markCancelled(ran, "cancelled while attempt 1 ran; its node stopped before the attempt ended,"
                + " and it is not run again");

        assertThat(executionTime(next)).as("woken: the dead node's slot is free").isBeforeOrEqualTo(Instant.now());
        picked(next);
        assertThat(ledger.tryAcquireSlot("fenced", 1, next, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * review14 F2: a job whose node died holding its rule's slot after its attempt had timed out (or its
     * program exited) is concluded by the node that picks its revived execution, from what that attempt
     * came to. Its final state frees the dead node's slot and wakes the next in line in the same
     * transaction: left, the slot counted as held while the execution was picked, and once the execution
     * was removed nobody woke the next job, which waited for {@code runner.slot-retry} with the slot free.
     */
    @Test
    void aJobConcludedAfterItsNodeDiedHoldingItsSlotFreesItAndWakesTheNextInLine() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        String[] ids = slotHeldByADeadNode("concluded", 980);
        String ran = ids[0];
        String next = ids[1];

        Instant now = Instant.now();
        assertThat(ledger.finishAttempt(ran, 1, new JobOutcome(JobOutcome.Result.TIMED_OUT, null, now, now,
                "timed out after 100ms; then its node node-a died before the attempt ended; not run again", null, false),
                JobState.TIMED_OUT, -1, "concluded")).isEqualTo(ExecutionLedger.Finished.RECORDED);

        assertThat(executionTime(next)).as("woken: the dead node's slot is free").isBeforeOrEqualTo(Instant.now());
        picked(next);
        assertThat(ledger.tryAcquireSlot("concluded", 1, next, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * As above, for an attempt whose failure leaves a retry: the job goes to its backoff, which takes it out
     * of its rule's line (a sweep that recorded the attempt interrupted had put it back in, {@code
     * slot_waiting}), so the younger job is woken and takes the slot rather than waiting behind a job that
     * is not due for its whole backoff.
     */
    @Test
    void aJobConcludedIntoARetryAfterItsNodeDiedLeavesTheLineAndWakesTheNextInLine() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        String[] ids = slotHeldByADeadNode("retried", 985);
        String ran = ids[0];
        String next = ids[1];
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE jobs SET slot_waiting = 1 WHERE id = ?")) {
            // As the sweep of what the dead node left records it (interruptLeftover).
            p.setString(1, ran);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }

        Instant now = Instant.now();
        assertThat(ledger.finishAttempt(ran, 1, new JobOutcome(JobOutcome.Result.FAILED, 3, now, now,
                "exited with 3; then its node node-a died before the attempt ended; not run again", null, false),
                JobState.QUEUED, -1, "retried")).isEqualTo(ExecutionLedger.Finished.RECORDED);
        dueIn(ran, Duration.ofHours(1));
        unpicked(ran);

        assertThat(executionTime(next)).as("woken: the dead node's slot is free").isBeforeOrEqualTo(Instant.now());
        picked(next);
        assertThat(ledger.tryAcquireSlot("retried", 1, next, "node-b", -1)).as("the retry in its backoff is not ahead")
                .isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * review15, on review14 F2: an outcome gives up the job's slot whichever node took it, but node-b, which
     * took the job over from node-a (node-a's heartbeat late) and its slot, and had not started its attempt
     * yet, lost its slot to node-a's late outcome (a failure with a retry left): its attempt then ran holding
     * no slot, and the next job of the {@code concurrency: 1} rule, woken by that outcome, started beside it.
     */
    @Test
    void aLateOutcomeOfTheNodeAJobWasTakenFromLeavesTheSlotOfTheNodeThatTookItOver() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (990 + i) + "}"), List.of(Plans.job("takeover",
                    List.of("/bin/true"), Map.of(), 1, Duration.ofMillis(100), 1))).jobIds());
        }
        String ran = ids.get(0);
        picked(ran);
        assertThat(ledger.tryAcquireSlot("takeover", 1, ran, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(ledger.startAttempt(ran, "node-a")).isEqualTo(1);
        long versionOfA;
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT version FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, ran);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                rs.next();
                versionOfA = rs.getLong(1);
            }
        }
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked_by = ?, version = version + 1 WHERE task_instance = ?")) {
            // node-b picks the execution node-a no longer renewed, and takes the slot for its attempt.
            p.setString(1, "node-b");
            p.setString(2, ran);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        assertThat(ledger.tryAcquireSlot("takeover", 1, ran, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);

        Instant now = Instant.now();
        assertThat(ledger.finishAttempt(ran, 1, new JobOutcome(JobOutcome.Result.FAILED, 3, now, now, "exited with 3",
                null, false), JobState.QUEUED, versionOfA, "takeover")).isEqualTo(ExecutionLedger.Finished.RECORDED);

        picked(ids.get(1));
        assertThat(ledger.tryAcquireSlot("takeover", 1, ids.get(1), "node-c", -1)).as("node-b's slot is still held")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
    }

    /**
     * Two jobs of a {@code concurrency: 1} rule: the first took the slot on node-a and started its attempt,
     * the second was refused and put back for an hour; node-a died and node-b picked the first's revived
     * execution (still picked, by node-b). Returns the two ids.
     */
    private String[] slotHeldByADeadNode(String rule, int build) throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (build + i) + "}"), List.of(Plans.job(rule,
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds());
        }
        picked(ids.get(0));
        assertThat(ledger.tryAcquireSlot(rule, 1, ids.get(0), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(ledger.startAttempt(ids.get(0), "node-a")).isEqualTo(1);
        picked(ids.get(1));
        assertThat(ledger.tryAcquireSlot(rule, 1, ids.get(1), "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        unpicked(ids.get(1));
        dueIn(ids.get(1), Duration.ofHours(1));
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked_by = ? WHERE task_instance = ?")) {
            p.setString(1, "node-b");
            p.setString(2, ids.get(0));
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        assertThat(executionTime(ids.get(1))).isAfter(Instant.now().plusSeconds(3000));
        return new String[] {ids.get(0), ids.get(1)};
    }

    /** Puts the job's execution back in the queue, not picked by any node. */
    void unpicked(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = NULL WHERE task_instance = ?")) {
            p.setBoolean(1, false);
            p.setString(2, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /**
     * A woken job superseded before any node picked it: the newer build's job that superseded it is of the
     * same rule and due at once; its try finds the older job ahead of it for the free slot and wakes it
     * (review12 L1), so the slot does not wait for {@code runner.slot-retry} either.
     */
    @Test
    void aWokenJobSupersededBeforeAnyNodePickedItLeavesTheSlotToTheNextInLine() throws SQLException {
        List<String> ids = slotLine("handover", 950);
        String woken = ids.get(1);
        String next = ids.get(2);
        JobWorkflow keyed = new JobWorkflow(951L, "b", false, null, Map.of(), Map.of(), null, null, 0);
        PlannedJob newer = Plans.job("handover", List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1)
                .withWorkflow(keyed.withBuildId(960L));
        String superseding = store.accept(Plans.delivery("{\"build_id\": 960}"), List.of(newer)).jobIds().get(0);
        assertThat(store.job(woken).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);

        picked(superseding);
        assertThat(store.ledger().tryAcquireSlot("handover", 1, superseding, "node-a", -1))
                .as("an older job is ahead of it").isEqualTo(ExecutionLedger.Take.NOT_FREE);

        assertThat(executionTime(next)).isBeforeOrEqualTo(Instant.now());
    }

    /**
     * tryout13 F2: an attempt cut short by its node's death after a newer build's job superseded it
     * ({@code running: cancel}) was recorded "not run again: it was cancelled", as if an operator had.
     */
    @Test
    void anAttemptCutShortAfterANewerBuildSupersededItsJobSaysItWasSuperseded() throws SQLException {
        JobWorkflow cancelRunning = new JobWorkflow(970L, "k", true, null, Map.of(), Map.of(), null, null, 0);
        PlannedJob older = Plans.job("deploy-cut", List.of("/bin/true")).withWorkflow(cancelRunning);
        String olderId = store.accept(Plans.delivery("{\"build_id\": 970}"), List.of(older)).jobIds().get(0);
        picked(olderId);
        int attempt = store.ledger().startAttempt(olderId, "node-a");
        PlannedJob newer = Plans.job("deploy-cut", List.of("/bin/true")).withWorkflow(cancelRunning.withBuildId(971L));
        String newerId = store.accept(Plans.delivery("{\"build_id\": 971}"), List.of(newer)).jobIds().get(0);

        assertThat(store.ledger().afterCutShort(olderId, attempt))
                .isEqualTo("not run again: it was superseded by job " + newerId);
    }

    /**
     * wording15: an attempt that had failed before its node died was recorded "not run again: it had
     * exited with 3" although its rule had a retry left for it, and the job ran again as that retry.
     */
    @Test
    void anAttemptCutShortAfterItFailedSaysItsJobIsRetriedWhenItsRuleHasARetryLeft() throws Exception {
        String retried = store.accept(Plans.delivery("{\"build_id\": 980}"), List.of(Plans.job("cut-retry",
                List.of("/bin/false"), Map.of(), 1, Duration.ofMillis(100), 0))).jobIds().get(0);
        String last = store.accept(Plans.delivery("{\"build_id\": 981}"), List.of(Plans.job("cut-last",
                List.of("/bin/false"), Map.of(), 0, Duration.ofMillis(100), 0))).jobIds().get(0);
        for (String id : List.of(retried, last)) {
            picked(id);
            int attempt = store.ledger().startAttempt(id, "node-a");
            store.ledger().recordDecidedLater(id, attempt, new org.buildhook.runner.exec.Decision(
                    org.buildhook.runner.exec.JobOutcome.Result.FAILED, 3, null)).get();
        }

        assertThat(store.ledger().afterCutShort(retried, 1)).isEqualTo("retried as its rule says: it had exited with 3");
        assertThat(store.ledger().afterCutShort(last, 1)).isEqualTo("not run again: it had exited with 3");
    }

    /**
     * supersede21: a cancel written between a pick's read and the record of a job its node's deaths end
     * ({@link ExecutionLedger#finishWithoutAttempt}) was overruled: the job ended FAILED, with its on-failure.
     * Asked for before the record, it wins there as over any other end.
     */
    @Test
    void aCancelAskedForBeforeAJobItsNodesDeathsEndIsRecordedEndsItCancelledNotFailed() throws SQLException {
        String id = store.accept(Plans.delivery("{\"build_id\": 990}"), List.of(Plans.job("deaths-cancel",
                List.of("/bin/true")))).jobIds().get(0);
        picked(id);
        int attempt = store.ledger().startAttempt(id, "node-a");
        assertThat(store.cancel(id)).isTrue();
        Instant now = Instant.now();
        JobOutcome notRunAgain = new JobOutcome(JobOutcome.Result.FAILED, null, now, now,
                "not run again: its node died before its attempt ended (node-a)", null, false);

        ExecutionLedger.Finished finished = store.ledger().finishWithoutAttempt(id, attempt, notRunAgain,
                JobState.FAILED, -1, null);

        assertThat(finished.stoppedAsAsked()).isTrue();
        Job job = store.job(id).orElseThrow().job();
        assertThat(job.state()).isEqualTo(JobState.CANCELLED);
        assertThat(job.message()).isEqualTo("cancelled, as asked before this end was recorded, instead of FAILED: not"
                + " run again: its node died before its attempt ended (node-a); its on-failure is not started (its"
                + " on-cancel is, if its rule has one)");
    }

    /**
     * retry21: the jobs in a retry's backoff are counted apart from the rest of the queue (the status page's
     * Queue tile and {@code buildhook_jobs_retry_waiting}), still among the queued.
     */
    @Test
    void countsTheQueuedJobsInARetrysBackoffApart() throws SQLException {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (995 + i) + "}"), List.of(Plans.job(
                    "backoff-count", List.of("/bin/false"), Map.of(), 2, Duration.ofHours(1), 0))).jobIds());
        }
        long before = store.countJobsWaitingForRetry();
        String failed = ids.get(0);
        picked(failed);
        int attempt = store.ledger().startAttempt(failed, "node-a");
        store.ledger().finishForRetry(failed, attempt, outcome(JobOutcome.Result.FAILED), -1, null,
                Job.retryWait(1, 2, 2, Instant.now().plus(Duration.ofHours(1)), Duration.ofHours(1)));

        assertThat(store.countJobsWaitingForRetry()).isEqualTo(before + 1);
        assertThat(store.countJobs(JobState.QUEUED)).as("still queued").isGreaterThanOrEqualTo(3);
    }

    /**
     * Three jobs of a rule with one slot, from build {@code build} on: the first ran and freed its slot,
     * which woke the second (due now); the third waits for its next try, an hour away. The second has
     * supersede key "b" (build {@code build + 1}), the others none.
     */
    List<String> slotLine(String rule, int build) throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            PlannedJob job = Plans.job(rule, List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1);
            if (i == 1) {
                job = job.withWorkflow(new JobWorkflow((long) build + i, "b", false, null, Map.of(), Map.of(), null,
                        null, 0));
            }
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (build + i) + "}"), List.of(job)).jobIds());
        }
        String running = ids.get(0);
        picked(running);
        assertThat(ledger.tryAcquireSlot(rule, 1, running, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        int attempt = ledger.startAttempt(running, "node-a");
        for (String waiting : ids.subList(1, 3)) {
            assertThat(ledger.tryAcquireSlot(rule, 1, waiting, "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
            dueIn(waiting, Duration.ofHours(1));
        }
        ledger.finishAttempt(running, attempt, outcome(JobOutcome.Result.SUCCEEDED), JobState.SUCCEEDED, -1);
        assertThat(ledger.releaseSlot(running, rule, "node-a")).isTrue();
        assertThat(executionTime(ids.get(1))).as("woken").isBeforeOrEqualTo(Instant.now());
        assertThat(executionTime(ids.get(2))).as("its next try").isAfter(Instant.now().plusSeconds(3000));
        return ids;
    }

    /**
     * review12 L10: after a rules reload raised a rule's concurrency from 1 to 3, its older jobs (stored
     * with 1) waited while any slot was held, and the younger ones (3), counting them ahead but having
     * room, kept the slots busy: the older ones could wait for as long as new builds came. The limit is
     * now that of the rule's newest job still to run (its current rules), for old and new jobs alike.
     */
    @Test
    void afterARuleRaisedItsConcurrencyItsOlderJobsUseTheNewLimit() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (930 + i) + "}"), List.of(Plans.job("grow",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), i < 2 ? 1 : 3))).jobIds());
        }
        picked(ids.get(2));
        assertThat(ledger.tryAcquireSlot("grow", 3, ids.get(2), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        picked(ids.get(0));

        assertThat(ledger.tryAcquireSlot("grow", 1, ids.get(0), "node-a", -1)).as("an older job, stored with 1")
                .isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * A re-run keeps the plan of the job it re-runs, its concurrency included: after a reload lowered a
     * rule's limit from 3 to 1, a re-run of a job from before is the rule's newest job, but its 3 is not the
     * rules in force (found by review12 in d269fb7: every job of the rule then went by 3, two ran at once).
     */
    @Test
    void aRerunOfAJobFromBeforeAReloadThatLoweredTheLimitDoesNotRaiseItAgain() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        String before = store.accept(Plans.delivery("{\"build_id\": 940}"), List.of(Plans.job("shrink",
                List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 3))).jobIds().get(0);
        finish(before, JobOutcome.Result.SUCCEEDED, JobState.SUCCEEDED, Duration.ofSeconds(1));
        List<String> after = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            after.addAll(store.accept(Plans.delivery("{\"build_id\": " + (941 + i) + "}"), List.of(Plans.job("shrink",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds());
        }
        picked(after.get(0));
        assertThat(ledger.tryAcquireSlot("shrink", 1, after.get(0), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        String rerun = store.rerun(before);
        picked(after.get(1));
        picked(rerun);

        assertThat(ledger.tryAcquireSlot("shrink", 1, after.get(1), "node-a", -1)).as("the rules' 1 is held")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(ledger.tryAcquireSlot("shrink", 3, rerun, "node-a", -1)).as("the re-run too goes by 1")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
    }

    /**
     * chaos15 F1: the limit in force is that of the rule's newest job still to run, so a reload that lowered
     * a rule's concurrency from 2 to 1 held only from the next delivery: a job stored before it took the slot
     * its older sibling gave back while another job of the rule still ran, two at once under a limit of 1.
     * {@link ExecutionLedger#applyLimits} (called on every reload and at start) gives the jobs still to run
     * the rule's new limit.
     */
    @Test
    void aLoweredLimitHoldsForTheJobsAlreadyStoredWithoutANewDelivery() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (960 + i) + "}"), List.of(Plans.job("shrink",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 2))).jobIds());
        }
        for (int i = 0; i < 2; i++) {
            picked(ids.get(i));
            assertThat(ledger.tryAcquireSlot("shrink", 2, ids.get(i), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
            ledger.startAttempt(ids.get(i), "node-a");
        }

        List<ExecutionLedger.LimitChange> changes = ledger.changeLimits(Map.of("shrink", 1, "other", 3));
        int changed = changes.stream().mapToInt(ExecutionLedger.LimitChange::jobs).sum();
        assertThat(changes).as("what a start says it changed (tryout17 F4)")
                .containsExactly(new ExecutionLedger.LimitChange("shrink", 2, 1, 3));
        ledger.releaseSlot(ids.get(0), "shrink", "node-a");
        picked(ids.get(2));
        assertThat(ledger.tryAcquireSlot("shrink", 2, ids.get(2), "node-a", -1))
                .as("the second job still runs, and the rule now allows one at once")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(store.job(ids.get(2)).orElseThrow().job().concurrency()).isEqualTo(1);
        ledger.releaseSlot(ids.get(1), "shrink", "node-a");
        assertThat(ledger.tryAcquireSlot("shrink", 2, ids.get(2), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(changed).as("the two running and the one queued").isEqualTo(3);
        assertThat(ledger.applyLimits(Map.of("shrink", 1))).as("nothing left to change").isZero();
    }

    /**
     * review15: a limit set on a rule that had none was not given to its jobs already stored (stored without
     * one, they take no slot): every queued job of a rule just given {@code concurrency: 1} started at once.
     * A limit removed lets them start without a slot.
     */
    @Test
    void aLimitSetOnARuleThatHadNoneHoldsForItsJobsAlreadyStored() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (970 + i) + "}"), List.of(Plans.job("grow",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 0))).jobIds());
        }

        assertThat(ledger.applyLimits(Map.of("grow", 1))).isEqualTo(2);
        assertThat(store.job(ids.get(1)).orElseThrow().job().concurrency()).isEqualTo(1);
        picked(ids.get(0));
        assertThat(ledger.tryAcquireSlot("grow", 1, ids.get(0), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        picked(ids.get(1));
        assertThat(ledger.tryAcquireSlot("grow", 1, ids.get(1), "node-a", -1)).as("one at once")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);

        assertThat(ledger.applyLimits(Map.of("grow", 0))).as("the limit removed").isEqualTo(2);
        assertThat(store.job(ids.get(1)).orElseThrow().job().concurrency()).isZero();
    }

    /**
     * crash15: a reload that raises a rule's limit frees slots at once; the jobs it lets in, refused while the
     * old limit held and put back for their next try, are woken then, not after {@code runner.slot-retry}.
     */
    @Test
    void aRaisedLimitWakesTheJobsThatWaitedForASlot() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (990 + i) + "}"), List.of(Plans.job("widen",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds());
        }
        picked(ids.get(0));
        assertThat(ledger.tryAcquireSlot("widen", 1, ids.get(0), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        ledger.startAttempt(ids.get(0), "node-a");
        assertThat(ledger.tryAcquireSlot("widen", 1, ids.get(1), "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        dueIn(ids.get(1), Duration.ofHours(1));

        assertThat(ledger.applyLimits(Map.of("widen", 2))).isEqualTo(2);

        assertThat(executionTime(ids.get(1))).as("woken: the raised limit has a free slot for it")
                .isBeforeOrEqualTo(Instant.now());
        picked(ids.get(1));
        assertThat(ledger.tryAcquireSlot("widen", 1, ids.get(1), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * review15 (crash16): a limit set on a rule while a job of it ran without one counts that job: it holds a
     * slot from then on, so that nothing starts until fewer run than the limit; before, one more job started
     * beside it under the new {@code concurrency: 1}. Its end frees the slot and wakes the next in line, also
     * though its node read it without a limit (no rule is named to the outcome).
     */
    @Test
    void aLimitSetOnARuleWhileAJobOfItRunsWithoutOneCountsThatJob() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (975 + i) + "}"), List.of(Plans.job("grown",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 0))).jobIds());
        }
        picked(ids.get(0));
        int attempt = ledger.startAttempt(ids.get(0), "node-a");

        assertThat(ledger.applyLimits(Map.of("grown", 1))).isEqualTo(2);
        picked(ids.get(1));
        assertThat(ledger.tryAcquireSlot("grown", 1, ids.get(1), "node-a", -1))
                .as("the job running without a limit counts against the one just set")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        unpicked(ids.get(1));
        dueIn(ids.get(1), Duration.ofHours(1));

        ledger.finishAttempt(ids.get(0), attempt, outcome(JobOutcome.Result.SUCCEEDED), JobState.SUCCEEDED, -1, null);
        assertThat(executionTime(ids.get(1))).as("woken by the end of the job that held the slot")
                .isBeforeOrEqualTo(Instant.now());
        picked(ids.get(1));
        assertThat(ledger.tryAcquireSlot("grown", 1, ids.get(1), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * crash15: a limit removed (0) lets the jobs refused a slot under it start at once, as a raised one does:
     * they waited for their next try, {@code runner.slot-retry}, though nothing held them back any more. A
     * retry in its backoff is not woken.
     */
    @Test
    void aRemovedLimitWakesTheJobsThatWaitedForASlot() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.addAll(store.accept(Plans.delivery("{\"build_id\": " + (995 + i) + "}"), List.of(Plans.job("unbound",
                    List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds());
        }
        picked(ids.get(0));
        assertThat(ledger.tryAcquireSlot("unbound", 1, ids.get(0), "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        ledger.startAttempt(ids.get(0), "node-a");
        assertThat(ledger.tryAcquireSlot("unbound", 1, ids.get(1), "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        dueIn(ids.get(1), Duration.ofHours(1));
        // A retry in its backoff: an attempt failed, the next one is due in an hour.
        picked(ids.get(2));
        int failed = ledger.startAttempt(ids.get(2), "node-a");
        ledger.finishAttempt(ids.get(2), failed, outcome(JobOutcome.Result.FAILED), JobState.QUEUED, -1, "unbound");
        unpicked(ids.get(2));
        dueIn(ids.get(2), Duration.ofHours(1));

        assertThat(ledger.applyLimits(Map.of("unbound", 0))).isEqualTo(3);

        assertThat(executionTime(ids.get(1))).as("woken: no limit holds it back any more")
                .isBeforeOrEqualTo(Instant.now());
        assertThat(executionTime(ids.get(2))).as("the retry keeps its backoff").isAfter(Instant.now().plusSeconds(600));
    }

    /** Marks the job's execution picked, as a node running it: its slot is then not taken for one left behind. */
    void picked(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = ? WHERE task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, "node-a");
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /** Puts the job's execution back in the queue for {@code in} from now, as a try that found no slot does. */
    void dueIn(String jobId, Duration in) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET execution_time = ? WHERE task_name = ? AND task_instance = ?")) {
            JobQueue.customization(store.dialect()).setInstant(p, 1, Instant.now().plus(in));
            p.setString(2, JobQueue.TASK_NAME);
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /** When the job's execution is due. */
    Instant executionTime(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_name = ? AND task_instance = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setString(2, jobId);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return JobQueue.customization(store.dialect()).getInstant(rs, "execution_time");
            }
        }
    }

    private static JobOutcome outcome(JobOutcome.Result result) {
        Instant now = Instant.now();
        return new JobOutcome(result, result == JobOutcome.Result.SUCCEEDED ? 0 : 1, now, now, result.name(), null,
                false);
    }

    private long executionVersion(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
             PreparedStatement p = c.prepareStatement("SELECT version FROM scheduled_tasks WHERE task_name = ?"
                     + " AND task_instance = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setString(2, jobId);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void aFailureInsideAcceptLeavesNothingBehind() throws SQLException {
        // An injected failure on the second job's row, after the delivery and the first job were written.
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            if (store.dialect() == Dialect.POSTGRESQL) {
                s.execute("CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.rule_name = 'boom' THEN"
                        + " RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
                s.execute("CREATE TRIGGER boom BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION boom()");
            } else {
                s.execute("CREATE TRIGGER boom BEFORE INSERT ON jobs WHEN NEW.rule_name = 'boom'"
                        + " BEGIN SELECT RAISE(ABORT, 'boom'); END");
            }
        }

        assertThatThrownBy(() -> store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("ok", List.of("/bin/true")), Plans.job("boom", List.of("/bin/true")))))
                .hasMessageContaining("boom");

        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).isEmpty();
        assertThat(store.jobs(JobQuery.latest(10)).items()).isEmpty();
        assertThat(scheduledExecutions()).isEmpty();
        // The body was not claimed either: sending it again is accepted.
        assertThat(store.accept(Plans.delivery(Plans.fixture()), List.of()).duplicate()).isFalse();
    }

    @Test
    void theSameBodyDeliveredFourTimesCreatesJobsOnce() {
        List<AcceptResult> results = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            results.add(store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true")))));
        }

        assertThat(results.get(0).duplicate()).isFalse();
        assertThat(results.subList(1, 4)).allSatisfy(r -> {
            assertThat(r.duplicate()).isTrue();
            assertThat(r.deliveryId()).isEqualTo(results.get(0).deliveryId());
            assertThat(r.jobIds()).isEmpty();
        });
        assertThat(store.jobs(JobQuery.latest(100)).items()).hasSize(1);
        assertThat(store.deliveries(new DeliveryQuery(DeliveryOutcome.DUPLICATE, null, null, null, null, 10)).items())
                .hasSize(3).allMatch(d -> results.get(0).deliveryId().equals(d.duplicateOf()));
    }

    @Test
    void concurrentIdenticalDeliveriesGiveOneAcceptedAndTheRestDuplicates() throws Exception {
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<AcceptResult>> futures = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            Callable<AcceptResult> call = () -> {
                go.await();
                return store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))));
            };
            futures.add(pool.submit(call));
        }
        go.countDown();
        List<AcceptResult> results = new ArrayList<>();
        for (Future<AcceptResult> f : futures) {
            results.add(f.get());
        }
        pool.shutdown();

        assertThat(results).filteredOn(r -> !r.duplicate()).hasSize(1);
        String first = results.stream().filter(r -> !r.duplicate()).findFirst().orElseThrow().deliveryId();
        assertThat(results).extracting(AcceptResult::deliveryId).containsOnly(first);
        assertThat(store.jobs(JobQuery.latest(100)).items()).hasSize(1);
    }

    @Test
    void theSameBodyOnAnotherEndpointOrAfterTheWindowIsANewDelivery() {
        Instant longAgo = Instant.now().minus(Duration.ofDays(8));
        AcceptResult old = store.accept(Plans.delivery("default", "{\"build_id\": 1}", longAgo), List.of());
        AcceptResult again = store.accept(Plans.delivery("default", "{\"build_id\": 1}", Instant.now()), List.of());
        AcceptResult other = store.accept(Plans.delivery("staging", "{\"build_id\": 1}", Instant.now()), List.of());
        AcceptResult dup = store.accept(Plans.delivery("default", "{\"build_id\": 1}", Instant.now()), List.of());

        assertThat(again.duplicate()).isFalse();
        assertThat(again.deliveryId()).isNotEqualTo(old.deliveryId());
        assertThat(other.duplicate()).isFalse();
        assertThat(dup.duplicate()).isTrue();
        assertThat(dup.deliveryId()).isEqualTo(again.deliveryId());
    }

    @Test
    void keepsARejectedDeliveryWithItsReason() {
        String id = store.recordRejected(Plans.delivery("{\"not\": \"a build\"}"), "missing field build_id");

        Delivery d = store.delivery(id).orElseThrow().delivery();
        assertThat(d.outcome()).isEqualTo(DeliveryOutcome.REJECTED);
        assertThat(d.reason()).isEqualTo("missing field build_id");
        assertThat(new String(d.body(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"not\": \"a build\"}");
        assertThat(store.jobs(JobQuery.latest(10)).items()).isEmpty();
    }

    @Test
    void aRejectedBodySentAgainIsARepeatOfItsFirstDeliveryNotAnotherCopy() {
        // JobServ retries every answer but 2xx: one bad build came as four rejected rows (tryout8, F7).
        Instant first = Instant.now().minusSeconds(60);
        String bad = "{\"build_id\": \"67\"}";
        RejectedDelivery one = store.reject(Plans.delivery("default", bad, first), "build_id is not a number");
        RejectedDelivery two = store.reject(Plans.delivery("default", bad, first.plusSeconds(1)), "build_id is not a number");
        RejectedDelivery four = null;
        for (int i = 2; i <= 4; i++) {
            four = store.reject(Plans.delivery("default", bad, first.plusSeconds(i)), "build_id is not a number");
        }
        RejectedDelivery otherEndpoint = store.reject(Plans.delivery("staging", bad, first), "build_id is not a number");
        RejectedDelivery otherBody = store.reject(Plans.delivery("default", bad + " ", first), "build_id is not a number");
        RejectedDelivery afterTheWindow = store.reject(Plans.delivery("default", bad, first.plus(Duration.ofDays(8))),
                "build_id is not a number");

        assertThat(one.repeat()).isFalse();
        assertThat(two).isEqualTo(new RejectedDelivery(one.deliveryId(), 1));
        assertThat(four).isEqualTo(new RejectedDelivery(one.deliveryId(), 4));
        assertThat(List.of(otherEndpoint, otherBody, afterTheWindow)).allSatisfy(r -> {
            assertThat(r.repeat()).isFalse();
            assertThat(r.deliveryId()).isNotEqualTo(one.deliveryId());
        });
        Delivery kept = store.delivery(one.deliveryId()).orElseThrow().delivery();
        assertThat(kept.outcome()).isEqualTo(DeliveryOutcome.REJECTED);
        assertThat(kept.reason()).isEqualTo("build_id is not a number");
        assertThat(new String(kept.body(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(bad);
        assertThat(kept.repeats()).isEqualTo(4);
        assertThat(kept.lastRepeatAt()).isEqualTo(first.plusSeconds(4).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        assertThat(store.deliveries(new DeliveryQuery(DeliveryOutcome.REJECTED, "default", null, null, null, 100))
                .items()).hasSize(3);
    }

    @Test
    void listsDeliveriesNewestFirstWithFiltersAndACursor() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(store.accept(Plans.delivery("default", "{\"build_id\": " + i + "}", Instant.now()), List.of())
                    .deliveryId());
        }
        store.accept(Plans.delivery("staging", "{\"build_id\": 99}", Instant.now()), List.of());

        Page<Delivery> first = store.deliveries(new DeliveryQuery(null, "default", null, null, null, 3));
        Page<Delivery> second = store.deliveries(new DeliveryQuery(null, "default", null, null, first.nextCursor(), 3));

        assertThat(first.items()).extracting(Delivery::id).containsExactly(ids.get(4), ids.get(3), ids.get(2));
        assertThat(second.items()).extracting(Delivery::id).containsExactly(ids.get(1), ids.get(0));
        assertThat(second.nextCursor()).isNull();
        assertThat(store.deliveries(new DeliveryQuery(DeliveryOutcome.ACCEPTED, null,
                Instant.now().minusSeconds(60), Instant.now().plusSeconds(60), null, 100)).items()).hasSize(6);
        assertThat(store.deliveries(new DeliveryQuery(null, null, Instant.now().plusSeconds(60), null, null, 100))
                .items()).isEmpty();
    }

    @Test
    void keepsTheEventSummaryAndFiltersByProjectAndTrigger() {
        String lmp = store.accept(Plans.delivery("default", "{\"build_id\": 1}", Instant.now()),
                new DeliverySummary(67L, "PASSED", "andy-corp/lmp", "andy-corp", "build-release"), List.of())
                .deliveryId();
        String other = store.accept(Plans.delivery("default", "{\"build_id\": 2}", Instant.now()),
                new DeliverySummary(68L, "FAILED", "andy-corp/other", "andy-corp", "Code Review"), List.of())
                .deliveryId();
        String unknown = store.accept(Plans.delivery("default", "{\"build_id\": 3}", Instant.now()), List.of())
                .deliveryId();

        Delivery stored = store.delivery(lmp).orElseThrow().delivery();
        assertThat(stored.summary()).isEqualTo(
                new DeliverySummary(67L, "PASSED", "andy-corp/lmp", "andy-corp", "build-release"));
        assertThat(store.delivery(unknown).orElseThrow().delivery().summary()).isEqualTo(DeliverySummary.NONE);
        assertThat(store.deliveries(new DeliveryQuery(null, null, "andy-corp/lmp", null, null, null, null, 10))
                .items()).extracting(Delivery::id).containsExactly(lmp);
        assertThat(store.deliveries(new DeliveryQuery(null, null, null, "Code Review", null, null, null, 10))
                .items()).extracting(Delivery::id).containsExactly(other);
        assertThat(store.deliveries(new DeliveryQuery(null, null, "andy-corp/lmp", "Code Review", null, null, null,
                10)).items()).isEmpty();
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).extracting(d -> d.summary().buildId())
                .containsExactly(null, 68L, 67L);
    }

    @Test
    void recordsAdminActionsOnADeliveryAndItsJobsAndRetentionRemovesThem() {
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("a", List.of("/bin/true"))));
        String job = r.jobIds().get(0);

        AdminAction rerun = store.recordAction("token@127.0.0.1", "rerun", r.deliveryId(), job, "new job X");
        AdminAction replay = store.recordAction("token@127.0.0.1", "replay", r.deliveryId(), null, "0 jobs");

        assertThat(store.actionsOnDelivery(r.deliveryId())).containsExactly(rerun, replay);
        assertThat(store.actionsOnJob(job)).containsExactly(rerun);
        assertThat(rerun.at()).isNotNull();
        assertThat(rerun.id()).matches("[A-Za-z0-9_-]{26}");
        assertThat(store.actionsOnJob("01AAAAAAAAAAAAAAAAAAAAAAAA")).isEmpty();

        String aged = store.accept(Plans.delivery("default", "{\"build_id\": 5}", Instant.now().minus(Duration.ofDays(31))),
                List.of()).deliveryId();
        store.recordAction("token@127.0.0.1", "replay", aged, null, "0 jobs");
        assertThat(store.runRetention()).isEqualTo(1);
        assertThat(store.actionsOnDelivery(aged)).isEmpty();
        assertThat(store.actionsOnDelivery(r.deliveryId())).hasSize(2);
    }

    /**
     * The audit trail of a job re-run thousands of times is as long: it is read a page at a time, newest
     * first, on the (job_id, id) and (delivery_id, id) indexes, as jobs and deliveries are listed.
     */
    @Test
    void listsTheAdminActionsOfAJobOrADeliveryAPageAtATimeNewestFirst() {
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("a", List.of("/bin/true")), Plans.job("b", List.of("/bin/true"))));
        String job = r.jobIds().get(0);
        List<AdminAction> onJob = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            onJob.add(store.recordAction("token@127.0.0.1", "rerun", r.deliveryId(), job, "new job " + i));
        }
        AdminAction onOther = store.recordAction("token@127.0.0.1", "cancel", r.deliveryId(), r.jobIds().get(1), "cancelled");
        AdminAction replay = store.recordAction("token@127.0.0.1", "replay", r.deliveryId(), null, "0 job(s) []");
        String other = store.accept(Plans.delivery("default", "{\"build_id\": 5}", Instant.now()), List.of()).deliveryId();
        AdminAction elsewhere = store.recordAction("token@127.0.0.1", "replay", other, null, "0 job(s) []");

        Page<AdminAction> first = store.actions(ActionQuery.onJob(job, 5));
        assertThat(first.items()).containsExactly(onJob.get(6), onJob.get(5), onJob.get(4), onJob.get(3), onJob.get(2));
        assertThat(first.nextCursor()).isEqualTo(onJob.get(2).id());
        Page<AdminAction> second = store.actions(new ActionQuery(job, null, first.nextCursor(), 5));
        assertThat(second.items()).containsExactly(onJob.get(1), onJob.get(0));
        assertThat(second.nextCursor()).isNull();

        assertThat(store.actions(ActionQuery.onDelivery(r.deliveryId(), 2)).items()).containsExactly(replay, onOther);
        assertThat(store.actions(ActionQuery.onDelivery(r.deliveryId(), 500)).items()).hasSize(9)
                .doesNotContain(elsewhere);
        assertThat(store.actions(new ActionQuery(job, r.deliveryId(), null, 1)).items()).containsExactly(onJob.get(6));
        assertThat(store.actions(new ActionQuery(null, null, null, 1)).items()).containsExactly(elsewhere);
        assertThat(store.actions(ActionQuery.onJob("01AAAAAAAAAAAAAAAAAAAAAAAA", 5))).isEqualTo(new Page<>(List.of(), null));
        // The whole lists, oldest first, as GET /api/jobs/{id} and /api/deliveries/{id} still show them.
        assertThat(store.actionsOnJob(job)).containsExactlyElementsOf(onJob);
    }

    /** A job's page shows its delivery's build, project and trigger: read without the body and the jobs. */
    @Test
    void readsADeliverysRowWithoutItsBodyAndItsJobs() {
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()),
                new DeliverySummary(67L, "PASSED", "andy-corp/lmp", "andy-corp", "containers-devel"), List.of(Plans.job("a", List.of("/bin/true")), Plans.job("b", List.of("/bin/true"))));
        Delivery whole = store.delivery(r.deliveryId()).orElseThrow().delivery();

        Delivery row = store.deliveryRow(r.deliveryId()).orElseThrow();

        assertThat(whole.body()).isNotNull();
        assertThat(row.body()).isNull();
        assertThat(row.summary()).isEqualTo(whole.summary());
        assertThat(row.summary().project()).isEqualTo("andy-corp/lmp");
        assertThat(row.headers()).isEqualTo(whole.headers());
        assertThat(row.receivedAt()).isEqualTo(whole.receivedAt());
        assertThat(row.outcome()).isEqualTo(DeliveryOutcome.ACCEPTED);
        assertThat(store.deliveryRow("01AAAAAAAAAAAAAAAAAAAAAAAA")).isEmpty();
        assertThat(store.deliveryWithBody(r.deliveryId()).orElseThrow().body()).isEqualTo(Plans.fixtureBody());
    }

    @Test
    void listsJobsByStateAndRuleAndShowsAJobWithItsAttempts() {
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("a", List.of("/bin/true")), Plans.job("b", List.of("/bin/true"))));

        assertThat(store.jobs(new JobQuery(JobState.QUEUED, "b", null, null, 10)).items())
                .extracting(Job::id).containsExactly(r.jobIds().get(1));
        assertThat(store.jobs(new JobQuery(JobState.SUCCEEDED, null, null, null, 10)).items()).isEmpty();
        JobDetail detail = store.job(r.jobIds().get(0)).orElseThrow();
        assertThat(detail.job().argv()).containsExactly("/bin/true");
        assertThat(detail.attempts()).isEmpty();
        assertThat(store.job("01AAAAAAAAAAAAAAAAAAAAAAAA")).isEmpty();
    }

    @Test
    void redactsSecretValuesWhenShownButKeepsThemForTheEngine() {
        Map<String, String> env = Map.of("API_TOKEN", "t0ps3cret", "DB_PASSWORD", "hunter2", "TARGET", "staging");
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("deploy", List.of("/bin/true"), env, 0, Duration.ofSeconds(1), 0)));
        String jobId = r.jobIds().get(0);

        assertThat(store.job(jobId).orElseThrow().job().env())
                .containsEntry("API_TOKEN", "***").containsEntry("DB_PASSWORD", "***").containsEntry("TARGET", "staging");
        assertThat(store.delivery(r.deliveryId()).orElseThrow().jobs().get(0).env()).containsEntry("API_TOKEN", "***");
        assertThat(store.jobs(JobQuery.latest(1)).items().get(0).env()).containsEntry("API_TOKEN", "***");
        assertThat(store.ledger().job(jobId).orElseThrow().env()).containsEntry("API_TOKEN", "t0ps3cret");
    }

    /**
     * tryout33 F7: a secret under a name outside the old list (DB_PWD, GITHUB_PAT) or in the command (an
     * Authorization header) was shown in clear by the API, job show and the status page, which read jobs here.
     */
    @Test
    void redactsSecretsInTheCommandAndUnderNamesOutsideTheOldListWhenShownButKeepsThemForTheEngine() {
        Map<String, String> env = Map.of("DB_PWD", "hunter2", "GITHUB_PAT", "ghp_abcdef123456", "TARGET", "staging",
                "FOUNDRIES_BEARER", "tok-BEARER-eeee5555");
        List<String> argv = List.of("/usr/bin/curl", "-H", "Authorization: Bearer sk-live-abc123", "-u", "app:hunter2",
                "-H", "OSF-TOKEN: tok-OSF-pppp9090", "-H", "X-Api-Key: tok-XAPI-ffff6666", "-H", "Accept: text/plain");
        String jobId = store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("deploy", argv, env, 0, Duration.ofSeconds(1), 0))).jobIds().get(0);

        Job shown = store.job(jobId).orElseThrow().job();
        assertThat(shown.env()).containsEntry("DB_PWD", "***").containsEntry("GITHUB_PAT", "***")
                .containsEntry("TARGET", "staging").containsEntry("FOUNDRIES_BEARER", "***");
        assertThat(shown.argv()).containsExactly("/usr/bin/curl", "-H", "Authorization: Bearer ***", "-u", "app:***",
                "-H", "OSF-TOKEN: ***", "-H", "X-Api-Key: ***", "-H", "Accept: text/plain");
        assertThat(store.jobs(JobQuery.latest(1)).items().get(0).argv()).doesNotContain(argv.get(2), argv.get(6),
                argv.get(8));
        assertThat(store.ledger().job(jobId).orElseThrow().argv()).isEqualTo(argv);
        assertThat(store.ledger().job(jobId).orElseThrow().env()).containsEntry("DB_PWD", "hunter2");
    }

    /**
     * The rule snapshot a job carries holds the rule's env as written: secret-looking values are
     * masked there too, in the rule's own env and its follow-ups' (a try-out found DEPLOY_TOKEN in
     * clear in the admin API's ruleSnapshot while env showed ***); the engine keeps the real text.
     */
    @Test
    void redactsSecretValuesInTheRuleSnapshotToo() {
        String snapshot = "{\"name\":\"deploy\",\"on-failure\":{\"command\":[\"/bin/page\"],"
                + "\"env\":{\"PAGER_KEY\":\"pk-1\",\"TEAM\":\"ops\"}},\"run\":{\"command\":[\"/bin/true\"],"
                + "\"env\":{\"DEPLOY_TOKEN\":\"literal-secret-value-42\",\"TARGET\":\"staging\"}},"
                + "\"supersede\":{\"key\":\"${build.project}\"}}";
        PlannedJob plan = new PlannedJob("deploy", snapshot, List.of("/bin/true"), Map.of(), null, false,
                Duration.ofSeconds(30), 0, Duration.ofMillis(100), 0, null);
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(plan)).jobIds().get(0);

        String shown = store.job(jobId).orElseThrow().job().ruleSnapshot();
        assertThat(shown).doesNotContain("literal-secret-value-42", "pk-1")
                .contains("\"DEPLOY_TOKEN\":\"***\"", "\"PAGER_KEY\":\"***\"", "\"TARGET\":\"staging\"",
                        "\"TEAM\":\"ops\"", "\"key\":\"${build.project}\"");
        assertThat(store.jobs(JobQuery.latest(1)).items().get(0).ruleSnapshot()).doesNotContain("literal-secret-value-42");
        assertThat(store.ledger().job(jobId).orElseThrow().ruleSnapshot()).isEqualTo(snapshot);
    }

    @Test
    void rerunAddsANewJobWithTheSamePlanAndReplayAddsJobsToTheDelivery() throws SQLException {
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/echo", "1"))));

        String rerun = store.rerun(r.jobIds().get(0));
        List<String> replayed = store.replay(r.deliveryId(), List.of(Plans.job("notify", List.of("/bin/true"))));

        Job copy = store.job(rerun).orElseThrow().job();
        assertThat(copy.rerunOf()).isEqualTo(r.jobIds().get(0));
        assertThat(copy.argv()).containsExactly("/bin/echo", "1");
        assertThat(copy.state()).isEqualTo(JobState.QUEUED);
        assertThat(store.delivery(r.deliveryId()).orElseThrow().jobs()).hasSize(3);
        assertThat(scheduledExecutions()).contains(rerun, replayed.get(0));
    }

    @Test
    void cancellingAQueuedJobRemovesItsExecution() throws SQLException {
        AcceptResult r = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))));
        String jobId = r.jobIds().get(0);

        assertThat(store.cancel(jobId)).isTrue();

        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.CANCELLED);
        assertThat(scheduledExecutions()).doesNotContain(jobId);
        assertThat(store.cancel(jobId)).isFalse();
    }

    @Test
    void retentionDeletesOldDeliveriesWithTheirJobsAttemptsAndLogs() throws Exception {
        Instant old = Instant.now().minus(Duration.ofDays(31));
        List<String> oldIds = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            oldIds.add(store.accept(Plans.delivery("default", "{\"build_id\": " + i + "}", old),
                    List.of(Plans.job("deploy", List.of("/bin/true")))).deliveryId());
        }
        AcceptResult fresh = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))));
        // Finish the old jobs with a log file each, as the engine would (<log dir>/<job id>/attempt-N.log).
        List<Path> oldLogs = new ArrayList<>();
        for (String id : oldIds) {
            String jobId = store.delivery(id).orElseThrow().jobs().get(0).id();
            Path log = Files.writeString(Files.createDirectories(dir.resolve("logs").resolve(jobId))
                    .resolve("attempt-1.log"), "output");
            oldLogs.add(log);
            int attempt = store.ledger().startAttempt(jobId, "test-node");
            store.ledger().finishAttempt(jobId, attempt, new org.buildhook.runner.exec.JobOutcome(
                    org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, Instant.now(), Instant.now(), "exited with 0",
                    log, false), JobState.SUCCEEDED);
        }
        Store small = Store.open(new StoreConfig(config.url(), dir, config.dedupWindow(), config.retention(),
                Duration.ZERO, 3, 4, config.connectTimeout(), config.clock()));
        try {
            assertThat(small.runRetention()).isEqualTo(7);
        } finally {
            small.close();
        }

        assertThat(store.deliveries(DeliveryQuery.latest(100)).items()).extracting(Delivery::id)
                .containsExactly(fresh.deliveryId());
        assertThat(store.jobs(JobQuery.latest(100)).items()).hasSize(1);
        assertThat(oldLogs).allSatisfy(log -> assertThat(log).doesNotExist());
        // The same body may come again later: its dedup key went with it.
        assertThat(store.accept(Plans.delivery("default", "{\"build_id\": 0}", Instant.now()), List.of()).duplicate())
                .isFalse();
    }

    /**
     * The first sweep ran one interval (an hour) after the open: a {@code store.retention} lowered to free a full
     * disk freed nothing for an hour, and a node restarted more often never swept (tryout26 F6). With the shipped
     * interval, the first sweep is due a minute after the open: this executor runs a task due within a minute at
     * once (and one due later when it is due), so the expired delivery and its log go without waiting an hour.
     */
    @Test
    void theFirstRetentionSweepRunsAMinuteAfterTheOpenNotAnIntervalAfter() throws Exception {
        String oldJob = store.accept(Plans.delivery("default", "{\"build_id\": 1}", Instant.now().minus(Duration.ofDays(31))),
                List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
        Path log = Files.writeString(Files.createDirectories(dir.resolve("logs").resolve(oldJob)).resolve("attempt-1.log"), "x");
        int attempt = store.ledger().startAttempt(oldJob, "test-node");
        store.ledger().finishAttempt(oldJob, attempt, new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, Instant.now(),
                Instant.now(), "exited with 0", log, false), JobState.SUCCEEDED);
        java.util.concurrent.ScheduledThreadPoolExecutor minuteIsNow = new java.util.concurrent.ScheduledThreadPoolExecutor(1) {
            @Override
            public java.util.concurrent.ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, long initialDelay,
                    long delay, java.util.concurrent.TimeUnit unit) {
                long first = unit.toMillis(initialDelay) <= Duration.ofMinutes(1).toMillis() ? 0 : initialDelay;
                return super.scheduleWithFixedDelay(task, first, delay, unit);
            }
        };
        try (Store restarted = Store.open(config.withRetention(StoreConfig.DEFAULT_RETENTION,
                StoreConfig.DEFAULT_RETENTION_INTERVAL), minuteIsNow)) {
            await().atMost(Duration.ofMinutes(2)).until(() -> restarted.job(oldJob).isEmpty());
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.notExists(log));
        } finally {
            minuteIsNow.shutdownNow();
        }
    }

    /** A job's logs are in a folder of its own ({@code <log dir>/<job id>/attempt-N.log}): it goes with them. */
    @Test
    void retentionRemovesTheLogFolderOfEachJobItDeletedAndNoOtherFolder() throws Exception {
        Instant old = Instant.now().minus(Duration.ofDays(31));
        String oldJob = store.accept(Plans.delivery("default", "{\"build_id\": 1}", old),
                List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
        String freshJob = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        Path logs = Files.createDirectories(dir.resolve("logs"));
        for (String jobId : List.of(oldJob, freshJob)) {
            for (int n = 1; n <= 2; n++) {
                Path log = Files.createDirectories(logs.resolve(jobId)).resolve("attempt-" + n + ".log");
                Files.writeString(log, "output");
                int attempt = store.ledger().startAttempt(jobId, "test-node");
                store.ledger().finishAttempt(jobId, attempt, new org.buildhook.runner.exec.JobOutcome(
                        org.buildhook.runner.exec.JobOutcome.Result.FAILED, 1, Instant.now(), Instant.now(),
                        "exited with 1", log, false), n == 2 ? JobState.FAILED : JobState.QUEUED);
            }
        }
        Path elsewhere = Files.writeString(logs.resolve("not-a-job.log"), "kept");
        // A log rewrite a stop left half-way (review12 L5): it kept the job's folder for ever.
        Files.writeString(logs.resolve(oldJob).resolve(".attempt-2.log.rewrite"), "half");
        // The record of a log's notes (words32, LogNotes) goes with its log.
        Files.writeString(logs.resolve(oldJob).resolve(".attempt-1.log.notes"), "");

        assertThat(store.runRetention()).isEqualTo(1);

        assertThat(logs.resolve(oldJob)).doesNotExist();
        assertThat(logs.resolve(freshJob).resolve("attempt-2.log")).exists();
        assertThat(logs).isDirectory();
        assertThat(elsewhere).exists();
    }

    /**
     * tryout26 F3: an attempt records its log's absolute path, which names the log folder of the installation
     * that ran it. A restored copy of a store (or a moved data folder) deleted, by its retention, the original
     * installation's files and left its own; and a path in the database can point anywhere. Retention deletes
     * {@code <its log dir>/<job id>/attempt-N.log}, never the recorded path.
     */
    @Test
    void retentionDeletesTheLogsInItsOwnLogFolderNeverWhereTheAttemptRecordedThem() throws Exception {
        Instant old = Instant.now().minus(Duration.ofDays(31));
        Path original = Files.createDirectories(dir.resolve("original-logs"));
        Path here = Files.createDirectories(dir.resolve("restored-logs"));
        Path victim = Files.writeString(dir.resolve("not-a-log.txt"), "kept");
        List<Path> originals = new ArrayList<>();
        List<Path> copies = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String jobId = store.accept(Plans.delivery("default", "{\"build_id\": " + i + "}", old),
                    List.of(Plans.job("deploy", List.of("/bin/true")))).jobIds().get(0);
            Path ran = Files.writeString(Files.createDirectories(original.resolve(jobId)).resolve("attempt-1.log"), "original");
            originals.add(ran);
            copies.add(Files.writeString(Files.createDirectories(here.resolve(jobId)).resolve("attempt-1.log"), "copy"));
            int attempt = store.ledger().startAttempt(jobId, "test-node");
            // The second one's recorded path points at a file that is no log at all.
            store.ledger().finishAttempt(jobId, attempt, new org.buildhook.runner.exec.JobOutcome(
                    org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, Instant.now(), Instant.now(), "exited with 0",
                    i == 0 ? ran : victim, false), JobState.SUCCEEDED);
        }
        store.sweepJobLogsIn(here);

        assertThat(store.runRetention()).isEqualTo(2);

        assertThat(originals).allSatisfy(log -> assertThat(log).exists());
        assertThat(victim).exists();
        assertThat(copies).allSatisfy(log -> assertThat(log.getParent()).doesNotExist());
    }

    @Test
    void retentionSaysTheFilesItCouldNotDeleteInOneWarningPerSweep() throws Exception {
        Path logs = Files.createDirectories(dir.resolve("logs"));
        for (int i = 0; i < 3; i++) {
            String job = store.accept(Plans.delivery("default", "{\"build_id\": " + i + "}",
                    Instant.now().minus(Duration.ofDays(31))), List.of(Plans.job("deploy", List.of("/bin/true"))))
                    .jobIds().get(0);
            // Where its log should be, a folder with a file in it: the delete fails.
            Path log = Files.createDirectories(logs.resolve(job).resolve("attempt-1.log"));
            Files.writeString(log.resolve("someone-else's"), "kept");
            int attempt = store.ledger().startAttempt(job, "test-node");
            store.ledger().finishAttempt(job, attempt, new JobOutcome(JobOutcome.Result.FAILED, 1, Instant.now(),
                    Instant.now(), "exited with 1", log, false), JobState.FAILED);
        }
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> warnings =
                new ch.qos.logback.core.read.ListAppender<>();
        ch.qos.logback.classic.Logger retentionLog =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Retention.class);
        warnings.start();
        retentionLog.addAppender(warnings);
        try {
            assertThat(store.runRetention()).isEqualTo(3);
        } finally {
            retentionLog.detachAppender(warnings);
        }

        assertThat(warnings.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).singleElement()
                .satisfies(m -> assertThat(m).startsWith("retention could not remove 3 log file(s), log folder(s) or"
                        + " payload file(s) of the deliveries it deleted; the first: ").contains(logs.toString()));
    }

    @Test
    void refusesADatabaseMigratedByANewerVersion() throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)");
        }
        store.close();

        // The way back is said too: the backup taken before the upgrade (tryout26 F5).
        assertThatThrownBy(() -> Store.open(config)).hasMessageContaining("schema is at version 99")
                .hasMessageContaining("newer buildhook")
                .hasMessageContaining("restore the backup of the store taken before that upgrade (docs/deploying.md,"
                        + " Upgrading step 2");
        store = Store.open(config(dir.resolve("other")));
    }

    @Test
    void reopeningAppliesNoMigrationTwice() {
        store.accept(Plans.delivery(Plans.fixture()), List.of());
        store.close();
        store = Store.open(config);

        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).hasSize(1);
        assertThat(store.healthy()).isTrue();
    }

    /**
     * Each waits for the others' migrations (on SQLite, for the write lock) as long as a start waits for the store: a
     * key long enough that no host is that slow (migrate53: on SQLite they waited an accept's 2 s, and one of the four
     * failed so at load 15; SqliteStartLockWaitTest holds the lock past that wait on purpose).
     */
    @Test
    void nodesStartingTogetherOnAnEmptyDatabaseMigrateItOnce() throws Exception {
        StoreConfig fresh = config(dir.resolve("fresh")).withConnectTimeout(Duration.ofMinutes(2))
                .withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Store>> opened = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            opened.add(pool.submit(() -> {
                go.await();
                return Store.open(fresh);
            }));
        }
        go.countDown();
        List<Store> stores = new ArrayList<>();
        for (Future<Store> f : opened) {
            stores.add(f.get());
        }
        pool.shutdown();

        try (Connection c = stores.get(0).dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*), MAX(version) FROM schema_version")) {
            rs.next();
            // One row per known version: each applied exactly once.
            int known = knownMigrations();
            assertThat(rs.getInt(1)).isEqualTo(known);
            assertThat(rs.getInt(2)).isEqualTo(known);
        } finally {
            stores.forEach(Store::close);
        }
    }

    @Test
    void anUnreachableDatabaseIsReportedAsUnavailable() {
        StoreConfig bad = new StoreConfig(unreachableUrl(dir), dir, config.dedupWindow(), config.retention(),
                Duration.ZERO, 500, 2, Duration.ofMillis(500), config.clock());

        assertThatThrownBy(() -> Store.open(bad)).isInstanceOf(StoreUnavailableException.class);
        store.close();
        assertThat(store.healthy()).isFalse();
        store = Store.open(config);
    }

    List<String> scheduledExecutions() throws SQLException {
        try (Connection c = store.dataSource().getConnection();
             PreparedStatement p = c.prepareStatement("SELECT task_instance FROM scheduled_tasks WHERE task_name = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    /** How many migrations the code ships (both engines have the same versions). */
    static int knownMigrations() throws java.io.IOException {
        try (java.io.InputStream in = Store.class.getResourceAsStream("migrations/sqlite/index.txt")) {
            return (int) new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank()).count();
        }
    }
}
