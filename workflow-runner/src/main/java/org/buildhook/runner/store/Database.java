package org.buildhook.runner.store;

import org.buildhook.core.IoProblems;
import org.buildhook.core.DataFiles;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.buildhook.runner.RunnerException;
import org.sqlite.SQLiteDataSource;
import org.sqlite.SQLiteErrorCode;

/**
 * The connection pools and the transaction helper every store class goes through; translates
 * {@link SQLException}s into {@link StoreUnavailableException} (cannot reach the database) or
 * {@link RunnerException} (anything else).
 *
 * <p>SQLite: every write transaction of this process goes through one {@link SqliteWriter} (group
 * commit, {@code BEGIN IMMEDIATE}); WAL lets readers run beside it. Where connections still meet
 * on SQLite's lock (db-scheduler's own statements, other processes), a {@link SqliteBusyWait}
 * retries within a fraction of a millisecond instead of SQLite's default sleeps of up to 100 ms.
 * PostgreSQL: a plain pool, READ COMMITTED.
 *
 * <p>db-scheduler gets a pool of its own ({@link #schedulerDataSource()}), which the runner's
 * {@link Durability#DEFERRED} bookkeeping uses too. On SQLite its commits are not fsynced (a power cut may
 * undo the last of them); on PostgreSQL they wait for the WAL flush like every other commit: the server
 * can crash alone while this node and its commands live on ({@link Durability}).
 */
final class Database implements AutoCloseable {

    /** Work inside one transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /** How long a connection waits for SQLite's write lock held by someone else. */
    static final Duration SQLITE_BUSY_TIMEOUT = Duration.ofSeconds(10);

    private final Dialect dialect;
    private final StoreConfig config;
    /** {@link #urlTimeout} of {@code store.url}, read once: pgJDBC's reading of a URL may read {@code ~/.pgpass}. */
    private final Duration urlTimeout;
    private final HikariDataSource pool;
    private final SqliteWriter writer;
    /** The SQLite file, watched for deletion; {@code null} on PostgreSQL and in-memory SQLite. */
    private final DatabaseFile file;
    private final WriteHealth writeHealth = new WriteHealth();
    private final StopWaits stopWaits;
    /** SQLite: the readers' compiled statements; {@code null} on PostgreSQL, whose driver keeps its own. */
    private final ReaderStatements readers;
    private volatile HikariDataSource schedulerPool;
    private HikariDataSource nodeLockPool;
    private HikariDataSource healthPool;
    /**
     * PostgreSQL, from {@link #awaitLogins} on: how long a pool made at the start waits for its first connection (the
     * logins' bound, {@link Store#loginBound}), and how long the start's first login took; {@code null} before, and
     * when that login was not made.
     */
    private volatile SlowLogins slowLogins;

    /** The bound on each login and how long the start's first one took: see {@link #awaitLogins}. */
    record SlowLogins(Duration bound, Duration firstLogin) { }
    /** SQLite: the busy handlers of the scheduler pool's connections, to tell which are waiting for the lock. */
    private final SqliteBusyWait.Handlers schedulerWaits = new SqliteBusyWait.Handlers();

    /** Which of the pools could not give a connection lately: HikariCP tells it (see {@link PoolStarvation}). */
    private final PoolStarvation starvation;

    /** PostgreSQL: statements refused a lock within their session's lock_timeout ({@link #sessionInitSql}). */
    private final TableLockWait tableLocks;

    private Database(StoreConfig config, PoolStarvation starvation, HikariDataSource pool, DatabaseFile file) {
        this.starvation = starvation;
        this.tableLocks = new TableLockWait(connectionWait(config));
        this.dialect = config.dialect();
        this.config = config;
        this.urlTimeout = urlTimeout(config.url());
        this.pool = pool;
        this.file = file;
        this.stopWaits = new StopWaits(connectionWait(config), dialect == Dialect.POSTGRESQL);
        this.writer = dialect == Dialect.SQLITE ? new SqliteWriter(pool, this::translate, this::lostFile,
                writerDatabase(), this::schedulerMayHoldTheLock, SqliteFirstConnection.lockWait(config)) : null;
        this.readers = dialect == Dialect.SQLITE ? new ReaderStatements() : null;
        if (writer != null) {
            // Only a commit that changed rows shows that writes work (SqliteWriter#reportChangesTo).
            writer.reportChangesTo(writeHealth::succeeded);
        }
    }

    static Database open(StoreConfig config) {
        return open(config, CpuShare.Window::heldBack);
    }

    /**
     * As {@link #open(StoreConfig)}; on SQLite, the store's first connection is made before the pools are ({@link
     * SqliteFirstConnection}), waited for as long as {@code heldBack} says the host held it back.
     */
    static Database open(StoreConfig config, java.util.function.Predicate<CpuShare.Window> heldBack) {
        DatabaseFile file = DatabaseFile.of(config.url()).orElse(null);
        if (file != null) {
            createFileAndFolder(file.path());
        }
        if (config.dialect() == Dialect.SQLITE) {
            SqliteFirstConnection.make(config, sqliteDataSource(new SQLiteDataSource(), config, Durability.DURABLE),
                    heldBack);
        }
        PoolStarvation starvation = new PoolStarvation(connectionWait(config));
        return new Database(config, starvation, newPool(config, PoolStarvation.STORE_POOL, Durability.DURABLE, null,
                starvation), file);
    }

    /**
     * Remembers which file the SQLite store opened, so that its deletion is noticed (see
     * {@link DatabaseFile}); call once the schema is in place.
     */
    void pinFile() {
        if (file != null) {
            file.pin();
        }
    }

    /**
     * Why writes no longer reach the SQLite file opened at start (deleted or replaced), or
     * {@code null}: one {@code stat(2)}.
     */
    String lostFile() {
        return file == null ? null : file.lost();
    }

    /**
     * Whether writes work now: the last write's outcome while fresh, else one small probe write
     * (see {@link WriteHealth}). Never throws.
     *
     * <p>On PostgreSQL a committed transaction does not count as a write that worked, only a failed one
     * as one that did not: most of a node's commits change nothing (a sweep with nothing due, a slot try
     * that finds none free) and commit on a full disk too ({@code 53100}, refusing every delivery);
     * counted, they kept {@code /healthz} at 200 (tryout12 F2 on PostgreSQL, review13 F1). A commit does
     * not say whether it changed rows, so only the probe vouches for the store, at most once per
     * {@link WriteHealth#TRUST_SUCCESS}, on its own connection. SQLite's writer reports its commits that
     * changed rows.
     */
    boolean writable() {
        if (lostFile() != null) {
            return false;
        }
        if (lockedByAnother() != null) {
            // Said by the writer while it waits: no probe queued behind that wait (it took up to the 10-s busy
            // timeout to answer). One write is handed to it without waiting, so that the lock let go is noticed
            // even when nothing else writes (its BEGIN goes through and clears this).
            nudgeWriter();
            return false;
        }
        if (dialect != Dialect.POSTGRESQL) {
            return writeHealth.writable(needRoom -> {
                // In a batch of its own: the 64 KiB that do not fit on a full disk make SQLite roll the whole
                // batch back, which failed the runner's bookkeeping queued beside it too (review14 F13).
                inTransactionAlone("check that writes work", Durability.DEFERRED, c -> {
                    probe(c);
                    // Row 2 holds the room a full disk's probe needs; gone again once writes work.
                    try (PreparedStatement room = c.prepareStatement(needRoom
                            ? "INSERT OR REPLACE INTO store_probe (id, at) VALUES (2, zeroblob(" + PROBE_ROOM + "))"
                            : "DELETE FROM store_probe WHERE id = 2")) {
                        room.executeUpdate();
                    }
                    return null;
                });
                return true;
            });
        }
        // On the health check's own connection: busy pools must not make it a false "cannot write".
        // Its one-row update may still work on a full disk (docs/operations.md says so): PostgreSQL's
        // column takes no padding, so needRoom changes nothing there.
        return writeHealth.writable(needRoom -> {
            try (Connection c = healthDataSource().getConnection()) {
                jdbcTransaction(c, conn -> {
                    // Every node probes the same row: one stalled between its UPDATE and COMMIT (a long GC
                    // pause, a network partition until TCP notices) held every other node's probe, and with
                    // it their health outcome (review13 L8).
                    execute(conn, "SET LOCAL lock_timeout = " + HEALTH_WAIT.toMillis());
                    probe(conn);
                    return null;
                });
                return true;
            } catch (SQLException e) {
                if (LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                    return false; // another node's probe holds the row: no news, the last outcome stands
                }
                throw translate("check that writes work", e);
            }
        });
    }

    /**
     * SQLite: how much the probe writes after a write was refused for want of room, more than a
     * delivery of a few KiB and its jobs need: a one-row update rewrites a page in place, or fits where
     * the refused write had claimed room in the WAL before the disk ran out (tryout13 F1).
     */
    static final int PROBE_ROOM = 64 * 1024;

    /** The probe's one-row update (the row is made again if someone deleted it). */
    private void probe(Connection c) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE store_probe SET at = ? WHERE id = 1")) {
            update.setLong(1, config.clock().millis());
            if (update.executeUpdate() == 0) {
                execute(c, "INSERT INTO store_probe (id, at) VALUES (1, 0)");
            }
        }
    }

    /** Whether a write handed to the writer by {@link #nudgeWriter()} is under way. */
    private final java.util.concurrent.atomic.AtomicBoolean nudging = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * SQLite, while another program's lock was said: one probe write handed to the writer, not waited for,
     * unless one is under way or the writer is busy already (its next batch tells as much).
     */
    private void nudgeWriter() {
        if (writer == null || writer.waiting() > 0 || !writer.lockWait().isZero() || !nudging.compareAndSet(false, true)) {
            return;
        }
        inTransactionLater("check that the write lock is free", Durability.DEFERRED, c -> {
            probe(c);
            return null;
        }).whenComplete((done, failure) -> nudging.set(false));
    }

    /**
     * SQLite: since when another program holds the write lock, as the writer said it at {@code WARN};
     * {@code null} while it does not (or on PostgreSQL).
     */
    private java.time.Instant lockedByAnother() {
        return writer == null ? null : writer.lockedByAnotherSince();
    }

    /**
     * The pools deliveries, jobs and the node's id need (not the health check's own) that cannot give a
     * connection now ({@link PoolStarvation}).
     */
    private java.util.List<PoolStarvation.Starved> starvedPools() {
        java.util.List<HikariDataSource> watched = new java.util.ArrayList<>(3);
        watched.add(pool);
        synchronized (this) {
            if (schedulerPool != null) {
                watched.add(schedulerPool);
            }
            if (nodeLockPool != null) {
                watched.add(nodeLockPool);
            }
        }
        return starvation.starved(watched);
    }

    /**
     * What {@code /healthz} says of pools that cannot give a connection ({@link PoolStarvation}), or
     * {@code null} while every pool can.
     */
    HealthReport starvedReport() {
        java.util.List<PoolStarvation.Starved> starved = starvedPools();
        return refusesDeliveries(starved) ? HealthReport.noConnection(starvation.describe(starved)) : null;
    }

    /** Whether the delivery pool ({@code buildhook-store}) is among {@code starved}. */
    private static boolean refusesDeliveries(java.util.List<PoolStarvation.Starved> starved) {
        return starved.stream().anyMatch(s -> s.pool().equals(PoolStarvation.STORE_POOL));
    }

    /**
     * What {@code /healthz} says as {@code "degraded"} (still 200) while deliveries are stored but jobs are
     * not started: only the pools of jobs or of the node's id give no connection ({@link PoolStarvation}), or
     * only the jobs' statements are refused a table lock ({@link TableLockWait}); {@code null} otherwise, and
     * while deliveries are refused too ({@link #starvedReport()}, {@link #tableLockReport()} say that).
     */
    String jobsOnlyTrouble() {
        java.util.List<PoolStarvation.Starved> starved = starvedPools();
        if (!starved.isEmpty()) {
            return refusesDeliveries(starved) ? null : starvation.describe(starved);
        }
        if (tableLocks.since() == null || tableLocks.deliveriesRefused()) {
            return null;
        }
        List<TableLockWait.Holder> held = tableLocks.current(false, this::lockHolders);
        return held == null || tableLocks.deliveriesRefused() ? null : TableLockWait.reason(held);
    }

    /**
     * PostgreSQL: what {@code /healthz} says while a delivery's statement was refused a lock another session
     * holds and that lock (or another that blocks writes) is still held ({@link TableLockWait}); {@code null}
     * otherwise. Looks at {@code pg_locks} on the health check's connection only while such a refusal stands.
     */
    HealthReport tableLockReport() {
        List<TableLockWait.Holder> held = tableLocks.current(true, this::lockHolders);
        return held == null ? null : HealthReport.tableLocked(TableLockWait.reason(held));
    }

    /** The table locks of other sessions that block writes, looked up on the health check's connection. */
    private List<TableLockWait.Holder> lockHolders() {
        return readForHealth("look up the table locks of other sessions", TableLockWait::holders);
    }

    /**
     * What keeps the store from taking deliveries as the node knows it now, for the status page: SQLite's
     * file lost, its write lock held by another program, a pool with no connection to give, or the writes'
     * last outcome a failure (checked again, as {@code /healthz} would, when it is older than a second);
     * empty when none. Reads nothing while writes work.
     */
    java.util.Optional<StoreTrouble> trouble() {
        String lost = lostFile();
        if (lost != null) {
            return java.util.Optional.of(new StoreTrouble(writeHealth.failingSince(), HealthReport.fileLost().reason(),
                    lost));
        }
        java.time.Instant locked = lockedByAnother();
        if (locked != null) {
            nudgeWriter();
            return java.util.Optional.of(new StoreTrouble(locked, HealthReport.lockedByAnother().reason(),
                    SqliteWriter.lockedDetail(writerDatabase())));
        }
        java.util.List<PoolStarvation.Starved> starved = starvedPools();
        if (!starved.isEmpty()) {
            // Deliveries are refused only while the store's own pool gives none; the others stop jobs.
            boolean deliveries = refusesDeliveries(starved);
            java.time.Instant since = starved.stream().map(PoolStarvation.Starved::since)
                    .min(java.time.Instant::compareTo).orElseThrow();
            // Known why: said first, in /healthz's words (its own connection is refused the same way); the pools'
            // account after it (tryout44 F13: the banner said only that the pools gave none).
            String cause = PoolStarvation.cause(starved);
            return java.util.Optional.of(cause == null
                    ? new StoreTrouble(since, starvation.describe(starved), null, deliveries)
                    : new StoreTrouble(since, cause, starvation.describe(starved, false), deliveries));
        }
        java.time.Instant lockedSince = tableLocks.since();
        List<TableLockWait.Holder> held = lockedSince == null ? null : tableLocks.current(false, this::lockHolders);
        if (held != null) {
            return java.util.Optional.of(new StoreTrouble(lockedSince, TableLockWait.reason(held),
                    TableLockWait.detail(held), tableLocks.deliveriesRefused()));
        }
        if (writeHealth.lastFailure() == null || writable()) {
            return java.util.Optional.empty();
        }
        // writable() may have found the lock meanwhile: say that rather than the busy timeout's failure.
        return lockedByAnother() != null ? trouble() : java.util.Optional.of(new StoreTrouble(
                writeHealth.failingSince(), notWritable().reason(), writeHealth.lastFailure()));
    }

    /** The SQLite database as the writer's log names it. */
    private String writerDatabase() {
        return file != null ? file.path().toString() : config.url();
    }

    /** Why the last write failed for want of a store, or {@code null}. */
    String lastWriteFailure() {
        String lost = lostFile();
        return lost != null ? lost : writeHealth.lastFailure();
    }

    /** What {@code /healthz} says of writes that do not work now ({@link HealthReport#notWritable}). */
    HealthReport notWritable() {
        String lost = lostFile();
        if (lost != null) {
            return HealthReport.fileLost();
        }
        return lockedByAnother() != null ? HealthReport.lockedByAnother()
                : HealthReport.notWritable(writeHealth.lastFailureCause());
    }

    /**
     * @param waits      SQLite: where the connections' busy handlers are kept, or {@code null}
     * @param starvation told by the pool of its waits for a connection, or {@code null} (the health check's own)
     */
    private static HikariDataSource newPool(StoreConfig config, String name, Durability durability,
            SqliteBusyWait.Handlers waits, PoolStarvation starvation) {
        return newPool(config, name, durability, waits, config.poolSize(), starvation);
    }

    private static HikariDataSource newPool(StoreConfig config, String name, Durability durability,
            SqliteBusyWait.Handlers waits, int size, PoolStarvation starvation) {
        return newPool(config, name, durability, waits, size, connectionWait(config), starvation);
    }

    private static HikariDataSource newPool(StoreConfig config, String name, Durability durability,
            SqliteBusyWait.Handlers waits, int size, Duration wait, PoolStarvation starvation) {
        return newPool(config, name, durability, waits, size, wait, starvation, null);
    }

    /**
     * @param keepalive {@code null}: HikariCP's keepalive and maximum lifetime; else the keepalive, and no
     *                  maximum lifetime (see {@link #HEALTH_KEEPALIVE})
     */
    private static HikariDataSource newPool(StoreConfig config, String name, Durability durability,
            SqliteBusyWait.Handlers waits, int size, Duration wait, PoolStarvation starvation, Duration keepalive) {
        HikariConfig hikari = new HikariConfig();
        if (keepalive != null) {
            hikari.setMaxLifetime(0);
            hikari.setKeepaliveTime(keepalive.toMillis());
        }
        hikari.setPoolName(name);
        if (starvation != null) {
            hikari.setMetricsTrackerFactory(starvation);
        }
        hikari.setMaximumPoolSize(size);
        hikari.setMinimumIdle(1);
        hikari.setConnectionTimeout(wait.toMillis());
        // HikariCP tests a connection idle for over half a second before it hands it out, for up to its
        // validationTimeout, 5 s by default and never capped by the connection wait: with a database that
        // stopped answering, a caller waited 5 s whatever store.connect-timeout said (final18 F7:
        // "buildhook-scheduler - Connection is not available, request timed out after 5003ms" at 2s).
        hikari.setValidationTimeout(validationTimeout(wait).toMillis());
        // The pool must come up even when the database is down, so /healthz can say 503.
        hikari.setInitializationFailTimeout(-1);
        if (config.dialect() == Dialect.SQLITE) {
            hikari.setDataSource(sqliteDataSource(new SqliteBusyWait.DataSource(SQLITE_BUSY_TIMEOUT, waits), config,
                    durability));
        } else {
            // Every new connection of the pool, not only the start's first one, gives up its connect and login
            // after store.connect-timeout. Without it the driver waited for ever for the answer to a login sent
            // while the database hung (accepted, never answered: a frozen server, a failover, a middlebox that lost
            // its state), and HikariCP opens connections on one thread per pool: that pool got none again, and
            // the node answered 503 long after PostgreSQL answered again (tryout22 F3). Each read of a login is
            // bounded as the login is, so the driver's login thread ends too (tryout47); reads of established
            // connections keep no timeout (a call may be long). Parameters of the same name in store.url win.
            // The driver is named, not found through META-INF/services, which merged (fat) jars tend to lose.
            hikari.setDataSource(PostgresLogins.of(config, name));
            String init = sessionInitSql(config, name, durability, wait);
            if (init != null) {
                hikari.setConnectionInitSql(init);
            }
        }
        return starvation != null ? starvation.pool(hikari) : new HikariDataSource(hikari);
    }

    /** {@code sqlite} set up for the SQLite store of {@code config} as every connection of the pools is; returned. */
    private static SQLiteDataSource sqliteDataSource(SQLiteDataSource sqlite, StoreConfig config, Durability durability) {
        sqlite.setUrl(config.url());
        sqlite.setJournalMode("WAL");
        sqlite.setEnforceForeignKeys(true);
        sqlite.setSynchronous(durability == Durability.DURABLE ? "FULL" : "NORMAL");
        // Nothing here reads generated keys; left on, sqlite-jdbc compiles and runs a
        // "SELECT last_insert_rowid()" after every INSERT, on the writer thread that every
        // accept waits for (a sixth of its CPU; docs/BENCHMARKS.md).
        sqlite.getConfig().setGetGeneratedKeys(false);
        return sqlite;
    }

    /**
     * PostgreSQL: what each new session of pool {@code name} runs first, or {@code null}: on the pools whose waits
     * a delivery, the status page or a job's step waits for ({@code buildhook-store}, {@code
     * buildhook-scheduler}), {@code lock_timeout} set to the connection wait ({@code store.connect-timeout}):
     * a statement that waits longer for a lock another session holds (a table lock of {@code VACUUM FULL},
     * {@code ALTER TABLE}, {@code REINDEX TABLE}, {@code CLUSTER}, {@code LOCK TABLE}) gives up with {@code
     * 55P03}, answered 503 ({@link TableLockWait}), instead of waiting as long as the lock is held (tryout25 F1:
     * 43 s, past JobServ's 30-s client timeout, with no answer). A {@code lock_timeout} in store.url (its
     * {@code options}) wins: then nothing is set. The migrations wait for another node's without a bound
     * ({@code SET LOCAL lock_timeout = 0}, {@link Migrations}); the node id's and the health check's pools are
     * not bounded here. The same two pools' sessions are ended by PostgreSQL when idle inside a transaction for
     * {@link #idleInTransactionBound} (a node that does not run must not hold its row locks for good).
     *
     * <p>{@code durability} changes nothing on PostgreSQL: no pool commits with {@code synchronous_commit} off
     * ({@link Durability}, pgcrash31); it is the server's setting, {@code on} by default.
     */
    static String sessionInitSql(StoreConfig config, String name, Durability durability, Duration wait) {
        List<String> set = new java.util.ArrayList<>(2);
        // No "SET synchronous_commit TO off" for the DEFERRED pool any more (pgcrash31): a PostgreSQL server can crash
        // alone (the OOM killer, kill -9, a host of its own cut) while this node and its commands live on, and an
        // unflushed commit the node had acted on (an attempt's start, its end, a pick) was then gone: the command ran
        // twice, the history showed one run (tryout31 F1). Every commit here waits for the WAL flush (the server's
        // synchronous_commit, on by default).
        String url = config.url().toLowerCase(java.util.Locale.ROOT);
        boolean bounded = PoolStarvation.STORE_POOL.equals(name) || SCHEDULER_POOL.equals(name);
        if (bounded && !url.contains("lock_timeout")) {
            set.add("SET lock_timeout = " + wait.toMillis());
        }
        if (bounded && !url.contains("idle_in_transaction_session_timeout")) {
            set.add("SET idle_in_transaction_session_timeout = " + idleInTransactionBound(wait).toMillis());
        }
        return set.isEmpty() ? null : String.join("; ", set);
    }

    /**
     * PostgreSQL: how long a session of the pools {@code buildhook-store} and {@code buildhook-scheduler} may stay idle
     * inside a transaction before PostgreSQL ends it ({@code idle_in_transaction_session_timeout}): six times {@code
     * store.connect-timeout}, at least 30 s. A node's transactions run their statements one after another; a session
     * idle that long inside one belongs to a node that does not run (paused: {@code SIGSTOP}, a VM frozen, a host cut
     * off with its connection left open), and the row locks it holds (a job's, a shared resource's) would stop every
     * other node from taking over that node's jobs for as long as it stays so (ci-a: the taker waited for a paused
     * node's row lock for good). Ended, its locks go; the node, should it run again, finds its connection closed and
     * tries its work again, as after any cut. An {@code idle_in_transaction_session_timeout} in store.url (its {@code
     * options}) wins.
     *
     * @param wait {@code store.connect-timeout}
     * @return the bound, at least 30 s
     */
    static Duration idleInTransactionBound(Duration wait) {
        Duration six = wait.multipliedBy(6);
        return six.compareTo(Duration.ofSeconds(30)) < 0 ? Duration.ofSeconds(30) : six;
    }

    /** The pool db-scheduler and the jobs' bookkeeping run on. */
    static final String SCHEDULER_POOL = "buildhook-scheduler";

    /**
     * The driver's timeouts for each connection a PostgreSQL pool opens: {@link StoreReachability#timeouts}'s
     * connect, SSL answer and login bounds ({@code store.connect-timeout}, {@link StoreReachability#SSL_ANSWER}),
     * without its read timeout: {@link PostgresLogins} bounds the reads of a login alone.
     */
    static java.util.Properties pooledConnectTimeouts(StoreConfig config) {
        java.util.Properties timeouts = StoreReachability.timeouts(config);
        timeouts.remove("socketTimeout");
        return timeouts;
    }

    /** HikariCP's own default for how long it tests a connection before handing it out. */
    static final Duration HIKARI_VALIDATION_TIMEOUT = Duration.ofSeconds(5);

    /**
     * How long a pool whose callers wait {@code wait} for a connection tests one before handing it out:
     * HikariCP's 5 s, but never longer than the wait itself.
     */
    static Duration validationTimeout(Duration wait) {
        return wait.compareTo(HIKARI_VALIDATION_TIMEOUT) < 0 ? wait : HIKARI_VALIDATION_TIMEOUT;
    }

    /**
     * The folder (0750) and the database file (0640, empty: SQLite takes it as a new database) when
     * they do not exist; SQLite gives its -wal and -shm files the mode of the database file.
     */
    private static void createFileAndFolder(Path file) {
        Path parent = file.getParent();
        try {
            DataFiles.createDirectories(parent);
        } catch (IOException e) {
            throw new RunnerException("cannot create the folder of the SQLite store " + parent + ": " + IoProblems.describe(e), e);
        }
        try {
            DataFiles.createIfMissing(file);
        } catch (IOException e) {
            throw new RunnerException("cannot create the SQLite store " + file + ": " + IoProblems.describe(e), e);
        }
    }

    Dialect dialect() {
        return dialect;
    }

    /** The store's configuration, for what a failure says ({@link Store#poolCannotConnect}). */
    StoreConfig config() {
        return config;
    }

    /** How long a caller waits for a pooled connection before {@link StoreUnavailableException}. */
    Duration connectionWait() {
        return connectionWait(config);
    }

    /** The store's connect timeout, at least the 250 ms HikariCP accepts. */
    private static Duration connectionWait(StoreConfig config) {
        return Duration.ofMillis(Math.max(250, config.connectTimeout().toMillis()));
    }

    DataSource dataSource() {
        return pool;
    }

    /** SQLite's group commit so far; empty on PostgreSQL. */
    Optional<WriteStats> writeStats() {
        return writer == null ? Optional.empty() : Optional.of(new WriteStats(writer.batches(), writer.transactions()));
    }

    /**
     * PostgreSQL: a connection apart from the others (a pool of at most two), whose session holds this
     * node's advisory lock on its node id for as long as the node runs ({@link NodeLeases}). Made on
     * first use.
     */
    synchronized DataSource nodeLockDataSource() {
        if (nodeLockPool == null) {
            // One connection per engine on this store; two so that a second engine of the same JVM (tests)
            // is not kept waiting for the first's.
            nodeLockPool = newPool(config, "buildhook-node-id", Durability.DURABLE, null, 2, starvation);
            awaitFirstConnection(nodeLockPool, "buildhook-node-id");
        }
        return nodeLockPool;
    }

    /**
     * How long {@code /healthz} waits for its connection: well under the connection wait of job and
     * delivery traffic, and under the few seconds load balancers give a health check.
     */
    static final Duration HEALTH_WAIT = Duration.ofSeconds(1);
    /** How long {@code /healthz}'s probe waits for any one answer of PostgreSQL before it gives up. */
    static final Duration HEALTH_NETWORK_TIMEOUT = Duration.ofSeconds(3);

    /** PostgreSQL's SQLSTATE for a lock not taken within {@code lock_timeout}. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    /**
     * PostgreSQL: the one connection {@code /healthz}'s probe runs on, apart from the pools of
     * deliveries and jobs: a busy pool (every connection taken by load) does not make the check wait
     * and answer a false 503, and a database that refuses connections is said within {@link
     * #HEALTH_WAIT} rather than the connection wait ({@code store.connect-timeout}, 5 s by default;
     * tryout8, F9). Made at the start ({@link #awaitLogins}), with its connection, so that the first check after
     * the start does not wait for a login (one over {@link #HEALTH_WAIT}, a pooler queueing logins or a far
     * network, answered the first check 503, pglogin27); made on first use when the start's first login was not
     * made (the pool tried again). Its connection is not replaced by age ({@link #HEALTH_KEEPALIVE}).
     */
    private synchronized DataSource healthDataSource() {
        if (pool.isClosed()) {
            return pool; // closed: says so, rather than a pool made after the store's close
        }
        if (healthPool == null) {
            HikariDataSource health = newPool(config, "buildhook-health", Durability.DURABLE, null, 1,
                    HEALTH_WAIT.compareTo(connectionWait(config)) < 0 ? HEALTH_WAIT : connectionWait(config), null,
                    HEALTH_KEEPALIVE);
            healthPool = health;
            awaitFirstConnection(health, "buildhook-health");
        }
        return healthPool;
    }

    /**
     * How often the health check's one connection is tested while idle (HikariCP's {@code keepaliveTime}), which
     * also keeps a firewall's or NAT's state for it: a connection found broken is replaced in the background. It is
     * not replaced by age (HikariCP's {@code maxLifetime}, 30 min by default, made 0): HikariCP closes a connection
     * at its end of life before it opens the next, and with logins over {@link #HEALTH_WAIT} every such replacement
     * answered a check 503 (pglogin27).
     */
    static final Duration HEALTH_KEEPALIVE = Duration.ofSeconds(60);

    /**
     * PostgreSQL, at the start, once its first login was made ({@link Store}: a driver connection, which took
     * {@code firstLogin}): waits up to {@code bound} (the logins' own bound, {@link Store#loginBound}; zero: without
     * one) for the store's pool's first connection, then makes the health check's pool and waits for its one;
     * the pools made later at the start (db-scheduler's, the node id's) wait so too when made. Their callers wait
     * only the connection wait ({@code store.connect-timeout}) for a connection: with a {@code loginTimeout} in
     * {@code store.url} over it, for logins slower than the key (a pooler queueing them, a far network), no
     * pool got its first connection in time and the start could never succeed (pglogin27). Does nothing on SQLite.
     *
     * @throws StoreUnavailableException a pool made no connection within {@code bound}: said with the bound, the
     *                                   first login's time and the key to raise ({@link Store#loginsTooSlow})
     */
    void awaitLogins(Duration bound, Duration firstLogin) {
        if (dialect != Dialect.POSTGRESQL) {
            return;
        }
        slowLogins = new SlowLogins(bound, firstLogin);
        awaitFirstConnection(pool, PoolStarvation.STORE_POOL);
        healthDataSource();
    }

    /**
     * Waits for {@code pool}'s first connection, which HikariCP makes in the background ({@code minimumIdle} 1), up to
     * {@link #slowLogins}' bound; returns at once before {@link #awaitLogins} and on SQLite. Asks the pool for one,
     * each time for its connection wait ({@code store.connect-timeout}), so that the pool says why it has none: its
     * logins still under way, or ended by their own {@code loginTimeout} ("Connection attempt timed out"), are waited
     * for up to the bound; a login the pool's last try got refused (PostgreSQL or a pooler out of connections, the TCP
     * connection refused) ends the start at once with that reason, as before this wait: a refusal is no slow login
     * (review29: it was said as logins slower than the bound, and with {@code loginTimeout=0}, no bound, the start
     * waited for ever).
     *
     * <p>Not HikariCP's {@code initializationFailTimeout} (5.1.0's {@code checkFailFast}): it tries every failed login
     * again until its timeout (only a failure of the connection's set-up ends it early), so a refusal would wait out
     * the whole bound, and with no bound ({@code loginTimeout=0}) for ever; and it runs in the pool's constructor,
     * before the start knows whether its first login was made (the store's pool must come up with the database down).
     *
     * @throws StoreUnavailableException the pool's logins were refused, or none was made within the bound
     */
    private void awaitFirstConnection(HikariDataSource pool, String name) {
        SlowLogins logins = slowLogins;
        if (logins == null || dialect != Dialect.POSTGRESQL) {
            return;
        }
        long start = System.nanoTime();
        while (true) {
            try (Connection first = PoolStarvation.firstConnection(pool)) {
                return; // back to the pool, which keeps it
            } catch (SQLException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new StoreUnavailableException("interrupted while waiting for the PostgreSQL store's pool "
                            + name + " to make its first connection", e);
                }
                // HikariCP's "request timed out" carries its last login's failure, if one failed since the last made.
                if (e.getCause() instanceof SQLException failure && !Store.timedOut(failure)) {
                    throw Store.poolCannotConnect(config, name, e);
                }
                if (!logins.bound().isZero() && System.nanoTime() - start > logins.bound().toNanos()) {
                    throw new StoreUnavailableException(Store.loginsTooSlow(config, logins, name), null);
                }
            }
        }
    }

    /** Runs read-only {@code work} on {@link #healthDataSource()}; on SQLite as {@link #read}. */
    <T> T readForHealth(String what, Work<T> work) {
        if (dialect != Dialect.POSTGRESQL) {
            return read(what, work);
        }
        try (Connection c = healthDataSource().getConnection()) {
            // A query timeout is a cancel request, which a server that has stopped answering (frozen, a
            // network partition that drops packets) never acts on: the socket's own bound ends the read,
            // and the connection with it (final18 F2: the first /healthz hung until the database came back).
            StopWaits.answersWithin(c, HEALTH_NETWORK_TIMEOUT);
            return work.run(c);
        } catch (SQLException e) {
            throw translate(what, e);
        }
    }

    /**
     * {@link #schedulerDataSource()} as db-scheduler is given it: through {@link StopWaits}, each answer of PostgreSQL
     * bounded by {@link #schedulerBound()} (a job's own bookkeeping on its threads keeps {@link #lookBound()}, set
     * around it by {@link Store#look}).
     */
    DataSource schedulerDataSourceForScheduler() {
        return stopWaits.wrap(schedulerDataSource(), schedulerBound());
    }

    /**
     * The bound on each answer of db-scheduler's own statements (its heartbeats, its polling):
     * {@link #idleInTransactionBound} of {@code store.connect-timeout}, at least 30 s, with no timeout of store.url on
     * top. A heartbeat whose connection never answers again must fail, and the next one go through on another
     * connection, well before the node fences itself (three quarters of the dead-node limit, 135 s by default): a
     * {@code lock_timeout=2min} in store.url made it wait 150 s, past that point, and the node killed its running jobs
     * (review48 F10). Its statements are short; a lock wait past the bound is cut, as a connection that did not answer.
     */
    Duration schedulerBound() {
        return idleInTransactionBound(config.connectTimeout());
    }

    /**
     * {@link #idleInTransactionBound} of {@code store.connect-timeout}, and the longest {@code lock_timeout} or {@code
     * statement_timeout} in store.url on top ({@link #urlTimeout}): see {@link Store#lookBound}.
     */
    Duration lookBound() {
        return idleInTransactionBound(config.connectTimeout()).plus(urlTimeout);
    }

    /**
     * {@link Store#SENDER_BOUND}, whatever store.url says: see {@link Store#senderBound}. No timeout of store.url is
     * added (review48 F1): the bound cannot tell a lock wait from a server that stopped answering, and the sender gives
     * up after 30 s either way, so a longer one only held the request thread while the sender sent the delivery again.
     */
    Duration senderBound() {
        return Store.SENDER_BOUND;
    }

    private static final java.util.regex.Pattern URL_TIMEOUT = java.util.regex.Pattern.compile(
            "(?:^|\\s)(?:-c\\s*|--)(?i:(?:lock|statement)[-_]timeout)\\s*=\\s*'?(\\d+(?:\\.\\d+)?)"
                    + "\\s*(us|ms|s|min|h|d)?'?(?=\\s|$)");

    /**
     * The longest {@code lock_timeout} or {@code statement_timeout} set in the {@code options} of a PostgreSQL {@code
     * store.url} ({@code …&options=-c%20lock_timeout%3D2min}, decoded; the name in any case, {@code --lock-timeout=…}
     * too; PostgreSQL's units {@code us ms s min h d}, a number alone in ms, a fraction such as {@code 1.5min}), or
     * zero when none is set, for {@code 0} (no limit, which no bound can cover: the answer's bound then caps it) and on
     * SQLite. The looks' bound on each answer ({@link #lookBound}; not the accept's, {@link #senderBound}, nor
     * db-scheduler's, {@link #schedulerBound}) grows by it, so that a statement the operator lets wait that long for a
     * lock, or run that long, ends as PostgreSQL ends it ({@code 55P03}, a table lock: {@link TableLockWait}) and not
     * by the connection's socket closed at the bound (review47 F4: a {@code lock_timeout} of 120 s in store.url was cut
     * at 30 s, with other words, the backend left queued for the lock).
     *
     * @param url {@code store.url}
     * @return zero or more, never negative
     */
    static Duration urlTimeout(String url) {
        // As pgJDBC reads the URL and passes its options to PostgreSQL (decoded; the parameter's name as the driver
        // spells it, the last of several).
        String options = StoreReachability.urlParameter(url, "options").orElse(null);
        Duration longest = Duration.ZERO;
        if (options != null) {
            java.util.regex.Matcher m = URL_TIMEOUT.matcher(options);
            while (m.find()) {
                String unit = m.group(2) == null ? "ms" : m.group(2);
                long micros = switch (unit) {
                    case "us" -> 1L;
                    case "s" -> 1_000_000L;
                    case "min" -> 60_000_000L;
                    case "h" -> 3_600_000_000L;
                    case "d" -> 86_400_000_000L;
                    default -> 1_000L;
                };
                // A fraction (1.5min) as PostgreSQL takes it; PostgreSQL refuses a value past an int's range of ms
                // (the session would not start).
                java.math.BigDecimal us = new java.math.BigDecimal(m.group(1))
                        .multiply(java.math.BigDecimal.valueOf(micros)).min(java.math.BigDecimal.valueOf(Integer.MAX_VALUE * 1000L));
                Duration d = Duration.ofNanos(us.longValue() * 1000L);
                if (d.compareTo(longest) > 0) {
                    longest = d;
                }
            }
        }
        return longest;
    }

    /**
     * The node is stopping: a pool that just failed to give a connection is not waited for again within
     * the connection wait ({@link StopWaits}).
     */
    void stopping() {
        stopWaits.stopping();
    }

    /** The pool db-scheduler runs on: its commits are {@link Durability#DEFERRED}. Made on first use. */
    synchronized DataSource schedulerDataSource() {
        if (schedulerPool == null) {
            schedulerPool = newPool(config, SCHEDULER_POOL, Durability.DEFERRED, schedulerWaits, starvation);
            awaitFirstConnection(schedulerPool, SCHEDULER_POOL);
        }
        return schedulerPool;
    }

    /**
     * SQLite: whether one of db-scheduler's connections may hold the write lock now, for the writer,
     * whose long waits are otherwise another program's. Its statements are the only writes of this
     * process outside the writer (the other pool's connections only read). A connection in use may hold
     * the lock unless it is waiting for it itself (its busy handler tried lately): so when another
     * program holds it, db-scheduler's connections stuck behind it too do not hide that.
     */
    private boolean schedulerMayHoldTheLock() {
        HikariDataSource scheduler = schedulerPool;
        if (scheduler == null) {
            return false;
        }
        com.zaxxer.hikari.HikariPoolMXBean connections = scheduler.getHikariPoolMXBean();
        int inUse = connections == null ? 0 : connections.getActiveConnections();
        return inUse > 0 && inUse > schedulerWaits.waitingAt(System.nanoTime());
    }

    /** SQLite: how long the writer has been waiting for the write lock now; zero when it is not (for tests). */
    Duration writerLockWait() {
        return writer == null ? Duration.ZERO : writer.lockWait();
    }

    /** Runs {@code work} in one durable transaction: committed when it returns, rolled back when it throws. */
    <T> T inTransaction(String what, Work<T> work) {
        return inTransaction(what, Durability.DURABLE, work);
    }

    /** Runs {@code work} in one transaction whose commit is as durable as {@code durability} says. */
    <T> T inTransaction(String what, Durability durability, Work<T> work) {
        try {
            if (writer != null) {
                return writer.submit(what, durability, work); // its commits report to writeHealth themselves
            }
            // No writeHealth.succeeded(): on PostgreSQL only the probe vouches for writes (see #writable).
            return pooledTransaction(what, durability, work);
        } catch (StoreUnavailableException e) {
            writeHealth.failed(e);
            throw e;
        }
    }

    /**
     * As {@link #inTransaction(String, Durability, Work)}; on SQLite committed in a batch of its own
     * ({@link SqliteWriter#submit(String, Durability, boolean, Work)}), for a transaction whose failure
     * may roll back the whole batch it is in.
     */
    private <T> T inTransactionAlone(String what, Durability durability, Work<T> work) {
        try {
            if (writer != null) {
                return writer.submit(what, durability, true, work);
            }
            return pooledTransaction(what, durability, work);
        } catch (StoreUnavailableException e) {
            writeHealth.failed(e);
            throw e;
        }
    }

    /** SQLite: the transactions handed to the writer and not yet taken into a batch; 0 on PostgreSQL (for tests). */
    int writerWaiting() {
        return writer == null ? 0 : writer.waiting();
    }

    /**
     * As {@link #inTransaction(String, Durability, Work)}, without waiting for SQLite's writer: the
     * future ends once the transaction committed or failed. Transactions handed in by one thread
     * still commit in the order it handed them in. PostgreSQL (no writer) runs it before returning.
     * Never throws: every failure ends the future.
     */
    <T> java.util.concurrent.CompletableFuture<T> inTransactionLater(String what, Durability durability, Work<T> work) {
        if (writer == null) {
            return endedNow(() -> inTransaction(what, durability, work));
        }
        java.util.concurrent.CompletableFuture<T> later;
        try {
            later = writer.submitLater(what, durability, work);
        } catch (StoreUnavailableException e) {
            writeHealth.failed(e);
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        return later.whenComplete((result, failure) -> {
            if (failure instanceof StoreUnavailableException unavailable) {
                writeHealth.failed(unavailable);
            }
        });
    }

    /**
     * {@code work}, one statement, as {@link #inOneStatement(String, Durability, Work)} on PostgreSQL
     * (run before returning) and as {@link #inTransactionLater} on SQLite (handed to its writer, not
     * waited for). Never throws: every failure ends the future.
     */
    <T> java.util.concurrent.CompletableFuture<T> inOneStatementLater(String what, Durability durability,
            Work<T> work) {
        if (writer != null) {
            return inTransactionLater(what, durability, work);
        }
        return endedNow(() -> inOneStatement(what, durability, work));
    }

    /**
     * Runs {@code now} on this thread, its result or its failure as an ended future: the "later" of a
     * store with no writer to hand work to (PostgreSQL).
     */
    private static <T> java.util.concurrent.CompletableFuture<T> endedNow(java.util.function.Supplier<T> now) {
        try {
            return java.util.concurrent.CompletableFuture.completedFuture(now.get());
        } catch (RuntimeException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }

    /**
     * PostgreSQL: runs {@code work}, one statement, in autocommit mode: the statement is its own
     * transaction, committed as durably as {@link #inTransaction(String, Work)}'s before it returns,
     * in one round trip instead of the separate {@code COMMIT}'s two.
     */
    <T> T inOneStatement(String what, Work<T> work) {
        return inOneStatement(what, Durability.DURABLE, work);
    }

    /**
     * PostgreSQL: as {@link #inOneStatement(String, Work)}, committed as durably as {@code durability}
     * says: a {@link Durability#DEFERRED} statement runs on the scheduler's pool, so the job side's
     * bookkeeping does not take the connections the accepts wait for. On PostgreSQL its commit waits
     * for the WAL flush all the same ({@link Durability}).
     */
    <T> T inOneStatement(String what, Durability durability, Work<T> work) {
        if (writer != null) {
            throw new IllegalStateException("SQLite writes go through its writer (" + what + ")");
        }
        boolean sent = false;
        try (Connection c = stopWaits.connection(durability == Durability.DEFERRED ? schedulerDataSource() : pool)) {
            sent = true;
            return work.run(c); // no writeHealth.succeeded(): only the probe vouches (see #writable)
        } catch (SQLException e) {
            RunnerException failure = translate(what, e, durability != Durability.DEFERRED);
            if (sent && failure instanceof StoreUnavailableException && StoreUnavailableException.connectionLost(e)) {
                // The statement (its own transaction) was sent, and the connection broke before its answer: it may
                // have committed (a crash, a cut just after the commit), which no "not stored" may deny (tryout50 F8).
                failure = new StoreUnavailableException(failure.getMessage(), e, true);
            }
            if (failure instanceof StoreUnavailableException) {
                writeHealth.failed(failure);
            }
            throw failure;
        }
    }

    /**
     * PostgreSQL: a {@link Durability#DEFERRED} transaction runs on the scheduler's pool, so the job
     * side's bookkeeping does not take the connections the accepts wait for. Its commit waits for the
     * WAL flush like a durable one ({@link Durability}); it once ran with {@code synchronous_commit} off,
     * which a PostgreSQL crash could undo after the node had acted on it (pgcrash31).
     */
    private <T> T pooledTransaction(String what, Durability durability, Work<T> work) {
        try (Connection c = stopWaits.connection(durability == Durability.DEFERRED ? schedulerDataSource() : pool)) {
            return jdbcTransaction(c, work);
        } catch (SQLException e) {
            RunnerException failure = translate(what, e, durability != Durability.DEFERRED);
            if (e instanceof CommitUnanswered && failure instanceof StoreUnavailableException) {
                // Its COMMIT was sent and the connection broke before the answer: it may have committed (tryout50 F8).
                failure = new StoreUnavailableException(failure.getMessage(), e, true);
            }
            throw failure;
        }
    }

    /**
     * {@code work} in one transaction on {@code c}: committed when it returns, rolled back when it throws, the
     * connection back in autocommit either way (a failure of that after a first one is added to it, not put in
     * its place).
     */
    static <T> T jdbcTransaction(Connection c, Work<T> work) throws SQLException {
        c.setAutoCommit(false);
        T result;
        try {
            result = work.run(c);
            try {
                c.commit();
            } catch (SQLException e) {
                if (StoreUnavailableException.connectionLost(e)) {
                    throw new CommitUnanswered(e);
                }
                throw e;
            }
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c, e);
            restoreAutoCommit(c, e);
            throw e;
        }
        restoreAutoCommit(c, null);
        return result;
    }

    /**
     * A transaction's {@code COMMIT} that was sent and whose connection broke before its answer: it may have committed
     * ({@link StoreUnavailableException#outcomeUnknown}). The driver's failure is its cause, its SQLSTATE kept.
     */
    static final class CommitUnanswered extends SQLException {
        private static final long serialVersionUID = 1L;

        CommitUnanswered(SQLException e) {
            super(e.getMessage(), e.getSQLState(), e.getErrorCode(), e);
        }
    }

    /**
     * Back to autocommit for the pool. On a connection the database just cut, this fails too; that
     * failure must not replace the first one (which says "unavailable", hence 503, not 500), and
     * after a commit it changes nothing: the pool discards a broken connection either way.
     */
    private static void restoreAutoCommit(Connection c, Exception first) {
        try {
            c.setAutoCommit(true);
        } catch (SQLException e) {
            if (first != null) {
                first.addSuppressed(e);
            }
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /**
     * Runs read-only {@code work} in autocommit mode; on SQLite with the statements its connection
     * compiled before ({@link ReaderStatements}).
     */
    <T> T read(String what, Work<T> work) {
        try (Connection c = stopWaits.connection(pool)) {
            Duration bound = READ_BOUND.get();
            if (bound != null && dialect == Dialect.POSTGRESQL) {
                // The socket's own bound, as the health check's (readForHealth): a query timeout is a cancel request,
                // which a server that stopped answering never acts on. HikariCP sets the pool's own back when the
                // connection is returned; one whose read ran out is broken, and not returned to the pool.
                StopWaits.answersWithin(c, bound);
            }
            return work.run(readers == null ? c : readers.of(c));
        } catch (SQLException e) {
            throw translate(what, e);
        }
    }

    /** The bound {@link #readWithin} puts on this thread's {@link #read}s while it runs, or null. */
    private static final ThreadLocal<Duration> READ_BOUND = new ThreadLocal<>();

    /**
     * Runs {@code reads} with every {@link #read} this thread makes meanwhile bounded by {@code bound} on PostgreSQL
     * (see {@link Store#readWithin}); nested calls keep the outer bound.
     */
    static <T> T readWithin(Duration bound, java.util.function.Supplier<T> reads) {
        if (READ_BOUND.get() != null) {
            return reads.get();
        }
        READ_BOUND.set(bound);
        try {
            return reads.get();
        } finally {
            READ_BOUND.remove();
        }
    }

    private static void rollbackQuietly(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    RunnerException translate(String what, SQLException e) {
        return translate(what, e, true);
    }

    /**
     * As {@link #translate(String, SQLException)}; a lock refused within {@code lock_timeout} ({@code 55P03})
     * is the store unable to write for now ({@link TableLockWait}).
     *
     * @param deliveryPool whether the statement ran on the pool of deliveries rather than the scheduler's
     */
    RunnerException translate(String what, SQLException e, boolean deliveryPool) {
        if (dialect == Dialect.POSTGRESQL && TableLockWait.isLockRefused(e)) {
            return new StoreUnavailableException("store unavailable while trying to " + what + ": "
                    + tableLocks.refused(deliveryPool, this::lockHolders), e);
        }
        String lost = lostFile();
        if (lost != null) {
            // A new connection opened an empty file at the path ("no such table"): not the real cause.
            return new StoreUnavailableException("store unavailable while trying to " + what + ": " + lost, e);
        }
        if (StoreUnavailableException.isOutage(e)) {
            return new StoreUnavailableException("store unavailable while trying to " + what + ": " + e.getMessage(), e);
        }
        return new RunnerException("store failed to " + what + ": " + e.getMessage(), e);
    }

    /** Whether a unique or primary key constraint refused the statement. */
    boolean isUniqueViolation(SQLException e) {
        if (dialect == Dialect.POSTGRESQL) {
            return "23505".equals(e.getSQLState());
        }
        return (e.getErrorCode() & 0xff) == SQLiteErrorCode.SQLITE_CONSTRAINT.code;
    }

    @Override
    public void close() {
        stopWaits.close();
        if (writer != null) {
            writer.close();
        }
        synchronized (this) {
            if (schedulerPool != null) {
                schedulerPool.close();
            }
            if (nodeLockPool != null) {
                nodeLockPool.close();
            }
            if (healthPool != null) {
                healthPool.close();
            }
        }
        pool.close();
    }
}
