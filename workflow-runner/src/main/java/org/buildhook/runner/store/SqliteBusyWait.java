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
    /**
     * A connection that tried again within this long is taken as waiting for the lock (it tries every
     * 0.5 ms at most): one that has not may hold it. Generous, for a loaded machine's scheduling.
     */
    static final Duration RECENT = Duration.ofMillis(100);

    private final LongSupplier timeoutNanos;
    private final long longWaitNanos;
    private final LongWait longWait;
    private long waitingSince;
    private boolean told;
    /** Whether this wait, past its limit, has had its last try. */
    private boolean lastTried;
    /** The limit (nanoseconds) at which the last wait gave up, 0 when none has since {@link #takeGaveUpAt()}. */
    private volatile long gaveUpAt;
    /**
     * The last try that met the lock and when its wait began, null before any; read by other threads. One
     * value swapped whole: as two fields, a reader could pair one wait's last try with the next wait's
     * start, and see a long wait as one just begun (crash15).
     */
    private volatile Tried lastTry;
    /** Run by {@link #waitingAt} between reading the state and using it; tests only. */
    Runnable afterRead = () -> { };

    /** A try that met the lock at {@code at}, in a wait that began at {@code waitBegan} ({@link System#nanoTime()}). */
    private record Tried(long at, long waitBegan) {
    }

    /** Told, on the waiting thread, at every try of a wait once it has lasted long enough to mean something. */
    interface LongWait {
        /**
         * The wait began {@code waited} ago and goes on.
         *
         * @return whether it was dealt with: then it is not told again during this wait
         */
        boolean waiting(Duration waited);
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
            lastTried = false;
        }
        lastTry = new Tried(now, waitingSince);
        long waited = now - waitingSince;
        if (longWait != null && !told && waited >= longWaitNanos) {
            told = longWait.waiting(Duration.ofNanos(waited));
        }
        if (Thread.currentThread().isInterrupted()) {
            return 0;
        }
        long limit = timeoutNanos.getAsLong();
        if (waited >= limit) {
            // One more try, at once, before giving up: the try that failed before this call may be from
            // before the lock was freed, and the limit may have just shortened (an accept came). Without
            // it, an accept handed in right after another program let go was refused with the wait of the
            // batch before it, for a lock already free.
            if (lastTried) {
                gaveUpAt = limit;
                return 0;
            }
            lastTried = true;
            return 1;
        }
        LockSupport.parkNanos(previous < SHORT_TRIES ? SHORT_NANOS : LONG_NANOS);
        return 1;
    }

    /**
     * The limit at which this handler's last wait gave up, then forgotten; {@code null} when no wait gave up
     * since the last call. Read by the waiting thread once its statement failed, so the log can say which
     * limit ended the wait (the short one of an accept, or the whole busy timeout).
     */
    Duration takeGaveUpAt() {
        long limit = gaveUpAt;
        gaveUpAt = 0;
        return limit == 0 ? null : Duration.ofNanos(limit);
    }

    /**
     * How long this connection has been waiting for the lock, as seen from another thread at
     * {@code now} ({@link System#nanoTime()}): zero unless it tried within {@link #RECENT}.
     */
    Duration waitingAt(long now) {
        Tried last = lastTry;
        afterRead.run();
        if (last == null || now - last.at() >= RECENT.toNanos()) {
            return Duration.ZERO;
        }
        return Duration.ofNanos(Math.max(1, now - last.waitBegan()));
    }

    /**
     * The busy handlers of one pool's connections, so that another thread can count which of them
     * are waiting for the lock now. Weakly held: a connection the pool closed takes its handler along.
     */
    static final class Handlers {
        private final java.util.Set<SqliteBusyWait> all = java.util.Collections.synchronizedSet(
                java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));

        void add(SqliteBusyWait handler) {
            all.add(handler);
        }

        /** How many of the connections are waiting for the lock at {@code now} ({@link System#nanoTime()}). */
        int waitingAt(long now) {
            int waiting = 0;
            synchronized (all) {
                for (SqliteBusyWait handler : all) {
                    waiting += handler.waitingAt(now).isZero() ? 0 : 1;
                }
            }
            return waiting;
        }
    }

    /** Hands out SQLite connections that wait with a {@link SqliteBusyWait} of their own. */
    static final class DataSource extends SQLiteDataSource {

        private static final long serialVersionUID = 1L;
        private final Duration timeout;
        private final transient Handlers handlers;

        DataSource(Duration timeout) {
            this(timeout, null);
        }

        /** @param handlers where each connection's handler is kept, or {@code null} */
        DataSource(Duration timeout, Handlers handlers) {
            this.timeout = timeout;
            this.handlers = handlers;
        }

        @Override
        public Connection getConnection() throws SQLException {
            return getConnection(null, null);
        }

        @Override
        public org.sqlite.SQLiteConnection getConnection(String username, String password) throws SQLException {
            org.sqlite.SQLiteConnection c = super.getConnection(username, password);
            SqliteBusyWait handler = new SqliteBusyWait(timeout);
            BusyHandler.setHandler(c, handler);
            if (handlers != null) {
                handlers.add(handler);
            }
            return c;
        }
    }
}
