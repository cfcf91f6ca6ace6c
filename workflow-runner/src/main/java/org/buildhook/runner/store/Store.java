package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.rules.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable store of deliveries and jobs, on SQLite (embedded default) or PostgreSQL (clusters),
 * chosen by {@link StoreConfig#url()}. Opening it applies the schema migrations.
 *
 * <p>Guarantee: when {@link #accept} returns, the delivery, its jobs and their executions in
 * db-scheduler's table are committed together; they survive {@code kill -9} and will run.
 *
 * <p>Every method throws {@link StoreUnavailableException} when the database cannot be reached.
 * Thread-safe.
 */
public final class Store implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Store.class);

    /** How many batches of names per folder one sweep asks the store about (20 × 500 by default). */
    private static final int ORPHAN_BATCHES_PER_SWEEP = 20;

    /**
     * How long after the store opens its first retention sweep runs, at most (then every {@code
     * retentionInterval}): soon, so that a {@code store.retention} lowered to free a full disk frees it at the
     * restart and a node restarted more often than the interval still sweeps (tryout26 F6), yet after the
     * start's own work (migrations, the sweep of what the last run left, the first jobs).
     */
    static final Duration FIRST_SWEEP_AFTER = Duration.ofMinutes(1);

    private final StoreConfig config;
    private final Database db;
    private final DeliveryWriter writer;
    private final StoreReader reader;
    private final Ids ids;
    private final ExecutionLedger ledger;
    private final FollowUpLedger followUps;
    private final Approvals approvals;
    private final ResourceLedger resources;
    private final NodeLeases nodeLeases;
    private final DeadNodeRelease deadNodes;
    private final SqliteServer sqliteServer;
    private final QueuePlaces queuePlaces;
    /** The schema version this open upgraded the store from; 0 when it did not upgrade it. */
    private int upgradedFrom;
    /** The schema version the store is at after this open. */
    private int schemaVersion;
    private final Retention retention;
    private final OrphanFiles orphans;
    private final ScheduledExecutorService retentionThread;
    private final boolean ownsRetentionThread;
    private final List<Runnable> queuedListeners = new CopyOnWriteArrayList<>();
    private final AcceptsInFlight accepting = new AcceptsInFlight();

    private Store(StoreConfig config, Database db, ScheduledExecutorService retentionThread, boolean owns) {
        this.config = config;
        this.db = db;
        Ids ids = new Ids(config.clock());
        this.ids = ids;
        JobQueue queue = new JobQueue(db.dialect());
        // The rules in force as far as renames go, as the ledger has them at the moment (a supersede looks at the old
        // names' jobs too: renames37); the ledger is made below, before any delivery or approval.
        java.util.function.Supplier<RuleRenames> renames = this::renamesInForce;
        this.writer = new DeliveryWriter(db, queue, ids, config.clock(), config.dedupWindow(), renames);
        this.approvals = new Approvals(db, queue, ids, config.clock(), renames);
        this.reader = new StoreReader(db);
        this.ledger = new ExecutionLedger(db, reader, config.clock(), this::jobsQueued);
        this.followUps = new FollowUpLedger(db, writer, approvals, config.clock());
        this.resources = new ResourceLedger(db, config.clock(), ledger);
        this.nodeLeases = new NodeLeases(db, config.clock());
        this.deadNodes = new DeadNodeRelease(db, java.time.Clock.systemUTC(), config.clock(), ledger::madeDue,
                ledger::renames);
        this.sqliteServer = new SqliteServer(db);
        this.queuePlaces = new QueuePlaces(db);
        OrphanFiles orphanFiles = new OrphanFiles(db, config.clock(), config.retention(), config.retentionBatch(),
                ORPHAN_BATCHES_PER_SWEEP * config.retentionBatch(), config.dataDir().resolve("payloads"),
                StoreMark.content(config.url()));
        this.orphans = orphanFiles;
        // The logs it deletes are under the log folder set by sweepJobLogsIn, by their names (tryout26 F3).
        this.retention = new Retention(db, config.clock(), config.retention(), config.retentionBatch(),
                this::payloadFile, orphanFiles::logDirectory);
        this.retentionThread = retentionThread;
        this.ownsRetentionThread = owns;
    }

    /** The rules in force as far as renames go ({@link ExecutionLedger#renames()}). */
    private RuleRenames renamesInForce() {
        return ledger.renames();
    }

    /**
     * Opens the store, migrates the schema and starts the periodic retention sweep on its own
     * daemon thread: first a minute after the open (or after {@code retentionInterval}, if shorter), then
     * every {@code retentionInterval}.
     */
    public static Store open(StoreConfig config) {
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "buildhook-retention");
            t.setDaemon(true);
            return t;
        });
        try {
            return open(config, thread, true);
        } catch (RuntimeException e) {
            thread.shutdownNow();
            throw e;
        }
    }

    /** Opens the store with the retention sweep on the given executor (which the caller shuts down). */
    public static Store open(StoreConfig config, ScheduledExecutorService retentionExecutor) {
        return open(config, retentionExecutor, false);
    }

    /**
     * As {@link #open(StoreConfig, ScheduledExecutorService)}; a wait of the start for a pool's connection that ends
     * empty is the start's failure, said by its error, not a pool starved ({@link PoolStarvation#duringStart}).
     */
    private static Store open(StoreConfig config, ScheduledExecutorService executor, boolean owns) {
        return open(config, executor, owns, CpuShare.Window::heldBack);
    }

    /**
     * As {@link #open(StoreConfig, ScheduledExecutorService)}, the SQLite store's first connection waited for as long
     * as {@code heldBack} says the host held it back ({@link SqliteFirstConnection}; a seam for tests).
     */
    static Store open(StoreConfig config, ScheduledExecutorService executor, boolean owns,
            java.util.function.Predicate<CpuShare.Window> heldBack) {
        // The migrations' transactions are the start's: on SQLite they wait for another program's lock (another store
        // migrating the same new file) as long as the start waits for the store, not an accept's 2 s (migrate53).
        return PoolStarvation.<Store, RuntimeException>duringStart(() -> SqliteWriter.duringStart(
                () -> openNow(config, executor, owns, heldBack)));
    }

    /**
     * Runs {@code start}, an application's start on a store it opened, on this thread: on SQLite, what it writes (its
     * rules' limits, the engine's record of this server, its sweeps) waits for a lock another program holds on the
     * file as long as {@link #open} does (10 s, or store.connect-timeout when longer), not as a delivery's accept
     * (2 s), which nobody waits for yet. Deliveries and other threads' writes wait as ever. Nests.
     */
    public static <T> T duringStart(java.util.function.Supplier<T> start) {
        return SqliteWriter.duringStart(start);
    }

    private static Store openNow(StoreConfig config, ScheduledExecutorService executor, boolean owns,
            java.util.function.Predicate<CpuShare.Window> heldBack) {
        Duration firstLogin = firstConnection(config);
        Database db;
        try {
            db = Database.open(config, heldBack);
        } catch (StoreUnavailableException e) {
            throw unreachable(config, e);
        }
        if (firstLogin != null) {
            try {
                db.awaitLogins(loginBound(config), firstLogin);
            } catch (RuntimeException e) {
                db.close();
                throw e;
            }
        }
        try {
            Migrations migrations = new Migrations(db, config.clock());
            int version = migrations.apply();
            LOG.info("store open on {} at schema version {}", config.dialect(), version);
            db.pinFile();
            Store store = new Store(config, db, executor, owns);
            store.upgradedFrom = migrations.upgradedFrom();
            store.schemaVersion = version;
            store.orphans.mark(config.dataDir().resolve("payloads"));
            long every = config.retentionInterval().toMillis();
            if (every > 0) {
                long first = Math.min(every, FIRST_SWEEP_AFTER.toMillis());
                executor.scheduleWithFixedDelay(store::sweepQuietly, first, every, TimeUnit.MILLISECONDS);
            }
            return store;
        } catch (StoreUnavailableException e) {
            db.close();
            throw unreachable(config, e);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /**
     * PostgreSQL: one connection made and closed before the pools are, so that the start waits for the store
     * what {@code store.connect-timeout} says and not longer, and not at all for a refusal that waiting does
     * not change. The connection attempt as a whole (TCP connect, the driver's SSL request and, with the
     * default {@code sslmode=prefer}, its second, plain attempt after a failed SSL one, the login) is bounded
     * by the key through the driver's {@code loginTimeout} ({@link StoreReachability#timeouts}); a {@code
     * loginTimeout}, {@code connectTimeout} or {@code sslmode} in {@code store.url} is the operator's and wins.
     * Through the pool alone a server that never answers (a web server on the port) cost twice the key, the
     * pool's wait and then its close waiting for the attempt in flight (tryout19 F4), and a wrong password the
     * whole key, HikariCP waiting out its connection timeout whatever the driver said (start19).
     *
     * <p>Ends the start at once, with the driver's reason, when the refusal cannot get better by waiting:
     * authentication failed or not allowed (SQLSTATE class 28, 08004), a database that does not exist
     * (3D000), or what answers is not PostgreSQL ({@link #notPostgres}); and with {@link #connectTimedOut}
     * when the attempt took the whole key. Any other failure (refused at the TCP level, an unknown host,
     * PostgreSQL starting up or out of connections) is left to the pool, which tries again within {@code
     * store.connect-timeout} as before: PostgreSQL may be coming up with this node.
     *
     * @return how long the connection took to make, or {@code null} when none was made (not PostgreSQL, or a failure
     *         left to the pool)
     * @throws StoreUnavailableException the store refused for good or did not answer within the key
     */
    private static Duration firstConnection(StoreConfig config) {
        if (config.dialect() != Dialect.POSTGRESQL) {
            return null;
        }
        java.sql.Driver driver = postgresDriver();
        CpuShare all = CpuShare.start();
        for (int attempt = 1; ; attempt++) {
            CpuShare share = CpuShare.start();
            long start = System.nanoTime();
            try (java.sql.Connection c = driver.connect(config.url(), StoreReachability.timeouts(config))) {
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                LOG.debug("the PostgreSQL store's first connection was made in {} ms: {}", took.toMillis(), c != null);
                return c == null ? null : took;
            } catch (java.sql.SQLException e) {
                if (timedOut(e)) {
                    LOG.debug("the PostgreSQL store's first connection was neither made nor refused in time", e);
                    CpuShare.Window got = share.end();
                    if (attempt < FIRST_CONNECTION_ATTEMPTS && got.starved()) {
                        LOG.warn("the PostgreSQL store's first connection was neither made nor refused within"
                                + " store.connect-timeout ({}), and this host held this process back meanwhile: {}."
                                + " Trying once more: this JVM's first login loads and runs the driver's code for the"
                                + " first time, the next costs far less CPU", Durations.format(config.connectTimeout()),
                                got.describe());
                        continue;
                    }
                    CpuShare.Window whole = all.end();
                    throw new StoreUnavailableException(connectTimedOut(config, whole, hostHeldBack(got, whole), attempt),
                            null);
                }
                if (refusedForGood(e)) {
                    String reason = e.getMessage().strip().replaceFirst("\\.$", "");
                    throw new StoreUnavailableException(cannotConnect(config, reason + notPostgres(e), e), e);
                }
                LOG.debug("the PostgreSQL store's first connection failed; the pool tries again within"
                        + " store.connect-timeout: {}", e.toString());
                return null;
            }
        }
    }

    /**
     * The bound on each login to the PostgreSQL store: the driver's {@code loginTimeout} (seconds, fractions kept) in
     * {@code store.url} when it sets one, else {@code store.connect-timeout} ({@link StoreReachability#timeouts}); the
     * URL's parameters as the driver reads them ({@code org.postgresql.Driver.parseURL}). Zero: no bound ({@code
     * loginTimeout=0}).
     */
    static Duration loginBound(StoreConfig config) {
        String seconds = StoreReachability.urlParameter(config, "loginTimeout").orElse(null);
        if (seconds == null) {
            return config.connectTimeout();
        }
        try {
            return Duration.ofMillis(Math.max(0, (long) (Float.parseFloat(seconds.strip()) * 1000)));
        } catch (NumberFormatException e) {
            return config.connectTimeout(); // not a number: the key's
        }
    }

    /** Whether {@code store.url} sets the driver's {@code loginTimeout} itself (then it bounds each login). */
    static boolean urlBoundsLogins(StoreConfig config) {
        return StoreReachability.urlParameter(config, "loginTimeout").isPresent();
    }

    /**
     * What the start says when a pool of the PostgreSQL store ({@code pool}) got its logins refused although the start's
     * first login was made ({@link Database#awaitLogins}; PostgreSQL, or a pooler, out of connections): the server's
     * reason, as when the first login is refused ({@link #unreachable}).
     *
     * @param e HikariCP's failure to give a connection, whose cause is its last login's failure
     */
    static StoreUnavailableException poolCannotConnect(StoreConfig config, String pool, java.sql.SQLException e) {
        return unreachable(config, new StoreUnavailableException("the pool " + pool + " made no connection", e));
    }

    /**
     * What the start says when a pool of the PostgreSQL store made no connection within the logins' bound ({@link
     * Database#awaitLogins}) although its first login was made: which pool, the bound and where it is set, how long
     * the first login took, and which key to raise.
     */
    static String loginsTooSlow(StoreConfig config, Database.SlowLogins logins, String pool) {
        String bound = Durations.format(logins.bound());
        String where = urlBoundsLogins(config) ? "the loginTimeout in store.url (" + bound + ")"
                : "store.connect-timeout (" + bound + ")";
        return "cannot connect to the PostgreSQL store " + config.describe() + ": the start's first login was made in "
                + String.format(java.util.Locale.ROOT, "%.1f s", logins.firstLogin().toMillis() / 1000.0)
                + ", but the pool " + pool + " made no connection within " + where + ", which bounds each login. If"
                + " logins there are that slow (a pooler queueing them, a far network), raise "
                + (urlBoundsLogins(config) ? "the loginTimeout in store.url" : "store.connect-timeout, or set a longer"
                        + " loginTimeout in store.url (it bounds the logins alone)")
                + "; otherwise check PostgreSQL, or the pooler in front of it, and its limit on connections";
    }

    /**
     * Whether the host, rather than PostgreSQL or the network, took the time of the start's first connection once its
     * last attempt ran out of {@code store.connect-timeout}: that attempt's login ({@code last}) or the start's logins
     * together since its first attempt ({@code whole}) were held back ({@link CpuShare.Window#starved}). The last
     * attempt's own thread alone is not enough: it waits, off the CPU, for the driver's classes that an earlier
     * attempt's login thread, still starved, is loading and initialising (seen BLOCKED in pgjdbc's SCRAM {@code
     * Stringprep} behind it, under a CPU quota of 1 %), which looks like a wait for PostgreSQL's answer. CI's run of
     * d274849e said "it or the network answered too slowly" of a start its CPU quota had held back for 54.7 s of 34.1 s.
     *
     * @param last  what the last attempt's login got
     * @param whole what the start got from before its first attempt on, over every login thread started since
     */
    static boolean hostHeldBack(CpuShare.Window last, CpuShare.Window whole) {
        return last.starved() || whole.starved();
    }

    /**
     * How many times the start tries its first connection when it ran out of {@code store.connect-timeout} while the
     * host held this process back ({@link CpuShare.Window#starved}): once more. A new JVM's first login costs it
     * 0.3-0.5 s of CPU (measured with pgjdbc 42.7.14 and SCRAM: loading and interpreting the driver's classes, while
     * PostgreSQL answered each step within milliseconds), the next one a tenth of that; under {@code stress-ng --cpu
     * 4} on two CPUs the first took 2-12 s of wall time (pglogin27).
     */
    static final int FIRST_CONNECTION_ATTEMPTS = 2;

    /**
     * A new instance of the PostgreSQL driver, loaded by this class's loader: {@link java.sql.DriverManager}
     * may not hand a WAR's driver to it, and the pools name the class rather than look it up either.
     */
    static java.sql.Driver postgresDriver() {
        try {
            return (java.sql.Driver) Class.forName("org.postgresql.Driver", true, Store.class.getClassLoader())
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new RunnerException("cannot load the PostgreSQL driver (org.postgresql.Driver): " + e, e);
        }
    }

    /**
     * Whether a failure of a connection attempt is one that waiting does not change: the server refused
     * the login (SQLSTATE class 28: wrong password, no such role, pg_hba.conf; 08004: the server rejected
     * the connection, e.g. no password given or no SSL where {@code sslmode=require}), the database does not
     * exist (3D000), or what answered is not PostgreSQL (a pooler's own 08P01, PgBouncer's "cannot connect to
     * server", is not: it speaks PostgreSQL's protocol and is left to the pool).
     */
    static boolean refusedForGood(java.sql.SQLException e) {
        String state = e.getSQLState();
        if (e.getMessage() == null) {
            return false;
        }
        return refusesTheLogin(state) || !notPostgres(e).isEmpty();
    }

    /**
     * A PostgreSQL store that cannot be reached at start, said with where (the URL without its
     * parameters, which may hold the password), the driver's reason (refused, unknown host, wrong
     * password …) rather than the pool's "Connection is not available", and what to check. A start
     * whose first connection was neither made nor refused within {@code store.connect-timeout} says so,
     * and names that key, before it says to check that PostgreSQL runs (store18: a packed WAR on a busy
     * host, PostgreSQL up, was told only to check that PostgreSQL runs).
     */
    private static StoreUnavailableException unreachable(StoreConfig config, StoreUnavailableException e) {
        if (config.dialect() != Dialect.POSTGRESQL) {
            return e.getMessage() != null && e.getMessage().startsWith(RAW) ? said(config, e) : e;
        }
        java.sql.SQLException last = null;
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof java.sql.SQLException && t.getMessage() != null) {
                last = (java.sql.SQLException) t;
            }
        }
        if (last != null && timedOut(last)) {
            // Without the pool's "Connection is not available, request timed out after 2005ms (total=0, …)"
            // as its cause: the start's refusal quotes its root cause when that adds words, and that one only
            // says again, in HikariCP's terms, what connectTimedOut says (final18 F6). At DEBUG, whole.
            LOG.debug("the PostgreSQL store's first connection was neither made nor refused in time", e);
            return new StoreUnavailableException(connectTimedOut(config), null);
        }
        // The driver's sentences end with a full stop, which the "; check …" after it doubled.
        String reason = last == null ? e.getMessage() : last.getMessage().strip().replaceFirst("\\.$", "");
        return new StoreUnavailableException(cannotConnect(config, reason + notPostgres(last), last), e);
    }

    /** How {@link Database#translate} begins the message of a store it could not reach or write. */
    private static final String RAW = "store unavailable while trying to ";

    /**
     * What a start says of the store it could not reach, in place of {@code e} when {@code e} gives only the pool's or
     * the driver's words ({@code store unavailable while trying to look for schema_version: buildhook-store -
     * Connection is not available, request timed out after 5037ms (total=0, …)}, store41): the store (the SQLite file,
     * or the PostgreSQL URL without its parameters), what the start was doing, and, for a wait for a connection that
     * ran out, {@code store.connect-timeout} with its value and what else to check; for a refusal, the driver's reason
     * and what to check for it. Anything else, and a message that says so already, is returned as it is.
     *
     * @param e what ended the start
     * @return the exception to end it with; never with HikariCP's timeout as its cause (the refusal would quote it)
     */
    public static RuntimeException saidAtStart(StoreConfig config, RuntimeException e) {
        if (!(e instanceof StoreUnavailableException raw) || e.getMessage() == null || !e.getMessage().startsWith(RAW)) {
            return e;
        }
        return said(config, raw);
    }

    /** {@link #saidAtStart} of a message that begins with {@link #RAW}. */
    private static StoreUnavailableException said(StoreConfig config, StoreUnavailableException e) {
        String message = e.getMessage().substring(RAW.length());
        int colon = message.indexOf(": ");
        String doing = colon < 0 ? message : message.substring(0, colon);
        java.sql.SQLException last = null;
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof java.sql.SQLException && t.getMessage() != null) {
                last = (java.sql.SQLException) t;
            }
        }
        boolean sqlite = config.dialect() != Dialect.POSTGRESQL;
        if (last != null && !timedOut(last)) {
            // A wait for SQLite's write lock is said with the limit it ran to (migrate53: "for over 3s" after 2 s).
            return sqlite ? SqliteFirstConnection.refused(config, last, SqliteLockNotGiven.waitedIn(e))
                    : new StoreUnavailableException(cannotConnect(config, last.getMessage().strip()
                            .replaceFirst("\\.$", "") + notPostgres(last), last), e);
        }
        LOG.debug("the store gave the start no connection within store.connect-timeout", e);
        String wait = Durations.format(config.connectTimeout());
        if (sqlite) {
            String file = Dialect.sqliteFile(config.url()).map(Path::toString).orElse(config.describe());
            String load = CpuShare.hostLoad();
            return new StoreUnavailableException("cannot open the SQLite store " + file + ": the start waited"
                    + " store.connect-timeout (" + wait + ") for a connection to " + doing + " and got none. On a busy"
                    + " host" + (load.isEmpty() ? "" : " (" + load + ")") + " raise store.connect-timeout (for example"
                    + " to 30s); otherwise check the disk of that file (dmesg) and which programs have it open (fuser "
                    + file + ")", null);
        }
        return new StoreUnavailableException("cannot connect to the PostgreSQL store " + config.describe() + ": the"
                + " start waited store.connect-timeout (" + wait + ") for a connection to " + doing + " and got none,"
                + " and none was refused. If PostgreSQL runs there, it or the network answered too slowly, or this host"
                + " is too busy: raise store.connect-timeout (for example to 30s). Otherwise check that PostgreSQL runs"
                + " and accepts connections there, and its limit on connections (pg_stat_activity)", null);
    }

    /**
     * Whether {@code e}, the innermost failure of a connection, is a wait that ran out rather than an
     * answer: HikariCP's own timeout with no failure of the driver behind it (no SQLState, no cause: no
     * connection was made nor refused within the wait), or the PostgreSQL driver's login timeout
     * ("Connection attempt timed out", SQLState 08001 without a cause; a refused connection or an
     * unknown host carries the socket's exception as its cause).
     */
    static boolean timedOut(java.sql.SQLException e) {
        if (e.getCause() != null) {
            return false;
        }
        if (e instanceof java.sql.SQLTransientConnectionException && e.getSQLState() == null) {
            return true;
        }
        return "08001".equals(e.getSQLState()) && e.getClass().getName().equals("org.postgresql.util.PSQLException");
    }

    /**
     * What the start (and {@code buildhook check}) says when no connection to the PostgreSQL store was
     * made within {@code store.connect-timeout}, and none refused: what timed out, after how long, the key
     * that gives it longer, and only then what else to check. Only in a web application does it mention a
     * WAR that Tomcat does not unpack (tryout19 F4: a standalone {@code serve} was told about Tomcat).
     */
    static String connectTimedOut(StoreConfig config) {
        return connectTimedOut(config, null, false, 1);
    }

    /**
     * As {@link #connectTimedOut(StoreConfig)}, for the start's first connection: with what this process got in
     * that time ({@code got}, or {@code null} when not measured) after "none was refused", and, when the host held
     * its last attempt back ({@code starved}: {@link CpuShare.Window#starved}), that the time may have gone on this
     * host rather than PostgreSQL.
     *
     * @param attempts how many attempts ran out of the key (1 or {@link #FIRST_CONNECTION_ATTEMPTS})
     */
    static String connectTimedOut(StoreConfig config, CpuShare.Window got, boolean starved, int attempts) {
        String wait = org.buildhook.runner.rules.Durations.format(config.connectTimeout());
        String said = "cannot connect to the PostgreSQL store " + config.describe() + ": no connection was made within"
                + " store.connect-timeout (" + wait + ")" + (attempts > 1 ? ", in either of " + attempts + " attempts" : "")
                + ", and none was refused" + (got == null ? "" : " (" + got.describe() + ")");
        if (starved) {
            return said + ". This host held this process back (it is overloaded, or this process's CPU quota is too"
                    + " small): the time went on this host, not necessarily on PostgreSQL or the network. Give the"
                    + " process more CPU or raise store.connect-timeout (for example to 30s). If the host was not busy,"
                    + " check the host and port in store.url (what listens there may not be PostgreSQL: a web server"
                    + " never answers it) and that PostgreSQL runs and accepts connections there";
        }
        return said + ". If PostgreSQL runs there, it or the"
                + " network answered too slowly" + (inWebApplication() ? ", or this host was too busy (a WAR that"
                + " Tomcat does not unpack reads the driver's classes from inside the WAR, slowly on a loaded"
                + " machine)" : "") + ": raise store.connect-timeout (for example to 30s). Otherwise check the host"
                + " and port in store.url (what listens there may not be PostgreSQL: a web server never answers"
                + " it) and that PostgreSQL runs and accepts connections there";
    }

    /**
     * Whether this class was loaded by a web application's class loader (the WAR in Tomcat or another
     * container) rather than the JVM's own class path (the standalone server, {@code buildhook check}).
     */
    static boolean inWebApplication() {
        return Store.class.getClassLoader() != ClassLoader.getSystemClassLoader();
    }

    /**
     * A hint, after the driver's reason, when {@code e} says that what answered did not speak PostgreSQL's
     * protocol: the driver's "An error occurred while setting up the SSL connection" (an answer to its
     * first message that is neither yes nor no: SQLSTATE 08P01), or a TLS handshake that the other side
     * ended or did not understand after an answer taken for a yes (a service that speaks first). An HTTP
     * server, a TLS-only service or an SSH daemon on the port gave only the driver's words (final18 F8).
     *
     * @return the hint, starting with a space, or an empty string
     */
    static String notPostgres(java.sql.SQLException e) {
        if (e == null || e.getMessage() == null) {
            return "";
        }
        String message = e.getMessage();
        boolean protocol = "08P01".equals(e.getSQLState()) && !sentInPostgresProtocol(e)
                || message.startsWith("SSL error: Remote host terminated the handshake")
                || message.startsWith("SSL error: Unsupported or unrecognized SSL message");
        return protocol ? " (what answers at that address may not be PostgreSQL: an HTTP, TLS or other server on that"
                + " port answers PostgreSQL's first message with something else; check the host and port in store.url)"
                : "";
    }

    /**
     * Whether {@code e} is an error the other side sent in PostgreSQL's own protocol (an ErrorResponse):
     * PostgreSQL's, or a pooler's in front of it, not the driver's own. PgBouncer answers a login it cannot
     * serve at the moment with SQLSTATE 08P01 ({@code pgbouncer cannot connect to server} while PostgreSQL
     * restarts behind it, {@code no more connections allowed}, {@code server login has been failing, try
     * again later}): that is no sign of a server that is not PostgreSQL, nor a refusal for good (review20).
     */
    private static boolean sentInPostgresProtocol(java.sql.SQLException e) {
        return e instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null;
    }

    /**
     * What the start says of a PostgreSQL store it cannot connect to, and what {@code buildhook check}
     * says of it beforehand ({@link StoreReachability}): where (the URL without its parameters, which may
     * hold the password), {@code reason} (the driver's, without its closing full stop) and what to check.
     */
    static String cannotConnect(StoreConfig config, String reason) {
        return cannotConnect(config, reason, null);
    }

    /**
     * As {@link #cannotConnect(StoreConfig, String)}; when {@code e} is PostgreSQL's own refusal of the login
     * (SQLSTATE class 28, 3D000 or 08004, sent in its protocol), the advice is about the login, since
     * PostgreSQL runs there and answered ({@link #ANSWERED_AND_REFUSED}; tryout20 F4: a wrong password was
     * told to check that PostgreSQL runs).
     *
     * @param e the driver's failure, or {@code null} when unknown
     */
    static String cannotConnect(StoreConfig config, String reason, java.sql.SQLException e) {
        String said = "cannot connect to the PostgreSQL store " + config.describe() + ": " + reason;
        if (outOfConnections(e)) {
            // Not the URL, user or password: PostgreSQL let in earlier logins with them (tryout29 F2).
            return said + "; " + OUT_OF_CONNECTIONS;
        }
        return refusedByPostgres(e)
                ? said + "; " + ANSWERED_AND_REFUSED + ": check store.user and store.password, the role's entry in the"
                        + " server's pg_hba.conf, and the database named in store.url"
                : said + "; check that PostgreSQL runs and accepts connections there, and store.url, store.user and"
                        + " store.password";
    }

    /**
     * Said by {@link #cannotConnect(StoreConfig, String, java.sql.SQLException)} when PostgreSQL refused the login for
     * want of connections (SQLSTATE 53300).
     */
    public static final String OUT_OF_CONNECTIONS = "PostgreSQL answered there and has no connection left for this"
            + " login (SQLSTATE 53300): the database's or the role's connection limit (ALTER DATABASE … CONNECTION"
            + " LIMIT, ALTER ROLE … CONNECTION LIMIT) or the server's max_connections is reached. Each node opens up to"
            + " twice store.pool-size connections, plus one for its node id's lock and one for /healthz: allow more"
            + " connections there, lower store.pool-size, or see which sessions hold them (pg_stat_activity,"
            + " application_name)";

    /** Whether {@code e}, or one in its chain, is PostgreSQL's refusal of a login for want of connections (53300). */
    private static boolean outOfConnections(java.sql.SQLException e) {
        return e != null && StoreUnavailableException.firstInChain(e,
                s -> "53300".equals(s.getSQLState()) ? Boolean.TRUE : null) != null;
    }

    /** Said by {@link #cannotConnect(StoreConfig, String, java.sql.SQLException)} when PostgreSQL itself refused. */
    public static final String ANSWERED_AND_REFUSED = "PostgreSQL answered there and refused the login";

    /** Whether {@code e} is PostgreSQL's refusal of the login, sent in its protocol (not a pooler's 08P01). */
    private static boolean refusedByPostgres(java.sql.SQLException e) {
        return e != null && refusesTheLogin(e.getSQLState()) && sentInPostgresProtocol(e);
    }

    /**
     * Whether {@code state} is a refusal of the login itself: SQLSTATE class 28 (password, role, pg_hba.conf),
     * 08004 (the server rejected the connection) or 3D000 (no such database).
     */
    private static boolean refusesTheLogin(String state) {
        return state != null && (state.startsWith("28") || state.equals("3D000") || state.equals("08004"));
    }

    /**
     * Stores a verified delivery and the jobs its rules planned, in one transaction, and queues
     * the jobs. The same body on the same endpoint within the dedup window is a duplicate: it is
     * recorded as such, creates no job, and the result carries the first delivery's id.
     */
    public AcceptResult accept(NewDelivery delivery, List<PlannedJob> jobs) {
        return accept(delivery, DeliverySummary.NONE, jobs);
    }

    /**
     * As {@link #accept(NewDelivery, List)}, also keeping the event's summary (build id, status,
     * project, trigger) for the admin API's filters.
     */
    public AcceptResult accept(NewDelivery delivery, DeliverySummary summary, List<PlannedJob> jobs) {
        AcceptResult result;
        accepting.enter();
        try {
            result = writer.accept(delivery, summary, List.copyOf(jobs));
        } finally {
            accepting.leave();
        }
        if (!result.jobIds().isEmpty()) {
            jobsQueued();
        }
        return result;
    }

    /** PostgreSQL: accepts waiting for their batch to be taken now (for tests); 0 on SQLite. */
    int acceptsQueued() {
        return writer.acceptsQueued();
    }

    /** PostgreSQL: batches of accepts whose statement failed and were sent again one by one (for tests). */
    long acceptBatchesRetriedAlone() {
        return writer.acceptBatchesRetriedAlone();
    }

    /**
     * Waits until no delivery is being accepted by this store object, for at most {@code max}: the
     * job engine lets accepts go first before it starts an attempt, so that a burst of deliveries
     * is not slowed by the jobs of the ones before it (docs/running-jobs.md).
     *
     * @throws InterruptedException when interrupted while waiting
     */
    public void awaitAcceptsFirst(Duration max) throws InterruptedException {
        accepting.awaitNone(max);
    }

    /**
     * Registers an action run after jobs were queued and committed (the engine uses it to look for
     * work at once instead of at its next poll).
     */
    public void onJobsQueued(Runnable listener) {
        queuedListeners.add(listener);
    }

    private void jobsQueued() {
        for (Runnable r : queuedListeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("a jobs-queued listener failed: {}", e.toString());
            }
        }
    }

    /**
     * Keeps a signed body that is not a valid event, for inspection; returns the id of the delivery
     * that holds it (see {@link #reject}).
     */
    public String recordRejected(NewDelivery delivery, String reason) {
        return reject(delivery, reason).deliveryId();
    }

    /**
     * Keeps a signed body that is not a valid event, for inspection, once: the same body rejected on
     * the same endpoint within {@code store.dedup-window} is counted as a repeat of that delivery
     * ({@code repeats}, {@code last_repeat_at}) rather than stored again.
     *
     * @throws StoreUnavailableException when the store cannot write
     */
    public RejectedDelivery reject(NewDelivery delivery, String reason) {
        return writer.recordRejected(delivery, reason);
    }

    public Page<Delivery> deliveries(DeliveryQuery query) {
        return reader.deliveries(query);
    }

    /** The delivery with its body and its jobs (env redacted). */
    public Optional<DeliveryDetail> delivery(String id) {
        return reader.delivery(id);
    }

    /**
     * The delivery's row (outcome, headers, build, project, trigger) without its body ({@code null}) and
     * without its jobs: for what shows a delivery's facts, not its payload or its jobs.
     */
    public Optional<Delivery> deliveryRow(String id) {
        return reader.deliveryRow(id, false);
    }

    /** The delivery with its body, without its jobs (a page of them is {@link #jobs} by delivery). */
    public Optional<Delivery> deliveryWithBody(String id) {
        return reader.deliveryRow(id, true);
    }

    /** Jobs, env redacted. */
    public Page<Job> jobs(JobQuery query) {
        return reader.jobs(query);
    }

    /**
     * How many attempts of each of {@code jobIds} its node cut short ({@link AttemptOutcome#INTERRUPTED}:
     * a stop, a lost node, a node that could not write its files), which use none of a job's retries;
     * one query for a page of jobs. A job without such an attempt is not in the map.
     */
    public Map<String, Integer> interruptedAttempts(Collection<String> jobIds) {
        return reader.interruptedAttempts(List.copyOf(new LinkedHashSet<>(jobIds)), false);
    }

    /**
     * Where each of {@code jobIds} that waits, due and picked by no node, stands in the queue now, computed (never
     * stored): see {@link QueuePosition#of}. Two statements for a page of jobs, not one per job. Meant for the jobs
     * that wait only their turn ({@link Job#waitsItsTurn}); a job not due or not waiting is not in the map.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Map<String, QueuePosition> queuePositions(Collection<String> jobIds) {
        return QueuePosition.of(db, config.clock(), List.copyOf(new LinkedHashSet<>(jobIds)));
    }

    /**
     * How many of the {@link #interruptedAttempts} of each of {@code jobIds} never started their command ({@link
     * JobAttempt#neverStarted}: their node could not write its files, was stopping or fenced); one query for a page
     * of jobs. A job without such an attempt is not in the map.
     */
    public Map<String, Integer> notStartedAttempts(Collection<String> jobIds) {
        return reader.interruptedAttempts(List.copyOf(new LinkedHashSet<>(jobIds)), true);
    }

    /**
     * The newest {@code perDelivery} jobs of each delivery in {@code deliveryIds}, newest first and
     * redacted, read in one query (for lists of deliveries); a page's cursor says there are more.
     */
    public Map<String, Page<Job>> jobsOfDeliveries(Collection<String> deliveryIds, int perDelivery) {
        if (perDelivery < 1) {
            throw new IllegalArgumentException("perDelivery must be at least 1");
        }
        return reader.jobsOfDeliveries(List.copyOf(new LinkedHashSet<>(deliveryIds)), perDelivery);
    }

    /** The most deliveries one call of {@link #jobsAtAGlance} takes (a statement names each). */
    public static final int GLANCE_DELIVERIES = 200;

    /**
     * For a list of deliveries: each one's {@code perDelivery} most pressing jobs whole (running, awaiting an
     * approval, failed, waiting, queued, other ends, succeeded: {@link JobsAtAGlance#PRIORITY}; newest first
     * within each), redacted, and how many of its other jobs are in each state. Two statements for the whole
     * list: only the shown jobs' rows are read whole; the others are counted on their id and state.
     *
     * @param deliveryIds at most {@link #GLANCE_DELIVERIES}; each id appears once in the answer, in this order
     * @param perDelivery at least 1, at most 100
     * @throws IllegalArgumentException for more ids or another {@code perDelivery}
     */
    public Map<String, JobsAtAGlance> jobsAtAGlance(Collection<String> deliveryIds, int perDelivery) {
        if (perDelivery < 1 || perDelivery > 100) {
            throw new IllegalArgumentException("perDelivery must be between 1 and 100, got " + perDelivery);
        }
        List<String> ids = List.copyOf(new LinkedHashSet<>(deliveryIds));
        if (ids.size() > GLANCE_DELIVERIES) {
            throw new IllegalArgumentException("at most " + GLANCE_DELIVERIES + " deliveries at once, got " + ids.size());
        }
        return reader.jobsAtAGlance(ids, perDelivery);
    }

    /**
     * Deliveries stored since {@code since} by outcome and jobs created since then by their
     * current state; one count of an index range per outcome and per state, cheap enough for a
     * page refreshed every few seconds however long the history.
     */
    public Activity activitySince(Instant since) {
        return reader.activitySince(since);
    }

    /**
     * The newest {@code perRule} jobs of each of {@code rules} (newest first, an empty list for a
     * rule without jobs), as timings for success rates and durations; one indexed lookup per rule.
     *
     * @param perRule at least 1
     */
    public Map<String, List<JobTiming>> recentJobsOfRules(Collection<String> rules, int perRule) {
        if (perRule < 1) {
            throw new IllegalArgumentException("perRule must be at least 1");
        }
        return reader.recentJobsOfRules(List.copyOf(new LinkedHashSet<>(rules)), perRule);
    }

    /** How many jobs are in {@code state} now: one indexed count, cheap enough for every metrics scrape. */
    public long countJobs(JobState state) {
        return reader.countJobs(state);
    }

    /**
     * Of the {@link JobState#QUEUED} jobs, those in a retry's backoff, not due before it is over (their message
     * says {@code waiting for retry 1 of 2 …, due at …}: {@link Job#retryWait}); in the whole store.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public long countJobsWaitingForRetry() {
        return reader.countJobsWaitingForRetry();
    }

    /**
     * The job of {@code rule} that {@link JobState#SUCCEEDED} for the newest build of {@code project} newer than
     * {@code buildId}: a re-run or replay of build {@code buildId} runs the older build after it (confirm34).
     */
    public Optional<NewerBuildRun> newerSuccess(String rule, String project, long buildId) {
        return reader.newerSuccess(rule, project, buildId);
    }

    /**
     * The newest build seen of rule {@code rule}'s supersede key {@code key} (rendered), when it is newer than {@code
     * buildId}: a job of build {@code buildId} stored now for that key, as a replay stores one, ends {@link
     * JobState#SUPERSEDED} at once and does not run (a re-run is never superseded). Empty when no newer build of the key
     * is kept (none seen, or forgotten with its delivery by retention). One read by the key's primary key.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<SupersedingBuild> newerOfSupersedeKey(String rule, String key, long buildId) {
        return reader.newerOfSupersedeKey(rule, key, buildId);
    }

    /**
     * The rules planned beside {@code rule} for delivery {@code deliveryId}, each with the rule snapshots its jobs carry
     * there (name order): the rules with a job of the delivery made by the same planning as a job of {@code rule}, the
     * delivery's own (when it came) or a replay's, which stores its jobs at one moment. Such a rule was in force beside
     * {@code rule} then, so it is not {@code rule} under a new name (takeover42: a rule in force with the same {@code
     * run} beside a rule disabled since was taken as its new name). Re-runs (which copy a job's plan) and follow-ups
     * are left out. One indexed read of the delivery's jobs; empty when {@code rule} has no job of it planned there.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Map<String, java.util.Set<String>> plannedBeside(String deliveryId, String rule) {
        return reader.plannedBeside(deliveryId, rule);
    }

    /** The job (env redacted) and every attempt. */
    public Optional<JobDetail> job(String id) {
        return reader.job(id);
    }

    /**
     * From now on tells {@code told} the rule name of each job this store keeps ended at planning, {@code FAILED}
     * without an attempt ({@link PlannedJob#refused}: a payload value planning refuses), once per job, after the
     * transaction that stored it committed, on the thread that stored it: a delivery's accept, a replay, a follow-up's
     * start. For the jobs-finished count ({@code JobEvents#jobEnded}), which the engine tells of the jobs it ends.
     * Replaces the one told before; must be quick; what it throws is logged and ignored.
     */
    public void whenRefusedAtPlanning(java.util.function.Consumer<String> told) {
        writer.whenRefusedStored(told);
    }

    /**
     * Replay: adds new jobs to an accepted delivery (the caller matched the current rules against
     * its stored body) and queues them. Returns the new job ids.
     */
    public List<String> replay(String deliveryId, List<PlannedJob> jobs) {
        List<String> ids = writer.addJobs(deliveryId, List.copyOf(jobs));
        jobsQueued();
        return ids;
    }

    /**
     * Re-run: a new job with the old one's plan (same delivery, {@code rerunOf} = the old id),
     * queued now. The old job and its attempts stay as they were. Returns the new job id.
     */
    public String rerun(String jobId) {
        return rerun(jobId, null, null);
    }

    /**
     * As {@link #rerun(String)}, for a rule that asks for an approval in the rules in force now (rename34): a re-run
     * of a job planned without one awaits one, expiring after {@code approvalNow}, as a new delivery's job of the rule
     * does (an operator who added {@code approval:} expects no job of the rule to run without it), and starts the
     * rule's {@code on-approval-request} once it awaits, as that job does (approval50,
     * {@link org.buildhook.runner.rules.FollowUps#withApprovalRequest}). A job planned with one keeps its own (and its
     * request, if it had one); a follow-up is never gated (it follows a command that ran).
     *
     * @param approvalNow the rule's {@code approval.expires} in the rules in force, or null when it asks for none
     * @param requestSpec that rule's follow-up specification when it has an {@code on-approval-request}, else null
     */
    public String rerun(String jobId, java.time.Duration approvalNow, String requestSpec) {
        Job old = reader.jobUnredacted(jobId).orElseThrow(() -> new RunnerException("no job " + jobId));
        org.buildhook.runner.JobWorkflow w = old.workflow();
        String id = writer.rerun(old, approvalNow == null || w.needsApproval() || w.parentId() != null ? old.plan()
                : old.plan().withWorkflow(w.withApproval(approvalNow).withFollowUps(
                        org.buildhook.runner.rules.FollowUps.withApprovalRequest(w.followUps(), requestSpec))));
        jobsQueued();
        return id;
    }

    /**
     * How what job {@code jobId} runs once approved or re-run, the command, environment and working directory it was
     * stored with (compared by their real values), differs from {@code now}, what its rule in force plans for its
     * delivery now (approve41); shown as buildhook shows a job ({@link StoredPlanChange}).
     *
     * @param now the plan the rule in force makes for the job's delivery (and run)
     * @return the difference; empty when there is none, or no such job
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<StoredPlanChange> changeSinceStored(String jobId, PlannedJob now) {
        return reader.jobUnredacted(jobId).flatMap(job -> StoredPlanChange.between(job, now));
    }

    /**
     * Cancels a job: a queued one is cancelled at once; a running one is flagged and the node
     * running it kills its process tree within a few seconds. Returns false when the job had
     * already ended.
     */
    public boolean cancel(String jobId) {
        // Past its approval's expiry a job is EXPIRED (no on-cancel), though no sweep has marked it yet.
        approvals.expireIfDue(jobId);
        DeliveryWriter.Cancel done = writer.cancel(jobId);
        if (done == DeliveryWriter.Cancel.CANCELLED_AND_WOKE) {
            jobsQueued();
        }
        return done != DeliveryWriter.Cancel.ENDED;
    }

    /**
     * Cancels every job of delivery {@code deliveryId} that has not ended (queued, waiting, awaiting an approval,
     * running), each as {@link #cancel} cancels it alone (a running one, on whichever node, is flagged and its node
     * kills its process tree within a few seconds; each starts its {@code on-cancel}), in one transaction with an
     * audit entry for each ({@code cancel} by {@code actor}). What the delivery gets after it, the {@code on-cancel}
     * follow-ups these cancels start among them, is left to run ({@link DeliveryWriter#cancelDelivery}).
     *
     * @param actor who asks, for the audit trail
     * @return what was done to each job not ended, and how many had ended; empty when there is no such delivery
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<DeliveryCancel> cancelDelivery(String deliveryId, String actor) {
        Optional<DeliveryWriter.CancelledDelivery> done = writer.cancelDelivery(deliveryId, actor,
                approvals::expireIfDue);
        if (done.isPresent() && done.get().woke()) {
            jobsQueued();
        }
        return done.map(DeliveryWriter.CancelledDelivery::done);
    }

    /**
     * What {@link #cancelJobsOfRules} did for one rule (or, from {@link #jobsOfRules}, would do).
     *
     * @param rule      the rule's name, disabled or removed in the rules in force
     * @param cancelled its jobs (and on-success steps) still to run that were (would be) cancelled
     * @param jobs      those jobs, oldest first ({@code cancelled} of them): the ones this call cancelled (would
     *                  cancel), never another call's, so that what is said of them names these only (follow40)
     */
    public record RuleNotInForce(String rule, int cancelled, List<JobOfDelivery> jobs) {
        public RuleNotInForce {
            jobs = List.copyOf(jobs);
        }
    }

    /**
     * A job and the delivery it was made for, as a warning names them (a replay needs the delivery).
     *
     * @param jobId      the job's id
     * @param deliveryId its delivery's id
     */
    public record JobOfDelivery(String jobId, String deliveryId) {
    }

    /**
     * Cancels the stored jobs still to run (queued, waiting, awaiting an approval) of each rule in
     * {@code rules}: rules an operator disabled ({@code enabled: false}) or removed (tryout24 F1: a deploy
     * awaiting approval was approved and deployed after its rule was disabled). The caller names them: only
     * rules it knows were taken out, never every rule it merely lacks, since in a cluster another node may run
     * a rule this one never had (rulesknown23). Running jobs go on, and start their follow-ups. Follow-ups are
     * not cancelled: each follows a command that did run (a smoke test of a deploy that happened, a page about
     * a failure, a cleanup). A job cancelled so whose command never started starts no follow-up; one that ran
     * (a retry in its backoff) starts its {@code on-cancel}, the cleanup of what it did. Re-runs are left
     * alone: a re-run is an explicit wish, made after the rule changed. Each job is cancelled in a transaction
     * of its own, if it is still to run then; one picked at the moment ends when its node sees the cancel, as
     * after {@code buildhook cancel}.
     *
     * @param rules   the names of the rules whose jobs are to be cancelled; empty: nothing is read or done
     * @param message why a job of the rule (its name given) is cancelled so, and what to do; the job's message is
     *                it after {@code not started: } for a job that had no attempt, else after what is true of it
     *                ({@code cancelled while waiting for retry 1 of 2; attempt 1 exited with 3; …}, tryout33 F2)
     * @return one entry per rule with jobs cancelled, by name; empty when none was
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<RuleNotInForce> cancelJobsOfRules(java.util.Set<String> rules,
            java.util.function.Function<String, String> message) {
        return cancelJobsOfRules(rules, (rule, job) -> message.apply(rule));
    }

    /**
     * As {@link #cancelJobsOfRules(java.util.Set, java.util.function.Function)}, with a message of each job's own, so
     * that it can name the job's delivery (tryout41 F2: the replay a renamed rule's cancelled job needs).
     *
     * @param message why a job of the rule (its name given) is cancelled so, and what to do, for that job and its
     *                delivery
     */
    public List<RuleNotInForce> cancelJobsOfRules(java.util.Set<String> rules,
            java.util.function.BiFunction<String, JobOfDelivery, String> message) {
        List<String[]> found = jobsOf(rules);
        Map<String, List<JobOfDelivery>> cancelled = new java.util.TreeMap<>();
        boolean woke = false;
        for (String[] job : found) {
            DeliveryWriter.Cancel done = writer.cancel(job[0], message.apply(job[1], new JobOfDelivery(job[0], job[2])),
                    true);
            if (done != DeliveryWriter.Cancel.ENDED) {
                cancelled.computeIfAbsent(job[1], r -> new java.util.ArrayList<>())
                        .add(new JobOfDelivery(job[0], job[2]));
            }
            woke |= done == DeliveryWriter.Cancel.CANCELLED_AND_WOKE;
        }
        if (woke) {
            jobsQueued();
        }
        return byRule(cancelled);
    }

    /**
     * Cancels job {@code jobId} as {@link #cancelJobsOfRules} cancels a job of a rule disabled or removed in the rules
     * in force, with {@code why} (the same words): a node asked to approve such a job whose rule's cancel the store
     * refused at the reload cancels it first, so that the approval is refused (tryout57 F4). A running job, a
     * follow-up or a re-run is left alone, as there.
     *
     * @return whether the job was cancelled (or flagged for the node that has it picked)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean cancelJobOfRuleNotInForce(String jobId, String why) {
        DeliveryWriter.Cancel done = writer.cancel(jobId, why, true);
        if (done == DeliveryWriter.Cancel.CANCELLED_AND_WOKE) {
            jobsQueued();
        }
        return done != DeliveryWriter.Cancel.ENDED;
    }

    /**
     * The stored jobs that {@link #cancelJobsOfRules} would cancel now, counted by rule, without changing any
     * (rulesdiff23: a node whose rules differ from another running node's leaves them and says how many).
     *
     * @param rules the names of the rules whose jobs are counted; empty: nothing is read
     * @return one entry per rule with such jobs (the count in {@link RuleNotInForce#cancelled()}), by name;
     *         empty when there is none
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<RuleNotInForce> jobsOfRules(java.util.Set<String> rules) {
        Map<String, List<JobOfDelivery>> left = new java.util.TreeMap<>();
        for (String[] job : jobsOf(rules)) {
            left.computeIfAbsent(job[1], r -> new java.util.ArrayList<>()).add(new JobOfDelivery(job[0], job[2]));
        }
        return byRule(left);
    }

    /**
     * The stored jobs still to run, counted by rule, whatever the rules: queued (a job a stop cut short is queued
     * again), waiting or awaiting an approval, and on SQLite (one node) also those still marked running, which a
     * stop cut short without recording it (a crash) and the start runs again. Re-runs and follow-ups aside, as in
     * {@link #cancelJobsOfRules}. One read, at a start: the rules file may no longer have some of these rules,
     * whose jobs then run as they were stored without a word (tryout36 F13).
     *
     * @return each rule's name with its count, by name; empty when there is none
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Map<String, Integer> jobsToRunByRule() {
        String states = dialect() == Dialect.SQLITE ? "'QUEUED', 'WAITING', 'AWAITING_APPROVAL', 'RUNNING'"
                : "'QUEUED', 'WAITING', 'AWAITING_APPROVAL'";
        return db.read("read the rules of the jobs still to run", c -> {
            Map<String, Integer> counts = new java.util.TreeMap<>();
            try (PreparedStatement p = c.prepareStatement("SELECT rule_name, COUNT(*) FROM jobs WHERE rerun_of IS NULL"
                    + " AND parent_id IS NULL AND state IN (" + states + ") GROUP BY rule_name");
                    ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    counts.put(rs.getString(1), rs.getInt(2));
                }
            }
            return java.util.Collections.unmodifiableMap(counts);
        });
    }

    /**
     * PostgreSQL: the stored jobs marked running, counted by rule and by the node that runs them (the node of their
     * latest attempt), which {@link #jobsToRunByRule} leaves out there: each may run on another node now, whose rules
     * may differ, or have been left by a node that crashed, whose next start (this node's own) or the dead-node
     * revival runs it again from its stored plan (fixes38 F4). Re-runs and follow-ups aside, as there. Empty on SQLite,
     * where {@link #jobsToRunByRule} counts them. One read, at a start.
     *
     * @return each rule's name, by name, with its count per node, by node; empty when there is none
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Map<String, Map<String, Integer>> jobsMarkedRunningByRule() {
        if (dialect() != Dialect.POSTGRESQL) {
            return Map.of();
        }
        return db.read("read the rules of the jobs marked running", c -> {
            Map<String, Map<String, Integer>> counts = new java.util.TreeMap<>();
            try (PreparedStatement p = c.prepareStatement("SELECT rule_name, node, COUNT(*) FROM jobs WHERE rerun_of IS"
                    + " NULL AND parent_id IS NULL AND state = 'RUNNING' GROUP BY rule_name, node");
                    ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    counts.computeIfAbsent(rs.getString(1), r -> new java.util.TreeMap<>())
                            .put(rs.getString(2) == null ? "" : rs.getString(2), rs.getInt(3));
                }
            }
            counts.replaceAll((rule, nodes) -> java.util.Collections.unmodifiableMap(nodes));
            return java.util.Collections.unmodifiableMap(counts);
        });
    }

    /**
     * What {@link #gateJobsOfRules} did for one rule.
     *
     * @param rule      the rule's name, which asks for an approval in the rules in force
     * @param gated     its jobs made to await an approval, oldest first
     * @param atItsStart its jobs a node had picked at the moment, asked to await one at their start instead (they
     *                  await it unless that node's start came first: then they run, started before the gate)
     * @param expiresAt when those made to await one now expire unless approved or rejected (ms precision)
     */
    public record GatedRule(String rule, List<Job> gated, List<Job> atItsStart, java.time.Instant expiresAt) {
        public GatedRule {
            gated = List.copyOf(gated);
            atItsStart = List.copyOf(atItsStart);
        }
    }

    /**
     * Makes the stored jobs not started yet of each rule in {@code approvals}, which asks for an approval in the rules
     * in force, that were planned without one (a rule that asked for none when their delivery came, re-runs of such
     * jobs included) await one, as a delivery of the rule leaves its job (tryout33 F11: an approval added by a reload
     * let the jobs already queued run unapproved): {@code AWAITING_APPROVAL}, expiring after the rule's {@code
     * approval.expires}, their queue execution removed and their turn in the rule's line passed on, each in a
     * transaction of its own, with a {@code gate} entry by {@code buildhook} in the audit trail
     * ({@link DeliveryWriter#gate}). "Not started yet": queued or waiting for units with no attempt. A job whose
     * attempt ran (waiting for its retry) is not gated: it passed the gate its rule had when it ran, and its retry is
     * part of that run. Follow-ups are not gated (their rules have no approval); a job approved already is not asked
     * again. Idempotent: what one node (or an earlier call) gated matches no more. The caller decides when the rules
     * in force are every node's ({@code RulesFingerprint}), as for {@link #cancelJobsOfRules}. A job gated (or asked
     * to await one at its start) keeps its rule's {@code on-approval-request} in {@code requests} with its follow-ups,
     * and so tells the approvers once it awaits, as the rule's new jobs do (approval50).
     *
     * @param approvals each rule's name to its {@code approval.expires} (positive); empty: nothing is read
     * @param requests  each rule's name to its follow-up specification in force when it has an {@code
     *                  on-approval-request} ({@code RuleSet.approvalRequests}); a rule absent gives its jobs none
     * @param message   the message of a job of the rule (its name given) while it awaits
     * @return one entry per rule with jobs gated or asked to be, by name; empty when none was
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<GatedRule> gateJobsOfRules(Map<String, java.time.Duration> approvals, Map<String, String> requests,
            java.util.function.Function<String, String> message) {
        if (approvals.isEmpty()) {
            return List.of();
        }
        List<String[]> found = gateable(approvals.keySet());
        Map<String, List<Job>> gated = new java.util.TreeMap<>();
        Map<String, List<Job>> atStart = new java.util.TreeMap<>();
        Map<String, java.time.Instant> expires = new java.util.HashMap<>();
        boolean woke = false;
        for (String[] job : found) {
            java.time.Instant before = config.clock().instant();
            DeliveryWriter.Gate done = writer.gate(job[0], approvals.get(job[1]), requests.get(job[1]),
                    message.apply(job[1]));
            if (done == DeliveryWriter.Gate.NONE) {
                continue;
            }
            Job read = reader.job(job[0]).map(JobDetail::job).orElse(null);
            if (read == null) {
                continue;
            }
            if (done == DeliveryWriter.Gate.AT_ITS_START) {
                atStart.computeIfAbsent(job[1], r -> new java.util.ArrayList<>()).add(read);
            } else {
                gated.computeIfAbsent(job[1], r -> new java.util.ArrayList<>()).add(read);
                expires.putIfAbsent(job[1], read.expiresAt() != null ? read.expiresAt()
                        : before.plus(approvals.get(job[1])));
            }
            woke |= done == DeliveryWriter.Gate.GATED_AND_WOKE;
        }
        if (woke) {
            jobsQueued();
        }
        java.util.Set<String> rules = new java.util.TreeSet<>(gated.keySet());
        rules.addAll(atStart.keySet());
        return rules.stream().map(r -> new GatedRule(r, gated.getOrDefault(r, List.of()), atStart.getOrDefault(r,
                List.of()), expires.get(r))).toList();
    }

    /**
     * The stored jobs that {@link #gateJobsOfRules} would make await an approval now (picked ones included), counted
     * by rule, without changing any: a node whose rules differ from another running node's leaves them and says how
     * many.
     *
     * @param rules the names of the rules that ask for an approval; empty: nothing is read
     * @return each rule with such jobs to their number, by name; empty when there is none
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Map<String, Integer> jobsToGate(java.util.Set<String> rules) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        gateable(rules).forEach(job -> counts.merge(job[1], 1, Integer::sum));
        return counts;
    }

    /** The id and rule of each job {@link DeliveryWriter#GATEABLE} of a rule in {@code rules}, oldest first. */
    private List<String[]> gateable(java.util.Set<String> rules) {
        if (rules.isEmpty()) {
            return List.of();
        }
        return db.read("read the jobs planned without the approval their rule asks for", c -> {
            List<String[]> out = new java.util.ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id, rule_name FROM jobs WHERE "
                    + DeliveryWriter.GATEABLE + " ORDER BY id"); ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    if (rules.contains(rs.getString(2))) {
                        out.add(new String[] {rs.getString(1), rs.getString(2)});
                    }
                }
            }
            return out;
        });
    }

    private static List<RuleNotInForce> byRule(Map<String, List<JobOfDelivery>> jobs) {
        return jobs.entrySet().stream().map(e -> new RuleNotInForce(e.getKey(), e.getValue().size(), e.getValue()))
                .toList();
    }

    /**
     * The id, rule and delivery of each job still to run, neither a re-run nor a follow-up, of a rule in {@code
     * rules}, oldest first.
     */
    private List<String[]> jobsOf(java.util.Set<String> rules) {
        if (rules.isEmpty()) {
            return List.of();
        }
        return db.read("read the jobs of rules no longer in force", c -> {
            List<String[]> out = new java.util.ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id, rule_name, parent_id, delivery_id FROM jobs WHERE"
                    + " rerun_of IS NULL"
                    + " AND state IN ('QUEUED', 'WAITING', 'AWAITING_APPROVAL') ORDER BY id");
                    ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    // Follow-ups (parent_id set, named "rule/on-…") follow a command that ran: not cancelled.
                    if (rs.getString(3) == null && rules.contains(rs.getString(2))) {
                        out.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(4)});
                    }
                }
            }
            return out;
        });
    }

    /**
     * Approves a job that awaits an approval: it is queued at once and runs like any job. The
     * approval is recorded in the audit trail with {@code actor} and the time, in the same
     * transaction.
     *
     * @return false (nothing changed) when the job is not awaiting an approval
     * @throws RunnerException when there is no such job
     */
    public boolean approve(String jobId, String actor) {
        return approveSaying(jobId, actor).isPresent();
    }

    /**
     * As {@link #approve}, and what the approval's transaction did: the older builds' jobs of the rule's {@code
     * supersede} key it ended or asked to stop, in the states it found them in, locked. What the approval's answer and
     * WARN say; {@link #approvalSupersedes}, read before, named a job that started meanwhile as queued (review57a F3).
     *
     * @return empty (nothing changed) when the job is not awaiting an approval
     * @throws RunnerException when there is no such job
     */
    public Optional<Decision> approveSaying(String jobId, String actor) {
        Optional<Decision> approved = approvals.decide(jobId, actor, true);
        if (approved.isPresent()) {
            jobsQueued();
        }
        return approved;
    }

    /**
     * A decision on a job awaiting an approval, as its transaction made it.
     *
     * @param superseded for an approval of a job of a rule with a {@code supersede} key (no re-run), what it superseded
     *                   ({@link ApprovalSupersedes#jobs()} empty when nothing); empty otherwise
     */
    public record Decision(Optional<ApprovalSupersedes> superseded) {

        public Decision {
            java.util.Objects.requireNonNull(superseded, "superseded");
        }
    }

    /**
     * What approving job {@code jobId} would supersede if it were approved now: the older builds' jobs of its rule's
     * {@code supersede} key that the approval ends, and a running one it stops when its rule says {@code running:
     * cancel} (the approval's transaction reads the same rows, locked). Read only; changes nothing.
     *
     * @return empty when the job has no supersede key, no build number or is a re-run (an approval of it supersedes
     *         nothing), or when there is no such job
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<ApprovalSupersedes> approvalSupersedes(String jobId) {
        return approvals.wouldSupersede(jobId);
    }

    /**
     * Rejects a job that awaits an approval: it ends {@link JobState#REJECTED} without running,
     * recorded in the audit trail with {@code actor} and the time.
     *
     * @return false (nothing changed) when the job is not awaiting an approval
     * @throws RunnerException when there is no such job
     */
    public boolean reject(String jobId, String actor) {
        return approvals.decide(jobId, actor, false).isPresent();
    }

    /**
     * Ends as {@link JobState#EXPIRED} every job whose approval was not given in time (each
     * recorded in the audit trail as {@code expire} by {@code buildhook}); returns their ids.
     * Any node may call it; each job expires once.
     */
    public List<String> expireApprovals() {
        return approvals.expire();
    }

    /**
     * Ends {@code CANCELLED} each job awaiting an approval whose rule as stored this build refuses (an approval of it
     * is refused), with why and the replay that runs what it was for, each recorded in the audit trail as {@code
     * cancel} by {@code buildhook} (tryout49 F6). Run by the engine at its start; any node may call it.
     *
     * @return the jobs ended, oldest first
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<RefusedApproval> cancelRefusedApprovals() {
        return approvals.cancelRefused();
    }

    /**
     * A job awaiting an approval that {@link #cancelRefusedApprovals()} ended.
     *
     * @param jobId   its id
     * @param rule    its rule
     * @param message what it ended with: why, and the replay that runs what it was for
     */
    public record RefusedApproval(String jobId, String rule, String message) {
    }

    /**
     * Records an admin action in the audit trail; returns it with its id and time.
     *
     * @param jobId null for an action on the whole delivery
     */
    public AdminAction recordAction(String actor, String action, String deliveryId, String jobId, String detail) {
        AdminAction a = new AdminAction(ids.next(), Instant.ofEpochMilli(config.clock().millis()), actor, action, deliveryId, jobId, detail);
        writer.recordAction(a);
        return a;
    }

    /**
     * Forgets a node ({@link NodeLeases#forget(String, String, Duration)}) and, when it is forgotten, records {@code
     * forget-node} by {@code actor} in the audit trail in the same transaction: both are written or neither.
     *
     * @param detail the audit row's detail, from what was done (its holder, how long it was silent)
     * @throws StoreUnavailableException when the store cannot be reached or the row cannot be written: nothing is
     *                                   forgotten then
     */
    public NodeLeases.Forget forgetNode(String nodeId, String selfId, java.time.Duration deadLimit, String actor,
            java.util.function.Function<NodeLeases.Forget, String> detail) {
        return nodeLeases.forget(nodeId, selfId, deadLimit, f -> new AdminAction(ids.next(),
                Instant.ofEpochMilli(config.clock().millis()), actor, "forget-node", null, null, detail.apply(f)));
    }

    /** The admin actions on a delivery and on any of its jobs, oldest first. */
    public List<AdminAction> actionsOnDelivery(String deliveryId) {
        return reader.actions("delivery_id", deliveryId);
    }

    /** The admin actions on one job, oldest first. */
    public List<AdminAction> actionsOnJob(String jobId) {
        return reader.actions("job_id", jobId);
    }

    /** A page of admin actions (on a job, a delivery, or all), newest first; its cursor is set when older ones match. */
    public Page<AdminAction> actions(ActionQuery query) {
        return reader.actions(query);
    }

    /**
     * Runs {@code reads}, calls of this store's read-only methods ({@link #countJobs}, {@link
     * #countJobsWaitingForRetry}, {@link ResourceLedger#unitsInUse}, {@link NodeLeases#counts} …) made on this thread,
     * with every answer they wait for from PostgreSQL bounded by {@code bound}: a database that stops answering while
     * such a read waits (a server frozen, a network partition that drops packets, with the connection left open) ends
     * it with a {@link StoreUnavailableException} once {@code bound} has passed without an answer, and its connection
     * is closed. Without it such a read waits until the database answers again, however long (no socket timeout: the
     * pools' statements may be long, a migration's). For background reads whose thread must not be held (the metrics'
     * snapshot). Getting a connection stays bounded by {@code store.connect-timeout}, and a lock wait by the pools'
     * {@code lock_timeout}, as for every read. On SQLite nothing changes: a read waits for no writer (WAL), a lock it
     * does wait for is bounded by {@code store.connect-timeout} already, and no timeout ends a read of a disk that
     * hangs (the thread waits inside the kernel). Writes are never bounded here.
     *
     * @param bound how long a read may wait for an answer, over 0 (milliseconds are used, at least 1)
     * @param reads the reads; called once, on this thread
     * @return what {@code reads} returns
     * @throws StoreUnavailableException when the store cannot be reached, or did not answer within {@code bound}
     */
    public <T> T readWithin(Duration bound, java.util.function.Supplier<T> reads) {
        if (bound == null || bound.isNegative() || bound.isZero()) {
            throw new IllegalArgumentException("a read's bound must be over 0, not " + bound);
        }
        return Database.readWithin(bound, reads);
    }

    /**
     * Runs {@code look}, one look of a node's background thread (the looks for stale picks and dead nodes, the approvals'
     * expiry, the follow-ups, the cluster's rules), with every answer it waits for from PostgreSQL, reads and writes,
     * bounded by {@link #lookBound()}: a connection that never answers again (its server process stopped with {@code
     * SIGSTOP}, the database's host frozen, a network that drops the connection without a word) ends the look once the
     * bound has passed, with a {@link StoreUnavailableException} (its connection closed), and the next look takes
     * another connection. Without it the look's thread waited for that answer until TCP's keepalive gave up, two hours
     * and more by default, and every look on that thread stopped meanwhile without a word while {@code /healthz} said
     * ok: the same-host node's quick take-over of a crashed node's job, the approvals' expiry (tryout46 F7, H). A write
     * whose answer did not come is a write whose connection was cut, which each look already takes as it comes: its
     * changes are conditional, and the next look does again what was not committed. On SQLite nothing changes. Also
     * for other work that returns nothing, as {@link #look(Answered)}.
     *
     * @param look the look; called once, on this thread; what it throws is thrown
     */
    public void look(Runnable look) {
        StopWaits.answersWithin(lookBound(), look);
    }

    /**
     * As {@link #look(Runnable)}, for work that is not a background look: a job's own bookkeeping on its threads
     * (db-scheduler's, whose statements it bounds too, and the thread that records what an attempt came to before
     * its processes are ended), an HTTP request's reads and writes (a delivery's accept, the status page, the admin
     * API). The bound is per answer, not for the whole work: a job may run for hours, each of its statements is
     * short. A container's request thread gets the bound for this call only, and is given back without it. Work
     * that legitimately waits longer than the bound for one answer (migrations, retention's deletes) is not run so.
     *
     * @param work called once, on this thread
     * @return what {@code work} returns
     * @throws E what {@code work} throws; an answer that did not come within {@link #lookBound()} is a {@link
     *           StoreUnavailableException} (its connection closed)
     */
    public <T, E extends Exception> T look(Answered<T, E> work) throws E {
        return StopWaits.answersWithin(lookBound(), work);
    }

    /**
     * As {@link #look(Answered)}, for the store's work of a delivery whose sender waits for the answer (the accept):
     * each answer of PostgreSQL is bounded by {@link #senderBound()} instead, so that a database that stops answering
     * is answered {@code 503} with {@code Retry-After} before the sender gives up.
     *
     * @param work called once, on this thread
     * @return what {@code work} returns
     * @throws E what {@code work} throws; an answer that did not come within {@link #senderBound()} is a {@link
     *           StoreUnavailableException} (its connection closed)
     */
    public <T, E extends Exception> T forASender(Answered<T, E> work) throws E {
        return StopWaits.answersWithin(senderBound(), work);
    }

    /** {@link #senderBound()}: 20 s, whatever store.url says. */
    public static final Duration SENDER_BOUND = Duration.ofSeconds(20);

    /**
     * How long one answer of PostgreSQL may take during {@link #forASender}: {@link #SENDER_BOUND} (20 s), with no
     * {@code lock_timeout} or {@code statement_timeout} of store.url on top, unlike {@link #lookBound()}: the sender
     * gives up after 30 s whatever the operator lets a statement wait, so a lock wait past the bound is answered
     * {@code 503} as a server that does not answer is (review48 F1). Below the 30 s after which JobServ's sender
     * ({@code jobserv-send}, and a proxy in front with the same limit) gives up waiting: the looks' bound, at least 30
     * s, was no shorter, so the sender gave up before the {@code 503} came and sent the delivery again into a request
     * thread that still waited (bound47 F4). A delivery waits for its connection first, up to {@code
     * store.connect-timeout} (5 s by default), then for each answer up to this. A statement that rightly takes longer
     * (a group commit of many deliveries whose WAL flush waits for a slow disk or a synchronous standby) is answered
     * {@code 503} as well: it may have committed all the same, and the sender's retry is then a duplicate.
     */
    public Duration senderBound() {
        return db.senderBound();
    }

    /**
     * Work run by {@link #look(Answered)}: returns a {@code T} (null for none), may throw {@code E}.
     *
     * @param <T> what it returns
     * @param <E> the checked exception it may throw ({@link RuntimeException} for none)
     */
    @FunctionalInterface
    public interface Answered<T, E extends Exception> {
        /** Runs the work once. */
        T run() throws E;
    }

    /**
     * How long one answer of PostgreSQL may take during a {@link #look}: {@link Database#idleInTransactionBound} of
     * {@code store.connect-timeout} (six times it, at least 30 s), the time after which PostgreSQL itself takes a
     * session that does not go on for gone; and the longest {@code lock_timeout} or {@code statement_timeout} set in
     * store.url's {@code options} on top, so that such a timeout, the operator's, ends a statement as PostgreSQL ends
     * it (a lock not given: {@code 55P03}) rather than the bound (a cut connection). One of {@code 0} (no limit) adds
     * nothing: the bound caps it.
     */
    public Duration lookBound() {
        return db.lookBound();
    }

    /** Whether the store reads and writes now ({@link #health()} is {@link StoreHealth#OK}); never throws. */
    public boolean healthy() {
        return health().ok();
    }

    /** How long {@link #health()}'s trivial query may take before the store counts as not answering. */
    private static final int HEALTH_QUERY_SECONDS = 2;

    /**
     * For {@code /healthz}: whether the database answers a trivial query (PostgreSQL: on a connection of
     * its own, waited for at most 1 s, so neither busy pools nor a database that refuses connections
     * keep it waiting for the connection wait, store.connect-timeout), then whether the pools deliveries
     * and jobs use give connections (none of them has had a wait end empty with none idle since: {@link
     * PoolStarvation}), then whether writes work
     * (the last write's outcome while fresh, else one small probe write; a deleted SQLite file counts
     * as not writable). Never throws.
     */
    public StoreHealth health() {
        return healthReport().state();
    }

    /**
     * As {@link #health()}, with what is wrong when the store is not ok: a database that does not
     * answer, one that refuses connections and why (out of disk space, memory or connections, starting
     * or recovering, wrong credentials: its SQLSTATE), one that cannot write and why. Never throws.
     */
    public HealthReport healthReport() {
        try {
            boolean answers = db.readForHealth("check health", c -> {
                try (PreparedStatement p = c.prepareStatement("SELECT 1")) {
                    p.setQueryTimeout(HEALTH_QUERY_SECONDS);
                    try (ResultSet rs = p.executeQuery()) {
                        return rs.next();
                    }
                }
            });
            if (!answers) {
                return HealthReport.unreachable(null);
            }
        } catch (RuntimeException e) {
            return HealthReport.unreachable(e);
        }
        // Its own connection answered; the pools' may not: then deliveries and jobs are refused (tryout22 F3).
        HealthReport starved = db.starvedReport();
        if (starved != null) {
            return starved;
        }
        // PostgreSQL: a delivery was refused a table lock another session holds (tryout25 F1): while it is held.
        HealthReport locked = db.tableLockReport();
        if (locked != null) {
            return locked;
        }
        return db.writable() ? HealthReport.healthy() : db.notWritable();
    }

    /**
     * Why the store cannot take deliveries now although it can be read, as this node knows it, for the status
     * page: SQLite's file deleted, its write lock held by another program, a pool that gives no connection,
     * writes refused (the last write's outcome; checked again as {@link #healthReport()} does when it is over
     * a second old). Empty while writes work; then it reads and writes nothing. Never throws.
     */
    public Optional<StoreTrouble> trouble() {
        try {
            return db.trouble();
        } catch (RuntimeException e) {
            return Optional.of(new StoreTrouble(null, HealthReport.notWritable(e).reason(), e.getMessage()));
        }
    }

    /**
     * Why jobs are not started on this node while its deliveries are still stored, for {@code /healthz}'s
     * {@code "degraded"} (200): only the pools of jobs ({@code buildhook-scheduler}) or of the node's id give
     * no connection, or only the jobs' statements are refused a table lock another session holds
     * (PostgreSQL). Empty otherwise, and while deliveries are refused too ({@link #healthReport()} is then
     * not ok). Never throws.
     */
    public Optional<String> jobsOnlyTrouble() {
        try {
            return Optional.ofNullable(db.jobsOnlyTrouble());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Why the last write failed for want of a working store, or empty when it succeeded; for logs. */
    public Optional<String> lastWriteFailure() {
        return Optional.ofNullable(db.lastWriteFailure());
    }

    /**
     * Runs the retention sweep now; returns how many deliveries it removed. It then removes this node's
     * job log folders and payload copies whose job or delivery the store no longer has.
     */
    public int runRetention() {
        int removed = retention.sweep();
        orphans.sweep();
        return removed;
    }

    /**
     * The folder this node's job logs are written to ({@code runner.log-dir}): each retention sweep also
     * removes from it the folders of jobs the store no longer has, such as the jobs that ran on this node
     * and whose delivery another node's sweep deleted. Without it only payload copies are looked at.
     */
    public void sweepJobLogsIn(Path logDirectory) {
        Path folder = logDirectory.toAbsolutePath().normalize();
        orphans.logDirectory(folder);
        orphans.mark(folder);
    }

    /** The job log folders this node's retention removed since the store opened because their job was gone. */
    public long orphanLogFoldersRemoved() {
        return orphans.logFoldersRemoved();
    }

    /** The payload copies this node's retention removed since the store opened because their delivery was gone. */
    public long orphanPayloadCopiesRemoved() {
        return orphans.payloadCopiesRemoved();
    }

    /** The sweep of files the store no longer has; for tests. */
    OrphanFiles orphanFiles() {
        return orphans;
    }

    /** The folder {@link #payloadFile} names files in ({@code <data-dir>/payloads}); it may not exist yet. */
    public Path payloadFolder() {
        return config.dataDir().resolve("payloads");
    }

    /** Where the engine writes a delivery's body for {@code BUILDHOOK_PAYLOAD}: derived from its id only. */
    public Path payloadFile(String deliveryId) {
        if (!Ids.isValid(deliveryId)) {
            throw new IllegalArgumentException("not a delivery id: " + deliveryId);
        }
        return payloadFolder().resolve(deliveryId + ".json");
    }

    private volatile String identity;

    /**
     * This store's installation id ({@code store_installation}, made once with the schema), which names its marks
     * in the folders it sweeps ({@code .buildhook-store-<id>}). Read once.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public String installation() {
        return orphans.installation();
    }

    /**
     * This store's identity among copies of one history, set on every attempt's processes as
     * {@code BUILDHOOK_STORE} ({@link org.buildhook.runner.exec.AttemptMarker#serveStore}): its installation id
     * ({@code store_installation}, made once with the schema, so the same in a restored backup or a copied
     * file), followed by where this copy lives: on SQLite the database file's device and inode
     * ({@code ino:<dev>:<ino>}, kept by a {@code mv} within one file system, another for every copy), or its
     * absolute path where those cannot be read; on PostgreSQL the database's oid and the server's port
     * ({@code pg:<oid>:<port>}, the same for every node of the store, another for a copy restored into another
     * database or server of this host). Read once.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public String identity() {
        String id = identity;
        if (id != null) {
            return id;
        }
        String installation = db.read("read the store's installation id", c -> {
            try (java.sql.PreparedStatement p = c.prepareStatement(
                    "SELECT installation FROM store_installation WHERE id = 1");
                    java.sql.ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getString(1) : "none";
            }
        });
        String where;
        Optional<Path> file = Dialect.sqliteFile(config.url());
        if (file.isPresent()) {
            Path path = file.get().toAbsolutePath().normalize();
            try {
                where = "ino:" + java.nio.file.Files.getAttribute(path, "unix:dev") + ":"
                        + java.nio.file.Files.getAttribute(path, "unix:ino");
            } catch (java.io.IOException | UnsupportedOperationException | IllegalArgumentException e) {
                where = "path:" + path;
            }
        } else {
            where = db.read("read the database's oid", c -> {
                try (java.sql.PreparedStatement p = c.prepareStatement("SELECT oid, current_setting('port')"
                        + " FROM pg_database WHERE datname = current_database()");
                        java.sql.ResultSet rs = p.executeQuery()) {
                    return rs.next() ? "pg:" + rs.getLong(1) + ":" + rs.getString(2) : "pg";
                }
            });
        }
        id = installation + "/" + where;
        identity = id;
        return id;
    }

    /** The execution side's view; for the engine. */
    public ExecutionLedger ledger() {
        return ledger;
    }

    /** The shared resources' view: for the engine, which takes units for an attempt, and for metrics. */
    public ResourceLedger resources() {
        return resources;
    }

    /** Which running node holds each {@code runner.node-id} (used on PostgreSQL, where nodes share the store). */
    public NodeLeases nodeLeases() {
        return nodeLeases;
    }

    /** Which JVM serves this SQLite store, as the store records it (nothing is written on PostgreSQL). */
    public SqliteServer sqliteServer() {
        return sqliteServer;
    }

    /** Frees what dead nodes of this host held; for the engine, after it killed their leftovers. */
    public DeadNodeRelease deadNodes() {
        return deadNodes;
    }

    /**
     * The schema version this open upgraded the store from (from 1), or 0 when it created the schema or found it up to
     * date: for the start's warning of nodes of an older build still running on a shared store.
     */
    public int upgradedFrom() {
        return upgradedFrom;
    }

    /** The schema version the store is at since this open (this build's newest). */
    public int schemaVersion() {
        return schemaVersion;
    }

    /** Gives jobs an older build put behind later ones their place in the queue back; for the engine's start. */
    public QueuePlaces queuePlaces() {
        return queuePlaces;
    }

    /**
     * As {@link #nodeLeases()}, stamping claims with {@code hostClock} as this host's clock (tests: a host whose clock
     * is off the database's).
     */
    NodeLeases nodeLeases(java.time.Clock hostClock) {
        return new NodeLeases(db, config.clock(), hostClock);
    }

    /** As {@link #deadNodes()}, reading this host's clock from {@code hostClock} (tests: a host whose clock is off). */
    DeadNodeRelease deadNodes(java.time.Clock hostClock) {
        return new DeadNodeRelease(db, hostClock, config.clock(), ledger::madeDue, ledger::renames);
    }

    /** The follow-ups' view; for the engine, which starts them when their job ends. */
    public FollowUpLedger followUps() {
        return followUps;
    }

    /**
     * Runs the jobs-queued listeners (the engines look for work at once); for a caller that queued
     * jobs through another view, such as {@link #followUps()}.
     */
    public void notifyJobsQueued() {
        jobsQueued();
    }

    /** The pooled data source; for the engine's db-scheduler. */
    public DataSource dataSource() {
        return db.dataSource();
    }

    /**
     * The store's group commits so far: on SQLite the commits of its writer and the write transactions
     * they carried; on PostgreSQL the statements that stored new deliveries (each a transaction of its
     * own, holding every accept gathered while the one before committed) and the deliveries they carried.
     */
    public Optional<WriteStats> writeStats() {
        return db.writeStats().or(writer::acceptStats);
    }

    /**
     * The connections the job engine's scheduler (db-scheduler) runs on: a pool of their own,
     * whose commits do not wait for the disk (its picks, heartbeats and removals are bookkeeping
     * that a crash may undo anyway; the job row decides whether a job runs again).
     */
    public DataSource schedulerDataSource() {
        return db.schedulerDataSourceForScheduler();
    }

    /**
     * The node's stop is past its grace period (its running jobs ended or were killed): from now on a store
     * that could not give a connection is not waited for again within {@code store.connect-timeout}, so the
     * stop's remaining steps that need it fail at once rather than each waiting in turn while the database
     * cannot be reached. PostgreSQL: and a call left unanswered for that long (a network partition, a hung
     * server, which no connection wait notices) is ended with a connection failure, after which the stop's
     * remaining calls fail at once; said once in the log. Not before the grace period ends: meanwhile the
     * node still stores deliveries and records the outcomes of the jobs that end. Changes nothing else.
     */
    public void stopping() {
        PAST_THEIR_GRACE.add(this);
        db.stopping();
    }

    /** The stores of this JVM (class loader) between {@link #stopping()} and {@link #close()}. */
    private static final java.util.Set<Store> PAST_THEIR_GRACE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Whether a store of this JVM (of this class loader: one web application) is in a stop past its grace period
     * ({@link #stopping()} called, not yet closed): then a store that cannot be reached is expected, and is said by
     * the stop's own lines; the log's filter of library lines says a library's connection failure in one line then,
     * without its stack trace (tryout20 F2).
     */
    public static boolean anyStoppingPastItsGrace() {
        return !PAST_THEIR_GRACE.isEmpty();
    }

    /**
     * How the job engine's scheduler speaks to this store: db-scheduler's PostgreSQL customization, whose picks that
     * meet an outage say so once ({@link PostgresJdbcCustomization}), or on SQLite one whose picks go through the store's writer rather than waiting for SQLite's
     * write lock on db-scheduler's own connection ({@link SqliteJdbcCustomization}).
     */
    public JdbcCustomization schedulerCustomization() {
        return db.dialect() == Dialect.SQLITE ? SqliteJdbcCustomization.through(db)
                : new PostgresJdbcCustomization(db);
    }

    public Dialect dialect() {
        return db.dialect();
    }

    public StoreConfig config() {
        return config;
    }

    private void sweepQuietly() {
        try {
            retention.sweep();
        } catch (RuntimeException e) {
            LOG.warn("retention sweep failed, will try again: {}", e.getMessage());
            return;
        }
        try {
            orphans.sweep();
        } catch (RuntimeException e) {
            // Whatever it is: escaping here would end scheduleWithFixedDelay's sweeps for good, in silence.
            LOG.warn("retention's sweep of left-over files failed, will try again: {}", e.toString());
        }
    }

    @Override
    public void close() {
        try {
            if (ownsRetentionThread) {
                retentionThread.shutdownNow();
            }
            db.close();
        } finally {
            PAST_THEIR_GRACE.remove(this);
        }
    }
}
