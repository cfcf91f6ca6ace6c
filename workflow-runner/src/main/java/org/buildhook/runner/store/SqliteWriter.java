package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.buildhook.runner.RunnerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.BusyHandler;
import org.sqlite.SQLiteConnection;

/**
 * The one thread that writes to an SQLite store, with group commit.
 *
 * <p>SQLite lets one writer in at a time. Left to themselves, concurrent writers collide on its
 * lock and wait in a busy handler, and every transaction pays its own fsync. Here every write
 * transaction of this process is handed to one thread, which takes all the transactions waiting at
 * that moment (up to {@link #MAX_BATCH}) and runs them in one SQLite transaction — each inside its
 * own {@code SAVEPOINT}, so one that fails is rolled back alone — and commits once. A caller is
 * answered only after that commit: the guarantee of one commit per transaction, at the cost of one
 * fsync per batch.
 *
 * <p>The transactions taken together are committed in two batches: first the
 * {@link Durability#DEFERRED} ones with {@code PRAGMA synchronous = NORMAL} (no fsync at commit; a
 * later {@code FULL} commit flushes the write-ahead log, and with it the earlier transactions, in
 * order), then the {@link Durability#DURABLE} ones with {@code FULL}. The runner's bookkeeping so
 * never waits for a delivery's fsync, and a delivery's commit never carries bookkeeping.
 *
 * <p>Batches begin explicitly ({@code BEGIN IMMEDIATE}) on a connection left in autocommit mode:
 * the driver's own transactions begin again right after every commit, and when that begin meets
 * another process's lock the connection is left believing in a transaction that does not exist.
 *
 * <p>After each commit the writer asks whether the database file is still the one at its path
 * ({@link DatabaseFile}): a commit into a deleted file is answered as a failure, never as stored.
 *
 * <p>Since this process's writes go through this one thread, its wait for SQLite's write lock is a
 * wait for another connection: db-scheduler's own (a heartbeat or a removal, held for a moment), or
 * another program (an open {@code sqlite3} shell inside a transaction, a backup tool). A wait of
 * {@link #LOCKED_WARNING} during which, for {@link #OWN_CLEAR} on end, none of db-scheduler's
 * connections may hold the lock (each of them in use is waiting for it too: see {@code ownMayHold}) is
 * the second: it is said once, at {@code WARN}, naming the file and what to do, and once more when
 * writes go through again. A stall of this process's own (a db-scheduler thread not scheduled for a
 * second inside its statement, on a loaded machine) is so not blamed on another program. While a durable transaction waits (an accept, an
 * operator's action: someone waits for its answer), the wait gives up after {@link #ACCEPT_WAIT} (a
 * sender hears {@code 503} and retries) instead of the whole {@link Database#SQLITE_BUSY_TIMEOUT} the
 * runner's bookkeeping may wait.
 *
 * <p>A transaction handed in by the start ({@link #duringStart}: the store's migrations, and what the application's
 * start writes before the node serves) is no accept, though durable: nobody is answered {@code 503} for it, and a
 * start that gives up on the lock fails for nothing. It waits for the lock as long as the start waits for the store
 * ({@code startWait}: {@link SqliteFirstConnection#lockWait}). It waited {@link #ACCEPT_WAIT} until migrate53: four
 * stores opening one new file at once (or a start beside a backup tool's transaction on a slow disk) failed after
 * 2 s, saying a lock had been held "for over 3s". A wait given up is said with the limit it ran to ({@link
 * SqliteLockNotGiven}).
 */
final class SqliteWriter implements AutoCloseable {

    /** Most transactions per commit: bounds how long the write lock is held at once. */
    static final int MAX_BATCH = 256;
    /**
     * How long the writer waits for the write lock while an accept (a durable transaction) waits for it. db-scheduler's own
     * writes hold the lock for milliseconds; a sender answered {@code 503} sooner retries sooner.
     */
    static final Duration ACCEPT_WAIT = Duration.ofSeconds(2);
    /** A wait for the write lock this long, none of our own holding it, means another program does: said once, at WARN. */
    static final Duration LOCKED_WARNING = Duration.ofSeconds(1);
    /**
     * How long none of this process's other connections may hold the lock before a long wait is said to
     * be another program's: twice {@link SqliteBusyWait#RECENT}, so that one of ours that got the lock
     * just after its last try, and keeps it, is seen holding it first.
     */
    static final Duration OWN_CLEAR = SqliteBusyWait.RECENT.multipliedBy(2);

    private static final Logger LOG = LoggerFactory.getLogger(SqliteWriter.class);

    /** Set on a thread while it runs the start ({@link #duringStart}); before {@link #STOP}, whose task reads it. */
    private static final ThreadLocal<Boolean> AT_START = new ThreadLocal<>();

    private static final Task<Void> STOP = new Task<>("stop", Durability.DEFERRED, false, c -> null);

    private final DataSource pool;
    private final BiFunction<String, SQLException, RunnerException> translate;
    private final Supplier<String> lostFile;
    private final BlockingQueue<Task<?>> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    /** Copies the write-ahead log into the database file while this writer is idle. */
    private final IdleCheckpoint checkpoint;
    private volatile boolean closed;
    private volatile long batches;
    private volatile long transactions;
    private StatementCache cache; // writer thread only
    /**
     * The {@code PRAGMA synchronous} last set on {@link #cache}'s connection, as the durability it stands for;
     * {@code null} while unknown (no connection yet, or a new one). Writer thread only.
     */
    private Durability synchronous;
    /** How many times a batch set {@code PRAGMA synchronous}. */
    private volatile long synchronousSets;
    /** The database, as the log names it. */
    private final String database;
    /** Durable transactions (accepts, operators' actions) handed in and not answered yet. */
    private final AtomicInteger acceptsWaiting = new AtomicInteger();
    /** Transactions the start handed in ({@link #duringStart}) and not answered yet. */
    private final AtomicInteger startsWaiting = new AtomicInteger();
    /** How long a transaction of the start waits for the lock (while no accept waits). */
    private final Duration startWait;
    /** The writer connection's wait for the lock: short while an accept waits, and telling when long. */
    private final SqliteBusyWait busyWait = new SqliteBusyWait(this::lockWaitNanos, LOCKED_WARNING,
            this::lockedByAnother);


    /**
     * Runs {@code work}, the start of a store or of the node serving it, on this thread: the transactions it hands in
     * wait for SQLite's write lock as the start waits for the store, not as an accept ({@link #ACCEPT_WAIT}). Other
     * threads' transactions (accepts a waiting copy of the web application hands over, db-scheduler's) wait as ever;
     * a batch with an accept in it gives up after {@link #ACCEPT_WAIT}. Nests.
     */
    static <T> T duringStart(java.util.function.Supplier<T> work) {
        boolean outer = AT_START.get() != null;
        AT_START.set(Boolean.TRUE);
        try {
            return work.get();
        } finally {
            if (!outer) {
                AT_START.remove();
            }
        }
    }

    /** How long the wait for the lock may last now: asked by the busy handler at every try. */
    private long lockWaitNanos() {
        if (acceptsWaiting.get() > 0) {
            return ACCEPT_WAIT.toNanos();
        }
        return (startsWaiting.get() > 0 ? startWait : Database.SQLITE_BUSY_TIMEOUT).toNanos();
    }
    /** {@link System#nanoTime()} when the wait that was said to be long began; 0 when none was. Writer thread only. */
    private long lockedSince;
    /** {@link #lockedSince} on the wall clock, for other threads ({@code /healthz}, the status page); {@code null}: none. */
    private volatile java.time.Instant lockedByAnotherSince;
    /** Whether one of this process's other connections (db-scheduler's) may hold the write lock now. */
    private final java.util.function.BooleanSupplier ownMayHold;
    /** Since when, in the current batch's wait, none of ours may hold the lock; 0: one may. Writer thread only. */
    private long ownClearSince;

    /**
     * @param translate what a driver failure means to callers
     * @param lostFile  why commits no longer reach the file a restart will open, or {@code null}
     *                  while they do; asked after every commit
     */
    SqliteWriter(DataSource pool, BiFunction<String, SQLException, RunnerException> translate,
            Supplier<String> lostFile) {
        this(pool, translate, lostFile, "the SQLite database");
    }

    /** @param database the database file, as the log names it */
    SqliteWriter(DataSource pool, BiFunction<String, SQLException, RunnerException> translate,
            Supplier<String> lostFile, String database) {
        this(pool, translate, lostFile, database, () -> false);
    }

    /**
     * @param database  the database file, as the log names it
     * @param ownMayHold whether one of this process's other connections may hold SQLite's write lock
     *                   now (asked on the writer's thread while a wait is long): one in use that is not
     *                   waiting for the lock itself
     */
    SqliteWriter(DataSource pool, BiFunction<String, SQLException, RunnerException> translate,
            Supplier<String> lostFile, String database, java.util.function.BooleanSupplier ownMayHold) {
        this(pool, translate, lostFile, database, ownMayHold, Database.SQLITE_BUSY_TIMEOUT);
    }

    /**
     * @param startWait how long a transaction handed in by the start ({@link #duringStart}) waits for the write lock
     */
    SqliteWriter(DataSource pool, BiFunction<String, SQLException, RunnerException> translate,
            Supplier<String> lostFile, String database, java.util.function.BooleanSupplier ownMayHold,
            Duration startWait) {
        this.startWait = startWait;
        this.ownMayHold = ownMayHold;
        this.database = database;
        this.pool = pool;
        this.translate = translate;
        this.lostFile = lostFile;
        this.checkpoint = new IdleCheckpoint(pool, lostFile, "buildhook-store-checkpoint");
        this.thread = new Thread(this::loop, "buildhook-store-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Told after every commit that changed rows. A commit that changed nothing wrote nothing — the
     * runner's polls that pick no job, sweeps with nothing due — and would succeed on a full disk
     * too, so it does not vouch for the store's health (tryout12 F2). Rows changed by a transaction
     * of the batch that was rolled back to its savepoint are not counted: the commit does not keep them.
     */
    private volatile Runnable changed = () -> { };

    void reportChangesTo(Runnable listener) {
        changed = listener;
    }

    /** Runs {@code work} in the next batch and waits until that batch committed or failed. */
    <T> T submit(String what, Durability durability, Database.Work<T> work) {
        return submit(what, durability, false, work);
    }

    /**
     * As {@link #submit(String, Durability, Database.Work)}; {@code alone}: in a batch of its own, for a
     * transaction that may fail in a way SQLite answers by rolling the whole batch back (the health probe
     * that needs room on a full disk: {@code SQLITE_FULL}), so that it never fails the others with it.
     */
    <T> T submit(String what, Durability durability, boolean alone, Database.Work<T> work) {
        boolean start = AT_START.get() != null;
        boolean accept = !start && durability == Durability.DURABLE;
        AtomicInteger waiting = start ? startsWaiting : accept ? acceptsWaiting : null;
        if (waiting != null) {
            waiting.incrementAndGet(); // before it is queued: the writer's lock wait changes at once
        }
        try {
            return submitLater(what, durability, alone, work).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while waiting to " + what
                    + "; it may still be committed", e, true);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new RunnerException("store failed to " + what + ": " + cause, cause);
        } finally {
            if (waiting != null) {
                waiting.decrementAndGet();
            }
        }
    }

    /**
     * Hands {@code work} to the next batch without waiting: the future ends when that batch
     * committed or failed. Transactions handed in by one thread run in the order it handed them in.
     */
    <T> CompletableFuture<T> submitLater(String what, Durability durability, Database.Work<T> work) {
        return submitLater(what, durability, false, work);
    }

    private <T> CompletableFuture<T> submitLater(String what, Durability durability, boolean alone,
            Database.Work<T> work) {
        if (Thread.currentThread() == thread) {
            throw new IllegalStateException("a store transaction must not start another one (" + what + ")");
        }
        Task<T> task = new Task<>(what, durability, alone, work);
        if (closed) {
            throw closedError(what);
        }
        queue.add(task);
        if (closed) {
            failAll(drain(new ArrayList<>()), closedError(what));
        }
        return task.result;
    }

    /** How long the writer has been waiting for SQLite's write lock now; zero when it is not (for tests). */
    Duration lockWait() {
        return busyWait.waitingAt(System.nanoTime());
    }

    /** Transactions handed in and not yet taken into a batch. */
    int waiting() {
        return queue.size();
    }

    /** Whether the writer's thread is alive. */
    boolean running() {
        return thread.isAlive();
    }

    /** The writer's thread (for tests: what it waits for). */
    Thread thread() {
        return thread;
    }

    /** Batches committed so far (for tests and metrics). */
    long batches() {
        return batches;
    }

    /** How many batches set {@code PRAGMA synchronous}: only those whose durability differed from the one before. */
    long synchronousSets() {
        return synchronousSets;
    }

    /** Transactions that went through a committed batch so far (including ones rolled back alone). */
    long transactions() {
        return transactions;
    }

    private void loop() {
        List<Task<?>> batch = new ArrayList<>();
        List<Task<?>> deferred = new ArrayList<>();
        List<Task<?>> durable = new ArrayList<>();
        List<Task<?>> alone = new ArrayList<>();
        while (true) {
            batch.clear();
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                // Only close() interrupts, after it set closed.
                if (closed) {
                    break;
                }
                continue;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            boolean stop = batch.remove(STOP);
            // Deferred transactions (the runner's bookkeeping) first, in a commit of their own that
            // does not wait for the disk; then the durable ones (accepts) with their fsync. So the
            // start of a job never waits for another delivery's fsync, and an accept's commit carries
            // no bookkeeping.
            // A transaction handed in to run alone commits in a batch of its own, after the deferred ones:
            // one whose failure makes SQLite roll the whole transaction back fails no other (review14 F13).
            deferred.clear();
            durable.clear();
            alone.clear();
            for (Task<?> task : batch) {
                (task.alone ? alone : task.durability == Durability.DURABLE ? durable : deferred).add(task);
            }
            runSafely(deferred);
            for (Task<?> task : alone) {
                runSafely(List.of(task));
            }
            runSafely(durable);
            if (stop) {
                break;
            }
        }
        List<Task<?>> rest = new ArrayList<>();
        queue.drainTo(rest);
        rest.removeIf(task -> task == STOP); // a second close()'s
        failAll(rest, closedError("write"));
        dropConnection();
    }

    private void runSafely(List<Task<?>> batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            run(batch);
        } catch (RuntimeException | Error e) {
            failAll(batch, e instanceof RuntimeException r ? r : new RunnerException("store writer failed: " + e, e));
        }
    }

    private void run(List<Task<?>> batch) {
        boolean durable = batch.stream().anyMatch(t -> t.durability == Durability.DURABLE);
        boolean begun = false;
        boolean done = false;
        try {
            Connection c = connection().connection();
            // A connection setting, kept until changed: set only when this batch's durability differs from the
            // last one set on this connection (docs/BENCHMARKS.md, "Twentieth pass: the job's bookkeeping").
            Durability wanted = durable ? Durability.DURABLE : Durability.DEFERRED;
            if (synchronous != wanted) {
                synchronous = null; // unknown until the statement has run
                execute(c, durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
                synchronous = wanted;
                synchronousSets++;
            }
            ownClearSince = 0; // the wait for the lock, if any, is this batch's
            org.sqlite.core.DB sqlite = c.unwrap(SQLiteConnection.class).getDatabase();
            execute(c, "BEGIN IMMEDIATE");
            begun = true;
            if (lockedSince != 0) {
                LOG.info("SQLite database {} is writable again, after about {} s locked by another program",
                        database, Math.max(1, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - lockedSince)));
                lockedSince = 0;
                lockedByAnotherSince = null;
            }
            List<Object> results = new ArrayList<>(batch.size());
            boolean savepoints = batch.size() > 1;
            long kept = 0;
            for (Task<?> task : batch) {
                long before = sqlite.total_changes();
                Object result = runOne(c, task, savepoints);
                if (!(result instanceof Failed)) {
                    // Only what the commit keeps: total_changes also counts the rows of a transaction
                    // rolled back to its savepoint, which wrote nothing (review13 L4).
                    kept += sqlite.total_changes() - before;
                }
                results.add(result);
            }
            execute(c, "COMMIT");
            batches++;
            transactions += batch.size();
            done = true;
            String lost = lostFile.get();
            if (lost != null) {
                for (Task<?> task : batch) {
                    task.result.completeExceptionally(new StoreUnavailableException("store unavailable while trying to "
                            + task.what + ": " + lost, null));
                }
                return;
            }
            if (kept != 0) {
                changed.run();
                checkpoint.committed();
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).finish(results.get(i));
            }
        } catch (SQLException failed) {
            Duration gaveUpAt = busyWait.takeGaveUpAt();
            // With the limit the wait ran to, for a start's error to say (Store#saidAtStart); the message is SQLite's.
            SQLException e = gaveUpAt == null ? failed : new SqliteLockNotGiven(failed, gaveUpAt);
            if (gaveUpAt != null && LOG.isDebugEnabled()) {
                // Which limit ended the wait: an accept's batch must give up after ACCEPT_WAIT, never the whole
                // busy timeout (SqliteLockedDatabaseTest reads it here rather than timing a loaded machine).
                boolean accept = batch.stream().anyMatch(t -> t.durability == Durability.DURABLE && !t.start);
                boolean start = batch.stream().anyMatch(t -> t.start);
                LOG.debug("SQLite database {}: the write lock was not taken within {}, the limit of a batch {}: {}"
                        + " transaction(s) refused", database, org.buildhook.runner.rules.Durations.describe(gaveUpAt),
                        accept ? "with an accept" : start ? "of the start" : "of bookkeeping only", batch.size());
            }
            // Each caller hears it about its own transaction, also in a batch of several: an accept's
            // 503 line must say "accept a delivery", not "4 transactions" (nor "expire approvals").
            boolean outage = false;
            for (Task<?> task : batch) {
                RuntimeException failure = translate.apply(task.what, e);
                outage |= failure instanceof StoreUnavailableException;
                task.result.completeExceptionally(failure);
            }
            if (!begun && outage) {
                // The database stayed locked or unreachable for the whole busy timeout: those who
                // queued meanwhile would only wait as long again for the same answer.
                for (Task<?> queued : drain(new ArrayList<>())) {
                    queued.result.completeExceptionally(translate.apply(queued.what, e));
                }
            }
        } catch (BatchBroken e) {
            failAll(batch, e.failure);
        } finally {
            if (!done) {
                // After any failure the connection may be broken: the next batch starts afresh.
                dropConnection();
            }
        }
    }

    /**
     * Told by the writer connection's busy handler, on this thread, at every try of a wait for the lock
     * once it has been long, until this says it was dealt with.
     */
    private boolean lockedByAnother(Duration waited) {
        if (lockedSince != 0) {
            return true; // said already, and no write has gone through since
        }
        long now = System.nanoTime();
        if (ownMayHold.getAsBoolean()) {
            ownClearSince = 0; // one of ours may be what we wait for: a stall of our own, not another program
            return false;
        }
        if (ownClearSince == 0) {
            ownClearSince = now;
        }
        if (now - ownClearSince < OWN_CLEAR.toNanos()) {
            return false;
        }
        lockedSince = now - waited.toNanos();
        lockedByAnotherSince = java.time.Instant.now().minus(waited);
        LOG.warn("the store cannot write: SQLite database {} is locked by another program: buildhook's writes have"
                + " waited {} ms for its write lock, which buildhook's own writes never hold that long. Until it is"
                + " released, deliveries are answered 503 after {} s of waiting and jobs are not started. {}", database,
                waited.toMillis(), ACCEPT_WAIT.toSeconds(), WHAT_TO_DO.replace("{}", database));
        return true;
    }

    /** What to do about another program's lock, {@code {}} standing for the database file. */
    private static final String WHAT_TO_DO = "Find the program with `fuser -v {}` (often an sqlite3 shell inside a"
            + " transaction, or a backup tool) and end its transaction; back up with sqlite3's .backup or VACUUM INTO,"
            + " which do not hold the write lock";

    /**
     * The status page's words for another program's lock on {@code database} (the file), as the log's
     * {@code WARN} says them: which file, and what to do.
     */
    static String lockedDetail(String database) {
        return "SQLite database " + database + " is locked by another program. " + WHAT_TO_DO.replace("{}", database);
    }

    /**
     * Since when another program holds the write lock, as said at {@code WARN}; {@code null} when it was not
     * said, or a write went through since.
     */
    java.time.Instant lockedByAnotherSince() {
        return lockedByAnotherSince;
    }

    /** The connection the writer keeps between batches, with its compiled statements. */
    private StatementCache connection() throws SQLException {
        if (cache == null) {
            Connection c = pool.getConnection();
            // Only this connection waits as the writer does (shorter for accepts, telling when long);
            // the handler goes back to the pool's when the connection does.
            BusyHandler.setHandler(c.unwrap(SQLiteConnection.class), busyWait);
            // Each transaction of a batch runs in its own savepoint, and SQLite keeps the pages a
            // savepoint may have to restore in a statement journal, which it spills to a temporary
            // file past 64 KiB: about 16 KB of writes per accept (docs/BENCHMARKS.md, "Fourth pass").
            // In memory instead; it holds the pages of one transaction of the batch at a time.
            execute(c, "PRAGMA temp_store = MEMORY");
            cache = new StatementCache(c);
            synchronous = null;
        }
        return cache;
    }

    private void dropConnection() {
        if (cache != null) {
            try {
                BusyHandler.setHandler(cache.connection().unwrap(SQLiteConnection.class),
                        new SqliteBusyWait(Database.SQLITE_BUSY_TIMEOUT));
            } catch (SQLException | RuntimeException broken) {
                // a broken connection is not reused
            }
            cache.close();
            cache = null;
        }
    }

    /**
     * One transaction of the batch: its result, or the {@link RuntimeException} it ended with
     * after its savepoint was rolled back. A failure that cannot be rolled back alone breaks the
     * whole batch.
     */
    private Object runOne(Connection c, Task<?> task, boolean savepoints) throws SQLException {
        if (savepoints) {
            execute(c, "SAVEPOINT tx");
        }
        try {
            Object result = task.work.run(c);
            if (savepoints) {
                execute(c, "RELEASE tx");
            }
            return result;
        } catch (SQLException | RuntimeException e) {
            RuntimeException failure = e instanceof SQLException s ? translate.apply(task.what, s) : (RuntimeException) e;
            if (!savepoints) {
                rollback(c, failure);
                throw new BatchBroken(failure);
            }
            try {
                execute(c, "ROLLBACK TO tx");
                execute(c, "RELEASE tx");
            } catch (SQLException r) {
                // SQLite rolled the whole transaction back itself (disk full, I/O error): nothing of
                // the batch is stored, so every caller in it must hear so.
                failure.addSuppressed(r);
                rollback(c, failure);
                throw new BatchBroken(failure);
            }
            return new Failed(failure);
        }
    }

    private static void rollback(Connection c, RuntimeException failure) {
        try {
            execute(c, "ROLLBACK");
        } catch (SQLException r) {
            failure.addSuppressed(r);
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(sql)) {
            st.execute();
        }
    }

    /**
     * Takes every transaction waiting into {@code into}, to be failed, and leaves the stop {@link #close()} queued, if
     * any, in the queue: only the loop may take it. Taken here, by a batch that could not begin (failing those queued
     * behind it) or by a caller that handed a transaction in as the store closed, the stop was gone: the writer then
     * waited for a transaction that could no longer come, and close() waited out its whole join, 30 s, before it
     * interrupted that wait. A failed {@link Store#open} (the start given no write lock: its close came while its
     * batch's answer was being given) so returned 30 s after its failure was known (migrate53 O1, fix57b).
     */
    private List<Task<?>> drain(List<Task<?>> into) {
        queue.drainTo(into);
        if (into.removeIf(task -> task == STOP)) {
            queue.add(STOP);
        }
        return into;
    }

    private static void failAll(List<Task<?>> tasks, RuntimeException failure) {
        for (Task<?> task : tasks) {
            task.result.completeExceptionally(failure);
        }
    }

    private static StoreUnavailableException closedError(String what) {
        return new StoreUnavailableException("the store is closed; cannot " + what, null);
    }

    /** Finishes the transactions already handed in, then stops the thread. */
    @Override
    public void close() {
        closed = true;
        queue.add(STOP);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt();
        }
        checkpoint.close();
    }

    /** Copies of the write-ahead log made while this writer was idle (for tests). */
    long idleCheckpoints() {
        return checkpoint.copies();
    }

    private record Failed(RuntimeException failure) { }

    private static final class BatchBroken extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient RuntimeException failure;

        BatchBroken(RuntimeException failure) {
            super(failure.getMessage(), null, false, false);
            this.failure = failure;
        }
    }

    private static final class Task<T> {
        private final String what;
        private final Durability durability;
        /** Whether it commits in a batch of its own. */
        private final boolean alone;
        private final Database.Work<T> work;
        /** Whether the start handed it in ({@link #duringStart}). */
        private final boolean start = AT_START.get() != null;
        private final CompletableFuture<T> result = new CompletableFuture<>();

        Task(String what, Durability durability, boolean alone, Database.Work<T> work) {
            this.what = what;
            this.durability = durability;
            this.alone = alone;
            this.work = work;
        }

        @SuppressWarnings("unchecked")
        void finish(Object outcome) {
            if (outcome instanceof Failed f) {
                result.completeExceptionally(f.failure);
            } else {
                result.complete((T) outcome);
            }
        }
    }
}
