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
}
