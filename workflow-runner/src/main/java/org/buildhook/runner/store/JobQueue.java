package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import com.github.kagkarlsson.scheduler.jdbc.PostgreSqlJdbcCustomization;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Puts jobs into db-scheduler's {@code scheduled_tasks} table, and takes them out, inside the
 * caller's transaction: scheduling is one {@code INSERT} of the row db-scheduler's client writes (see
 * {@link #schedule}), cancelling one {@code DELETE} of an execution no node picked ({@link #cancel}).
 * The execution row therefore commits or rolls back with the delivery and job rows. (db-scheduler's
 * {@code SchedulerClient} is not used: it reads an execution and then removes it by its version,
 * which a pick in between makes fail.)
 */
public final class JobQueue {

    /** The db-scheduler task name of buildhook jobs; the task instance id is the job id. */
    public static final String TASK_NAME = "buildhook-job";

    private final JdbcCustomization customization;

    JobQueue(Dialect dialect) {
        this.customization = customization(dialect);
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

    /**
     * Removes the pending execution of {@code jobId}, if there is one and no node has picked it: one
     * {@code DELETE} that holds only for an execution still not picked when it runs. db-scheduler's
     * client read the execution, then removed it by its version: a pick committed in between (another
     * node, on PostgreSQL) changed the version, and the removal threw "Expected one execution to be
     * removed" — the cancel, or the accept whose {@code supersede} cancelled an older job, failed with
     * an internal error (review14 F10). Now such a job is left to the node that picked it, as one picked
     * before: PostgreSQL's {@code DELETE} waits for the pick's row lock and then sees it picked.
     *
     * @return whether the execution was removed; false when there is none or a node picked it
     */
    boolean cancel(Connection connection, String jobId) throws SQLException {
        try (PreparedStatement p = connection.prepareStatement("DELETE FROM scheduled_tasks WHERE task_name = ?"
                + " AND task_instance = ? AND picked = ?")) {
            p.setString(1, TASK_NAME);
            p.setString(2, jobId);
            p.setBoolean(3, false);
            return p.executeUpdate() == 1;
        }
    }
}
