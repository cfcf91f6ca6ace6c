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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
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
 * {@code cancel --delivery} ({@link Store#cancelDelivery}) on PostgreSQL against what else locks the same rows at the
 * same moment: a newer build's delivery superseding the delivery's jobs, a node starting one of them, an approval, the
 * start of an approval request, a cancel of one of them alone. Each race is made to happen by a third session holding
 * a lock one of the two needs (never by sleeping): one of them waits there holding what it took before, the other
 * runs into it, then the lock is let go. Neither may be ended by PostgreSQL ({@code deadlock detected}, which the
 * operator would get as an internal error, or a build event as a failed accept); each job ends once, as one of them
 * says; another delivery's jobs are not touched; the answer's counts are the jobs' states; no command starts after its
 * job was answered cancelled. The store's sessions wait for a lock without limit here ({@code lock_timeout} 0), so
 * that a loaded machine cannot make a wait fail: only a deadlock can end one.
 */
class PostgresDeliveryCancelRacesTest {

    private static final Duration WAIT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    private Store store;
    private String url;
    private ExecutorService pool;
    private final List<Connection> sessions = new ArrayList<>();

    @BeforeEach
    void open() {
        url = TestStores.postgres(dir.resolve("data")).url() + "&options=-c%20lock_timeout%3D0";
        store = Store.open(StoreConfig.of(url, dir.resolve("data")));
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void close() throws Exception {
        for (Connection c : sessions) {
            c.close();
        }
        pool.shutdownNow();
        pool.awaitTermination(30, TimeUnit.SECONDS);
        store.close();
    }

    /** Build {@code build}'s job of rule {@code rule}, superseding the older builds' jobs of key {@code k}. */
    private static PlannedJob keyed(String rule, long build) {
        return Plans.job(rule, List.of("/bin/true")).withWorkflow(new JobWorkflow(build, "k", false, null, Map.of(),
                Map.of(), null, null, 0));
    }

    private static NewDelivery build(long build) {
        return Plans.delivery("{\"build_id\": " + build + "}");
    }

    /**
     * The newer build's delivery supersedes the delivery's jobs while its cancel waits for the second job's row: it
     * waits for the cancel, then finds them cancelled and supersedes nothing; the cancel's answer says both cancelled.
     */
    @Test
    void aNewerBuildArrivingWhileTheCancelHoldsTheFirstJobWaitsAndFindsThemCancelled() throws Exception {
        AcceptResult older = store.accept(build(1), List.of(keyed("deploy-a", 1), keyed("deploy-b", 1)));
        String a = older.jobIds().get(0);
        String b = older.jobIds().get(1);
        assertThat(a).isLessThan(b);

        Connection blocker = session();
        lockJob(blocker, b);
        Future<Optional<DeliveryCancel>> cancel = pool.submit(() -> store.cancelDelivery(older.deliveryId(), "op"));
        int cancelPid = awaitBlockedBy(blocker, cancel);
        Future<AcceptResult> newer = pool.submit(() -> store.accept(build(2), List.of(keyed("deploy-a", 2),
                keyed("deploy-b", 2))));
        await().atMost(WAIT).until(() -> newer.isDone() || blockedBy(cancelPid) > 0);
        blocker.commit();

        DeliveryCancel done = get(cancel).orElseThrow();
        AcceptResult accepted = get(newer);
        assertThat(done.jobs()).extracting(DeliveryCancel.JobCancel::cancelled).containsExactly(true, true);
        assertThat(done.jobs()).extracting(DeliveryCancel.JobCancel::state)
                .containsExactly(JobState.CANCELLED, JobState.CANCELLED);
        assertThat(done.ended()).isZero();
        assertThat(state(a)).isEqualTo(JobState.CANCELLED);
        assertThat(state(b)).isEqualTo(JobState.CANCELLED);
        for (String id : accepted.jobIds()) {
            assertThat(state(id)).isEqualTo(JobState.QUEUED);
            assertThat(store.job(id).orElseThrow().job().cancelRequested()).isFalse();
        }
    }

    /**
     * The cancel comes while the newer build's delivery holds the delivery's jobs (and waits for the second one's queue
     * entry): it waits, then finds both superseded under their locks: nothing cancelled, and both counted as ended
     * (before, they were listed but counted nowhere: "0 job(s) cancelled" and no "had already ended").
     */
    @Test
    void aCancelWhileANewerBuildSupersedesTheJobsWaitsAndCountsThemEnded() throws Exception {
        AcceptResult older = store.accept(build(1), List.of(keyed("deploy-a", 1), keyed("deploy-b", 1)));
        String a = older.jobIds().get(0);
        String b = older.jobIds().get(1);

        Connection blocker = session();
        lockEntry(blocker, b);
        Future<AcceptResult> newer = pool.submit(() -> store.accept(build(2), List.of(keyed("deploy-a", 2),
                keyed("deploy-b", 2))));
        int acceptPid = awaitBlockedBy(blocker, newer);
        Future<Optional<DeliveryCancel>> cancel = pool.submit(() -> store.cancelDelivery(older.deliveryId(), "op"));
        await().atMost(WAIT).until(() -> cancel.isDone() || blockedBy(acceptPid) > 0);
        blocker.commit();

        AcceptResult accepted = get(newer);
        DeliveryCancel done = get(cancel).orElseThrow();
        assertThat(state(a)).isEqualTo(JobState.SUPERSEDED);
        assertThat(state(b)).isEqualTo(JobState.SUPERSEDED);
        assertThat(done.jobs()).extracting(DeliveryCancel.JobCancel::cancelled).containsOnly(false);
        assertThat(done.jobs()).extracting(DeliveryCancel.JobCancel::state).containsOnly(JobState.SUPERSEDED);
        // Every job of the delivery either cancelled now or counted as ended: none counted twice or not at all.
        assertThat(done.ended()).isEqualTo(2);
        for (String id : accepted.jobIds()) {
            assertThat(state(id)).isEqualTo(JobState.QUEUED);
        }
    }

    /**
     * The newer build lists the two rules the other way round (a reload reordered them, or a {@code match: each}
     * build names its runs in another order): its delivery supersedes the second job first. With each claim locking
     * its own key's jobs, it held the second job and asked for the first while the cancel held the first and asked
     * for the second: PostgreSQL ended one with "deadlock detected" (the cancel answered 500, or the build event's
     * accept failed). The delivery now locks the keys, then every job it supersedes, in id order, before its claims.
     */
    @Test
    void aNewerBuildSupersedingTheJobsInTheOtherOrderDoesNotDeadlockWithTheCancel() throws Exception {
        AcceptResult older = store.accept(build(1), List.of(keyed("deploy-a", 1), keyed("deploy-b", 1)));
        String a = older.jobIds().get(0);
        String b = older.jobIds().get(1);

        Connection blocker = session();
        lockKey(blocker, "deploy-a");
        Future<AcceptResult> newer = pool.submit(() -> store.accept(build(2), List.of(keyed("deploy-b", 2),
                keyed("deploy-a", 2))));
        int acceptPid = awaitBlockedBy(blocker, newer);
        Future<Optional<DeliveryCancel>> cancel = pool.submit(() -> store.cancelDelivery(older.deliveryId(), "op"));
        await().atMost(WAIT).until(() -> cancel.isDone() || blockedBy(acceptPid) > 0);
        blocker.commit();

        AcceptResult accepted = get(newer);
        DeliveryCancel done = get(cancel).orElseThrow();
        // Whichever went first, each job ended once, as the answer says.
        for (DeliveryCancel.JobCancel job : done.jobs()) {
            assertThat(state(job.id())).isEqualTo(job.state()).isIn(JobState.CANCELLED, JobState.SUPERSEDED);
            assertThat(job.cancelled()).isEqualTo(job.state() == JobState.CANCELLED);
        }
        assertThat(done.jobs().stream().filter(j -> !j.cancelled()).count()).isEqualTo(done.ended());
        assertThat(List.of(state(a), state(b))).doesNotContain(JobState.QUEUED);
        for (String id : accepted.jobIds()) {
            assertThat(state(id)).isEqualTo(JobState.QUEUED);
        }
    }

    /**
     * A node picked one of the delivery's jobs and starts it (a job with a concurrency limit: read, slot taken, then
     * started) while the cancel holds its row: the start waits for the cancel, which flags the job (its execution is
     * picked), and then starts nothing. Before, the start did not look at the flag: the command ran until the node's
     * next cancel check, after the operator was told it would not start.
     */
    @Test
    void aStartWaitingForTheCancelStartsNothing() throws Exception {
        AcceptResult d = store.accept(build(1), List.of(Plans.job("first", List.of("/bin/true")),
                Plans.job("second", List.of("/bin/true"))));
        String first = d.jobIds().get(0);
        String second = d.jobIds().get(1);
        long version = pick(first);

        Connection blocker = session();
        lockJob(blocker, second);
        Future<Optional<DeliveryCancel>> cancel = pool.submit(() -> store.cancelDelivery(d.deliveryId(), "op"));
        int cancelPid = awaitBlockedBy(blocker, cancel);
        Future<Integer> start = pool.submit(() -> store.ledger().startAttempt(first, "node-b", version));
        await().atMost(WAIT).until(() -> start.isDone() || blockedBy(cancelPid) > 0);
        blocker.commit();

        DeliveryCancel done = get(cancel).orElseThrow();
        assertThat(done.jobs()).extracting(DeliveryCancel.JobCancel::cancelled).containsExactly(true, true);
        assertThat(get(start)).isEqualTo(ExecutionLedger.CANCEL_ASKED);
        assertThat(store.job(first).orElseThrow().attempts()).isEmpty();
        assertThat(state(second)).isEqualTo(JobState.CANCELLED);
    }

    /**
     * As above, the start asked after the cancel committed (the node read the job before it): nothing starts, neither
     * by the start of a job with a slot or units ({@code startAttempt}) nor by the read that starts one without
     * ({@code jobToStart}).
     */
    @Test
    void aStartOfAJobReadBeforeItsDeliverysCancelStartsNothing() throws Exception {
        AcceptResult d = store.accept(build(1), List.of(Plans.job("one", List.of("/bin/true")),
                Plans.job("two", List.of("/bin/true"))));
        String one = d.jobIds().get(0);
        String two = d.jobIds().get(1);
        long version = pick(one);
        long versionTwo = pick(two);
        assertThat(store.ledger().jobToRun(one).orElseThrow().job().cancelRequested()).isFalse();

        DeliveryCancel done = store.cancelDelivery(d.deliveryId(), "op").orElseThrow();
        assertThat(done.jobs()).hasSize(2).allSatisfy(j -> {
            assertThat(j.cancelled()).isTrue();
            assertThat(j.state()).isEqualTo(JobState.QUEUED); // picked: its node ends it
        });

        assertThat(store.ledger().startAttempt(one, "node-b", version)).isEqualTo(ExecutionLedger.CANCEL_ASKED);
        assertThat(store.job(one).orElseThrow().attempts()).isEmpty();
        assertThat(store.ledger().jobToStart(two, "node-b", versionTwo).orElseThrow().started()).isZero();
        assertThat(store.job(two).orElseThrow().attempts()).isEmpty();
    }

    /**
     * An approval of the delivery's job waits for the cancel holding its row, then finds it cancelled and approves
     * nothing (false); and the other way round, a cancel waiting for the approval finds the job queued and cancels
     * it: either way the job does not run.
     */
    @Test
    void anApprovalAndTheCancelOfItsDeliveryGoOneAfterTheOther() throws Exception {
        JobWorkflow gated = new JobWorkflow(1L, "k", false, Duration.ofHours(1), Map.of(), Map.of(), null, null, 0);
        AcceptResult d = store.accept(build(1), List.of(Plans.job("held", List.of("/bin/true")).withWorkflow(gated),
                Plans.job("other", List.of("/bin/true"))));
        String held = d.jobIds().get(0);
        String other = d.jobIds().get(1);

        // The cancel first: the approval waits for it.
        Connection blocker = session();
        lockJob(blocker, other);
        Future<Optional<DeliveryCancel>> cancel = pool.submit(() -> store.cancelDelivery(d.deliveryId(), "op"));
        int cancelPid = awaitBlockedBy(blocker, cancel);
        Future<Boolean> approval = pool.submit(() -> store.approve(held, "alice"));
        await().atMost(WAIT).until(() -> approval.isDone() || blockedBy(cancelPid) > 0);
        blocker.commit();
        assertThat(get(cancel).orElseThrow().jobs()).extracting(DeliveryCancel.JobCancel::cancelled)
                .containsExactly(true, true);
        assertThat(get(approval)).isFalse();
        assertThat(state(held)).isEqualTo(JobState.CANCELLED);

        // The approval first: the cancel waits for it, then cancels the job it queued.
        AcceptResult d2 = store.accept(build(2), List.of(Plans.job("held", List.of("/bin/true"))
                .withWorkflow(gated.withBuildId(2L))));
        String held2 = d2.jobIds().get(0);
        Connection second = session();
        lockJob(second, held2);
        Future<Boolean> approval2 = pool.submit(() -> store.approve(held2, "alice"));
        int approvalPid = awaitBlockedBy(second, approval2);
        Future<Optional<DeliveryCancel>> cancel2 = pool.submit(() -> store.cancelDelivery(d2.deliveryId(), "op"));
        await().atMost(WAIT).until(() -> cancel2.isDone() || blockedBy(approvalPid) > 0 || blockedBy(pid(second)) > 1);
        second.commit();
        assertThat(get(approval2)).isTrue();
        DeliveryCancel done = get(cancel2).orElseThrow();
        assertThat(done.jobs()).singleElement().satisfies(j -> {
            assertThat(j.cancelled()).isTrue();
            assertThat(j.state()).isEqualTo(JobState.CANCELLED);
        });
        assertThat(queued(held2)).isFalse();
    }

    /**
     * A node starting the {@code on-approval-request} of the delivery's job awaiting an approval waits for the cancel
     * holding that job's row, then finds it cancelled and starts none: nothing is asked of an approver for a job
     * already cancelled.
     */
    @Test
    void anApprovalRequestStartedWhileTheCancelHoldsItsJobIsNotStarted() throws Exception {
        JobWorkflow gated = new JobWorkflow(null, null, false, Duration.ofHours(1), Map.of(), Map.of(),
                "{\"on-approval-request\": {}}", null, 0);
        AcceptResult d = store.accept(build(1), List.of(Plans.job("held", List.of("/bin/true")).withWorkflow(gated),
                Plans.job("other", List.of("/bin/true"))));
        String held = d.jobIds().get(0);
        String other = d.jobIds().get(1);
        org.buildhook.runner.store.Job parent = store.ledger().job(held).orElseThrow();
        PlannedJob request = Plans.job("held/on-approval-request", List.of("/bin/true"))
                .withWorkflow(new JobWorkflow(null, null, false, null, Map.of(), Map.of(), null, held, 1));

        Connection blocker = session();
        lockJob(blocker, other);
        Future<Optional<DeliveryCancel>> cancel = pool.submit(() -> store.cancelDelivery(d.deliveryId(), "op"));
        int cancelPid = awaitBlockedBy(blocker, cancel);
        Future<Optional<String>> started = pool.submit(() -> store.followUps().startApprovalRequest(parent, request));
        await().atMost(WAIT).until(() -> started.isDone() || blockedBy(cancelPid) > 0);
        blocker.commit();

        assertThat(get(cancel).orElseThrow().jobs()).extracting(DeliveryCancel.JobCancel::cancelled)
                .containsExactly(true, true);
        assertThat(get(started)).isEmpty();
        assertThat(state(held)).isEqualTo(JobState.CANCELLED);
        assertThat(jobsOf(d.deliveryId())).isEqualTo(2);
    }

    /**
     * An operator's cancel of one of the delivery's jobs at the same moment: the one waits for the other; the job is
     * cancelled once, and the delivery's cancel says so of it only when it was the one that cancelled it.
     */
    @Test
    void aCancelOfOneJobAndTheCancelOfItsDeliveryGoOneAfterTheOther() throws Exception {
        AcceptResult d = store.accept(build(1), List.of(Plans.job("first", List.of("/bin/true")),
                Plans.job("second", List.of("/bin/true"))));
        String first = d.jobIds().get(0);
        String second = d.jobIds().get(1);

        Connection blocker = session();
        lockJob(blocker, second);
        Future<Optional<DeliveryCancel>> cancel = pool.submit(() -> store.cancelDelivery(d.deliveryId(), "op"));
        int cancelPid = awaitBlockedBy(blocker, cancel);
        Future<Boolean> one = pool.submit(() -> store.cancel(first));
        await().atMost(WAIT).until(() -> one.isDone() || blockedBy(cancelPid) > 0);
        blocker.commit();

        DeliveryCancel done = get(cancel).orElseThrow();
        assertThat(get(one)).isFalse(); // it found the job cancelled by the delivery's cancel
        assertThat(done.jobs()).extracting(DeliveryCancel.JobCancel::cancelled).containsExactly(true, true);
        assertThat(state(first)).isEqualTo(JobState.CANCELLED);
        assertThat(state(second)).isEqualTo(JobState.CANCELLED);
        // One audit entry: the delivery's cancel's (the cancel of one job alone is recorded by its caller).
        assertThat(store.actions(new ActionQuery(first, null, null, 50)).items()).singleElement()
                .satisfies(a -> assertThat(a.action()).isEqualTo("cancel"));
    }

    private Connection session() throws SQLException {
        Connection c = DriverManager.getConnection(url);
        sessions.add(c);
        c.setAutoCommit(false);
        return c;
    }

    private static void lockJob(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
            p.setString(1, jobId);
            try (ResultSet r = p.executeQuery()) {
                assertThat(r.next()).isTrue();
            }
        }
    }

    private static void lockKey(Connection c, String rule) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT build_id FROM supersede_keys WHERE rule_name = ?"
                + " AND supersede_key = 'k' FOR UPDATE")) {
            p.setString(1, rule);
            try (ResultSet r = p.executeQuery()) {
                assertThat(r.next()).isTrue();
            }
        }
    }

    private static void lockEntry(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM scheduled_tasks WHERE task_instance = ?"
                + " FOR UPDATE")) {
            p.setString(1, jobId);
            try (ResultSet r = p.executeQuery()) {
                assertThat(r.next()).isTrue();
            }
        }
    }

    /** Picks the job's execution as node-b's db-scheduler does; returns its version. */
    private long pick(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = true, picked_by = 'node-b', version = version + 1,"
                        + " last_heartbeat = now() WHERE task_instance = ? RETURNING version")) {
            p.setString(1, jobId);
            try (ResultSet r = p.executeQuery()) {
                assertThat(r.next()).isTrue();
                return r.getLong(1);
            }
        }
    }

    private boolean queued(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT 1 FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (ResultSet r = p.executeQuery()) {
                return r.next();
            }
        }
    }

    private int jobsOf(String deliveryId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT count(*) FROM jobs WHERE delivery_id = ?")) {
            p.setString(1, deliveryId);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    private JobState state(String jobId) {
        return store.job(jobId).orElseThrow().job().state();
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
            r.next();
            return r.getInt(1);
        }
    }

    /**
     * Waits until a session waits for a lock {@code blocker} holds (the store's transaction run by {@code work}), and
     * returns its pid; fails if {@code work} ends first (it did not wait where the test holds it).
     */
    private int awaitBlockedBy(Connection blocker, Future<?> work) throws Exception {
        int holder = pid(blocker);
        int[] found = {0};
        await().atMost(WAIT).until(() -> work.isDone() || (found[0] = firstBlockedBy(holder)) != 0);
        assertThat(work.isDone()).as("the transaction did not wait for the lock the test holds").isFalse();
        return found[0];
    }

    private int firstBlockedBy(int holder) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); PreparedStatement p = c.prepareStatement(
                "SELECT pid FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid)) ORDER BY pid")) {
            p.setInt(1, holder);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }

    /** How many sessions wait for a lock session {@code holder} holds. */
    private int blockedBy(int holder) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); PreparedStatement p = c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))")) {
            p.setInt(1, holder);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    /** The future's value; its failure (a deadlock PostgreSQL broke) as the test's, with its cause. */
    private static <T> T get(Future<T> f) throws Exception {
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("failed: " + e.getCause(), e.getCause());
        }
    }
}
