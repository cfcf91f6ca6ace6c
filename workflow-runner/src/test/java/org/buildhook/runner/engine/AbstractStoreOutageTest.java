package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyMap;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.atLeast;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doReturn;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.spy;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Dialect;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.stubbing.Stubber;
import org.mockito.verification.VerificationMode;
import org.slf4j.LoggerFactory;

/**
 * A store outage met by one step of a job, injected at that step (a Mockito spy of the real ledger
 * over a real database; the commands are real processes): the job waits for the store, runs
 * exactly once, and its outcome is recorded.
 */
abstract class AbstractStoreOutageTest {

    @TempDir
    Path dir;
    Store store;
    ExecutionLedger ledger;
    Store storeWithOutages;
    SwitchableDataSource schedulerData;
    CommonsExecLauncher launcher;
    JobEngine engine;
    private final AtomicBoolean startMet = new AtomicBoolean();

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
        ledger = spy(store.ledger());
        storeWithOutages = spy(store);
        doReturn(ledger).when(storeWithOutages).ledger();
        // db-scheduler's own connections (picks, heartbeats, remove/reschedule) go through this one.
        schedulerData = new SwitchableDataSource(store.schedulerDataSource());
        doReturn(schedulerData).when(storeWithOutages).schedulerDataSource();
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        // Not started: each test injects its outage first (stubbing a spy other threads call is unsafe).
        engine = JobEngine.create(storeWithOutages, launcher, AbstractEngineTest.fast("node-a"));
    }

    @AfterEach
    void close() {
        // Nothing was opened when the store could not be (PostgreSQL not configured off CI: skipped).
        if (engine != null) {
            engine.stop();
        }
        if (store != null) {
            store.close();
        }
        if (launcher != null) {
            launcher.close();
        }
    }

    /**
     * Stubs the ledger's step that starts a job's attempt: on PostgreSQL the read that starts a first
     * attempt in the same statement ({@link ExecutionLedger#jobToStart}), on SQLite the start itself.
     */
    private void whenStarting(Stubber stubber) {
        if (store.dialect() == Dialect.POSTGRESQL) {
            stubber.when(ledger).jobToStart(anyString(), anyString(), anyLong());
        } else {
            stubber.when(ledger).startAttempt(anyString(), anyString(), anyLong(),
                    any(ExecutionLedger.InARow.class), anyMap());
        }
    }

    /** Checks the step {@link #whenStarting} stubs was called for {@code jobId} as {@code mode} says. */
    private void verifyStarts(VerificationMode mode, String jobId) {
        if (store.dialect() == Dialect.POSTGRESQL) {
            verify(ledger, mode).jobToStart(eq(jobId), eq("node-a"), anyLong());
        } else {
            verify(ledger, mode).startAttempt(eq(jobId), eq("node-a"), anyLong(), any(ExecutionLedger.InARow.class),
                    anyMap());
        }
    }

    /** Stubs the job thread's first read of a job (on PostgreSQL the read that may start it). */
    private void whenReading(Stubber stubber) {
        if (store.dialect() == Dialect.POSTGRESQL) {
            stubber.when(ledger).jobToStart(anyString(), anyString(), anyLong());
        } else {
            stubber.when(ledger).jobToRun(anyString());
        }
    }

    static StoreUnavailableException outage() {
        return new StoreUnavailableException("store unavailable (injected)",
                new SQLTransientConnectionException("Connection is not available (injected)"));
    }

    /** A job whose command appends one line to {@code runs} each time it runs. */
    String acceptCountingJob(Path runs) throws IOException {
        Path script = Files.writeString(dir.resolve("count.sh"), "#!/bin/sh\necho run >> " + runs + "\n");
        return store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("counted", List.of("/bin/sh", script.toString())))).jobIds().get(0);
    }

    JobDetail awaitFinal(String jobId) {
        await().atMost(Duration.ofSeconds(30)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        return store.job(jobId).orElseThrow();
    }

    int executions() throws java.sql.SQLException {
        try (var c = store.dataSource().getConnection(); var p = c.prepareStatement("SELECT COUNT(*) FROM scheduled_tasks");
             var rs = p.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aJobWhoseStartMeetsAStoreOutageRunsOnceWhenTheStoreAnswersAgain() throws Exception {
        whenStarting(doThrow(outage(), outage(), outage()).doCallRealMethod());
        engine.start();
        Path runs = dir.resolve("runs");

        String jobId = acceptCountingJob(runs);
        JobDetail done = awaitFinal(jobId);

        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
        verifyStarts(times(4), jobId);
        await().atMost(Duration.ofSeconds(20)).until(() -> executions() == 0);
        // The execution is gone, so nothing can run the command again.
        assertThat(Files.readAllLines(runs)).containsExactly("run");
    }

    @Test
    void aJobWhoseFirstReadMeetsAStoreOutageRunsOnceWhenTheStoreAnswersAgain() throws Exception {
        whenReading(doThrow(outage(), outage()).doCallRealMethod());
        engine.start();
        Path runs = dir.resolve("runs");

        String jobId = acceptCountingJob(runs);
        JobDetail done = awaitFinal(jobId);

        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
        await().atMost(Duration.ofSeconds(20)).until(() -> executions() == 0);
        assertThat(Files.readAllLines(runs)).containsExactly("run");
    }

    @Test
    void anOutcomeThatMeetsAStoreOutageIsRecordedWhenTheStoreAnswersAndTheCommandDoesNotRunAgain() throws Exception {
        doThrow(outage(), outage(), outage()).doCallRealMethod().when(ledger)
                .finishAttempt(anyString(), anyInt(), any(), any(), anyLong(), any());
        engine.start();
        Path runs = dir.resolve("runs");

        String jobId = acceptCountingJob(runs);
        JobDetail done = awaitFinal(jobId);

        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.job().exitCode()).isZero();
        assertThat(done.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
        verify(ledger, times(4)).finishAttempt(eq(jobId), eq(1), any(), eq(JobState.SUCCEEDED), anyLong(), any());
        await().atMost(Duration.ofSeconds(20)).until(() -> executions() == 0);
        assertThat(Files.readAllLines(runs)).containsExactly("run");
    }

    @Test
    void aStoppingEngineStopsWaitingForTheStoreAndLeavesTheJobQueued() throws Exception {
        whenStarting(doThrow(outage()));
        engine.start();
        Path runs = dir.resolve("runs");
        String jobId = acceptCountingJob(runs);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> verifyStarts(atLeast(2), jobId));

        // db-scheduler would interrupt only after shutdownGrace + 15 s (20 s here): the stop itself ends the wait.
        assertTimeoutPreemptively(Duration.ofSeconds(15), engine::stop);

        assertThat(runs).doesNotExist();
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
        assertThat(executions()).as("the execution stays, for the next start").isEqualTo(1);
    }
    @Test
    void aWaitBeforeTheCommandThatOutlastsHalfTheDeadLimitHandsTheJobBackAndItRunsOnce() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobTask.class)).addAppender(log);
        try {
            // The outage starts at the job's start and reaches db-scheduler too, so its heartbeats stop.
            whenStarting(doAnswer(call -> {
                if (schedulerData.down.get() || !startMet.getAndSet(true)) {
                    schedulerData.down.set(true);
                    throw outage();
                }
                return call.callRealMethod();
            }));
            engine.start();
            Path runs = dir.resolve("runs");
            String jobId = acceptCountingJob(runs);

            // Dead limit 4 x 200 ms: past 400 ms without a heartbeat the job must not start its command.
            await().atMost(Duration.ofSeconds(20)).until(() -> copied(log).stream()
                    .anyMatch(e -> e.getFormattedMessage().contains("handing its execution back")));
            assertThat(runs).doesNotExist();
            schedulerData.down.set(false);
            JobDetail done = awaitFinal(jobId);

            assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(done.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
            await().atMost(Duration.ofSeconds(20)).until(() -> executions() == 0);
            assertThat(Files.readAllLines(runs)).containsExactly("run");
        } finally {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobTask.class)).detachAppender(log);
        }
    }

    /**
     * review11 F2: a job handed back to the queue before its command (its heartbeat too old) whose
     * queue update then waits for the store. Nothing of it is lost if the wait gives up (its execution
     * stays picked by this node, for the next start), so a stop must not wait its whole grace period for
     * it, as it does for an attempt's outcome: with the store away and a grace of 10 minutes, the stop
     * would last 10 minutes.
     */
    @Test
    void aStopDoesNotWaitItsGraceForAJobWhoseCommandDidNotRun() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(StoreOutageWait.class)).addAppender(log);
        try {
            engine.stop(); // never started: one with a grace longer than any test instead
            engine = JobEngine.create(storeWithOutages, launcher,
                    AbstractEngineTest.fast("node-a").withShutdownGrace(Duration.ofMinutes(10)));
            // The outage starts at the job's start and reaches db-scheduler, so its heartbeats stop and its
            // hand-back (a reschedule on db-scheduler's connections) waits for the store.
            whenStarting(doAnswer(call -> {
                schedulerData.down.set(true);
                throw outage();
            }));
            engine.start();
            Path runs = dir.resolve("runs");
            String jobId = acceptCountingJob(runs);
            await().atMost(Duration.ofSeconds(20)).until(() -> copied(log).stream()
                    .anyMatch(e -> e.getFormattedMessage().contains("while trying to update its queue entry")));

            assertTimeoutPreemptively(Duration.ofSeconds(30), engine::stop);

            assertThat(runs).doesNotExist();
            schedulerData.down.set(false);
            assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
            assertThat(executions()).as("the execution stays, for the next start").isEqualTo(1);
        } finally {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(StoreOutageWait.class)).detachAppender(log);
        }
    }

    /**
     * Issue 12 §2: the store (db-scheduler's heartbeats included) away for longer than the dead-node
     * limit while a command's outcome waits to be recorded. When the store answers, this node's own
     * execution looks dead; it must not be revived here and run again: the outcome is recorded once.
     */
    @Test
    void anOutcomeWaitingLongerThanTheDeadNodeLimitIsNotRunAgainByItsOwnNode() throws Exception {
        AtomicBoolean recordable = new AtomicBoolean();
        AtomicBoolean outageBegun = new AtomicBoolean();
        doAnswer(call -> {
            if (!recordable.get()) {
                if (!outageBegun.getAndSet(true)) {
                    schedulerData.down.set(true); // db-scheduler's heartbeats fail from now on
                }
                throw outage();
            }
            return call.callRealMethod();
        }).when(ledger).finishAttempt(anyString(), anyInt(), any(), any(), anyLong(), any());
        engine.start();
        Path runs = dir.resolve("runs");
        String jobId = acceptCountingJob(runs);
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(runs) && schedulerData.down.get());

        Thread.sleep(2000); // the outage: 2.5 × the dead-node limit (4 × 200 ms); not a synchronisation
        schedulerData.down.set(false);
        // Heartbeats and dead-execution detection run again (every 200 ms): nothing may start the job.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
                .until(() -> Files.readAllLines(runs).size() == 1);
        recordable.set(true);
        JobDetail done = awaitFinal(jobId);

        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
        await().atMost(Duration.ofSeconds(20)).until(() -> executions() == 0);
        assertThat(Files.readAllLines(runs)).containsExactly("run");
    }

    /**
     * review52 F5: a failure after the outcome's record committed (here the wake of a renamed rule's line, which runs
     * after it) is no refusal of that record: it was said "the store refused to record it" and "another node ended
     * the job", both untrue, and the job's queue entry was left picked, by a node alive, until dead-node handling.
     */
    @Test
    void aFailureAfterTheOutcomesRecordIsNotTakenForARefusal() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobTask.class)).addAppender(log);
        try {
            doThrow(new org.buildhook.runner.RunnerException("injected after the record")).doCallRealMethod()
                    .when(ledger).wakeRenamedLines(anyString(), anyString(), any());
            engine.start();
            Path runs = dir.resolve("runs");
            String jobId = acceptCountingJob(runs);
            JobDetail done = awaitFinal(jobId);

            assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(done.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(copied(log))
                    .extracting(ILoggingEvent::getFormattedMessage).as("said as what it is")
                    .anyMatch(m -> m.contains("its outcome is recorded (SUCCEEDED), but a step after that record"
                            + " failed")));
            assertThat(copied(log)).extracting(ILoggingEvent::getFormattedMessage).as("no untrue words")
                    .noneMatch(m -> m.contains("refused to record") || m.contains("another node ended"));
            await().atMost(Duration.ofSeconds(20)).until(() -> executions() == 0);
            assertThat(Files.readAllLines(runs)).containsExactly("run");
        } finally {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobTask.class)).detachAppender(log);
        }
    }

    /** What {@code log} holds so far: copied under its lock, which logback appends under (no CME while threads log). */
    private static List<ILoggingEvent> copied(ListAppender<ILoggingEvent> log) {
        synchronized (log) {
            return List.copyOf(log.list);
        }
    }
}
