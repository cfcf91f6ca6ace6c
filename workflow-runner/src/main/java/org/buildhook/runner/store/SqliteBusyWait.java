package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.sqlite.BusyHandler;
import org.sqlite.SQLiteDataSource;

/**
 * What an SQLite connection does when another connection holds the write lock: try again after
 * 50 µs, then after 0.5 ms, until {@code timeout} has passed.
 *
 * <p>SQLite's own busy handler ({@code busy_timeout}) sleeps 1, 2, 5, 10 … up to 100 ms between
 * tries and is never woken when the lock is freed, so under load a writer waits tens of
 * milliseconds for a lock that was free after one. Measured in the load benchmark as the long
 * tail of the answers (docs/BENCHMARKS.md).
 */
final class SqliteBusyWait extends BusyHandler {

    private static final long SHORT_NANOS = 50_000;
    private static final long LONG_NANOS = 500_000;
    private static final int SHORT_TRIES = 40;

    private final LongSupplier timeoutNanos;
    private final long longWaitNanos;
    private final LongWait longWait;
    private long waitingSince;
    private boolean told;

    /** Told, on the waiting thread, once per wait that has lasted long enough to mean something. */
    interface LongWait {
        /** The wait began {@code waited} ago and goes on. */
        void waiting(Duration waited);
    }

    /** Waits up to {@code timeout} each time. */
    SqliteBusyWait(Duration timeout) {
        this(timeout::toNanos, Duration.ZERO, null);
    }

    /**
     * @param timeoutNanos how long a wait may last, asked at every try (so it can shorten while waiting)
     * @param longWait     told once per wait that has lasted {@code after}; {@code null}: nobody
     */
    SqliteBusyWait(LongSupplier timeoutNanos, Duration after, LongWait longWait) {
        this.timeoutNanos = timeoutNanos;
        this.longWaitNanos = after.toNanos();
        this.longWait = longWait;
    }

    /** Called by SQLite on the waiting thread; {@code previous} is 0 at the start of each wait. */
    @Override
    protected int callback(int previous) {
        long now = System.nanoTime();
        if (previous == 0) {
            waitingSince = now;
            told = false;
        }
        long waited = now - waitingSince;
        if (longWait != null && !told && waited >= longWaitNanos) {
            told = true;
            longWait.waiting(Duration.ofNanos(waited));
        }
        if (waited >= timeoutNanos.getAsLong() || Thread.currentThread().isInterrupted()) {
            return 0;
        }
        LockSupport.parkNanos(previous < SHORT_TRIES ? SHORT_NANOS : LONG_NANOS);
        return 1;
    }

    /** Hands out SQLite connections that wait with a {@link SqliteBusyWait} of their own. */
    static final class DataSource extends SQLiteDataSource {

        private static final long serialVersionUID = 1L;
        private final Duration timeout;

        DataSource(Duration timeout) {
            this.timeout = timeout;
        }

        @Override
        public Connection getConnection() throws SQLException {
            return getConnection(null, null);
        }

        @Override
        public org.sqlite.SQLiteConnection getConnection(String username, String password) throws SQLException {
            org.sqlite.SQLiteConnection c = super.getConnection(username, password);
            BusyHandler.setHandler(c, new SqliteBusyWait(timeout));
            return c;
        }
    }
}
