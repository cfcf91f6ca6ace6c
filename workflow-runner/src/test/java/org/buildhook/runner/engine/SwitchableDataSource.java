package org.buildhook.runner.engine;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import javax.sql.DataSource;

/** A real data source that refuses new connections while {@link #down} is set: db-scheduler's view of an outage. */
public final class SwitchableDataSource implements DataSource {

    /** While set, new connections are refused as a pool refuses them when the database is out of reach. */
    public final AtomicBoolean down = new AtomicBoolean();
    private final DataSource real;

    public SwitchableDataSource(DataSource real) {
        this.real = real;
    }

    private void check() throws SQLException {
        if (down.get()) {
            throw new SQLTransientConnectionException("Connection is not available (injected outage)");
        }
    }

    @Override
    public Connection getConnection() throws SQLException {
        check();
        return real.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        check();
        return real.getConnection(username, password);
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return real.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        real.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        real.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return real.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return real.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return real.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return real.isWrapperFor(iface);
    }
}
