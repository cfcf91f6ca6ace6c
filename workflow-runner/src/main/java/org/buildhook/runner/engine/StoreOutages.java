package org.buildhook.runner.engine;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import org.buildhook.runner.store.StoreUnavailableException;
import org.sqlite.SQLiteErrorCode;

/**
 * Tells a store outage (the database cannot be reached for now) from any other failure, for the
 * store's own exceptions and for db-scheduler's, which wrap the driver's {@link SQLException} in
 * their own runtime exceptions. The SQL rules are the store's ({@code Database}): connection
 * classes, SQLSTATE {@code 08…}/{@code 57P…}, SQLite busy, locked or cannot-open.
 */
final class StoreOutages {

    private StoreOutages() {
    }

    /** Whether {@code failure} or one of its causes says the store is unavailable. */
    static boolean isOutage(Throwable failure) {
        // Bounded: a cause chain that loops must not hang a job thread.
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 20; depth++, t = t.getCause()) {
            if (t instanceof StoreUnavailableException) {
                return true;
            }
            if (t instanceof SQLException && isUnavailable((SQLException) t)) {
                return true;
            }
        }
        return false;
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
}
