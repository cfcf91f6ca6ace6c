package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import com.github.kagkarlsson.scheduler.jdbc.PostgreSqlJdbcCustomization;
import com.github.kagkarlsson.scheduler.task.TaskInstanceId;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Puts jobs into db-scheduler's {@code scheduled_tasks} table inside the caller's transaction.
 *
 * <p>Scheduling is one {@code INSERT} of the row db-scheduler's client writes (see
 * {@link #schedule}); cancelling goes through the client. db-scheduler's {@link SchedulerClient} takes a {@link DataSource}; it commits only when it
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

    /**
     * Schedules job {@code jobId} at {@code when} in the transaction of {@code connection}: one
     * {@code INSERT} of the row db-scheduler's client would write (no task data, not picked,
     * version 1, the time as the scheduler's own customization writes it). The client itself first
     * looks the execution up by a separate {@code SELECT} and goes through its JDBC runner: one
     * statement and one round trip more per accepted job, for an id that is new by construction.
     * A row already there (impossible for a fresh job id) fails the statement, and with it the
     * transaction, as the client's "already scheduled" did.
     */
    void schedule(Connection connection, String jobId, Instant when) throws SQLException {
        try (PreparedStatement p = connection.prepareStatement("INSERT INTO scheduled_tasks ("
                + EXECUTION_INSERT_COLUMNS + ") VALUES (" + EXECUTION_INSERT_VALUES + ")")) {
            bindExecution(p, 0, jobId, when);
            p.executeUpdate();
        }
    }

    /** The columns of a new execution row, for {@link #bindExecution}. */
    static final String EXECUTION_INSERT_COLUMNS = "task_name, task_instance, task_data, execution_time, picked, version";
    /** Its values: 5 parameters, and version 1. */
    static final String EXECUTION_INSERT_VALUES = "?, ?, ?, ?, ?, 1";

    /** Sets the 5 parameters of {@link #EXECUTION_INSERT_VALUES} that follow parameter {@code base}. */
    void bindExecution(PreparedStatement p, int base, String jobId, Instant when) throws SQLException {
        p.setString(base + 1, TASK_NAME);
        p.setString(base + 2, jobId);
        customization.setTaskData(p, base + 3, null);
        customization.setInstant(p, base + 4, when);
        p.setBoolean(base + 5, false);
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
