package org.buildhook.runner.engine;

import java.sql.SQLException;
import org.buildhook.runner.store.StoreUnavailableException;

/**
 * Tells a store outage (the database cannot be reached for now) from any other failure, for the
 * store's own exceptions and for db-scheduler's, which wrap the driver's {@link SQLException} in
 * their own runtime exceptions. The SQL rules are the store's
 * ({@link StoreUnavailableException#isOutage(SQLException)}).
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
            if (t instanceof SQLException && StoreUnavailableException.isOutage((SQLException) t)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code failure} is one the steps after a job's command wait out and try again ({@link
     * StoreOutageWait}): an outage ({@link #isOutage}), or PostgreSQL ending the statement's transaction whole so that
     * the same step made again may go through: a deadlock or a serialization failure ({@link
     * StoreUnavailableException#isTransactionRollback}: {@code 40P01}, {@code 40001}), a {@code statement_timeout}
     * ({@link StoreUnavailableException#isStatementCancelled}: {@code 57014}). Handed to db-scheduler's retry instead,
     * such a failure of the record of an attempt's outcome ran its command again 10 s later (review51 E1).
     */
    static boolean passes(Throwable failure) {
        return isOutage(failure) || StoreUnavailableException.isTransactionRollback(failure)
                || StoreUnavailableException.isStatementCancelled(failure);
    }
}
