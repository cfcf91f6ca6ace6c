package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.github.kagkarlsson.shaded.jdbc.JdbcRunner;
import com.github.kagkarlsson.shaded.jdbc.PreparedStatementSetter;
import com.github.kagkarlsson.shaded.jdbc.SQLRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * chaos31 L2: {@code pg_terminate_backend} of a session of db-scheduler's pool under its statement made db-scheduler's
 * rollback fail on the connection HikariCP had evicted ("Connection is closed"), and its "Failed to rollback." replaced
 * the statement's own failure: its housekeeping logged {@code ERROR … Unhandled exception. Will keep running.
 * SQLRuntimeException: Failed to rollback.} with a stack trace that no outage rule recognised. Against the real
 * PostgreSQL server and db-scheduler's own JDBC runner, on the data source the store gives db-scheduler.
 */
class PostgresEndedSessionTest {

    @TempDir
    Path dir;
    private Store store;

    @BeforeEach
    void open() {
        store = Store.open(TestStores.postgres(dir.resolve("data")));
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aStatementWhoseSessionWasTerminatedFailsWithItsOwnOutageNotAFailedRollback() {
        JdbcRunner jdbc = new JdbcRunner(terminatingEachSession(store.schedulerDataSource()), true);

        Throwable failed = catchThrowable(() -> jdbc.query("SELECT 1", PreparedStatementSetter.NOOP,
                (com.github.kagkarlsson.shaded.jdbc.RowMapper<Integer>) rs -> rs.getInt(1)));

        assertThat(failed).isInstanceOf(SQLRuntimeException.class);
        assertThat(failed.getMessage()).as("what db-scheduler throws and logs").doesNotContain("Failed to rollback");
        assertThat(failed).hasRootCauseInstanceOf(SQLException.class);
        SQLException cause = (SQLException) failed.getCause();
        assertThat(cause.getSQLState()).as("the statement's own failure: the session was ended").isEqualTo("57P01");
        assertThat(StoreUnavailableException.isOutage(cause)).isTrue();
    }

    /**
     * review31 L7: a rollback that fails on a connection whose session is still there, but too busy to say so within
     * {@code isValid}'s second (taken for ended, its failure swallowed), and fails again at the pool's own rollback on
     * close: HikariCP took the connection back with its transaction open, and gave it to the next borrower inside that
     * transaction. The rollback's failure and the slow {@code isValid} are injected on the driver's connection (one
     * spy); the pool, its eviction and the server are real. The connection must not come back: evicted, its session
     * ended (and its transaction with it).
     */
    @Test
    void aConnectionWhoseRollbackFailedIsNeverHandedBackWithItsTransactionOpen() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean();
        com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
        config.setPoolName("ended-session-test");
        config.setMaximumPoolSize(1);
        config.setDataSource(new org.postgresql.ds.PGSimpleDataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                Connection spy = org.mockito.Mockito.spy(DriverManager.getConnection(System.getenv(
                        TestStores.PG_URL_ENV)));
                org.mockito.Mockito.doAnswer(call -> {
                    if (failing.get()) {
                        throw new SQLException("injected: the rollback failed", "XX000");
                    }
                    return call.callRealMethod();
                }).when(spy).rollback();
                org.mockito.Mockito.doAnswer(call -> !failing.get() && (boolean) call.callRealMethod())
                        .when(spy).isValid(org.mockito.ArgumentMatchers.anyInt());
                return spy;
            }
        });
        try (com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource(config);
                StopWaits waits = new StopWaits(Duration.ofSeconds(1), true);
                Connection admin = DriverManager.getConnection(System.getenv(TestStores.PG_URL_ENV))) {
            DataSource scheduler = waits.wrap(pool, null);
            int pid;
            Connection c = scheduler.getConnection();
            try {
                c.setAutoCommit(false);
                try (PreparedStatement p = c.prepareStatement("SELECT pg_backend_pid()");
                        ResultSet rs = p.executeQuery()) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                assertThat(state(admin, pid)).isEqualTo("idle in transaction");
                failing.set(true);
                c.rollback(); // taken as done: isValid said the session was gone
            } finally {
                catchThrowable(c::close); // the pool's own rollback fails too
            }
            failing.set(false);

            try (Connection next = scheduler.getConnection();
                    PreparedStatement p = next.prepareStatement("SELECT pg_backend_pid()");
                    ResultSet rs = p.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).as("the next borrower's session: not the one whose transaction was left open")
                        .isNotEqualTo(pid);
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(state(admin, pid))
                    .as("the evicted connection's session, and its transaction, ended").isNull());
        }
    }

    /** The state of PostgreSQL backend {@code pid} ({@code idle in transaction}, …), null once its session is gone. */
    private static String state(Connection admin, int pid) throws SQLException {
        try (PreparedStatement q = admin.prepareStatement("SELECT state FROM pg_stat_activity WHERE pid = ?")) {
            q.setInt(1, pid);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Connections of {@code pool} whose database session is ended (as by an administrator) before they are given. */
    private static DataSource terminatingEachSession(DataSource pool) {
        return new DataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                Connection c = pool.getConnection();
                int pid;
                try (PreparedStatement p = c.prepareStatement("SELECT pg_backend_pid()"); ResultSet rs = p.executeQuery()) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                try (Connection admin = DriverManager.getConnection(System.getenv(TestStores.PG_URL_ENV));
                        PreparedStatement p = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
                    p.setInt(1, pid);
                    p.execute();
                    await().atMost(Duration.ofSeconds(30)).until(() -> {
                        try (PreparedStatement q = admin.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                                + " WHERE pid = ?")) {
                            q.setInt(1, pid);
                            try (ResultSet rs = q.executeQuery()) {
                                rs.next();
                                return rs.getInt(1) == 0;
                            }
                        }
                    });
                }
                return c;
            }

            @Override
            public Connection getConnection(String username, String password) throws SQLException {
                throw new SQLException("not used");
            }

            @Override
            public PrintWriter getLogWriter() {
                return null;
            }

            @Override
            public void setLogWriter(PrintWriter out) {
            }

            @Override
            public void setLoginTimeout(int seconds) {
            }

            @Override
            public int getLoginTimeout() {
                return 0;
            }

            @Override
            public Logger getParentLogger() {
                return Logger.getGlobal();
            }

            @Override
            public <T> T unwrap(Class<T> iface) throws SQLException {
                throw new SQLException("not a wrapper");
            }

            @Override
            public boolean isWrapperFor(Class<?> iface) {
                return false;
            }
        };
    }
}
