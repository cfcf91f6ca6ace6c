package org.buildhook.runner.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import javax.sql.DataSource;
import org.buildhook.runner.RunnerException;
import org.sqlite.SQLiteErrorCode;

/**
 * The connection pool and the transaction helper every store class goes through; translates
 * {@link SQLException}s into {@link StoreUnavailableException} (cannot reach the database) or
 * {@link RunnerException} (anything else).
 *
 * <p>SQLite: every transaction starts with {@code BEGIN IMMEDIATE} (see {@link #inTransaction}), so
 * writers are serialized by SQLite's own lock and wait up to {@code busy_timeout}; WAL lets readers
 * run beside the one writer. PostgreSQL: a plain pool, READ COMMITTED.
 */
final class Database implements AutoCloseable {

    /** Work inside one transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private final Dialect dialect;
    private final HikariDataSource pool;

    private Database(Dialect dialect, HikariDataSource pool) {
        this.dialect = dialect;
        this.pool = pool;
    }

    static Database open(StoreConfig config) {
        Dialect dialect = config.dialect();
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(config.url());
        // Named, not found through META-INF/services, which merged (fat) jars tend to lose.
        hikari.setDriverClassName(dialect == Dialect.SQLITE ? "org.sqlite.JDBC" : "org.postgresql.Driver");
        hikari.setPoolName("buildhook-store");
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setMinimumIdle(1);
        hikari.setConnectionTimeout(Math.max(250, config.connectTimeout().toMillis()));
        // The pool must come up even when the database is down, so /healthz can say 503.
        hikari.setInitializationFailTimeout(-1);
        if (dialect == Dialect.SQLITE) {
            createParentOf(config.url());
            hikari.addDataSourceProperty("journal_mode", "WAL");
            hikari.addDataSourceProperty("busy_timeout", "10000");
            hikari.addDataSourceProperty("foreign_keys", "true");
        }
        return new Database(dialect, new HikariDataSource(hikari));
    }

    private static void createParentOf(String url) {
        String file = url.substring("jdbc:sqlite:".length());
        int query = file.indexOf('?');
        if (query >= 0) {
            file = file.substring(0, query);
        }
        if (file.isEmpty() || file.startsWith(":memory:") || file.startsWith("file:")) {
            return;
        }
        Path parent = Path.of(file).toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new RunnerException("cannot create the folder of the SQLite store " + parent + ": " + e.getMessage(), e);
        }
    }

    Dialect dialect() {
        return dialect;
    }

    DataSource dataSource() {
        return pool;
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    <T> T inTransaction(String what, Work<T> work) {
        try (Connection c = pool.getConnection()) {
            return dialect == Dialect.SQLITE ? sqliteTransaction(c, work) : jdbcTransaction(c, work);
        } catch (SQLException e) {
            throw translate(what, e);
        }
    }

    private static <T> T jdbcTransaction(Connection c, Work<T> work) throws SQLException {
        c.setAutoCommit(false);
        T result;
        try {
            result = work.run(c);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c, e);
            restoreAutoCommit(c, e);
            throw e;
        }
        restoreAutoCommit(c, null);
        return result;
    }

    /**
     * Back to autocommit for the pool. On a connection the database just cut, this fails too; that
     * failure must not replace the first one (which says "unavailable", hence 503, not 500), and
     * after a commit it changes nothing: the pool discards a broken connection either way.
     */
    private static void restoreAutoCommit(Connection c, Exception first) {
        try {
            c.setAutoCommit(true);
        } catch (SQLException e) {
            if (first != null) {
                first.addSuppressed(e);
            }
        }
    }

    /**
     * SQLite: an explicit {@code BEGIN IMMEDIATE} on a connection left in autocommit mode. The
     * driver's own transactions ({@code setAutoCommit(false)}) begin again right after every
     * commit; when that begin meets another writer's lock (SQLITE_BUSY) the connection is left
     * believing in a transaction that does not exist, and every later use of it fails.
     */
    private static <T> T sqliteTransaction(Connection c, Work<T> work) throws SQLException {
        execute(c, "BEGIN IMMEDIATE");
        try {
            T result = work.run(c);
            execute(c, "COMMIT");
            return result;
        } catch (SQLException | RuntimeException e) {
            try {
                execute(c, "ROLLBACK");
            } catch (SQLException r) {
                e.addSuppressed(r);
            }
            throw e;
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Runs read-only {@code work} in autocommit mode. */
    <T> T read(String what, Work<T> work) {
        try (Connection c = pool.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw translate(what, e);
        }
    }

    private static void rollbackQuietly(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    RunnerException translate(String what, SQLException e) {
        if (isUnavailable(e)) {
            return new StoreUnavailableException("store unavailable while trying to " + what + ": " + e.getMessage(), e);
        }
        return new RunnerException("store failed to " + what + ": " + e.getMessage(), e);
    }

    /** Whether a unique or primary key constraint refused the statement. */
    boolean isUniqueViolation(SQLException e) {
        if (dialect == Dialect.POSTGRESQL) {
            return "23505".equals(e.getSQLState());
        }
        return (e.getErrorCode() & 0xff) == SQLiteErrorCode.SQLITE_CONSTRAINT.code;
    }

    private static boolean isUnavailable(SQLException e) {
        if (e instanceof SQLTransientConnectionException || e instanceof SQLNonTransientConnectionException) {
            return true;
        }
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
            return true;
        }
        int code = e.getErrorCode() & 0xff;
        return code == SQLiteErrorCode.SQLITE_BUSY.code || code == SQLiteErrorCode.SQLITE_LOCKED.code
                || code == SQLiteErrorCode.SQLITE_CANTOPEN.code;
    }

    @Override
    public void close() {
        pool.close();
    }
}
