package org.buildhook.runner.store;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * How long the store's callers wait for a connection once the node is stopping. Normally each waits
 * up to the pools' connection wait ({@code store.connect-timeout}). Once {@link #stopping()} was
 * called, a store that could not give a connection within that wait because it could not be reached
 * (a failure to connect, not a pool whose connections were all in use) is not waited for again until
 * that long has passed: the steps of a stop that need the store in turn (recording the interrupted
 * attempts, db-scheduler's own bookkeeping, giving the node id back) each waited the full wait in turn, so a stop during an outage took a multiple of it (seen after
 * tryout8). Those steps then fail at once, and say what they could not do; what they leave is
 * found by the next start or another node, as after a crash. Before the stop's grace period has
 * ended nothing changes: during it the node still stores deliveries and records the outcomes of the
 * jobs that end, and a database that answers again must be tried (review10).
 */
final class StopWaits implements AutoCloseable {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(StopWaits.class);

    private final long windowNanos;
    /** PostgreSQL: the connections held now, for {@link #stopping()}'s watch; {@code null} on SQLite. */
    private final CallsInFlight calls;
    private volatile boolean stopping;
    private volatile long stoppingAt;
    /** The last failure to get a connection because the store could not be reached; {@code null} before any. */
    private volatile Failure failure;
    /** Why the stop no longer waits for the store at all, once a call went unanswered; or {@code null}. */
    private volatile String gaveUp;
    private ScheduledExecutorService watch;
    /** Whether the watch failed once already: said at WARN the first time only. */
    private volatile boolean watchFailed;

    /** @param window how long a failure to get a connection is believed during a stop: the connection wait */
    StopWaits(Duration window) {
        this(window, false);
    }

    /**
     * @param window        as above; also how long a call may go unanswered during a stop
     * @param watchCalls    PostgreSQL: whether the calls in flight are watched during a stop (see {@link #stopping()})
     */
    StopWaits(Duration window, boolean watchCalls) {
        this(window, watchCalls ? new CallsInFlight() : null);
    }

    /** @param calls the calls in flight to watch during a stop, or {@code null} for none (SQLite) */
    StopWaits(Duration window, CallsInFlight calls) {
        this.windowNanos = window.toNanos();
        this.calls = calls;
    }

    /**
     * From now on, a pool that just failed to give a connection is not waited for again (see above).
     * PostgreSQL: and a call that the database leaves unanswered for the window (the connection wait),
     * counted from now for a call begun before, is ended (its connection's socket closed: a connection
     * failure), and every later one fails at once: the database stopped answering with its connections
     * open (a network partition, a hung server), which no connection wait notices, and the stop would
     * otherwise wait for it without end (review11 F3). Said once, at WARN.
     */
    synchronized void stopping() {
        if (stopping) {
            return;
        }
        stoppingAt = System.nanoTime();
        stopping = true;
        if (calls != null) {
            watch = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "buildhook-stop-watch");
                t.setDaemon(true);
                return t;
            });
            long every = Math.max(50, TimeUnit.NANOSECONDS.toMillis(windowNanos) / 10);
            watch.scheduleWithFixedDelay(this::watchCalls, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * One look of the watch. An exception thrown out of it would end the watch without a word
     * ({@code scheduleWithFixedDelay} runs a task that threw no more), and a stop would then wait
     * without end for a call the database never answers: it is said, and the next look comes as ever.
     */
    private void watchCalls() {
        try {
            endUnansweredCalls();
        } catch (RuntimeException e) {
            if (!watchFailed) {
                watchFailed = true;
                LOG.warn("the stop's watch of the store's unanswered calls failed; it looks again in a moment", e);
            } else {
                LOG.debug("the stop's watch of the store's unanswered calls failed again: {}", e.toString());
            }
        }
    }

    private void endUnansweredCalls() {
        List<Connection> stuck = calls.stuck(System.nanoTime(), stoppingAt, windowNanos);
        if (stuck.isEmpty()) {
            return;
        }
        if (gaveUp == null) {
            gaveUp = "the store left a call unanswered for " + TimeUnit.NANOSECONDS.toMillis(windowNanos)
                    + " ms during this stop";
            LOG.warn("stopped waiting for the store: it left {} call(s) unanswered for {} ms after the grace period"
                    + " (a network partition or a hung database server); they end with a connection failure and the"
                    + " stop's remaining steps that need the store fail at once. What they could not record is found by"
                    + " the next start or another node, as after a crash", stuck.size(),
                    TimeUnit.NANOSECONDS.toMillis(windowNanos));
        }
        stuck.forEach(calls::abort);
    }

    /** A connection of {@code pool}, or at once the failure of a moment ago during a stop. */
    Connection connection(DataSource pool) throws SQLException {
        return connection(pool, java.util.function.UnaryOperator.identity(), null);
    }

    /** {@link #connection(DataSource)}, the pool's connection seen through {@code around} (before it is tracked). */
    private Connection connection(DataSource pool, java.util.function.UnaryOperator<Connection> around,
            Duration answerBound)
            throws SQLException {
        String given = gaveUp;
        if (given != null) {
            throw new SQLTransientConnectionException("not waited for: " + given, "08001");
        }
        Failure last = failure;
        if (stopping && last != null && System.nanoTime() - last.at() < windowNanos) {
            throw new SQLTransientConnectionException("not waited for: the store could not be reached a moment"
                    + " ago during this stop (" + last.why() + ")", "08001");
        }
        try {
            Connection c = around.apply(pool.getConnection());
            Duration bound = ANSWER_BOUND.get() != null ? ANSWER_BOUND.get() : answerBound;
            if (bound != null && calls != null) {
                answersWithin(c, bound);
            }
            return calls == null ? c : calls.track(c);
        } catch (SQLException e) {
            if (couldNotConnect(e)) {
                failure = new Failure(e.getMessage(), System.nanoTime());
            }
            throw e;
        }
    }

    /** The bound {@link #answersWithin} puts on every answer this thread waits for from PostgreSQL, or null. */
    private static final ThreadLocal<Duration> ANSWER_BOUND = new ThreadLocal<>();

    /**
     * Runs {@code work} with every answer it waits for from PostgreSQL on this thread, reads and writes, bounded by
     * {@code bound} (the connection's socket: {@link Connection#setNetworkTimeout}); nested calls keep the outer bound.
     * See {@link Store#look}. Nothing changes on SQLite.
     */
    static void answersWithin(Duration bound, Runnable work) {
        answersWithin(bound, () -> {
            work.run();
            return null;
        });
    }

    /** As {@link #answersWithin(Duration, Runnable)}, for work that returns {@code T} or throws {@code E}. */
    static <T, E extends Exception> T answersWithin(Duration bound, Store.Answered<T, E> work) throws E {
        if (ANSWER_BOUND.get() != null) {
            return work.run();
        }
        ANSWER_BOUND.set(bound);
        try {
            return work.run();
        } finally {
            ANSWER_BOUND.remove();
        }
    }

    /**
     * Bounds each answer {@code c} waits for by {@code bound} (at least 1 ms): the socket's own bound, as a query timeout
     * is a cancel request, which a server that stopped answering never acts on. HikariCP sets the pool's own back when
     * the connection is returned; one whose answer did not come in time is broken, and not returned to the pool.
     */
    static void answersWithin(Connection c, Duration bound) throws SQLException {
        c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, Math.max(1, bound.toMillis())));
    }

    /**
     * A failure to connect and when it came ({@link System#nanoTime()}), read as one: in two volatile
     * fields a stop could pair one failure's message with another's time.
     */
    private record Failure(String why, long at) {
    }

    /**
     * Whether {@code e} says the database could not be reached: SQLState class 08 on it or on its cause
     * (HikariCP's "Connection is not available" carries the last failure to connect). The same exception
     * of a pool whose connections were all in use, PostgreSQL answering, has neither: a busy pool is
     * tried again (review10).
     */
    static boolean couldNotConnect(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException && ((SQLException) t).getSQLState() != null
                    && ((SQLException) t).getSQLState().startsWith("08")) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** Whether the stop no longer waits for the store at all (see {@link #stopping()}). */
    boolean gaveUp() {
        return gaveUp != null;
    }

    /** How many of the store's connections its callers hold now; PostgreSQL only (for tests). */
    int callsInFlight() {
        return calls == null ? 0 : calls.size();
    }

    @Override
    public synchronized void close() {
        if (watch != null) {
            watch.shutdownNow();
        }
    }

    /**
     * {@code pool} taking its connections through {@link #connection}; for db-scheduler. On PostgreSQL each answer a
     * connection of it waits for is bounded by {@code answerBound} ({@code null}: none), as {@link #answersWithin}'s.
     */
    DataSource wrap(DataSource pool, Duration answerBound) {
        return new DataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                // A transaction ended with its session is done: db-scheduler's rollback on it must not hide the
                // statement's own failure (chaos31 L2).
                // And a connection whose transaction's end failed is evicted from the pool (review31 L7).
                // Every answer bounded on PostgreSQL: db-scheduler's statements are short (a lock wait ends at the
                // pool's lock_timeout), and one whose connection never answers again held its thread for good: the
                // heartbeats' (every job of the node fenced from then on) or the polling's (no job picked again).
                return connection(pool, c -> EndedSession.of(c, pool), answerBound);
            }

            @Override
            public Connection getConnection(String username, String password) throws SQLException {
                return pool.getConnection(username, password);
            }

            @Override
            public PrintWriter getLogWriter() throws SQLException {
                return pool.getLogWriter();
            }

            @Override
            public void setLogWriter(PrintWriter out) throws SQLException {
                pool.setLogWriter(out);
            }

            @Override
            public void setLoginTimeout(int seconds) throws SQLException {
                pool.setLoginTimeout(seconds);
            }

            @Override
            public int getLoginTimeout() throws SQLException {
                return pool.getLoginTimeout();
            }

            @Override
            public Logger getParentLogger() throws SQLFeatureNotSupportedException {
                return pool.getParentLogger();
            }

            @Override
            public <T> T unwrap(Class<T> iface) throws SQLException {
                return pool.unwrap(iface);
            }

            @Override
            public boolean isWrapperFor(Class<?> iface) throws SQLException {
                return pool.isWrapperFor(iface);
            }
        };
    }
}
