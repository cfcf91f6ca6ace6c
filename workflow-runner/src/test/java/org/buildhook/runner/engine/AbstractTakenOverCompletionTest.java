package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.github.kagkarlsson.scheduler.exceptions.ExecutionException;
import com.github.kagkarlsson.scheduler.task.CompletionHandler;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.ExecutionContext;
import com.github.kagkarlsson.scheduler.task.ExecutionOperations;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * chaos31 L1: a node paused past the dead-node limit while its command ended by itself; another node took the job
 * over (put its execution back in the queue and picked it, or ended the job and removed it); the woken node recorded
 * the command's end, and db-scheduler's remove or reschedule of the pick it had lost failed with an ERROR "Expected
 * one execution to be removed, but removed 0. Indicates a bug." and a stack trace. The takeover is done here as the
 * other node leaves the queue entry, under a job the engine of node-a runs against the real store, with a real
 * process; run on SQLite and PostgreSQL.
 */
abstract class AbstractTakenOverCompletionTest {

    @TempDir
    Path dir;
    Store store;
    JobEngine engine;
    private final List<CommonsExecLauncher> launchers = new ArrayList<>();
    private final ListAppender<ILoggingEvent> library = new ListAppender<>();
    private final ListAppender<ILoggingEvent> task = new ListAppender<>();

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        library.start();
        task.start();
        ((Logger) LoggerFactory.getLogger("com.github.kagkarlsson")).addAppender(library);
        ((Logger) LoggerFactory.getLogger(JobTask.class)).addAppender(task);
        store = Store.open(config(dir.resolve("data")));
        engine = JobEngine.create(store, launcher(), AbstractEngineTest.steady("node-a"));
        engine.start();
    }

    @AfterEach
    void close() {
        try {
            if (engine != null) {
                engine.stop();
            }
            if (store != null) {
                store.close();
            }
            launchers.forEach(CommonsExecLauncher::close);
        } finally {
            ((Logger) LoggerFactory.getLogger("com.github.kagkarlsson")).detachAppender(library);
            ((Logger) LoggerFactory.getLogger(JobTask.class)).detachAppender(task);
        }
    }

    private CommonsExecLauncher launcher() {
        CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        launchers.add(launcher);
        return launcher;
    }

    /** The job ended there: the other node removed its queue entry; this node's command then ends by itself (0). */
    @Test
    void aJobWhoseQueueEntryAnotherNodeRemovedIsSaidInOneLineWithoutTheLibrarysError() throws Exception {
        Path go = dir.resolve("go");
        String jobId = running(go, 0, 0);

        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "DELETE FROM scheduled_tasks WHERE task_name = ? AND task_instance = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setString(2, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        Files.createFile(go);

        List<ILoggingEvent> said = saidOrFailed(jobId);
        assertThat(libraryErrors()).as("db-scheduler's ERRORs").isEmpty();
        assertThat(said).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getThrowableProxy()).isNull();
            assertThat(e.getFormattedMessage()).startsWith("job " + jobId + ": its queue entry was removed by another"
                    + " node meanwhile (the job ended there). A node takes a job over only once no heartbeat of node"
                    + " node-a was seen for longer than the dead-node limit (10s: this node paused or stalled, or cut"
                    + " off from the store)");
        });
        assertThat(store.job(jobId).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                .containsExactly(AttemptOutcome.SUCCEEDED);
    }

    /**
     * Another node picked the job (a later version, picked by node-b); this node's command fails with a retry left,
     * and its reschedule for the retry failed ("Expected one execution to be updated, but updated 0").
     */
    @Test
    void aRetryOfAJobAnotherNodePickedMeanwhileIsSaidInOneLineNamingThatNode() throws Exception {
        Path go = dir.resolve("go");
        String jobId = running(go, 3, 1);

        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement("UPDATE scheduled_tasks"
                + " SET picked = ?, picked_by = ?, last_heartbeat = ?, version = version + 1 WHERE task_name = ?"
                + " AND task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, "node-b");
            JobQueue.customization(store.dialect()).setInstant(p, 3, Instant.now());
            p.setString(4, JobQueue.TASK_NAME);
            p.setString(5, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        Files.createFile(go);

        List<ILoggingEvent> said = saidOrFailed(jobId);
        assertThat(libraryErrors()).as("db-scheduler's ERRORs").isEmpty();
        assertThat(said).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getThrowableProxy()).isNull();
            assertThat(e.getFormattedMessage()).startsWith("job " + jobId + ": its execution was taken over by node"
                    + " node-b meanwhile. A node takes a job over only once no heartbeat of node node-a was seen");
        });
        assertThat(pickedBy(jobId)).as("the queue entry node-b holds").isEqualTo("node-b");
    }

    /**
     * Not hidden: a reschedule that fails while the queue entry is still at the version this node picked (no other node
     * touched it) goes on to db-scheduler as before, with no line about a takeover.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aFailedCompletionOfAPickNobodyTookOverIsNotSaidToBeATakeover() throws Exception {
        engine.stop();
        engine = null;
        RunningJobs running = new RunningJobs();
        JobTask jobs = new JobTask(store, launcher(), AbstractEngineTest.steady("node-a"), running, Clock.systemUTC(),
                JobEvents.NONE, new LeftoverSweep(store.ledger(), "node-a"), () -> { }, Runnable::run, () -> null);
        // A failure with a retry left: db-scheduler reschedules it (a final state removes it with its record).
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("lost",
                List.of("/bin/false"), Map.of(), 1, Duration.ofSeconds(30), 0))).jobIds().get(0);
        Execution picked = pick(jobId);
        CompletionHandler<Void> next = jobs.execute(picked.taskInstance, new ExecutionContext(null, picked, null,
                null));
        ExecutionComplete complete = mock(ExecutionComplete.class);
        when(complete.getExecution()).thenReturn(picked);
        ExecutionOperations<Void> operations = mock(ExecutionOperations.class);
        ExecutionException fault = new ExecutionException("Expected one execution to be updated, but updated 0."
                + " Indicates a bug.", picked);
        doThrow(fault).when(operations).reschedule(org.mockito.ArgumentMatchers.any(),
                org.mockito.ArgumentMatchers.any(Instant.class));

        assertThatThrownBy(() -> next.complete(complete, operations)).isSameAs(fault);
        assertThat(task.list).noneMatch(e -> e.getFormattedMessage().contains("meanwhile. A node takes a job over"));
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
    }

    /** As db-scheduler's pick leaves the row: picked by node-a, the version raised. */
    private Execution pick(String jobId) throws SQLException {
        Instant now = Instant.now();
        try (var c = store.schedulerDataSource().getConnection()) {
            try (var p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = ?, last_heartbeat = ?,"
                    + " version = version + 1 WHERE task_instance = ?")) {
                p.setBoolean(1, true);
                p.setString(2, "node-a");
                JobQueue.customization(store.dialect()).setInstant(p, 3, now);
                p.setString(4, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            try (var p = c.prepareStatement("SELECT version FROM scheduled_tasks WHERE task_instance = ?")) {
                p.setString(1, jobId);
                try (var rs = p.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    return new Execution(now, new TaskInstance<>(JobQueue.TASK_NAME, jobId), true, "node-a", null,
                            null, 0, now, rs.getLong(1));
                }
            }
        }
    }

    /**
     * A job whose command waits for {@code go}, then exits {@code exit}, with {@code retries}, running on node-a
     * under its pick.
     */
    private String running(Path go, int exit, int retries) throws Exception {
        Path started = dir.resolve("started");
        Path script = Files.writeString(dir.resolve("job.sh"), "#!/bin/sh\necho $$ > " + started + "\nwhile [ ! -f "
                + go + " ]; do sleep 0.05; done\nexit " + exit + "\n");
        PlannedJob job = Plans.job("taken", List.of("/bin/sh", script.toString()), Map.of(), retries,
                Duration.ofMillis(100), 0);
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(job)).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(started) && "node-a".equals(pickedBy(jobId)));
        return jobId;
    }

    /** The node that has the job's queue entry picked, or null. */
    private String pickedBy(String jobId) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "SELECT picked_by FROM scheduled_tasks WHERE task_name = ? AND task_instance = ? AND picked = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setString(2, jobId);
            p.setBoolean(3, true);
            try (var rs = p.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Waits for node-a's line about the takeover, or for db-scheduler's ERROR instead; returns the lines. */
    private List<ILoggingEvent> saidOrFailed(String jobId) {
        await().atMost(Duration.ofSeconds(30)).until(() -> !libraryErrors().isEmpty() || !takeovers(jobId).isEmpty());
        return takeovers(jobId);
    }

    private List<ILoggingEvent> takeovers(String jobId) {
        synchronized (task) {
            return task.list.stream().filter(e -> e.getFormattedMessage().startsWith("job " + jobId + ": its")
                    && e.getFormattedMessage().contains("meanwhile")).toList();
        }
    }

    private List<ILoggingEvent> libraryErrors() {
        synchronized (library) {
            return library.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR)).toList();
        }
    }
}
