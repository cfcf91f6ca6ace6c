package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies SQLite's write-ahead log into the database file once the writer has been idle for
 * {@link #IDLE}, on a thread and a connection of its own, so that the copy is not paid inside a
 * commit that someone waits for.
 *
 * <p>SQLite checkpoints by itself in the commit that takes the log past 1,000 pages
 * ({@code wal_autocheckpoint}): the connection that commits copies the log's pages into the database
 * file and {@code fsync}s it before its {@code COMMIT} returns. For the one writer of a store
 * ({@link SqliteWriter}) that commit is a batch of accepts and job bookkeeping, and every caller of
 * it waits: on a 2-core machine with slow process creation, every 30th delivery or so, paced one at
 * a time, waited about 3 ms more for its {@code 202}, and the deliveries that came during the copy
 * waited for it as well (docs/BENCHMARKS.md, "Seventeenth pass").
 *
 * <p>Here the copy runs when no batch has committed for {@link #IDLE} and at least {@link #COMMITS}
 * batches changed rows since the last copy: a server that is not saturated keeps its log under
 * SQLite's limit, and SQLite's own checkpoint never comes due in a commit. The count keeps the copies
 * few: each copies the pages changed since the last, and a copy after every delivery copied the same
 * index pages again and again (about 30 times the work of SQLite's own checkpoints). A server that never
 * pauses that long (a burst) is left to SQLite's own checkpoint, as before: a copy beside a writer
 * that keeps committing never lets SQLite start the log over, and the log grew to 40 MB in a trial
 * that did so (docs/BENCHMARKS.md, "Fourth pass: the accept").
 *
 * <p>The copy is {@code PRAGMA wal_checkpoint(PASSIVE)} (<a href="https://sqlite.org/pragma.html#pragma_wal_checkpoint">
 * SQLite's documentation</a>): it never waits for a lock and never blocks a writer or a reader; what a
 * reader still needs is left for the next one. A copy that fails (a full disk, a database file that
 * is gone) loses nothing, since the log still holds every page: it is logged at {@code DEBUG}. A copy that
 * failed or fell short (a reader still needed some of the log) is tried again after {@link #RETRY_FIRST},
 * doubled after each that falls short again up to {@link #RETRY_MAX}, at an idle moment, without waiting for
 * {@link #COMMITS} more commits: until a copy gets through, every commit adds to the log instead of reusing it,
 * and a checkpoint that failed on a full disk was tried again only 32 commits later, about a minute on an idle
 * server, while the log grew (tryout26 F8). For the same reason {@link #close()} abandons a copy under way rather than
 * wait for it: a stop does not wait for a copy that waits for one of the pool's connections (in use by
 * readers) or copies a long log.
 */
final class IdleCheckpoint implements AutoCloseable {

    /** How long no batch may have committed before the log is copied: far above a batch's gap in a burst. */
    static final Duration IDLE = Duration.ofMillis(20);

    /**
     * Batches that changed rows before a copy is made: about 8 deliveries with a job each (an accept, the
     * job's pick, its start and its end), some 250 of the log's pages, a quarter of SQLite's limit.
     */
    static final int COMMITS = 32;

    /** How long after a copy that failed or fell short the next is tried, commits or not. */
    static final Duration RETRY_FIRST = Duration.ofSeconds(1);

    /** The longest wait between copies that keep failing or falling short (a disk that stays full). */
    static final Duration RETRY_MAX = Duration.ofSeconds(30);

    /** The longest {@link #close()} waits for its thread, once it has ended the copy under way. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

    private static final Logger LOG = LoggerFactory.getLogger(IdleCheckpoint.class);

    private final DataSource pool;
    private final Supplier<String> lostFile;
    private final Thread thread;
    /** Batches that changed rows since the last copy began. */
    private final AtomicInteger commits = new AtomicInteger();
    /** {@link System#nanoTime()} of the last commit that changed rows. */
    private volatile long lastCommit;
    private volatile boolean closed;
    private volatile long copies;
    /** {@link System#nanoTime()} when a copy that failed or fell short is tried again; only when {@link #retrying}. */
    private long retryAt;
    private boolean retrying;
    private Duration retryWait = RETRY_FIRST;
    /** The copy's statement while it runs, for {@link #close()} to end it; {@code null} otherwise. */
    private volatile Statement copying;

    /**
     * Starts the thread; it copies nothing until {@link #committed()} was called {@link #COMMITS} times.
     *
     * @param pool     where the copy takes its connection, for the moment of the copy
     * @param lostFile why the database file is no longer the one at its path, or {@code null}: no copy then
     * @param name     the thread's name
     */
    IdleCheckpoint(DataSource pool, Supplier<String> lostFile, String name) {
        this.pool = pool;
        this.lostFile = lostFile;
        this.thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Told by the writer's thread after each commit that changed rows: cheap (no lock; the thread is
     * woken only when it had nothing to do).
     */
    void committed() {
        lastCommit = System.nanoTime();
        if (commits.incrementAndGet() == COMMITS) {
            LockSupport.unpark(thread);
        }
    }

    /** Copies run so far (for tests). */
    long copies() {
        return copies;
    }

    private void loop() {
        while (!closed) {
            if (commits.get() < COMMITS) {
                if (!retrying) {
                    LockSupport.park(this);
                    continue;
                }
                long due = retryAt - System.nanoTime();
                if (due > 0) {
                    LockSupport.parkNanos(this, due);
                    continue;
                }
            }
            long wait = lastCommit + IDLE.toNanos() - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
                continue;
            }
            // Counted afresh from before the copy: a commit during it counts towards the next one.
            commits.set(0);
            if (copy()) {
                retrying = false;
                retryWait = RETRY_FIRST;
            } else if (!closed) {
                retrying = true;
                retryAt = System.nanoTime() + retryWait.toNanos();
                retryWait = retryWait.multipliedBy(2).compareTo(RETRY_MAX) > 0 ? RETRY_MAX : retryWait.multipliedBy(2);
            }
        }
    }

    /**
     * One copy; whether it got the whole log into the database file (or there was nothing to copy). A failed
     * copy, or one that fell short because a reader still needs part of the log, answers {@code false}: try again.
     * A database file that is gone answers {@code true}: no copy is tried then, and none again.
     */
    private boolean copy() {
        if (lostFile.get() != null) {
            return true;
        }
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            copying = s;
            if (closed) {
                return true; // close() may have looked for the statement before it was set: it is not run
            }
            try (ResultSet r = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
                copies++;
                if (!r.next()) {
                    return true;
                }
                // busy, log pages, pages copied (-1, -1 when the database is not in WAL mode)
                int log = r.getInt(2);
                int copied = r.getInt(3);
                boolean whole = r.getInt(1) == 0 && copied >= log;
                if (LOG.isDebugEnabled()) {
                    LOG.debug("checkpoint while idle: {} of {} log pages in the database file{}", copied, log,
                            whole ? "" : "; a reader still needs the rest: tried again in " + retryWait.toMillis()
                                    + " ms");
                }
                return whole;
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debug("checkpoint while idle {}; the log keeps every page{}: {}",
                    closed ? "abandoned by the store's close" : "failed",
                    closed ? "" : " and it is tried again in " + retryWait.toMillis() + " ms", e.toString());
            return false;
        } finally {
            copying = null;
        }
    }

    /**
     * Stops the thread and abandons a copy under way, which the log makes safe (it still holds every page): a wait
     * for one of the pool's connections ends at once (the thread is interrupted), a copy running is stopped at its
     * next page ({@link Statement#cancel()}, SQLite's {@code sqlite3_interrupt}). Waits at most {@link #CLOSE_WAIT}
     * for the thread to end; only a write to the disk under way outlasts that, and is left to end by itself. It
     * waited up to 5 s for the copy, outside a stop's count (docs/storage.md, "Graceful shutdown"): a copy waiting
     * for the connection of a long read waited all of it (review20 R6).
     */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        Statement s = copying;
        if (s != null) {
            try {
                s.cancel();
            } catch (SQLException | RuntimeException e) {
                LOG.debug("could not stop the checkpoint under way; it ends by itself: {}", e.toString());
            }
        }
        try {
            thread.join(CLOSE_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.debug("the checkpoint under way did not end within {} ms of the store's close; left to end by itself"
                    + " (the log keeps every page)", CLOSE_WAIT.toMillis());
        }
    }
}
