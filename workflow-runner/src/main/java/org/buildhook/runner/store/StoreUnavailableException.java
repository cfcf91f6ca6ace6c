package org.buildhook.runner.store;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import org.buildhook.runner.RunnerException;
import org.sqlite.SQLiteErrorCode;

/**
 * The store's database cannot be reached (connection refused, pool exhausted, SQLite file locked
 * beyond the busy timeout). Callers answer {@code 503} with {@code Retry-After} so the sender
 * retries; nothing was stored.
 */
public class StoreUnavailableException extends RunnerException {

    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Whether the driver's {@code e} means the database cannot be reached for now (try again
     * later) rather than a mistake: connection failures, SQLSTATE {@code 08…} and {@code 57P…}
     * (PostgreSQL shutting down or restarting), SQLite busy, locked or cannot-open.
     */
    public static boolean isOutage(SQLException e) {
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
