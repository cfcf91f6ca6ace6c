package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import com.github.kagkarlsson.scheduler.jdbc.PostgreSqlJdbcCustomization;
import com.github.kagkarlsson.scheduler.task.SchedulableInstance;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.github.kagkarlsson.scheduler.task.TaskInstanceId;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import java.io.PrintWriter;
import java.sql.Connection;
import java.time.Instant;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Puts jobs into db-scheduler's {@code scheduled_tasks} table inside the caller's transaction.
 *
 * <p>db-scheduler's {@link SchedulerClient} takes a {@link DataSource}; it commits only when it
 * finds auto-commit on, and its built-in client never does ({@code commitWhenAutocommitDisabled}
 * is false). So the client here is given a data source that hands out the connection of the
 * transaction running on this thread, with {@code close()} disabled — the same pattern as Spring's
 * {@code TransactionAwareDataSourceProxy}, which db-scheduler documents for transactional
 * scheduling. The execution row therefore commits or rolls back with the delivery and job rows.
 */
public final class JobQueue {

    /** The db-scheduler task name of buildhook jobs; the task instance id is the job id. */
    public static final String TASK_NAME = "buildhook-job";

    private final ThreadLocal<Connection> bound = new ThreadLocal<>();
    private final SchedulerClient client;
    private final JdbcCustomization customization;

    JobQueue(Dialect dialect) {
        this.customization = customization(dialect);
        this.client = SchedulerClient.Builder
                .create(new BoundDataSource(), Tasks.oneTime(TASK_NAME).execute((instance, context) -> { }))
                .jdbcCustomization(customization)
                .build();
    }

    /** The customization the scheduler must use too, so both write timestamps the same way. */
    public static JdbcCustomization customization(Dialect dialect) {
        return dialect == Dialect.POSTGRESQL ? new PostgreSqlJdbcCustomization(false, true)
                : new SqliteJdbcCustomization();
    }

    /** Schedules job {@code jobId} at {@code when} in the transaction of {@code connection}. */
    void schedule(Connection connection, String jobId, Instant when) {
        withConnection(connection, () -> {
            boolean added = client.schedule(SchedulableInstance.of(new TaskInstance<Void>(TASK_NAME, jobId), when),
                    SchedulerClient.ScheduleOptions.WHEN_EXISTS_DO_NOTHING);
            if (!added) {
                throw new IllegalStateException("job " + jobId + " was already scheduled");
            }
        });
    }

    /** Removes the pending execution of {@code jobId}, if there is one and it is not running. */
    boolean cancel(Connection connection, String jobId) {
        boolean[] done = {false};
        withConnection(connection, () -> {
            TaskInstanceId id = TaskInstanceId.of(TASK_NAME, jobId);
            client.getScheduledExecution(id).filter(e -> !e.isPicked()).ifPresent(e -> {
                client.cancel(id);
                done[0] = true;
            });
        });
        return done[0];
    }

    private void withConnection(Connection connection, Runnable action) {
        bound.set(connection);
        try {
            action.run();
        } finally {
            bound.remove();
        }
    }

    /** Hands out this thread's transaction connection; closing it is left to the transaction's owner. */
    private final class BoundDataSource implements DataSource {

        @Override
        public Connection getConnection() {
            Connection c = bound.get();
            if (c == null) {
                throw new IllegalStateException("JobQueue used outside a store transaction");
            }
            return Unclosable.of(c);
        }

        @Override
        public Connection getConnection(String username, String password) {
            return getConnection();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
            // no log writer
        }

        @Override
        public void setLoginTimeout(int seconds) {
            // not applicable
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getLogger("org.buildhook.runner.store");
        }

        @Override
        public <T> T unwrap(Class<T> iface) {
            throw new UnsupportedOperationException("unwrap");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
