package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;

import com.github.kagkarlsson.scheduler.task.CompletionHandler;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.ExecutionContext;
import com.github.kagkarlsson.scheduler.task.ExecutionOperations;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.AttemptStartSeams;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.ResourceLedger;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's pick is the lease its attempt runs under, against a real database and real processes;
 * run on SQLite and PostgreSQL. The race these pin down: a pick statement that waited long for the
 * store carries the heartbeat of when it was asked for, so the node's own stale-pick release can
 * read it as stale between the pick and the start of its attempt, and put it back in the queue;
 * then the node picked it again and ran the job on a second thread while the first still ran it
 * (Kill9ReliabilityIT saw it once in CI). Each step of the race is taken here in a fixed order,
 * with the engine's own {@link JobTask} on threads of the test.
 */
abstract class AbstractPickLeaseTest {

    static final String NODE = "node-a";

    @TempDir
    Path dir;
    Store store;
    private CommonsExecLauncher launcher;
    final RunningJobs running = new RunningJobs();
    final ExecutorService threads = Executors.newCachedThreadPool();
    JobTask task;

    abstract StoreConfig config(Path dir);

    /** The store's configuration, to open it again. */
    StoreConfig config;

    @BeforeEach
    void open() {
        config = config(dir.resolve("data"));
        store = Store.open(config);
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        task = new JobTask(store, launcher, AbstractEngineTest.fast(NODE), running, Clock.systemUTC(), JobEvents.NONE,
                new LeftoverSweep(store.ledger(), NODE), () -> { }, Runnable::run, () -> null);
    }

    @AfterEach
    void close() throws InterruptedException {
        threads.shutdownNow();
        threads.awaitTermination(30, TimeUnit.SECONDS);
        launcher.close();
        store.close();
    }

    @Test
    void aPickReleasedBeforeItsAttemptStartedIsNotRunUnderIt() throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo ran >> " + ran);
        Execution picked = pick(jobId, Instant.now().minusSeconds(5));
        // The release reads the pick as stale before the node's thread starts the attempt.
        assertThat(store.ledger().releaseStalePicks(NODE, Instant.now().minusSeconds(1), Set.of(),
                (job, version) -> true))
                .containsExactly(jobId);

        complete(task.execute(picked.taskInstance, context(picked)));

        assertThat(ran).as("the command run under a pick that was put back in the queue").doesNotExist();
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.attempts()).isEmpty();
        assertThat(job.job().state()).isEqualTo(JobState.QUEUED);
    }

    /**
     * tryout19 F8: a stale pick goes back in its place in the queue, due when it was due, not now: behind
     * the jobs queued after it, it waited for them once more.
     */
    @Test
    void aStalePickPutBackKeepsTheTimeItWasDue() throws Exception {
        String jobId = accept("true");
        String due = executionTime(jobId);
        pick(jobId, Instant.now().minusSeconds(5));

        assertThat(store.ledger().releaseStalePicks(NODE, Instant.now().minusSeconds(1), Set.of(),
                (job, version) -> true)).containsExactly(jobId);

        assertThat(executionTime(jobId)).isEqualTo(due);
    }

    /** The job's execution_time, as the store's driver gives it in text. */
    String executionTime(String jobId) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (var rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getString(1);
            }
        }
    }

    @Test
    void aPickWhoseAttemptStartedIsNotReleasedAsStale() throws Exception {
        Path started = dir.resolve("started");
        Path go = dir.resolve("go");
        String jobId = accept("echo $$ >> " + started + "\nwhile [ ! -f " + go + " ]; do [ -d " + go.getParent()
                + " ] || exit 1; sleep 0.05; done");
        Execution picked = pick(jobId, Instant.now().minusSeconds(5));
        Future<CompletionHandler<Void>> first = threads.submit(() -> task.execute(picked.taskInstance, context(picked)));
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(started));

        // The release's list of the node's executions was taken before this one began: empty.
        List<String> released = store.ledger().releaseStalePicks(NODE, Instant.now().minusSeconds(1), Set.of(),
                (job, version) -> true);

        Files.createFile(go);
        complete(first.get(60, TimeUnit.SECONDS));
        assertThat(released).as("executions put back in the queue while their attempt ran").isEmpty();
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(job.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
    }

    /**
     * tryout23 F4: a pick of this node id under which an attempt started and is still marked running, though this JVM
     * does not run it, is an earlier run's of this node id (a container killed and started again), not a pick whose
     * answer was lost: it was released as "picked by this node but never started" while whether its processes had
     * ended was unknown here. It is left to the sweeps (which end what they can prove over) and to the dead-node limit.
     */
    @Test
    void aPickUnderWhichAnEarlierRunStartedAnAttemptIsNotReleasedAsStale() throws Exception {
        String jobId = accept("true");
        assertThat(store.ledger().startAttempt(jobId, NODE)).isEqualTo(1);
        pick(jobId, Instant.now().minusSeconds(5));

        assertThat(store.ledger().releaseStalePicks(NODE, Instant.now().minusSeconds(1), Set.of(),
                (job, version) -> true)).isEmpty();
    }

    @Test
    void oneNodeHandlesOneJobOnOneThreadAtATime() throws Exception {
        Path started = dir.resolve("started");
        Path go = dir.resolve("go");
        String jobId = accept("echo $$ >> " + started + "\nwhile [ ! -f " + go + " ]; do [ -d " + go.getParent()
                + " ] || exit 1; sleep 0.05; done");
        // Picked by this node, as db-scheduler hands a job over, and run with a dead-node limit of 10 s: a thread that
        // reaches the exec more than a quarter of the limit after its last hold asks the store whether the job is
        // still its own (CreationLease), and a job never picked, or the fast config's 800 ms, made that look fail on
        // a loaded machine (the command never started: chaos35, flakes35).
        JobTask steadyTask = new JobTask(store, launcher, AbstractEngineTest.steady(NODE), running, Clock.systemUTC(),
                JobEvents.NONE, new LeftoverSweep(store.ledger(), NODE), () -> { }, Runnable::run, () -> null);
        Execution picked = pick(jobId, Instant.now());
        TaskInstance<Void> instance = picked.taskInstance;
        Future<CompletionHandler<Void>> first = threads.submit(() -> steadyTask.execute(instance, context(picked)));
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(started));

        // The same job handed to a second thread of the node (as after a pick released under the first).
        AtomicReference<Thread> second = new AtomicReference<>();
        Future<CompletionHandler<Void>> again = threads.submit(() -> {
            second.set(Thread.currentThread());
            return steadyTask.execute(instance, context(picked));
        });
        await().atMost(Duration.ofMinutes(2))
                .until(() -> Files.readAllLines(started).size() > 1 || waitsToEnter(second.get()));
        assertThat(Files.readAllLines(started)).as("runs of the job while its first run ran").hasSize(1);

        Files.createFile(go);
        complete(first.get(60, TimeUnit.SECONDS));
        complete(again.get(60, TimeUnit.SECONDS));
        assertThat(Files.readAllLines(started)).hasSize(1);
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(job.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
    }

    /**
     * A thread whose pick was put back in the queue ends without running the command, and gives back
     * the job's shared units as it goes: only its own. Before, it gave back every unit of the job,
     * also those of the node that had taken the job over, which then ran it without them.
     */
    @Test
    void aThreadWhosePickWasLostGivesBackOnlyItsOwnUnitsNotThoseOfTheNodeThatTookTheJobOver() throws Exception {
        PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null,
                false, null, Map.of("board", 1), Map.of("board", 1), null, null, 0));
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(sharing)).jobIds().get(0);
        Job job = store.ledger().jobToRun(jobId).orElseThrow().job();
        pick(jobId, Instant.now());
        assertThat(store.resources().tryAcquire(job, NODE, -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        // Its pick is put back in the queue; node-b picks the job and takes the unit.
        assertThat(store.resources().tryAcquire(job, "node-b", takeOver(jobId))).isEqualTo(ExecutionLedger.Take.TAKEN);

        SharedResources.release(store, jobId, NODE);

        assertThat(store.resources().unitsInUse()).as("node-b's unit").containsEntry("board", 1);
    }

    /**
     * A thread whose pick was put back in the queue, and taken by another node, must not take the
     * rule's concurrency slot from that node on its way to finding its pick lost: before, it freed
     * every slot of the job (node-b's too), took one, then found the pick lost and gave its own
     * back, so node-b ran the job holding no slot and a second job of the rule could run beside it.
     */
    @Test
    void aThreadWhosePickWasLostTakesNoSlotFromTheNodeThatTookTheJobOver() throws Exception {
        Path ran = dir.resolve("ran");
        Path script = Files.writeString(dir.resolve("job.sh"), "#!/bin/sh\necho ran >> " + ran + "\n");
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("limited",
                List.of("/bin/sh", script.toString()), Map.of(), 0, Duration.ofMillis(100), 1))).jobIds().get(0);
        Execution picked = pick(jobId, Instant.now());
        long taken = takeOver(jobId);
        assertThat(store.ledger().tryAcquireSlot("limited", 1, jobId, "node-b", taken))
                .isEqualTo(ExecutionLedger.Take.TAKEN);

        complete(task.execute(picked.taskInstance, context(picked)));

        assertThat(ran).as("the command run under a pick that was put back in the queue").doesNotExist();
        assertThat(holders("rule_slots", jobId)).as("the nodes holding the job's slot").containsExactly("node-b");
        assertThat(store.ledger().tryAcquireSlot("limited", 1, "another-job", "node-b", -1))
                .as("another job of the rule while the job runs on node-b").isEqualTo(ExecutionLedger.Take.NOT_FREE);
    }

    /**
     * slot28 (fence28's M): a job of a {@code concurrency: 1} rule whose node went silent past the dead-node limit
     * (paused, or cut off from the store) while its command ran is revived by another node, its attempt still marked
     * running. It keeps its slot until that node picks it: a younger job of the rule picked first does not take it
     * (before, any job's look freed the slot of an execution no longer picked, and the younger job's command ran,
     * with the watchdog off beside the silent node's own); picked, it starts again in it, then the younger job runs.
     * Each step in a fixed order, with the engine's own {@link JobTask} and real commands.
     */
    @Test
    void aJobRevivedFromASilentNodeKeepsItsRulesSlotUntilItIsPickedAgain() throws Exception {
        Path ran = dir.resolve("ran");
        Path script = Files.writeString(dir.resolve("deploy.sh"), "#!/bin/sh\necho \"$1\" >> " + ran + "\n");
        List<String> ids = new ArrayList<>();
        for (int build = 1; build <= 2; build++) {
            ids.add(store.accept(Plans.delivery("{\"build_id\": " + build + "}"), List.of(Plans.job("deploy",
                    List.of("/bin/sh", script.toString(), "deploy-" + build), Map.of(), 0, Duration.ofMillis(100), 1)))
                    .jobIds().get(0));
        }
        String older = ids.get(0);
        String younger = ids.get(1);
        Execution silent = pick(older, Instant.now(), "node-silent");
        assertThat(store.ledger().tryAcquireSlot("deploy", 1, older, "node-silent", silent.version))
                .isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(older, "node-silent", silent.version)).isEqualTo(1);
        revive(older);

        Execution first = pick(younger, Instant.now());
        complete(task.execute(first.taskInstance, context(first)));

        assertThat(ran).as("the younger job's command, run while the revived job waited to be picked").doesNotExist();
        assertThat(holders("rule_slots", older)).as("the revived job's slot").containsExactly("node-silent");
        Execution revived = pick(older, Instant.now());
        complete(task.execute(revived.taskInstance, context(revived)));
        assertThat(Files.readAllLines(ran)).containsExactly("deploy-1");
        assertThat(store.job(older).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
        Execution second = pick(younger, Instant.now());
        complete(task.execute(second.taskInstance, context(second)));
        assertThat(Files.readAllLines(ran)).containsExactly("deploy-1", "deploy-2");
    }

    /**
     * review29 R4: attempt 1 of a job was recorded cut short by another node (its node was stopped while the store
     * could not be reached, and had noted that its command exited 0), and the job waits to run again. This node's pick
     * looks and finds nothing to conclude from; then the stopped node starts again and records the exit (outage28),
     * before this pick starts attempt 2. The start finds that record under the job's row and the job ends from it,
     * its command not run again. Before, attempt 2 ran, and attempt 1 kept {@code INTERRUPTED}, the record unseen.
     * The stopped node's start is run by the seam at the start of the attempt, on the job's thread.
     */
    @Test
    void anExitRecordedBetweenThePicksLookAndItsStartEndsTheJobWithoutRunningItAgain() throws Exception {
        anExitRecordedBetweenThePicksLookAndItsStartEndsTheJob(true);
    }

    /**
     * As {@link #anExitRecordedBetweenThePicksLookAndItsStartEndsTheJobWithoutRunningItAgain}, before anyone recorded
     * attempt 1 cut short: it is still recorded running, on another host (so this node's sweep leaves it alone), its
     * job RUNNING, picked by this node after its node was taken for dead. The stopped node's start records the exit into
     * the running attempt (recordKnownOutcome takes a running attempt of that node too) after this pick looked and
     * before its start, as between that start's record and its own sweep of the attempt. Before (recheck29), the start
     * looked only for an {@code INTERRUPTED} attempt with its outcome: it marked this one interrupted, ran the command
     * again, and the record was lost.
     */
    @Test
    void anExitRecordedIntoARunningAttemptBetweenThePicksLookAndItsStartEndsTheJobWithoutRunningItAgain()
            throws Exception {
        anExitRecordedBetweenThePicksLookAndItsStartEndsTheJob(false);
    }

    /**
     * Attempt 1 of a job, of node-2b, which noted that its command exited 0: recorded cut short by a sweep of this host
     * ({@code cutShort}, the job QUEUED), or still running on another host (the job RUNNING). This node picks the job;
     * node-2b's start records the exit in the seam at the start of the attempt; the job ends from it, not run again.
     */
    private void anExitRecordedBetweenThePicksLookAndItsStartEndsTheJob(boolean cutShort) throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo ran >> " + ran);
        Instant exited = Instant.now().minusSeconds(180).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        assertThat(store.ledger().startAttempt(jobId, "node-2b")).isEqualTo(1);
        Path noted = dir.resolve(StopsNotRecorded.FILE_NAME);
        new StopsNotRecorded(noted, "node-2b").add(jobId, 1, new StopsNotRecorded.Known(
                org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, exited, null));
        if (cutShort) {
            AbstractStoppedNotADeathTest.sweptWhileItsNodeRuns(store, jobId, "node-3");
        } else {
            try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                    "UPDATE job_attempts SET boot_id = 'another-boot/pid:[4026531836]' WHERE job_id = ?")) {
                p.setString(1, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
        }
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(cutShort ? JobState.QUEUED
                : JobState.RUNNING);
        Execution picked = pick(jobId, Instant.now());
        AttemptStartSeams.beforeStart(id -> {
            if (id.equals(jobId)) {
                try {
                    new LeftoverSweep(store.ledger(), "node-2b", new StopsNotRecorded(noted, "node-2b"))
                            .sweepDeadNodes();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        });
        try {
            complete(task.execute(picked.taskInstance, context(picked)));
        } finally {
            AttemptStartSeams.clear();
        }

        assertThat(ran).as("the command run again though its exit was recorded before the start").doesNotExist();
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
        assertThat(job.attempts().get(0).exitCode()).isZero();
        assertThat(job.job().state()).isEqualTo(JobState.SUCCEEDED);
    }

    /**
     * review50b R8: as {@link #anExitRecordedBetweenThePicksLookAndItsStartEndsTheJobWithoutRunningItAgain}, attempt 1's
     * command having exited 3 (its rule has a retry left), and an operator cancels the job in the same moment: both
     * after this pick's look and before its start (its execution picked by this node, the cancel only flags it). The
     * start answered the cancel first, unlike the pick's read (supersede21): the job ended "cancelled while attempt 1
     * ran; its node stopped before the attempt ended", the exit lost, attempt 1 left cut short. Now the start answers
     * the exit recorded, and the job concluded from it reads the cancel again: it ends CANCELLED keeping exit 3, not
     * retried. (Concluded from the job as the pick read it, without the flag, it was "retried as its rule says" and the
     * exit recorded as its node's own end after the cancel, "it ended by itself after its cancel was asked for".)
     */
    @Test
    void anExitRecordedAndACancelBetweenThePicksLookAndItsStartEndTheJobCancelledKeepingThatExit() throws Exception {
        anExitAndACancelBetweenThePicksLookAndItsStart(true);
    }

    /** As {@link #anExitRecordedAndACancelBetweenThePicksLookAndItsStartEndTheJobCancelledKeepingThatExit}, the job RUNNING. */
    @Test
    void anExitRecordedIntoARunningAttemptAndACancelBetweenThePicksLookAndItsStartEndTheJobCancelledKeepingThatExit()
            throws Exception {
        anExitAndACancelBetweenThePicksLookAndItsStart(false);
    }

    /**
     * As {@link #anExitRecordedBetweenThePicksLookAndItsStartEndsTheJob}, for a job whose rule has one retry, whose
     * attempt 1 exited 3, and which is cancelled in the seam too, after node-2b's start recorded that exit.
     */
    private void anExitAndACancelBetweenThePicksLookAndItsStart(boolean cutShort) throws Exception {
        Path ran = dir.resolve("ran");
        Path script = Files.writeString(dir.resolve("job.sh"), "#!/bin/sh\necho ran >> " + ran + "\n");
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("lease",
                List.of("/bin/sh", script.toString()), Map.of(), 1, Duration.ofHours(1), 0))).jobIds().get(0);
        Instant exited = Instant.now().minusSeconds(180).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        assertThat(store.ledger().startAttempt(jobId, "node-2b")).isEqualTo(1);
        Path noted = dir.resolve(StopsNotRecorded.FILE_NAME);
        new StopsNotRecorded(noted, "node-2b").add(jobId, 1, new StopsNotRecorded.Known(
                org.buildhook.runner.exec.JobOutcome.Result.FAILED, 3, exited, null));
        if (cutShort) {
            AbstractStoppedNotADeathTest.sweptWhileItsNodeRuns(store, jobId, "node-3");
        } else {
            try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                    "UPDATE job_attempts SET boot_id = 'another-boot/pid:[4026531836]' WHERE job_id = ?")) {
                p.setString(1, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
        }
        Execution picked = pick(jobId, Instant.now());
        AtomicReference<Boolean> cancelled = new AtomicReference<>();
        AttemptStartSeams.beforeStart(id -> {
            if (id.equals(jobId) && cancelled.get() == null) {
                try {
                    new LeftoverSweep(store.ledger(), "node-2b", new StopsNotRecorded(noted, "node-2b"))
                            .sweepDeadNodes();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                cancelled.set(store.cancel(jobId));
            }
        });
        try {
            complete(task.execute(picked.taskInstance, context(picked)));
        } finally {
            AttemptStartSeams.clear();
        }

        assertThat(cancelled.get()).as("the cancel's answer").isTrue();
        assertThat(ran).as("the command run again though its exit was recorded before the start").doesNotExist();
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(AttemptOutcome.FAILED);
            assertThat(a.exitCode()).isEqualTo(3);
        });
        assertThat(job.job().state()).isEqualTo(JobState.CANCELLED);
        assertThat(job.job().exitCode()).as("the exit it had, kept").isEqualTo(3);
        assertThat(job.job().message()).startsWith("exited with 3; then ").endsWith("; its cancel was asked for before"
                + " that end was recorded; it counts as cancelled: it is not retried and its on-failure is not started"
                + " (its on-cancel is, if its rule has one)");
    }

    /**
     * stopnote43 (left), stopnote44: node-2b was stopped while the store could not record that attempt 1's command had
     * exited 0, and kept it in its data folder; it starts again (as node-a: the default id is another at every start)
     * with the store still unable to take writes, so its start's sweep, which records that exit, fails and is only
     * tried again every heartbeat interval. The job's execution, revived after the dead-node limit, is picked before
     * that sweep comes: the pick records the kept exit first and ends the job from it, its command not run again.
     * Before, the pick found nothing to conclude from and ran the command again (the sweep then recorded the exit late,
     * in the attempt's history only).
     */
    @Test
    void aPickBeforeTheStartsSweepRecordsTheExitTheNodesLastStopKeptAndDoesNotRunTheCommandAgain() throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo ran >> " + ran);
        Instant exited = Instant.now().minusSeconds(180).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        assertThat(store.ledger().startAttempt(jobId, "node-2b")).isEqualTo(1);
        Process gone = new ProcessBuilder("sleep", "600").start();
        org.buildhook.runner.exec.ProcessIdentity jvm = org.buildhook.runner.exec.ProcessIdentity.of(gone.pid());
        gone.destroyForcibly().waitFor();
        ranUnder(jobId, jvm); // node-2b's JVM, of this host, is gone
        Path noted = Files.createDirectories(config.dataDir()).resolve(StopsNotRecorded.FILE_NAME);
        assertThat(new StopsNotRecorded(noted, "node-2b").add(jobId, 1, new StopsNotRecorded.Known(
                org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, exited, null)).kept()).isTrue();
        JobTask restarted = new JobTask(store, launcher, AbstractEngineTest.fast(NODE), running, Clock.systemUTC(),
                JobEvents.NONE, new LeftoverSweep(store.ledger(), NODE, new StopsNotRecorded(noted, NODE)), () -> { },
                Runnable::run, () -> null);
        Execution picked = pick(jobId, Instant.now());

        complete(restarted.execute(picked.taskInstance, context(picked)));

        assertThat(ran).as("the command run again though its node's last stop kept its exit").doesNotExist();
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
            assertThat(a.exitCode()).isZero();
            assertThat(a.endedAt()).as("when the command exited, as kept").isEqualTo(exited);
            assertThat(a.message()).isEqualTo("exited with 0; then its node node-2b was stopped after the attempt"
                    + " ended, and the stop could not record its end (the store could not be reached); none of its"
                    + " processes was found by its session or its marker; not run again");
        });
        assertThat(job.job().state()).isEqualTo(JobState.SUCCEEDED);
    }

    /**
     * review29 R3: two jobs share a board of capacity 2. The first was cut short by its node's stop and waits in its
     * place (from before it took its unit); the second's node went silent and its job was revived, holding its unit
     * (fence28). A reload lowers the capacity to 1. The first waits for the unit the second holds; the second, short
     * only because the first is ahead, kept it and waited too: neither moved until the capacity was raised again.
     * Now the second goes on with the unit it holds (given back, it would go to the first before the second's pick
     * ends what its cut-short attempt left), then the first has it, before a job that came later.
     */
    @Test
    void aRevivedJobHoldingItsUnitsGoesOnWithThemThoughAJobPutBackAheadWaitsForThem() throws Exception {
        String[] ids = boardHolders();
        String ahead = ids[0];
        String revived = ids[1];
        assertThat(store.ledger().interruptAttempt(ahead, 1, new org.buildhook.runner.exec.JobOutcome(
                org.buildhook.runner.exec.JobOutcome.Result.FAILED, null, Instant.now(), Instant.now(),
                "its node was stopped", null, false), "its node was stopped")).isTrue();
        revive(ahead);
        store.resources().release(ahead, "node-1");
        assertThat(store.job(ahead).orElseThrow().job().state()).isEqualTo(JobState.WAITING);
        revive(revived);
        assertThat(store.resources().applyCapacities(Map.of("board", 1))).hasSize(1);

        assertThat(pickedAndTaken(ahead)).as("the first, beside the second's unit")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(pickedAndTaken(revived)).as("the second, holding its unit, the first ahead")
                .isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.resources().unitsInUse()).containsEntry("board", 1);
        String third = laterJob();
        store.resources().release(revived, NODE);
        assertThat(pickedAndTaken(third)).as("a job that came later, the first ahead")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(pickedAndTaken(ahead)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.resources().unitsInUse()).containsEntry("board", 1);
    }

    /**
     * As {@link #aRevivedJobHoldingItsUnitsGoesOnWithThemThoughAJobPutBackAheadWaitsForThem}, both jobs revived,
     * holding their units, the capacity lowered to 1: each was short because of the other's unit and kept its own.
     * Now the later one gives its unit to the earlier one and waits in its place, ahead of a job that came later.
     * The later one's attempt is of another host (its pick here is the store's take, which ends nothing): one of
     * this host would hold the unit from this node until its sweep (place31:
     * {@link #unitsGivenBackAtAnotherHostsPickAreHeldFromTheAttemptsHostUntilItIsSwept}).
     */
    @Test
    void ofTwoRevivedJobsShortOfUnitsTheLaterGivesThemToTheEarlier() throws Exception {
        String[] ids = boardHolders();
        String first = ids[0];
        String second = ids[1];
        markedOfAnotherHost(second);
        revive(first);
        revive(second);
        assertThat(store.resources().applyCapacities(Map.of("board", 1))).hasSize(1);

        assertThat(pickedAndTaken(first)).as("the first, beside the second's unit")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(pickedAndTaken(second)).as("the second, beside the first's unit, the first ahead")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(pickedAndTaken(first)).as("the first, once the second looked").isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.resources().unitsInUse()).containsEntry("board", 1);
        String third = laterJob();
        store.resources().release(first, NODE);
        assertThat(pickedAndTaken(third)).as("a job that came later, the second ahead")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(pickedAndTaken(second)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.resources().unitsInUse()).containsEntry("board", 1);
    }

    /**
     * units30: in {@link #ofTwoRevivedJobsShortOfUnitsTheLaterGivesThemToTheEarlier}'s case, the job that gives its
     * unit back waits as any other: {@code WAITING}, with why, among the jobs waiting for units and in their count
     * ({@code buildhook_jobs_waiting}). Its attempt, of a host no sweep of this node reaches (here its pick sweeps
     * nothing), is ended as this node's start of it would end it, so its unit given back is taken for free (its
     * node's watchdog ended it). Before, it stayed {@code RUNNING}, shown running, its attempt still marked running.
     */
    @Test
    void aRevivedJobThatGivesItsUnitsBackIsShownWaiting() throws Exception {
        String[] ids = boardHolders();
        String second = ids[1];
        revive(ids[0]);
        revive(second);
        assertThat(store.resources().applyCapacities(Map.of("board", 1))).hasSize(1);
        assertThat(pickedAndTaken(ids[0])).isEqualTo(ExecutionLedger.Take.NOT_FREE);

        assertThat(pickedAndTaken(second)).isEqualTo(ExecutionLedger.Take.NOT_FREE);

        JobDetail waiting = store.job(second).orElseThrow();
        assertThat(waiting.job().state()).isEqualTo(JobState.WAITING);
        assertThat(waiting.job().message()).startsWith("waiting for board: 1 wanted, 0 of 1 free");
        assertThat(store.resources().waiting()).extracting(u -> u.jobId()).containsExactly(second);
        assertThat(store.countJobs(JobState.WAITING)).isEqualTo(1);
        assertThat(waiting.attempts().get(0).outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(waiting.attempts().get(0).message()).isEqualTo("its node stopped heart-beating before the"
                + " attempt's end was recorded; run again on " + NODE + ", once its units are free");
        assertThat(store.resources().unitsInUse()).as("the first's, still held").containsEntry("board", 1);
    }

    /**
     * fence32's left item: as {@link #aRevivedJobThatGivesItsUnitsBackIsShownWaiting}, but the attempt of the job that
     * gives its unit back was started by this very process (same node, host boot, pid and start), as after a store that
     * lost the record of its end: this process picks a job only once its thread that ran it has recorded that end. So
     * the attempt is said lost, not "its node stopped heart-beating", and is no death of its node ({@code node_died},
     * counted by runner.deaths-in-a-row); and the unit, given back, goes to the job ahead on this host. Before, it was
     * recorded as given back unswept, which held the unit back from every taker of this host until a sweep of this
     * host ended what the attempt left, and no sweep ends this very process's own attempts: the board stayed unused.
     */
    @Test
    void aJobThisProcessRanThatGivesItsUnitsBackIsSaidLostNotADeathAndHoldsThemFromNoTaker() throws Exception {
        String[] ids = new String[2];
        String[] nodes = {"node-1", NODE};
        for (int i = 0; i < 2; i++) {
            PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null,
                    false, null, Map.of("board", 1), Map.of("board", 2), null, null, 0));
            ids[i] = store.accept(Plans.delivery("{\"build_id\": " + (i + 1) + "}"), List.of(sharing)).jobIds()
                    .get(0);
            Execution picked = pick(ids[i], Instant.now(), nodes[i]);
            assertThat(take(ids[i], nodes[i], picked.version)).isEqualTo(ExecutionLedger.Take.TAKEN);
            assertThat(store.ledger().startAttempt(ids[i], nodes[i], picked.version)).isEqualTo(1);
        }
        String first = ids[0];
        String second = ids[1];
        revive(first);
        revive(second);
        assertThat(store.resources().applyCapacities(Map.of("board", 1))).hasSize(1);
        assertThat(pickedAndTaken(first)).isEqualTo(ExecutionLedger.Take.NOT_FREE);

        assertThat(pickedAndTaken(second)).as("the second, its unit given to the first").isEqualTo(
                ExecutionLedger.Take.NOT_FREE);

        JobAttempt lost = store.job(second).orElseThrow().attempts().get(0);
        assertThat(lost.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(lost.message()).isEqualTo("its end is not in the store, yet the very process of its node that"
                + " started it picked the job again, which it does only once it has recorded that end: the store lost"
                + " that record (a database server that crashed and lost commits it had acknowledged, a database"
                + " restored from a backup, or a failover to a copy that had not received it); its node did not stop"
                + " heart-beating, and nothing of the attempt is left running. What the command came to is not known"
                + " here; run again on " + NODE + ", once its units are free");
        assertThat(nodeDied(second, 1)).as("not a death of its node").isZero();
        assertThat(store.ledger().givenBackUnswept(org.buildhook.runner.exec.NodeIdentity.current().bootId(),
                Set.of("board"))).as("nothing for a sweep of this host").isEmpty();
        assertThat(pickedAndTaken(first)).as("the first, on this host, the second's unit given back").isEqualTo(
                ExecutionLedger.Take.TAKEN);
        store.resources().release(first, NODE);
        assertThat(pickedAndTaken(second)).as("the second, once the first gave the board back").isEqualTo(
                ExecutionLedger.Take.TAKEN);
    }

    /** The {@code node_died} of attempt {@code attempt} of the job. */
    private int nodeDied(String jobId, int attempt) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "SELECT node_died FROM job_attempts WHERE job_id = ? AND attempt = ?")) {
            p.setString(1, jobId);
            p.setInt(2, attempt);
            try (var rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getInt(1);
            }
        }
    }

    /**
     * units30: two revived jobs share a board cut to 1 unit; the second's node, on this host, is paused (a {@code
     * sleep} stands for its JVM) while its command still runs (runner.watchdog: off). The second, picked, gives its
     * unit to the first: what its attempt left here is ended first. Before, it gave the unit back unswept, and the
     * first's command ran beside the paused node's command. With the engine's own {@link JobTask} and real processes;
     * the first's command writes whether the paused node's command was still there.
     */
    @Test
    void unitsARevivedJobGivesBackGoToAnotherJobOnlyOnceWhatItLeftHereIsEnded() throws Exception {
        Path seen = dir.resolve("seen");
        Path leftoverPid = dir.resolve("leftover.pid");
        Path script = Files.writeString(dir.resolve("board.sh"), "#!/bin/sh\npid=$(cat " + leftoverPid + ")\n"
                + "if [ -e /proc/$pid ] && ! grep -q ') Z' /proc/$pid/stat; then echo alive; else echo gone; fi > "
                + seen + "\n");
        String[] ids = new String[2];
        for (int i = 0; i < 2; i++) {
            PlannedJob sharing = Plans.job("sharing", List.of("/bin/sh", script.toString())).withWorkflow(
                    new JobWorkflow(null, null, false, null, Map.of("board", 1), Map.of("board", 2), null, null, 0));
            ids[i] = store.accept(Plans.delivery("{\"build_id\": " + (i + 1) + "}"), List.of(sharing)).jobIds()
                    .get(0);
            String node = "node-" + (i + 1);
            Execution picked = pick(ids[i], Instant.now(), node);
            assertThat(take(ids[i], node, picked.version)).isEqualTo(ExecutionLedger.Take.TAKEN);
            assertThat(store.ledger().startAttempt(ids[i], node, picked.version)).isEqualTo(1);
        }
        String first = ids[0];
        String second = ids[1];
        // The paused node's command: a session of its own, as a job's, reparented once setsid -f has forked.
        ProcessBuilder command = new ProcessBuilder("setsid", "-f", "/bin/sh", "-c", "echo $$ > " + leftoverPid
                + ".tmp && mv " + leftoverPid + ".tmp " + leftoverPid + " && exec sleep 600");
        command.environment().put(org.buildhook.runner.exec.AttemptMarker.VARIABLE,
                org.buildhook.runner.exec.AttemptMarker.of(second, 1).value());
        Process pausedNode = new ProcessBuilder("sleep", "600").start();
        ProcessHandle leftover = null;
        try {
            assertThat(command.start().waitFor()).isZero();
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(leftoverPid));
            leftover = ProcessHandle.of(Long.parseLong(Files.readString(leftoverPid).trim())).orElseThrow();
            ranUnder(second, org.buildhook.runner.exec.ProcessIdentity.of(pausedNode.pid()));
            revive(first);
            revive(second);
            assertThat(store.resources().applyCapacities(Map.of("board", 1))).hasSize(1);

            assertThat(executed(first)).as("the first, beside the second's unit").isEqualTo(JobState.RUNNING);
            assertThat(seen).doesNotExist();
            assertThat(executed(second)).as("the second, its unit given to the first").isEqualTo(JobState.WAITING);
            ProcessHandle gone = leftover;
            await().atMost(Duration.ofMinutes(2)).alias("the paused node's command, once the second gave its unit back")
                    .until(() -> !gone.isAlive());
            assertThat(store.job(second).orElseThrow().attempts().get(0).message())
                    .startsWith("its node node-2 stopped heart-beating before the attempt's end was recorded; node "
                            + NODE + " killed what it left: ");
            executed(first);
            assertThat(Files.readString(seen).strip()).as("the paused node's command, as the first's ran")
                    .isEqualTo("gone");
            assertThat(store.job(first).orElseThrow().job().state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(store.job(second).orElseThrow().job().state()).isEqualTo(JobState.WAITING);
        } finally {
            if (leftover != null) {
                leftover.destroyForcibly();
            }
            pausedNode.destroyForcibly();
        }
    }

    /**
     * place31 (units30 L1): as {@link #unitsARevivedJobGivesBackGoToAnotherJobOnlyOnceWhatItLeftHereIsEnded}, but the
     * second job is picked by a node of another host (here: the store's own take, no sweep of this host), which gives
     * its unit back to the first without reaching what its attempt left here. The first is then picked by this node,
     * of the paused node's host: it ends what the second left here before it takes the unit. Before, it swept only its
     * own job's leftovers, and its command ran beside the paused node's command (two commands on a board of 1).
     */
    @Test
    void unitsGivenBackAtAnotherHostsPickGoToATakerOfTheAttemptsHostOnlyOnceWhatItLeftIsEnded() throws Exception {
        Path seen = dir.resolve("seen");
        Path leftoverPid = dir.resolve("leftover.pid");
        String[] ids = pausedNodesBoard(seen, leftoverPid);
        String first = ids[0];
        String second = ids[1];
        Process pausedNode = new ProcessBuilder("sleep", "600").start();
        ProcessHandle leftover = null;
        try {
            leftover = pausedNodesCommand(second, leftoverPid, pausedNode);
            revive(first);
            revive(second);
            assertThat(store.resources().applyCapacities(Map.of("board", 1))).hasSize(1);
            assertThat(pickedAndTaken(first)).as("the first, beside the second's unit")
                    .isEqualTo(ExecutionLedger.Take.NOT_FREE);
            assertThat(take(second, "node-b", pick(second, Instant.now(), "node-b").version))
                    .as("the second, at the pick of another host's node").isEqualTo(ExecutionLedger.Take.NOT_FREE);
            revive(second);
            assertThat(store.job(second).orElseThrow().attempts().get(0).message()).endsWith("once its units are free");
            assertThat(leftover.isAlive()).as("the paused node's command, out of that node's reach").isTrue();

            assertThat(executed(first)).as("the first, on the paused node's host").isEqualTo(JobState.SUCCEEDED);

            assertThat(Files.readString(seen).strip()).as("the paused node's command, as the first's ran")
                    .isEqualTo("gone");
            ProcessHandle gone = leftover;
            await().atMost(Duration.ofMinutes(2)).alias("the paused node's command").until(() -> !gone.isAlive());
            assertThat(store.job(second).orElseThrow().attempts().get(0).message())
                    .startsWith("its node node-2 stopped heart-beating before the attempt's end was recorded; node "
                            + NODE + " killed what it left: ")
                    .endsWith("its units were given back at a pick of another host's node, and it runs again once they"
                            + " are free");
            assertThat(store.job(second).orElseThrow().job().state()).isEqualTo(JobState.WAITING);
        } finally {
            if (leftover != null) {
                leftover.destroyForcibly();
            }
            pausedNode.destroyForcibly();
        }
    }

    /**
     * place31: the store holds units given back at another host's pick from every taker of the attempt's host until one
     * of them has ended what the attempt left ({@code JobTask} does before its take; a take that comes between that
     * look and the give-back finds them held), and from no taker of another host.
     */
    @Test
    void unitsGivenBackAtAnotherHostsPickAreHeldFromTheAttemptsHostUntilItIsSwept() throws Exception {
        String[] ids = boardHolders();
        String first = ids[0];
        String second = ids[1];
        revive(first);
        revive(second);
        assertThat(store.resources().applyCapacities(Map.of("board", 1))).hasSize(1);
        assertThat(pickedAndTaken(first)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(take(second, "node-b", pick(second, Instant.now(), "node-b").version))
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        revive(second);

        assertThat(pickedAndTaken(first)).as("a taker of the attempt's host, before the sweep (it keeps its unit)")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        String third = laterJob();
        assertThat(pickedAndTaken(third)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(store.job(third).orElseThrow().job().message()).contains("what job " + second
                + " (attempt 1, its units given back at another host's pick) left on this host to be ended first");

        attemptOfBoot(second, "another-boot/pid:[4026531836]");
        assertThat(pickedAndTaken(first)).as("a taker of another host than the attempt's").isEqualTo(
                ExecutionLedger.Take.TAKEN);
        store.resources().release(first, NODE);
        attemptOfBoot(second, org.buildhook.runner.exec.NodeIdentity.current().bootId());
        assertThat(store.ledger().givenBackUnswept(org.buildhook.runner.exec.NodeIdentity.current().bootId(),
                Set.of("board"))).extracting(a -> a.jobId()).containsExactly(second);
        assertThat(pickedAndTaken(second)).as("the job itself, on its attempt's host, before the sweep").isEqualTo(
                ExecutionLedger.Take.NOT_FREE);

        assertThat(store.ledger().recordGivenBackSwept(second, 1, "swept")).isTrue();
        assertThat(store.ledger().recordGivenBackSwept(second, 1, "swept again")).as("once").isFalse();
        assertThat(store.ledger().givenBackUnswept(org.buildhook.runner.exec.NodeIdentity.current().bootId(),
                Set.of("board"))).isEmpty();
        assertThat(pickedAndTaken(second)).as("the job itself, after the sweep").isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /** Attempt 1 of the job recorded as of host boot {@code bootId}. */
    private void attemptOfBoot(String jobId, String bootId) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "UPDATE job_attempts SET boot_id = ? WHERE job_id = ? AND attempt = 1")) {
            p.setString(1, bootId);
            p.setString(2, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /** Two jobs needing 1 of a board of 2, each started on its node, whose command writes whether the leftover lives. */
    private String[] pausedNodesBoard(Path seen, Path leftoverPid) throws Exception {
        Path script = Files.writeString(dir.resolve("board.sh"), "#!/bin/sh\npid=$(cat " + leftoverPid + ")\n"
                + "if [ -e /proc/$pid ] && ! grep -q ') Z' /proc/$pid/stat; then echo alive; else echo gone; fi > "
                + seen + "\n");
        String[] ids = new String[2];
        for (int i = 0; i < 2; i++) {
            PlannedJob sharing = Plans.job("sharing", List.of("/bin/sh", script.toString())).withWorkflow(
                    new JobWorkflow(null, null, false, null, Map.of("board", 1), Map.of("board", 2), null, null, 0));
            ids[i] = store.accept(Plans.delivery("{\"build_id\": " + (i + 1) + "}"), List.of(sharing)).jobIds()
                    .get(0);
            String node = "node-" + (i + 1);
            Execution picked = pick(ids[i], Instant.now(), node);
            assertThat(take(ids[i], node, picked.version)).isEqualTo(ExecutionLedger.Take.TAKEN);
            assertThat(store.ledger().startAttempt(ids[i], node, picked.version)).isEqualTo(1);
        }
        return ids;
    }

    /**
     * The command of attempt 1 of {@code jobId} left by its paused node ({@code pausedNode} stands for its JVM): a
     * session of its own, as a job's, reparented once {@code setsid -f} has forked, carrying the attempt's marker.
     */
    private ProcessHandle pausedNodesCommand(String jobId, Path leftoverPid, Process pausedNode) throws Exception {
        ProcessBuilder command = new ProcessBuilder("setsid", "-f", "/bin/sh", "-c", "echo $$ > " + leftoverPid
                + ".tmp && mv " + leftoverPid + ".tmp " + leftoverPid + " && exec sleep 600");
        command.environment().put(org.buildhook.runner.exec.AttemptMarker.VARIABLE,
                org.buildhook.runner.exec.AttemptMarker.of(jobId, 1).value());
        assertThat(command.start().waitFor()).isZero();
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(leftoverPid));
        ProcessHandle leftover = ProcessHandle.of(Long.parseLong(Files.readString(leftoverPid).trim())).orElseThrow();
        ranUnder(jobId, org.buildhook.runner.exec.ProcessIdentity.of(pausedNode.pid()));
        return leftover;
    }

    /**
     * place30 (tryout30 F4): a job holding the only board, cut short by its node's graceful stop twice (two restarts
     * during one long flash), keeps its place both times: the job of a later build that started waiting for the board
     * while it held it does not take it first. Before, the first cut kept the place, but the units taken again were
     * taken as from then, and the second cut placed the job as from just before that re-take: behind the later job,
     * which took the board of the half-done one.
     */
    @Test
    void aJobCutShortTwiceByGracefulStopsKeepsItsPlaceForItsUnits() throws Exception {
        aJobCutShortTwiceKeepsItsPlace(false, false);
    }

    /**
     * As {@link #aJobCutShortTwiceByGracefulStopsKeepsItsPlaceForItsUnits}, its first cut its node's silence past the
     * dead-node limit: revived, its attempt still marked running, its units kept until this node picks it, which takes
     * them again (its attempt on another host, as a node beside a paused one in a cluster); then its second cut a stop.
     */
    @Test
    void aJobRevivedThenStoppedKeepsItsPlaceForItsUnits() throws Exception {
        aJobCutShortTwiceKeepsItsPlace(true, false);
    }

    /**
     * As {@link #aJobCutShortTwiceByGracefulStopsKeepsItsPlaceForItsUnits}, its units given back by its node before its
     * second cut is recorded (a node that fenced itself, whose end another node records): it is placed as from the
     * start of the first attempt of this run, which came right after it first took them, not of the attempt cut.
     */
    @Test
    void aJobCutShortTwiceWhoseUnitsWereGivenBackFirstKeepsItsPlaceForThem() throws Exception {
        aJobCutShortTwiceKeepsItsPlace(false, true);
    }

    private void aJobCutShortTwiceKeepsItsPlace(boolean revivedFirst, boolean givenBackFirst) throws Exception {
        String holder = boardJob(1);
        Execution picked = pick(holder, Instant.now(), "node-1");
        assertThat(take(holder, "node-1", picked.version)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(holder, "node-1", picked.version)).isEqualTo(1);
        long held = store.resources().holds().get(0).since().toEpochMilli();
        laterThan(held);
        String later = boardJob(2);
        assertThat(pickedAndTaken(later)).as("the later build's job, the board held").isEqualTo(
                ExecutionLedger.Take.NOT_FREE);
        long laterWaits = store.resources().waiting().get(0).since().toEpochMilli();
        laterThan(laterWaits);
        if (revivedFirst) {
            markedOfAnotherHost(holder);
            revive(holder);
        } else {
            stopped(holder, 1, "node-1");
        }
        assertThat(pickedAndTaken(later)).as("the later build's job, after the first cut").isEqualTo(
                ExecutionLedger.Take.NOT_FREE);
        assertThat(pickedAndTaken(holder)).as("the job cut short once").isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(holder, NODE)).isEqualTo(2);
        laterThan(laterWaits);
        if (givenBackFirst) {
            store.resources().release(holder, NODE);
        }

        stopped(holder, 2, NODE);

        assertThat(store.job(holder).orElseThrow().job().state()).isEqualTo(JobState.WAITING);
        assertThat(store.resources().waiting()).extracting(u -> u.jobId()).as("the waiting jobs, in order")
                .containsExactly(holder, later);
        assertThat(store.resources().waiting().get(0).since().toEpochMilli()).as("its place").isEqualTo(givenBackFirst
                ? store.job(holder).orElseThrow().attempts().get(0).startedAt().toEpochMilli() : held - 1);
        assertThat(pickedAndTaken(later)).as("the later build's job, after the second cut").isEqualTo(
                ExecutionLedger.Take.NOT_FREE);
        assertThat(pickedAndTaken(holder)).as("the job cut short twice").isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.resources().holds()).extracting(u -> u.jobId()).containsExactly(holder);
    }

    /**
     * What keeps no place: a retry after a failed attempt waits again (rules.md, Shared resources: "a retry waits
     * again"); the units it takes are taken as from then, not as from its failed attempt's, so a cut of the retry
     * places it as from the retry's take. (Held before this change too: a guard of what place30 chose.)
     */
    @Test
    void aRetryAfterAFailureTakesItsUnitsAsFromItsOwnTake() throws Exception {
        String job = boardJob(1);
        Execution picked = pick(job, Instant.now(), "node-1");
        assertThat(take(job, "node-1", picked.version)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(job, "node-1", picked.version)).isEqualTo(1);
        long first = store.resources().holds().get(0).since().toEpochMilli();
        assertThat(store.ledger().finishAttempt(job, 1, new org.buildhook.runner.exec.JobOutcome(
                org.buildhook.runner.exec.JobOutcome.Result.FAILED, 1, Instant.now(), Instant.now(), "exited with 1",
                null, false), JobState.QUEUED)).isTrue();
        store.resources().release(job, "node-1");
        laterThan(first + 1);
        long retried = System.currentTimeMillis();

        assertThat(pickedAndTaken(job)).isEqualTo(ExecutionLedger.Take.TAKEN);

        assertThat(store.resources().holds().get(0).since().toEpochMilli()).as("the retry's hold")
                .isGreaterThanOrEqualTo(retried);
    }

    /**
     * place31 (place30 L1): a job holding the only board, cut short by its node's stop after its command had in fact
     * exited 3 (its node noted the exit), is concluded {@code FAILED} by the node that picks it and retried: that retry
     * is a new turn (rules.md, Shared resources: "a retry waits again"), behind the later build's job that waited for
     * the board meanwhile. Before, the conclusion left the cut's {@code waiting_since}, and the retry took the board
     * in the cut's place, ahead of that job. Recorded by one statement on PostgreSQL (no concurrency limit).
     */
    @Test
    void aRetryConcludedFromAnAttemptCutShortAfterItFailedWaitsAgain() throws Exception {
        aRetryConcludedFromACutShortAttemptWaitsAgain(org.buildhook.runner.exec.JobOutcome.Result.FAILED, 3, null);
    }

    /**
     * As {@link #aRetryConcludedFromAnAttemptCutShortAfterItFailedWaitsAgain}, the attempt timed out before its node's
     * stop cut it short, its retry recorded as a node records a retry ({@code finishForRetry}) with the job's rule's
     * concurrency slot (a transaction on both stores).
     */
    @Test
    void aRetryConcludedFromAnAttemptCutShortAfterItTimedOutWaitsAgain() throws Exception {
        aRetryConcludedFromACutShortAttemptWaitsAgain(org.buildhook.runner.exec.JobOutcome.Result.TIMED_OUT, null,
                "sharing");
    }

    private void aRetryConcludedFromACutShortAttemptWaitsAgain(org.buildhook.runner.exec.JobOutcome.Result result,
            Integer exit, String slotRule) throws Exception {
        String holder = boardJob(1);
        Execution picked = pick(holder, Instant.now(), "node-1");
        assertThat(take(holder, "node-1", picked.version)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(holder, "node-1", picked.version)).isEqualTo(1);
        laterThan(store.resources().holds().get(0).since().toEpochMilli());
        String later = boardJob(2);
        assertThat(pickedAndTaken(later)).as("the later build's job, the board held").isEqualTo(
                ExecutionLedger.Take.NOT_FREE);
        long laterWaits = store.resources().waiting().get(0).since().toEpochMilli();
        store.ledger().recordDecidedLater(holder, 1, new org.buildhook.runner.exec.Decision(result, exit, null)).join();
        stopped(holder, 1, "node-1");
        assertThat(store.resources().waiting()).extracting(u -> u.jobId()).as("after the cut, in its place")
                .containsExactly(holder, later);
        Execution concluding = pick(holder, Instant.now());
        org.buildhook.runner.exec.JobOutcome outcome = new org.buildhook.runner.exec.JobOutcome(result, exit,
                Instant.now(), Instant.now(), "exited or timed out; then its node was stopped; retried", null, false);
        assertThat(slotRule == null
                ? store.ledger().finishConcluded(holder, 1, outcome, JobState.QUEUED, concluding.version, null)
                : store.ledger().finishForRetry(holder, 1, outcome, concluding.version, slotRule,
                        "waiting for retry 1 of 1")).isEqualTo(ExecutionLedger.Finished.RECORDED);
        revive(holder);
        laterThan(laterWaits);
        long retried = System.currentTimeMillis();

        assertThat(pickedAndTaken(holder)).as("the retry, the later build's job waiting since before it asked")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);

        assertThat(store.resources().waiting()).extracting(u -> u.jobId()).as("the waiting jobs, in order")
                .containsExactly(later, holder);
        assertThat(store.resources().waiting().get(1).since().toEpochMilli()).as("the retry's wait")
                .isGreaterThanOrEqualTo(retried);
        assertThat(pickedAndTaken(later)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * place31: as {@link #aRetryConcludedFromAnAttemptCutShortAfterItFailedWaitsAgain} with the engine's own
     * {@link JobTask} and real commands: the holder's attempt 1 exited 3 (noted) before its node's stop cut it short;
     * this node concludes it and retries it; the retry, picked before the later build's job, waits behind it. Each
     * command writes its build to a file: the later build's runs first. Before, the holder's retry ran first.
     */
    @Test
    void aRetryConcludedFromACutShortAttemptRunsAfterTheJobsThatWaitedBeforeItAsked() throws Exception {
        Path order = dir.resolve("order");
        Path script = Files.writeString(dir.resolve("board.sh"), "#!/bin/sh\necho \"$1\" >> " + order + "\n");
        JobWorkflow board = new JobWorkflow(null, null, false, null, Map.of("board", 1), Map.of("board", 1), null,
                null, 0);
        String holder = store.accept(Plans.delivery("{\"build_id\": 1}"), List.of(Plans.job("sharing",
                List.of("/bin/sh", script.toString(), "holder"), Map.of(), 1, Duration.ofMillis(100), 0)
                .withWorkflow(board))).jobIds().get(0);
        Execution picked = pick(holder, Instant.now(), "node-1");
        assertThat(take(holder, "node-1", picked.version)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(holder, "node-1", picked.version)).isEqualTo(1);
        laterThan(store.resources().holds().get(0).since().toEpochMilli());
        String later = store.accept(Plans.delivery("{\"build_id\": 2}"), List.of(Plans.job("sharing",
                List.of("/bin/sh", script.toString(), "later")).withWorkflow(board))).jobIds().get(0);
        assertThat(executed(later)).as("the later build's job, the board held").isEqualTo(JobState.WAITING);
        store.ledger().recordDecidedLater(holder, 1, new org.buildhook.runner.exec.Decision(
                org.buildhook.runner.exec.JobOutcome.Result.FAILED, 3, null)).join();
        stopped(holder, 1, "node-1");
        assertThat(executed(holder)).as("concluded from its noted exit, retried").isEqualTo(JobState.QUEUED);
        assertThat(store.job(holder).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                .containsExactly(AttemptOutcome.FAILED);
        assertThat(order).as("nothing run yet").doesNotExist();
        laterThan(store.resources().waiting().get(0).since().toEpochMilli());

        assertThat(executed(holder)).as("the retry, the later build's job waiting since before it asked")
                .isEqualTo(JobState.WAITING);
        assertThat(executed(later)).isEqualTo(JobState.SUCCEEDED);
        assertThat(executed(holder)).isEqualTo(JobState.SUCCEEDED);

        assertThat(Files.readAllLines(order)).as("the commands, in the order they ran").containsExactly("later",
                "holder");
    }

    /** A job of build {@code build} needing the only unit of a board, accepted now. */
    private String boardJob(int build) {
        PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null, false,
                null, Map.of("board", 1), Map.of("board", 1), null, null, 0));
        return store.accept(Plans.delivery("{\"build_id\": " + build + "}"), List.of(sharing)).jobIds().get(0);
    }

    /** Attempt {@code attempt} of the job cut short by its node's graceful stop, its units given back by that node. */
    private void stopped(String jobId, int attempt, String node) throws SQLException {
        assertThat(store.ledger().interruptByStop(jobId, attempt, new org.buildhook.runner.exec.JobOutcome(
                org.buildhook.runner.exec.JobOutcome.Result.FAILED, null, Instant.now(), Instant.now(),
                "stopped by the shutdown of " + node, null, false), "stopped by the shutdown of " + node)).isTrue();
        revive(jobId);
        store.resources().release(jobId, node);
    }

    /** The job's latest attempt recorded as of another host's boot, which no sweep of this node reaches. */
    private void markedOfAnotherHost(String jobId) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "UPDATE job_attempts SET boot_id = 'another-boot/pid:[4026531836]' WHERE job_id = ?")) {
            p.setString(1, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /** Returns once the store's clock (the system's) has passed {@code millis} by at least 2 ms. */
    private static void laterThan(long millis) {
        await().atMost(Duration.ofSeconds(10)).until(() -> System.currentTimeMillis() > millis + 2);
    }

    /**
     * The job picked by this node and run by the engine's {@link JobTask}; the job's state then. Not ended (its units
     * not taken), its execution is put back in the queue for a later try, as db-scheduler leaves it. A start refused
     * because more than three quarters of the test's 800 ms dead-node limit passed between this pick and the exec
     * ({@link CreationLease}: the pick here is never renewed, and a loaded machine takes that long) is picked and run
     * again, as a node's put-back job would be, at most 20 times.
     */
    private JobState executed(String jobId) throws Exception {
        JobState state;
        for (int tries = 1; ; tries++) {
            Execution picked = pick(jobId, Instant.now());
            complete(task.execute(picked.taskInstance, context(picked)));
            List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
            String last = attempts.isEmpty() ? "" : String.valueOf(attempts.get(attempts.size() - 1).message());
            if (tries < 20 && last.startsWith("not started: node " + NODE + " went on ")) {
                continue;
            }
            break;
        }
        state = store.job(jobId).orElseThrow().job().state();
        if (!state.isFinal()) {
            revive(jobId);
        }
        return state;
    }

    /** Attempt 1 of the job recorded as started by a node whose JVM is {@code jvm}, of this host. */
    private void ranUnder(String jobId, org.buildhook.runner.exec.ProcessIdentity jvm) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement("UPDATE job_attempts"
                + " SET node_pid = ?, node_started = ? WHERE job_id = ? AND attempt = 1")) {
            p.setLong(1, jvm.pid());
            p.setLong(2, jvm.startTicks());
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /**
     * units32 (tryout30 F1): each unit of a resource has a number, and the job's command is told which it holds. Two
     * jobs on lab boards of capacity 2 hold board 1 and board 2; the second's node goes silent (its attempt of another
     * host) and its job is revived; the first ends, board 1 free. Taken over by this node, the second takes board 2
     * again, the board its cut-short attempt was on, not the lowest free one, and its command is told so. Before,
     * units had no number and no variable said which a job held.
     */
    @Test
    void aJobCutShortTakesItsOwnUnitsAgainAndItsCommandIsToldWhichTheyAre() throws Exception {
        Path seen = dir.resolve("seen");
        Path script = Files.writeString(dir.resolve("board.sh"), "#!/bin/sh\necho \"board=$BUILDHOOK_RESOURCE_LAB_BOARDS\" > "
                + seen + "\n");
        String[] ids = new String[2];
        for (int i = 0; i < 2; i++) {
            PlannedJob sharing = Plans.job("sharing", List.of("/bin/sh", script.toString())).withWorkflow(
                    new JobWorkflow(null, null, false, null, Map.of("lab-boards", 1), Map.of("lab-boards", 2), null,
                            null, 0));
            ids[i] = store.accept(Plans.delivery("{\"build_id\": " + (i + 1) + "}"), List.of(sharing)).jobIds()
                    .get(0);
            String node = "node-" + (i + 1);
            Execution picked = pick(ids[i], Instant.now(), node);
            ResourceLedger.Acquired taken = store.resources().acquire(store.ledger().jobToRun(ids[i]).orElseThrow()
                    .job(), node, picked.version);
            assertThat(taken.take()).isEqualTo(ExecutionLedger.Take.TAKEN);
            assertThat(taken.units()).as("the units of job %d", i + 1).isEqualTo(Map.of("lab-boards", List.of(i + 1)));
            assertThat(store.ledger().startAttempt(ids[i], node, picked.version)).isEqualTo(1);
        }
        String second = ids[1];
        markedOfAnotherHost(second);
        revive(second);
        store.resources().release(ids[0], "node-1");

        assertThat(executed(second)).isEqualTo(JobState.SUCCEEDED);

        assertThat(Files.readString(seen).strip()).as("the board the second's command was told").isEqualTo("board=2");
    }

    /**
     * units32: a reload lowers lab boards from 3 to 2 while three jobs hold boards 1, 2 and 3. Board 3 stays held by
     * its job until it is given back, and is never given to a take: with board 1 given back, a new job waits (2 in
     * use of 2); with board 3 given back too, it takes board 1, and the next one, once board 2 is given back, board 2.
     */
    @Test
    void aUnitAboveALoweredCapacityIsHeldUntilGivenBackAndNeverTakenAgain() throws Exception {
        String[] ids = new String[3];
        for (int i = 0; i < 3; i++) {
            ids[i] = boardJob(i + 1, 3);
            Execution picked = pick(ids[i], Instant.now());
            assertThat(acquired(ids[i], picked.version).units()).isEqualTo(Map.of("board", List.of(i + 1)));
        }
        assertThat(store.resources().applyCapacities(Map.of("board", 2))).hasSize(1);
        store.resources().release(ids[0], NODE);
        String fourth = boardJob(4, 2);

        assertThat(acquired(fourth, pick(fourth, Instant.now()).version).take()).as("2 of 2 in use, board 3 among them")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        revive(fourth);
        store.resources().release(ids[2], NODE);
        assertThat(acquired(fourth, pick(fourth, Instant.now()).version).units()).isEqualTo(Map.of("board", List.of(1)));
        String fifth = boardJob(5, 2);
        store.resources().release(ids[1], NODE);
        assertThat(acquired(fifth, pick(fifth, Instant.now()).version).units()).isEqualTo(Map.of("board", List.of(2)));
    }

    /**
     * units32: eight jobs, each needing 1 of 8 lab boards, take their units at once from eight threads of two nodes
     * (on PostgreSQL in sessions of their own, serialised by the resource's lock; on SQLite by its one writer): each
     * gets a board of its own, 1 to 8, none twice. A job needing 2 of them then waits; with two given back it takes
     * exactly those two.
     */
    @Test
    void concurrentTakesFromTwoNodesNeverGiveOneUnitNumberToTwoJobs() throws Exception {
        List<String> ids = new ArrayList<>();
        List<Long> versions = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ids.add(boardJob(i + 1, 8));
            versions.add(pick(ids.get(i), Instant.now(), "node-" + (i % 2 + 1)).version);
        }
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<Future<ResourceLedger.Acquired>> takes = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String jobId = ids.get(i);
            long version = versions.get(i);
            String node = "node-" + (i % 2 + 1);
            takes.add(threads.submit(() -> {
                go.await();
                return store.resources().acquire(store.ledger().jobToRun(jobId).orElseThrow().job(), node, version);
            }));
        }
        go.countDown();
        List<Integer> numbers = new ArrayList<>();
        for (Future<ResourceLedger.Acquired> take : takes) {
            ResourceLedger.Acquired acquired = take.get(2, TimeUnit.MINUTES);
            assertThat(acquired.take()).isEqualTo(ExecutionLedger.Take.TAKEN);
            numbers.addAll(acquired.units().get("board"));
        }
        assertThat(numbers).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6, 7, 8);

        PlannedJob two = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null, false,
                null, Map.of("board", 2), Map.of("board", 8), null, null, 0));
        String pair = store.accept(Plans.delivery("{\"build_id\": 9}"), List.of(two)).jobIds().get(0);
        assertThat(acquired(pair, pick(pair, Instant.now()).version).take()).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        revive(pair);
        int holderOf3 = numbers.indexOf(3);
        int holderOf6 = numbers.indexOf(6);
        store.resources().release(ids.get(holderOf3), "node-" + (holderOf3 % 2 + 1));
        store.resources().release(ids.get(holderOf6), "node-" + (holderOf6 % 2 + 1));
        assertThat(acquired(pair, pick(pair, Instant.now()).version).units()).isEqualTo(Map.of("board", List.of(3, 6)));
    }

    /** A job of build {@code build} that needs 1 of a board of capacity {@code capacity}, accepted now. */
    private String boardJob(int build, int capacity) {
        PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null, false,
                null, Map.of("board", 1), Map.of("board", capacity), null, null, 0));
        return store.accept(Plans.delivery("{\"build_id\": " + build + "}"), List.of(sharing)).jobIds().get(0);
    }

    /** The job's units taken by this node under the pick at {@code version}, the job as the store has it now. */
    private ResourceLedger.Acquired acquired(String jobId, long version) {
        return store.resources().acquire(store.ledger().jobToRun(jobId).orElseThrow().job(), NODE, version);
    }

    /** A job that needs 1 of the board, accepted now. */
    private String laterJob() {
        PlannedJob later = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null, false,
                null, Map.of("board", 1), Map.of("board", 1), null, null, 0));
        return store.accept(Plans.delivery("{\"build_id\": 3}"), List.of(later)).jobIds().get(0);
    }

    /**
     * units32 L1, the give-back to a job ahead: two jobs hold boards 1 and 2 of 2, each under an attempt that records
     * them (V20); both revived, the capacity cut to 1, the second gives its board back and waits, its attempt ended.
     * With the first done and the capacity back to 2, the second takes its own board 2 again, not board 1, the lowest
     * free: its numbers were gone with its hold row. The attempt shows which board it held.
     */
    @Test
    void aJobThatGaveItsUnitsBackTakesTheNumbersItsAttemptHeldWhenTheyAreFree() throws Exception {
        String[] ids = recordedBoardHolders();
        // The second's node ran on another host: what its attempt left is that host's to end, not this take's.
        attemptOfBoot(ids[1], "another-boot");
        revive(ids[0]);
        revive(ids[1]);
        assertThat(store.resources().applyCapacities(Map.of("board", 1))).hasSize(1);
        assertThat(pickedAndTaken(ids[0])).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(pickedAndTaken(ids[1])).as("gives its board back to the first, ahead").isEqualTo(
                ExecutionLedger.Take.NOT_FREE);
        assertThat(store.job(ids[1]).orElseThrow().job().state()).isEqualTo(JobState.WAITING);
        store.resources().release(ids[0], "node-1");
        assertThat(store.resources().unitsInUse()).as("the first's board given back").doesNotContainKey("board");
        assertThat(store.resources().applyCapacities(Map.of("board", 2))).hasSize(1);

        assertThat(acquired(ids[1], pick(ids[1], Instant.now()).version).units()).isEqualTo(Map.of("board", List.of(2)));
        JobAttempt attempt = store.job(ids[1]).orElseThrow().attempts().get(0);
        assertThat(attempt.units()).isEqualTo(Map.of("board", List.of(2)));
        assertThat(attempt.unitsText()).isEqualTo("board 2");
    }

    /**
     * units32 L1, the single-host crash: the second job's node (a JVM of this host, gone) held board 2; the sweep
     * recorded its attempt's end and DeadNodeRelease freed its hold with its pick. With board 1 given back meanwhile,
     * its next take got board 1, the lowest free; it takes board 2, which its attempt held, again.
     */
    @Test
    void aJobWhoseDeadNodesUnitsWereFreedTakesTheNumbersItsAttemptHeldWhenTheyAreFree() throws Exception {
        String[] ids = recordedBoardHolders();
        Process gone = new ProcessBuilder("sleep", "60").start();
        org.buildhook.runner.exec.ProcessIdentity dead = org.buildhook.runner.exec.ProcessIdentity.of(gone.pid());
        gone.destroyForcibly().waitFor();
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement("UPDATE job_attempts"
                + " SET node_pid = ?, node_started = ?, outcome = ?, ended_at = ?, node_died = 1 WHERE job_id = ?")) {
            // As the sweep of its host records it: its JVM gone, what it left ended.
            p.setLong(1, dead.pid());
            p.setLong(2, dead.startTicks());
            p.setString(3, AttemptOutcome.INTERRUPTED.name());
            p.setLong(4, System.currentTimeMillis());
            p.setString(5, ids[1]);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        assertThat(store.deadNodes().release(org.buildhook.runner.exec.NodeIdentity.current()))
                .extracting(r -> r.jobId()).containsExactly(ids[1]);
        assertThat(store.resources().unitsInUse()).containsEntry("board", 1);
        store.resources().release(ids[0], "node-1");

        assertThat(acquired(ids[1], pick(ids[1], Instant.now()).version).units()).isEqualTo(Map.of("board", List.of(2)));
        // And a job that comes later gets the lowest free: board 1.
        String later = boardJob(3, 2);
        assertThat(acquired(later, pick(later, Instant.now()).version).units()).isEqualTo(Map.of("board", List.of(1)));
    }

    /**
     * V20 on a populated store of version 19: its attempts are kept, with no units (shown with none), and a job of
     * them cut short whose hold was freed takes the lowest free numbers, as before V20; an attempt started after the
     * upgrade records its units.
     */
    @Test
    void anUpgradeFromVersion19KeepsTheAttemptsWithoutUnitsAndTheirJobsTakeTheLowestFreeAsBefore() throws Exception {
        String[] ids = recordedBoardHolders();
        store.close();
        try (var c = java.sql.DriverManager.getConnection(config.url()); var s = c.createStatement()) {
            s.execute("ALTER TABLE job_attempts DROP COLUMN unit_numbers");
            s.execute("ALTER TABLE node_leases DROP COLUMN data_dir");
            s.execute("DROP INDEX jobs_run_idx");
            s.execute("DELETE FROM schema_version WHERE version >= 20");
        }
        store = Store.open(config);
        assertThat(store.job(ids[1]).orElseThrow().attempts()).singleElement()
                .satisfies(a -> assertThat(a.units()).isEmpty());

        revive(ids[1]);
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement("UPDATE job_attempts"
                + " SET outcome = ?, ended_at = ? WHERE job_id = ?")) {
            p.setString(1, AttemptOutcome.INTERRUPTED.name());
            p.setLong(2, System.currentTimeMillis());
            p.setString(3, ids[1]);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        store.resources().release(ids[1], "node-2");
        store.resources().release(ids[0], "node-1");
        Execution picked = pick(ids[1], Instant.now());
        ResourceLedger.Acquired again = acquired(ids[1], picked.version);

        assertThat(again.units()).as("no numbers recorded: the lowest free").isEqualTo(Map.of("board", List.of(1)));
        assertThat(store.ledger().startAttempt(ids[1], NODE, picked.version, ExecutionLedger.InARow.DEFAULT,
                again.units())).isEqualTo(2);
        assertThat(store.job(ids[1]).orElseThrow().attempts()).extracting(JobAttempt::units)
                .containsExactly(Map.of(), Map.of("board", List.of(1)));
    }

    /**
     * As {@link #boardHolders}, each attempt started recording the unit it took (V20), as {@link JobTask} starts it:
     * the first on {@code node-1} holds board 1, the second on {@code node-2} board 2.
     */
    private String[] recordedBoardHolders() throws Exception {
        String[] ids = new String[2];
        for (int i = 0; i < 2; i++) {
            ids[i] = boardJob(i + 1, 2);
            String node = "node-" + (i + 1);
            Execution picked = pick(ids[i], Instant.now(), node);
            ResourceLedger.Acquired taken = store.resources().acquire(store.ledger().jobToRun(ids[i]).orElseThrow()
                    .job(), node, picked.version);
            assertThat(taken.units()).isEqualTo(Map.of("board", List.of(i + 1)));
            assertThat(store.ledger().startAttempt(ids[i], node, picked.version, ExecutionLedger.InARow.DEFAULT,
                    taken.units())).isEqualTo(1);
        }
        return ids;
    }

    /**
     * Two jobs needing 1 of a board of capacity 2, each holding it under an attempt started on its node
     * ({@code node-1}, then {@code node-2}): the first took its unit first.
     */
    private String[] boardHolders() throws Exception {
        String[] ids = new String[2];
        for (int i = 0; i < 2; i++) {
            PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null,
                    false, null, Map.of("board", 1), Map.of("board", 2), null, null, 0));
            ids[i] = store.accept(Plans.delivery("{\"build_id\": " + (i + 1) + "}"), List.of(sharing)).jobIds()
                    .get(0);
            String node = "node-" + (i + 1);
            Execution picked = pick(ids[i], Instant.now(), node);
            assertThat(take(ids[i], node, picked.version)).isEqualTo(ExecutionLedger.Take.TAKEN);
            assertThat(store.ledger().startAttempt(ids[i], node, picked.version)).isEqualTo(1);
        }
        return ids;
    }

    /**
     * The job picked by this node, and its units taken; not taken, its execution put back in the queue for a later
     * try, as {@link JobTask} leaves it.
     */
    private ExecutionLedger.Take pickedAndTaken(String jobId) throws SQLException {
        ExecutionLedger.Take take = take(jobId, NODE, pick(jobId, Instant.now()).version);
        if (take != ExecutionLedger.Take.TAKEN) {
            revive(jobId);
        }
        return take;
    }

    /** The job's units taken on {@code node} under the pick at {@code version}, the job as the store has it now. */
    private ExecutionLedger.Take take(String jobId, String node, long version) {
        return store.resources().tryAcquire(store.ledger().jobToRun(jobId).orElseThrow().job(), node, version);
    }

    /** As {@link #aThreadWhosePickWasLostTakesNoSlotFromTheNodeThatTookTheJobOver}, for shared units. */
    @Test
    void aThreadWhosePickWasLostTakesNoUnitsFromTheNodeThatTookTheJobOver() throws Exception {
        Path ran = dir.resolve("ran");
        Path script = Files.writeString(dir.resolve("job.sh"), "#!/bin/sh\necho ran >> " + ran + "\n");
        PlannedJob sharing = Plans.job("sharing", List.of("/bin/sh", script.toString())).withWorkflow(
                new JobWorkflow(null, null, false, null, Map.of("board", 1), Map.of("board", 1), null, null, 0));
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(sharing)).jobIds().get(0);
        Job job = store.ledger().jobToRun(jobId).orElseThrow().job();
        Execution picked = pick(jobId, Instant.now());
        long taken = takeOver(jobId);
        assertThat(store.resources().tryAcquire(job, "node-b", taken)).isEqualTo(ExecutionLedger.Take.TAKEN);

        complete(task.execute(picked.taskInstance, context(picked)));

        assertThat(ran).as("the command run under a pick that was put back in the queue").doesNotExist();
        assertThat(holders("resource_holds", jobId)).as("the nodes holding the job's unit").containsExactly("node-b");
        assertThat(store.resources().unitsInUse()).containsEntry("board", 1);
    }

    /**
     * One look cannot tell a pick whose answer was lost from one whose answer reached the node just
     * now, after a slow commit, and whose thread is about to start it: a pick is put back in the
     * queue only when two looks, one heartbeat interval apart, find it stale at the same version.
     */
    @Test
    void aPickIsPutBackOnlyWhenTwoLooksFindItStaleAtTheSameVersion() throws Exception {
        String lost = accept("true");
        pick(lost, Instant.now().minusSeconds(5));
        String pickedAgain = store.accept(Plans.delivery("{\"build_id\": 2}"), List.of(Plans.job("lease",
                List.of("/bin/true")))).jobIds().get(0);
        pick(pickedAgain, Instant.now().minusSeconds(5));
        JobEngine engine = JobEngine.create(store, launcher, AbstractEngineTest.fast(NODE));
        Instant before = Instant.now().minusSeconds(1);

        assertThat(engine.stalePicks(Set.of(), before)).as("the first look").isEmpty();
        pick(pickedAgain, Instant.now().minusSeconds(5)); // released and picked again meanwhile: a new version
        assertThat(engine.stalePicks(Set.of(), before)).as("the second look").containsExactly(lost);
        assertThat(engine.stalePicks(Set.of(), before)).as("the third look").containsExactly(pickedAgain);
    }

    private static boolean waitsToEnter(Thread thread) {
        return thread != null && Arrays.stream(thread.getStackTrace()).anyMatch(
                f -> f.getClassName().equals(RunningJobs.class.getName()) && f.getMethodName().equals("enter"));
    }

    String accept(String body) throws IOException {
        Path script = Files.writeString(dir.resolve("job.sh"), "#!/bin/sh\n" + body + "\n");
        return store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("lease",
                List.of("/bin/sh", script.toString())))).jobIds().get(0);
    }

    /**
     * As db-scheduler's pick leaves the row: picked by the node, the version raised, and the
     * heartbeat of when the pick was asked for.
     */
    Execution pick(String jobId, Instant heartbeat) throws SQLException {
        return pick(jobId, heartbeat, NODE);
    }

    /** As {@link #pick(String, Instant)}, by {@code node}. */
    Execution pick(String jobId, Instant heartbeat, String node) throws SQLException {
        return pick(store, jobId, heartbeat, node);
    }

    /** As {@link #pick(String, Instant)}, by {@code node}, in {@code store}. */
    static Execution pick(Store store, String jobId, Instant heartbeat, String node) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection()) {
            try (var p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = ?, last_heartbeat = ?,"
                    + " version = version + 1 WHERE task_instance = ?")) {
                p.setBoolean(1, true);
                p.setString(2, node);
                JobQueue.customization(store.dialect()).setInstant(p, 3, heartbeat);
                p.setString(4, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            try (var p = c.prepareStatement("SELECT version FROM scheduled_tasks WHERE task_instance = ?")) {
                p.setString(1, jobId);
                try (var rs = p.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    return new Execution(Instant.now(), new TaskInstance<>(JobQueue.TASK_NAME, jobId), true, node,
                            null, null, 0, heartbeat, rs.getLong(1));
                }
            }
        }
    }

    /**
     * The job's execution revived as db-scheduler's dead-execution handling leaves it after its node's silence
     * ({@code OwnExecutionsKept}): put back in the queue, the version raised, its job untouched (still running).
     */
    private void revive(String jobId) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement("UPDATE scheduled_tasks"
                + " SET picked = ?, picked_by = NULL, last_heartbeat = NULL, version = version + 1"
                + " WHERE task_instance = ?")) {
            p.setBoolean(1, false);
            p.setString(2, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /**
     * The job's pick put back in the queue and picked by node-b, as db-scheduler leaves the row (the
     * version raised by the release and by the pick); returns node-b's version.
     */
    private long takeOver(String jobId) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection()) {
            try (var p = c.prepareStatement("UPDATE scheduled_tasks SET picked_by = ?, version = version + 2"
                    + " WHERE task_instance = ?")) {
                p.setString(1, "node-b");
                p.setString(2, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            try (var p = c.prepareStatement("SELECT version FROM scheduled_tasks WHERE task_instance = ?")) {
                p.setString(1, jobId);
                try (var rs = p.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    return rs.getLong(1);
                }
            }
        }
    }

    /** The nodes holding a slot ({@code rule_slots}) or units ({@code resource_holds}) for the job. */
    private List<String> holders(String table, String jobId) throws SQLException {
        List<String> nodes = new ArrayList<>();
        try (var c = store.schedulerDataSource().getConnection();
                var p = c.prepareStatement("SELECT node FROM " + table + " WHERE job_id = ?")) {
            p.setString(1, jobId);
            try (var rs = p.executeQuery()) {
                while (rs.next()) {
                    nodes.add(rs.getString(1));
                }
            }
        }
        return nodes;
    }

    static ExecutionContext context(Execution picked) {
        return new ExecutionContext(null, picked, null, null);
    }

    /** What db-scheduler does after the task returns; its queue operations are not what is tested here. */
    @SuppressWarnings("unchecked")
    static void complete(CompletionHandler<Void> handler) throws Exception {
        handler.complete(mock(ExecutionComplete.class), mock(ExecutionOperations.class));
    }

    /** A hold for a {@link HeldLauncher}: counts {@code held} down, then waits for {@code go} (an event, not a time). */
    static Runnable holdUntil(java.util.concurrent.CountDownLatch held, java.util.concurrent.CountDownLatch go) {
        return () -> {
            held.countDown();
            try {
                go.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    /** The engine's own {@link JobTask} of node {@code node}, with {@code launcher}, the fast engine config and {@code jobs}. */
    JobTask nodeTask(org.buildhook.runner.exec.JobLauncher launcher, String node, RunningJobs jobs) {
        return new JobTask(store, launcher, AbstractEngineTest.fast(node), jobs, Clock.systemUTC(), JobEvents.NONE,
                new LeftoverSweep(store.ledger(), node), () -> { }, Runnable::run, () -> null);
    }
}
