package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.sqlite.SQLiteConnection;

/**
 * The compiled statements of the SQLite store's readers, kept per pooled connection.
 *
 * <p>sqlite-jdbc compiles every {@code prepareStatement} anew (its issue #614: no statement cache)
 * and HikariCP leaves statement caching to drivers on purpose, so every read of a job compiled its
 * query again: 41–45 µs of the 0.2 ms a job's read costs (docs/BENCHMARKS.md, "Third pass: the
 * job's own bookkeeping"). {@link #of} gives a pooled connection whose {@code prepareStatement(sql)}
 * returns the statement its driver connection compiled the first time ({@link StatementCache});
 * the pool leases each driver connection to one thread at a time, which is all a
 * {@link StatementCache} needs. A driver connection the pool has retired (closed, with its
 * statements) is forgotten the next time a new one is seen.
 */
final class ReaderStatements {

    private final Map<SQLiteConnection, StatementCache> caches = new ConcurrentHashMap<>();

    /** {@code pooled} as its readers should use it; closing it stays the caller's (the pool's) business. */
    Connection of(Connection pooled) throws SQLException {
        SQLiteConnection driver = pooled.unwrap(SQLiteConnection.class);
        StatementCache cache = caches.get(driver);
        if (cache == null) {
            caches.keySet().removeIf(ReaderStatements::closed);
            cache = new StatementCache(driver);
            caches.put(driver, cache);
        }
        return cache.connection();
    }

    /** Driver connections with statements kept; for tests. */
    int connections() {
        return caches.size();
    }

    private static boolean closed(SQLiteConnection connection) {
        try {
            return connection.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }
}
