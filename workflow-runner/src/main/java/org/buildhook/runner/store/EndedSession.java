package org.buildhook.runner.store;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * db-scheduler's connections, whose transaction ends with their database session. When the session ends under a
 * statement (PostgreSQL's {@code pg_terminate_backend}, a restart: SQLSTATE {@code 57P01}), HikariCP evicts the
 * connection and every later call on it throws "Connection is closed" (no SQLSTATE); db-scheduler's rollback after the
 * failed statement then failed too, and its "Failed to rollback." replaced the statement's own failure: its
 * housekeeping logged {@code ERROR … Unhandled exception. Will keep running. SQLRuntimeException: Failed to rollback.}
 * with a stack trace, which no outage rule recognised (chaos31 L2). Here the transaction's end on a connection whose
 * session is gone ({@link Connection#isValid} false) is taken as done, as it is: {@code rollback()} and {@code
 * setAutoCommit} do nothing and {@code getAutoCommit()} answers {@code true} (no transaction of its own left open), so
 * that the statement's own failure (an outage) is what db-scheduler throws and logs, in the one line without a stack
 * trace that every outage gets. The same calls on a connection whose session is still there throw as before.
 *
 * <p>Whichever it was, a connection on which one of those calls failed is evicted from its pool (HikariCP closes it, and
 * PostgreSQL ends its session and rolls back its transaction): {@link Connection#isValid} cannot tell an ended session
 * from a live one too busy to answer within its wait, and a live one whose rollback failed went back to the pool with
 * its transaction open, the next borrower's statements inside it (review31 L7). What is taken as done is then done.
 */
final class EndedSession {

    private static final Logger LOG = LoggerFactory.getLogger(EndedSession.class);
    /** The calls that end or set up a transaction, which an ended session has no more. */
    private static final Set<String> TRANSACTION_ENDS = Set.of("rollback", "getAutoCommit", "setAutoCommit");
    /** How long {@link Connection#isValid} may take on a connection whose call has just failed, in seconds. */
    private static final int VALID_WAIT_SECONDS = 1;

    private EndedSession() {
    }

    /**
     * {@code c}, its transaction's end taken as done once its session has ended, and evicted from {@code pool} once a
     * transaction's end failed on it.
     *
     * @param c    a connection of {@code pool}, as the pool gives it (HikariCP's own, which it can evict)
     * @param pool the pool {@code c} came from; a pool other than HikariCP's is not asked to evict anything
     */
    static Connection of(Connection c, javax.sql.DataSource pool) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    try {
                        return Unclosable.delegate(method, c, args);
                    } catch (SQLException e) {
                        String name = method.getName();
                        boolean transactionEnd = TRANSACTION_ENDS.contains(name)
                                && (args == null || name.equals("setAutoCommit"));
                        if (!transactionEnd) {
                            throw e;
                        }
                        boolean ended = ended(c);
                        evict(c, pool, name);
                        if (!ended) {
                            throw e;
                        }
                        LOG.debug("{} on a connection whose database session has ended: taken as done", name, e);
                        return name.equals("getAutoCommit") ? Boolean.TRUE : null;
                    }
                });
    }

    /**
     * Takes {@code c} out of {@code pool} for good: HikariCP closes it now (or, when it has already marked it broken,
     * when it is given back), so it never goes back with a transaction whose end failed. Never throws.
     */
    private static void evict(Connection c, javax.sql.DataSource pool, String call) {
        try {
            if (pool.isWrapperFor(com.zaxxer.hikari.HikariDataSource.class)) {
                pool.unwrap(com.zaxxer.hikari.HikariDataSource.class).evictConnection(c);
                LOG.debug("{} failed: the connection is evicted from its pool", call);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debug("{} failed and the connection could not be evicted from its pool", call, e);
        }
    }

    /** Whether {@code c}'s database session is gone: the driver or the pool says it is no longer valid. */
    private static boolean ended(Connection c) {
        try {
            return !c.isValid(VALID_WAIT_SECONDS);
        } catch (SQLException e) {
            return true;
        }
    }
}
