package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.SystemClock;
import com.github.kagkarlsson.scheduler.TaskResolver;
import com.github.kagkarlsson.scheduler.event.SchedulerListeners;
import com.github.kagkarlsson.scheduler.jdbc.JdbcTaskRepository;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.ExecutionOperations;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * db-scheduler hands {@link OwnExecutionsKept} the dead executions it read at its look; the row of one can change
 * before the handler puts it back: its own node's job thread handed it back after waiting for the store, or another
 * node revived or took it first (chaos32 F1: a PostgreSQL restart; the node's job thread and its dead-execution look
 * 3 ms apart). The handler's reschedule then updated no row, and db-scheduler logged {@code ERROR Failed while
 * handling dead execution … Expected one execution to be updated, but updated 0. Indicates a bug.} with a stack
 * trace. Real store and db-scheduler's own repository; the change "meanwhile" is made in SQL between the read and
 * the handler, as the race leaves it.
 */
class DeadExecutionHandledMeanwhileTest {

    @TempDir
    Path dir;

    private final Logger logger = (Logger) LoggerFactory.getLogger(OwnExecutionsKept.class);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void listen() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void stopListening() {
        logger.detachAppender(log);
    }

    @Test
    void aDeadExecutionPutBackMeanwhileIsLeftAsItIsOnPostgres() throws Exception {
        putBackMeanwhileIsLeftAsItIs(TestStores.postgres(dir.resolve("data")));
    }

    @Test
    void aDeadExecutionPutBackMeanwhileIsLeftAsItIsOnSqlite() throws Exception {
        putBackMeanwhileIsLeftAsItIs(TestStores.sqlite(dir.resolve("data")));
    }

    @Test
    void aDeadExecutionStillAsReadIsPutBackOnPostgres() throws Exception {
        stillAsReadIsPutBack(TestStores.postgres(dir.resolve("data")));
    }

    private void putBackMeanwhileIsLeftAsItIs(StoreConfig config) throws Exception {
        try (Store store = Store.open(config)) {
            String job = accepted(store);
            Execution seen = pick(store, job, "node-a", Instant.now().minus(Duration.ofHours(1)));
            long handedBack = handBack(store, job);

            assertThatCode(() -> new OwnExecutionsKept("node-a", new RunningJobs())
                    .deadExecution(ExecutionComplete.failure(seen, Instant.now(), Instant.now(), null),
                            operations(store, seen)))
                    .doesNotThrowAnyException();

            assertThat(row(store, job)).isEqualTo("false/null/" + handedBack);
            assertThat(messages()).anyMatch(m -> m.contains("job " + job + ": picked by node-a with no heartbeat since")
                    && m.contains("its queue entry changed before this node could put it back"));
            assertThat(messages()).noneMatch(m -> m.contains("put back in the queue in its place"));
        }
    }

    private void stillAsReadIsPutBack(StoreConfig config) throws Exception {
        try (Store store = Store.open(config)) {
            String job = accepted(store);
            Execution seen = pick(store, job, "node-c", Instant.now().minus(Duration.ofHours(1)));

            new OwnExecutionsKept("node-a", new RunningJobs())
                    .deadExecution(ExecutionComplete.failure(seen, Instant.now(), Instant.now(), null),
                            operations(store, seen));

            assertThat(row(store, job)).isEqualTo("false/null/" + (seen.version + 1));
            assertThat(messages()).anyMatch(m -> m.contains("job " + job + ": its node node-c is taken for dead"));
        }
    }

    private static String accepted(Store store) {
        return store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("theirs", List.of("/bin/true"))))
                .jobIds().get(0);
    }

    /** db-scheduler's real operations on the store's scheduler pool, as its dead-execution look hands them over. */
    private static ExecutionOperations<Void> operations(Store store, Execution seen) {
        SystemClock clock = new SystemClock();
        JdbcTaskRepository repository = new JdbcTaskRepository(store.schedulerDataSource(), false,
                JobQueue.customization(store.dialect()), "scheduled_tasks",
                new TaskResolver(SchedulerListeners.NOOP, clock, List.of()), new SchedulerName.Fixed("node-a"), false,
                clock);
        return new ExecutionOperations<>(repository, SchedulerListeners.NOOP, seen);
    }

    /** The job's execution picked by {@code node} with that last heartbeat; returned as the look read it. */
    private static Execution pick(Store store, String job, String node, Instant heartbeat) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection()) {
            try (var p = c.prepareStatement("UPDATE scheduled_tasks SET picked = ?, picked_by = ?, last_heartbeat = ?,"
                    + " version = version + 1 WHERE task_instance = ?")) {
                p.setBoolean(1, true);
                p.setString(2, node);
                JobQueue.customization(store.dialect()).setInstant(p, 3, heartbeat);
                p.setString(4, job);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            try (var p = c.prepareStatement("SELECT version, execution_time FROM scheduled_tasks"
                    + " WHERE task_instance = ?")) {
                p.setString(1, job);
                try (var rs = p.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    return new Execution(Instant.now().minusSeconds(1), new TaskInstance<>(JobQueue.TASK_NAME, job),
                            true, node, null, null, 0, heartbeat, rs.getLong(1));
                }
            }
        }
    }

    /** What the job's own thread (or another node) did between the look and the handler: put back, version raised. */
    private static long handBack(Store store, String job) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement("UPDATE scheduled_tasks"
                + " SET picked = ?, picked_by = NULL, last_heartbeat = NULL, version = version + 1"
                + " WHERE task_instance = ?")) {
            p.setBoolean(1, false);
            p.setString(2, job);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        return Long.parseLong(row(store, job).split("/")[2]);
    }

    /** picked/picked_by/version of the job's execution. */
    private static String row(Store store, String job) throws SQLException {
        try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                "SELECT picked, picked_by, version FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, job);
            try (var rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getBoolean(1) + "/" + rs.getString(2) + "/" + rs.getLong(3);
            }
        }
    }

    private List<String> messages() {
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }
}
