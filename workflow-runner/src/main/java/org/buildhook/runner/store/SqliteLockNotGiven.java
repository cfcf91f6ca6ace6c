package org.buildhook.runner.store;

import java.sql.SQLException;
import java.time.Duration;

/**
 * SQLite's refusal of its write lock ({@code SQLITE_BUSY}) after {@link SqliteWriter}'s wait for it ran to its limit,
 * {@link #waited}: the driver's exception (its cause), with the same message, SQLSTATE and result code, so that it is
 * taken and said as that one is everywhere, and with the figure, so that a start's error says how long it waited
 * ({@link Store#saidAtStart}) rather than a figure of another wait (migrate53: "for over 3s" after 2 s).
 */
final class SqliteLockNotGiven extends SQLException {

    private static final long serialVersionUID = 1L;

    /** The limit the wait for the lock ran to. */
    private final Duration waited;

    SqliteLockNotGiven(SQLException refused, Duration waited) {
        super(refused.getMessage(), refused.getSQLState(), refused.getErrorCode(), refused);
        this.waited = waited;
    }

    /** The limit the wait ran to, from the first of these in {@code e}'s chain (10 causes deep); {@code null}: none. */
    static Duration waitedIn(Throwable e) {
        Throwable t = e;
        for (int depth = 0; t != null && depth < 10; depth++, t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SqliteLockNotGiven given) {
                return given.waited;
            }
        }
        return null;
    }
}
