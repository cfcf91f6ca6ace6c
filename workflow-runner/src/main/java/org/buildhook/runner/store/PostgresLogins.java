package org.buildhook.runner.store;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * PostgreSQL: the connections one pool of the store opens, as HikariCP asks for them: pgJDBC's connection to {@code
 * store.url} with the pool's properties ({@link Database#pooledConnectTimeouts}, its {@code ApplicationName}), each
 * read of a login bounded as the login is, and no read bound once the connection is made.
 *
 * <p>pgJDBC's {@code loginTimeout} runs a login on a thread of its own ("PostgreSQL JDBC driver connection thread")
 * and stops waiting for it after the bound, but leaves that thread blocked on its socket: a server that took the TCP
 * connection and never answered (a frozen server or proxy, a middlebox that lost the connection's state) kept one
 * thread and one socket per login a pool tried, for as long as the socket lived (tryout47: 26 threads after a 40-s
 * outage, never ending). Here each read of a login is bounded too (pgJDBC's {@code socketTimeout}, in whole seconds:
 * the login bound rounded up, {@link Store#loginBound}, plus 5 s), so such a thread ends about that long after the
 * server's last answer. The connection made is set back to no read bound before HikariCP takes it (HikariCP reads a connection's
 * network timeout once and restores that value after its own checks): reads of established connections keep none, a
 * call may be long. A {@code socketTimeout} in {@code store.url} is the operator's: it bounds the login and every read
 * after it, and is left alone; with {@code loginTimeout=0} in {@code store.url} (no bound on a login) none is added.
 */
final class PostgresLogins implements DataSource {

    private final java.sql.Driver driver = Store.postgresDriver();
    private final String url;
    private final Properties properties;
    /** The network timeout (ms) a connection is set to once made; negative: left as the driver made it. */
    private final int afterLogin;
    private final String described;

    private PostgresLogins(String url, Properties properties, int afterLogin, String described) {
        this.url = url;
        this.properties = properties;
        this.afterLogin = afterLogin;
        this.described = described;
    }

    /** The logins of the pool {@code pool} of the PostgreSQL store {@code config}. */
    static PostgresLogins of(StoreConfig config, String pool) {
        Properties properties = Database.pooledConnectTimeouts(config);
        // The pool's name as the session's application_name: pg_stat_activity says which pool holds which
        // connection (a stuck pool is found without a thread dump). An ApplicationName in store.url wins.
        properties.setProperty("ApplicationName", pool);
        Duration bound = Store.loginBound(config);
        int afterLogin = -1;
        if (StoreReachability.urlParameter(config, "socketTimeout").isEmpty() && !bound.isZero()) {
            properties.setProperty("socketTimeout", Long.toString(loginReadBound(bound)));
            afterLogin = 0;
        }
        return new PostgresLogins(config.url(), properties, afterLogin, "PostgreSQL logins of " + pool + " to "
                + config.describe());
    }

    /**
     * The bound on each read of a login bounded by {@code bound} (not zero), in whole seconds: the bound rounded up, 5 s
     * more, so that the login's own bound always ends it first (a read ended at the same time made pgJDBC try the login
     * again on a new connection, sslmode=prefer, whose failure the caller could be given instead of the timeout).
     */
    static long loginReadBound(Duration bound) {
        return Math.max(1, (bound.toMillis() + 999) / 1000) + 5;
    }

    /** The properties each login is made with (for tests). */
    Properties properties() {
        return (Properties) properties.clone();
    }

    @Override
    public Connection getConnection() throws SQLException {
        return connect(properties);
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        Properties with = (Properties) properties.clone();
        with.setProperty("user", user);
        with.setProperty("password", password);
        return connect(with);
    }

    private Connection connect(Properties with) throws SQLException {
        Connection c = driver.connect(url, with);
        if (c == null) {
            throw new SQLException("the PostgreSQL driver does not take the URL of " + described);
        }
        if (afterLogin >= 0) {
            readBound(c, afterLogin);
        }
        return c;
    }

    /**
     * Bounds each read on {@code c} at {@code millis} (0: none), closing it when that cannot be set.
     *
     * @throws SQLException when the bound cannot be set (the connection is closed then)
     */
    static void readBound(Connection c, int millis) throws SQLException {
        try {
            c.setNetworkTimeout(null, millis); // pgJDBC needs no executor: it sets the socket's timeout
        } catch (SQLException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // pgJDBC logs through java.util.logging
    }

    /**
     * As HikariCP's own data source for a JDBC URL does: the {@link java.sql.DriverManager}'s, which pgJDBC uses only
     * for a login without a {@code loginTimeout} of its own (each of these has one, {@link StoreReachability#timeouts}).
     */
    @Override
    public void setLoginTimeout(int seconds) {
        java.sql.DriverManager.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() {
        return java.sql.DriverManager.getLoginTimeout();
    }

    @Override
    public java.util.logging.Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException(described + " wraps no " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    /** Where it connects, without the URL's parameters (they may hold the password): HikariCP logs it at DEBUG. */
    @Override
    public String toString() {
        return described;
    }
}
