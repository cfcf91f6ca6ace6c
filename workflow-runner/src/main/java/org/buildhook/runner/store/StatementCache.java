package org.buildhook.runner.store;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One connection whose prepared statements are kept and reused, for the SQLite writer thread.
 *
 * <p>sqlite-jdbc compiles every {@code prepareStatement} anew and nothing in between caches it;
 * the writer runs the same few dozen statements thousands of times, and compiling them was about
 * a tenth of its CPU. {@link #connection()} hands out a view of the connection whose
 * {@code prepareStatement(sql)} returns the statement compiled the first time, and whose
 * {@code close()} on such a statement only clears its parameters. Not thread-safe: one thread only.
 */
final class StatementCache implements AutoCloseable {

    private static final int MAX = 256;

    private final Connection connection;
    private final Connection view;
    private final Map<String, Cached> statements = new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            if (size() > MAX) {
                closeQuietly(eldest.getValue().statement);
                return true;
            }
            return false;
        }
    };

    StatementCache(Connection connection) {
        this.connection = connection;
        this.view = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    if (method.getName().equals("prepareStatement") && args != null && args.length == 1) {
                        return prepared((String) args[0]);
                    }
                    if (method.getName().equals("close")) {
                        return null; // the cache owns the connection
                    }
                    return Unclosable.delegate(method, connection, args);
                });
    }

    /** The connection to run work on. */
    Connection connection() {
        return view;
    }

    private PreparedStatement prepared(String sql) throws SQLException {
        Cached cached = statements.get(sql);
        if (cached == null || cached.statement.isClosed()) {
            PreparedStatement statement = connection.prepareStatement(sql);
            PreparedStatement reusable = (PreparedStatement) Proxy.newProxyInstance(
                    PreparedStatement.class.getClassLoader(), new Class<?>[] {PreparedStatement.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("close")) {
                            statement.clearParameters();
                            return null;
                        }
                        if (method.getName().equals("isClosed")) {
                            return false;
                        }
                        if (method.getName().equals("getConnection")) {
                            return view;
                        }
                        return Unclosable.delegate(method, statement, args);
                    });
            cached = new Cached(statement, reusable);
            statements.put(sql, cached);
        }
        return cached.reusable;
    }

    /** Closes the statements and gives the connection back. */
    @Override
    public void close() {
        statements.values().forEach(c -> closeQuietly(c.statement));
        statements.clear();
        try {
            connection.close();
        } catch (SQLException e) {
            // going away anyway
        }
    }

    private static void closeQuietly(PreparedStatement statement) {
        try {
            statement.close();
        } catch (SQLException e) {
            // going away anyway
        }
    }

    private record Cached(PreparedStatement statement, PreparedStatement reusable) {
    }
}
