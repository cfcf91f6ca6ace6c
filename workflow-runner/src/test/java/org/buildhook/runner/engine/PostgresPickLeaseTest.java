package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.kagkarlsson.scheduler.task.CompletionHandler;
import com.github.kagkarlsson.scheduler.task.Execution;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

class PostgresPickLeaseTest extends AbstractPickLeaseTest {

    /**
     * chaos33 F2 (seed 33005): node-a records attempt 1's start (which renews its execution's heartbeat) and is held, as
     * a SIGSTOP held it, before its command's process is created; its execution's heartbeat grows older than the
     * dead-node limit, node-b takes the job over as db-scheduler does then and runs it to its end. node-a, going on,
     * must not create attempt 1's command: its gate finds the lease it would run under older than half the limit on
     * the monotonic clock. Before the fix the gate asked only about a takeover of the node's id and a stop, and the
     * command ran after the job had ended SUCCEEDED (beside node-b's, had that one still run).
     */
    @Test
    void aNodeHeldBetweenItsAttemptsStartAndItsProcessCreationNeverCreatesItOnceAnotherNodeCouldHaveTakenTheJob()
            throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo \"$BUILDHOOK_ATTEMPT\" >> " + ran);
        EngineConfig fast = AbstractEngineTest.fast(NODE);
        Duration limit = fast.heartbeatInterval().multipliedBy(fast.missedHeartbeats());
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        try (CommonsExecLauncher realA = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-a")));
                CommonsExecLauncher realB = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-b")))) {
            // The injected pause: node-a's job thread held after the start's record, before the launcher and its gate.
            JobTask nodeA = nodeTask(new HeldLauncher(realA, holdUntil(held, go), started -> { }), NODE, running);
            Execution picked = pick(jobId, Instant.now());
            Future<CompletionHandler<Void>> first = threads.submit(() -> nodeA.execute(picked.taskInstance,
                    context(picked)));
            assertThat(held.await(60, TimeUnit.SECONDS)).as("node-a reached its launch").isTrue();
            assertThat(store.job(jobId).orElseThrow().attempts()).extracting(JobAttempt::node).containsExactly(NODE);

            // node-a's execution is dead by db-scheduler's rule (its heartbeat older than the limit): node-b takes it.
            await().atMost(Duration.ofSeconds(60)).until(() -> heartbeatOlderThan(jobId, limit));
            Execution taken = pick(jobId, Instant.now(), "node-b");
            JobTask nodeB = nodeTask(realB, "node-b", new RunningJobs());
            complete(nodeB.execute(taken.taskInstance, context(taken)));
            assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(Files.readAllLines(ran)).as("node-b's run").hasSize(1);

            go.countDown();
            complete(first.get(60, TimeUnit.SECONDS));
        }
        assertThat(Files.readAllLines(ran)).as("runs of the job's command: node-a's attempt 1 must not have run after"
                + " node-b took the job over").hasSize(1);
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.job().state()).isEqualTo(JobState.SUCCEEDED);
        JobAttempt firstAttempt = job.attempts().get(0);
        assertThat(firstAttempt.node()).isEqualTo(NODE);
        assertThat(job.attempts().get(1).node()).isEqualTo("node-b");
        assertThat(job.attempts().get(1).outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
        assertThat(firstAttempt.outcome()).isNotEqualTo(AttemptOutcome.SUCCEEDED);
    }

    /**
     * The look of chaos33 F2 counts db-scheduler's own heartbeats: node-a held between its attempt's start record and
     * the creation for twice the dead-node limit while its execution's heartbeat is renewed meanwhile (as db-scheduler's
     * heartbeat thread does for a picked execution), so no other node could take the job; going on, it runs the
     * command, once. (30a2fc28 refused such a start from the time since the start record alone, and was reverted.)
     */
    @Test
    void aNodeHeldLongWhileItsHeartbeatsGoOnStillRunsTheCommandOnce() throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo \"$BUILDHOOK_ATTEMPT\" >> " + ran);
        EngineConfig fast = AbstractEngineTest.fast(NODE);
        Duration limit = fast.deadNodeLimit();
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        try (CommonsExecLauncher real = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-a")))) {
            JobTask nodeA = nodeTask(new HeldLauncher(real, holdUntil(held, go), started -> { }), NODE, running);
            Execution picked = pick(jobId, Instant.now());
            Future<CompletionHandler<Void>> first = threads.submit(() -> nodeA.execute(picked.taskInstance,
                    context(picked)));
            assertThat(held.await(60, TimeUnit.SECONDS)).as("node-a reached its launch").isTrue();
            long heldSince = System.nanoTime();
            // db-scheduler's heartbeats go on while the job's thread is held: each poll renews the row, as they do.
            await().atMost(Duration.ofMinutes(1)).pollInterval(limit.dividedBy(8)).until(() -> {
                beat(jobId);
                return System.nanoTime() - heldSince > 2 * limit.toNanos();
            });
            beat(jobId);
            go.countDown();
            complete(first.get(60, TimeUnit.SECONDS));
        }
        assertThat(Files.readAllLines(ran)).as("the command's runs").containsExactly(jobId + "/1");
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(job.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
    }

    /**
     * chaos33 F2's second window: node-a is held inside its gate, after the gate's look found the lease its own and
     * before the exec; node-b takes the job over once its heartbeat is older than the limit and runs it to its end.
     * node-a, going on, creates the command (nothing can stop an exec already decided), then looks again, finds the
     * lease gone, and kills the command at once. Before the second look the command (attempt 1 sleeps) ran on after
     * the job had ended, until self-fencing's next check.
     */
    @Test
    void aCommandCreatedAfterAnotherNodeTookTheJobIsKilledAsItIsCreated() throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("case \"$BUILDHOOK_ATTEMPT\" in */1) exec sleep 600;; esac; echo"
                + " \"${BUILDHOOK_ATTEMPT##*/}\" >> " + ran);
        EngineConfig fast = AbstractEngineTest.fast(NODE);
        Duration limit = fast.deadNodeLimit();
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        try (CommonsExecLauncher realA = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-a")));
                CommonsExecLauncher realB = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-b")))) {
            JobTask nodeA = nodeTask(HeldLauncher.inCreation(realA, holdUntil(held, go)), NODE, running);
            Execution picked = pick(jobId, Instant.now());
            Future<CompletionHandler<Void>> first = threads.submit(() -> nodeA.execute(picked.taskInstance,
                    context(picked)));
            assertThat(held.await(60, TimeUnit.SECONDS)).as("node-a reached its exec").isTrue();

            await().atMost(Duration.ofSeconds(60)).until(() -> heartbeatOlderThan(jobId, limit));
            Execution taken = pick(jobId, Instant.now(), "node-b");
            JobTask nodeB = nodeTask(realB, "node-b", new RunningJobs());
            complete(nodeB.execute(taken.taskInstance, context(taken)));
            assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);

            go.countDown();
            try {
                complete(first.get(60, TimeUnit.SECONDS));
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("node-a's attempt 1, created after node-b took the job, still runs", e);
            }
        } finally {
            running.runningJobIds().forEach(id -> running.fence(id, "the test's end"));
        }
        assertThat(Files.readAllLines(ran)).as("node-b's run").containsExactly("2");
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.job().state()).isEqualTo(JobState.SUCCEEDED);
        JobAttempt attempt1 = job.attempts().get(0);
        assertThat(attempt1.node()).isEqualTo(NODE);
        assertThat(attempt1.outcome()).isNotEqualTo(AttemptOutcome.SUCCEEDED);
        assertThat(attempt1.message()).contains("killed by its own node as it was created: node node-a went on");
        assertThat(job.attempts().get(1).outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
    }

    /**
     * A command created late while its heartbeat went on (held inside the gate, after its look, past a quarter of the
     * limit while the row is renewed as db-scheduler does): the look after the exec asks the store with the command held
     * stopped, finds the job still this node's, and lets it go on: it runs to its end, once.
     */
    @Test
    void aCommandCreatedLateWhileItsHeartbeatsWentOnIsLetGoOnAndRunsOnce() throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo \"$BUILDHOOK_ATTEMPT\" >> " + ran);
        Duration limit = AbstractEngineTest.fast(NODE).deadNodeLimit();
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        try (CommonsExecLauncher real = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-a")))) {
            JobTask nodeA = nodeTask(HeldLauncher.inCreation(real, holdUntil(held, go)), NODE, running);
            Execution picked = pick(jobId, Instant.now());
            Future<CompletionHandler<Void>> first = threads.submit(() -> nodeA.execute(picked.taskInstance,
                    context(picked)));
            assertThat(held.await(60, TimeUnit.SECONDS)).as("node-a reached its exec").isTrue();
            long heldSince = System.nanoTime();
            await().atMost(Duration.ofMinutes(1)).pollInterval(limit.dividedBy(8)).until(() -> {
                beat(jobId);
                return System.nanoTime() - heldSince > limit.toNanos();
            });
            beat(jobId);
            go.countDown();
            complete(first.get(60, TimeUnit.SECONDS));
        }
        assertThat(Files.readAllLines(ran)).as("the command's runs").containsExactly(jobId + "/1");
        assertThat(store.job(jobId).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                .containsExactly(AttemptOutcome.SUCCEEDED);
    }

    /** Renews the job's execution's heartbeat now, as db-scheduler's heartbeat thread does while it is picked. */
    private void beat(String jobId) throws SQLException {
        try (Connection c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "UPDATE scheduled_tasks SET last_heartbeat = ? WHERE task_instance = ? AND picked")) {
            p.setObject(1, java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC));
            p.setString(2, jobId);
            assertThat(p.executeUpdate()).as("the execution's row, picked").isEqualTo(1);
        }
    }

    /** Whether the job's execution's heartbeat is older than {@code limit} by this host's clock, as a taker sees it. */
    private boolean heartbeatOlderThan(String jobId, Duration limit) throws SQLException {
        try (Connection c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "SELECT last_heartbeat FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (var rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                java.sql.Timestamp beat = rs.getTimestamp(1);
                return beat != null && beat.toInstant().plus(limit).isBefore(Instant.now());
            }
        }
    }

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    /**
     * Every writer of a job's row and of its execution's row takes the job's first. The start of a
     * first attempt under its pick (one statement) took the execution's first: waiting for a job's
     * row another transaction held (a thread of another node whose pick was lost, taking shared
     * units or starting the transaction way), it held the execution's row meanwhile, which that other
     * transaction then waited for: a deadlock, broken by PostgreSQL after {@code deadlock_timeout}
     * with an error on one side (found by review). Here another session holds the job's row; the
     * start waits for it and must hold no lock on the execution meanwhile.
     */
    @Test
    void aFirstAttemptWaitingForTheJobsRowHoldsNoLockOnItsExecution() throws Exception {
        String jobId = accept("true");
        Execution picked = pick(jobId, Instant.now());

        int attempt = whileAnotherSessionHolds(c -> lockJob(c, jobId), jobId,
                () -> store.ledger().startAttempt(jobId, NODE, picked.version));

        assertThat(attempt).isEqualTo(1);
    }

    /**
     * As {@link #aFirstAttemptWaitingForTheJobsRowHoldsNoLockOnItsExecution}, for the read that starts
     * a job's first attempt in the same statement (ExecutionLedger.jobToStart).
     */
    @Test
    void aReadAndStartWaitingForTheJobsRowHoldsNoLockOnItsExecution() throws Exception {
        String jobId = accept("true");
        Execution picked = pick(jobId, Instant.now());

        ExecutionLedger.JobToRun read = whileAnotherSessionHolds(c -> lockJob(c, jobId), jobId,
                () -> store.ledger().jobToStart(jobId, NODE, picked.version).orElseThrow());

        assertThat(read.started()).isEqualTo(1);
    }

    /**
     * A cancellation committed while the job thread's read-and-start waits for the job's row (a
     * supersede, an operator's cancel): the statement starts nothing, and returns the job as it was
     * before its wait, without the cancellation; the thread reads it again and does not run the
     * command (found by review: it went on to the start's transaction, which ran it until the next
     * cancel check killed it).
     */
    @Test
    void aCancellationCommittedWhileTheReadAndStartWaitsStopsTheCommand() throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo ran >> " + ran);
        Execution picked = pick(jobId, Instant.now());
        try (Connection holder = store.schedulerDataSource().getConnection()) {
            holder.setAutoCommit(false);
            int holderPid = backendPid(holder);
            try (var p = holder.prepareStatement("UPDATE jobs SET cancel_requested = 1 WHERE id = ?")) {
                p.setString(1, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            Future<com.github.kagkarlsson.scheduler.task.CompletionHandler<Void>> running =
                    threads.submit(() -> task.execute(picked.taskInstance, context(picked)));
            await().atMost(Duration.ofSeconds(60)).until(() -> waitersOf(holderPid) > 0 || running.isDone());
            assertThat(running.isDone()).as("the read-and-start waits for the job's row").isFalse();
            holder.commit();
            complete(running.get(60, TimeUnit.SECONDS));
        }

        assertThat(ran).as("the command of a job cancelled before it started").doesNotExist();
        assertThat(store.job(jobId).orElseThrow().attempts()).isEmpty();
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(org.buildhook.runner.store.JobState.CANCELLED);
    }

    /**
     * review23 R2: the node's stop begins while the job thread's read-and-start waits for the job's row (its look at
     * whether the node stops came before): the attempt, started in the store when the wait ends, must not run its
     * command. It did: the command ran into the stop's grace, was cut short there and counted as a stop in a row
     * (runner.stops-in-a-row), though no job is to start during a stop.
     */
    @Test
    void aStopBegunWhileTheReadAndStartWaitsStartsNoCommand() throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo ran >> " + ran);
        Execution picked = pick(jobId, Instant.now());
        Future<?> stop;
        try (Connection holder = store.schedulerDataSource().getConnection()) {
            holder.setAutoCommit(false);
            int holderPid = backendPid(holder);
            lockJob(holder, jobId);
            Future<com.github.kagkarlsson.scheduler.task.CompletionHandler<Void>> thread =
                    threads.submit(() -> task.execute(picked.taskInstance, context(picked)));
            await().atMost(Duration.ofSeconds(60)).until(() -> waitersOf(holderPid) > 0 || thread.isDone());
            assertThat(thread.isDone()).as("the read-and-start waits for the job's row").isFalse();
            stop = threads.submit(() -> {
                running.stop(Duration.ofMinutes(5), "stopped by the test");
                return null;
            });
            await().atMost(Duration.ofSeconds(60)).until(running::isStopping);
            holder.rollback();
            // Put back in its place (its due time kept), as for a job the stop did not start.
            com.github.kagkarlsson.scheduler.task.ExecutionComplete done = org.mockito.Mockito.mock(
                    com.github.kagkarlsson.scheduler.task.ExecutionComplete.class);
            org.mockito.Mockito.when(done.getExecution()).thenReturn(picked);
            thread.get(60, TimeUnit.SECONDS).complete(done, org.mockito.Mockito.mock(
                    com.github.kagkarlsson.scheduler.task.ExecutionOperations.class));
        }
        stop.get(60, TimeUnit.SECONDS);

        assertThat(ran).as("a command started during the stop").doesNotExist();
        assertThat(store.job(jobId).orElseThrow().attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.INTERRUPTED);
            assertThat(a.message()).isEqualTo("not started: node " + NODE + " was stopping; back in the queue, its"
                    + " retries untouched");
        });
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(org.buildhook.runner.store.JobState.QUEUED);
    }

    /** As {@link #aFirstAttemptWaitingForTheJobsRowHoldsNoLockOnItsExecution}, for taking shared units. */
    @Test
    void takingSharedUnitsWaitingForTheJobsRowHoldsNoLockOnItsExecution() throws Exception {
        String jobId = sharing();
        Job job = store.ledger().jobToRun(jobId).orElseThrow().job();
        Execution picked = pick(jobId, Instant.now());

        ExecutionLedger.Take taken = whileAnotherSessionHolds(c -> lockJob(c, jobId), jobId,
                () -> store.resources().tryAcquire(job, NODE, picked.version));

        assertThat(taken).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * Taking shared units waits for the resources' locks, which another node's taking may hold. It
     * checked the pick first, which locked the execution's row for the whole wait, so db-scheduler's
     * heartbeat of it (the node writes them one after another) waited too, and a node whose heartbeats
     * stop kills its own jobs (fencing): seen as PostgresResourceTest's jobs killed and run again. The
     * pick is checked last now.
     */
    @Test
    void takingSharedUnitsWaitingForAResourcesLockHoldsNoLockOnItsExecution() throws Exception {
        String jobId = sharing();
        Job job = store.ledger().jobToRun(jobId).orElseThrow().job();
        Execution picked = pick(jobId, Instant.now());
        // Another job's taking makes the resource's lock row (its unit is freed again by the next
        // taking: that job's execution is not picked).
        store.resources().tryAcquire(store.ledger().jobToRun(sharing()).orElseThrow().job(), "node-b", -1);

        ExecutionLedger.Take taken = whileAnotherSessionHolds(c -> {
            try (var p = c.prepareStatement("SELECT resource FROM resource_locks WHERE resource = ? FOR UPDATE")) {
                p.setString(1, "board");
                try (var rs = p.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                }
            }
        }, jobId, () -> store.resources().tryAcquire(job, NODE, picked.version));

        assertThat(taken).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /** As {@link #takingSharedUnitsWaitingForAResourcesLockHoldsNoLockOnItsExecution}, for a rule's slot. */
    @Test
    void takingASlotWaitingForAnotherTakingOfItHoldsNoLockOnItsExecution() throws Exception {
        String jobId = accept("true");
        Execution picked = pick(jobId, Instant.now());

        ExecutionLedger.Take taken = whileAnotherSessionHolds(c -> {
            // Another transaction taking the rule's one slot, not yet committed: the insert of the
            // same slot waits for it.
            try (var p = c.prepareStatement("INSERT INTO rule_slots (rule_name, slot, job_id, node, acquired_at)"
                    + " VALUES (?, 0, ?, ?, 0)")) {
                p.setString(1, "limited");
                p.setString(2, "another-job");
                p.setString(3, "node-b");
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
        }, jobId, () -> store.ledger().tryAcquireSlot("limited", 1, jobId, NODE, picked.version));

        assertThat(taken).as("the other transaction rolled back: the slot is free").isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    private String sharing() {
        PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null,
                false, null, Map.of("board", 1), Map.of("board", 1), null, null, 0));
        return store.accept(Plans.delivery("{\"build_id\": " + System.nanoTime() + "}"), List.of(sharing))
                .jobIds().get(0);
    }

    private static void lockJob(Connection c, String jobId) throws SQLException {
        try (var p = c.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
            p.setString(1, jobId);
            try (var rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @FunctionalInterface
    private interface Hold {
        void lock(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} on another thread while a session of the test holds what {@code hold} locks;
     * once {@code work} waits for that session, checks that the execution's row can be locked by a
     * third session (so {@code work} holds no lock on it), then rolls the session back, lets
     * {@code work} go on and returns its result.
     */
    private <T> T whileAnotherSessionHolds(Hold hold, String jobId, Callable<T> work) throws Exception {
        try (Connection holder = store.schedulerDataSource().getConnection()) {
            holder.setAutoCommit(false);
            int holderPid = backendPid(holder);
            hold.lock(holder);
            Future<T> waiting = threads.submit(work);
            await().atMost(Duration.ofSeconds(60)).until(() -> waitersOf(holderPid) > 0 || waiting.isDone());
            assertThat(waiting.isDone()).as("the work went on while another session held what it needs").isFalse();

            assertThat(executionLockedElsewhere(jobId))
                    .as("the execution's row locked by work waiting for another session").isFalse();

            holder.rollback();
            return waiting.get(60, TimeUnit.SECONDS);
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (var p = c.prepareStatement("SELECT pg_backend_pid()"); var rs = p.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private int waitersOf(int pid) throws SQLException {
        try (Connection c = store.schedulerDataSource().getConnection();
                var p = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))")) {
            p.setInt(1, pid);
            try (var rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Whether another transaction holds the execution's row: {@code FOR UPDATE NOWAIT} fails with 55P03. */
    private boolean executionLockedElsewhere(String jobId) throws SQLException {
        try (Connection c = store.schedulerDataSource().getConnection()) {
            c.setAutoCommit(false);
            try (var p = c.prepareStatement("SELECT 1 FROM scheduled_tasks WHERE task_name = ? AND task_instance = ?"
                    + " FOR UPDATE NOWAIT")) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setString(2, jobId);
                p.executeQuery().close();
                return false;
            } catch (SQLException e) {
                if ("55P03".equals(e.getSQLState())) {
                    return true;
                }
                throw e;
            } finally {
                c.rollback();
            }
        }
    }
}
