package org.buildhook.servlet.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Marker;

/**
 * Folds the warnings and errors that db-scheduler and HikariCP repeat every few seconds while the
 * database is away (found by a try-out: 650 lines of stack traces in 50 s of a PostgreSQL outage,
 * with advice that does not apply, such as HikariCP's "consider using a shorter maxLifetime"):
 * of each such message (one logger, one message pattern) at most one per {@link #WINDOW_SECONDS}
 * seconds is logged, and the next one logged after a fold is followed by a line of buildhook's
 * saying how many were left out. buildhook's own lines say what is wrong and what to do
 * ({@code store unavailable …}, the fencing and outage lines), and are never folded here; nor is
 * anything below {@code WARN}, nor any other library. A few library warnings that say nothing an operator
 * needs are logged at {@code DEBUG} instead ({@link #ONLY_DEBUG}). A library warning or error whose exception says the
 * database cannot be reached (a connection failure, as the store tells an outage) is one line, with the exception's
 * message, instead of a whole stack trace; the stack is logged at {@code DEBUG}. Such an error of db-scheduler whose
 * connection was lost, or whose store's disk is full, is said at {@code WARN}: an outage buildhook reports itself. During a stop past its grace period
 * ({@link Store#anyStoppingPastItsGrace()}) such a line is not folded: the stop's account is said whole.
 *
 * <p>A logback {@link TurboFilter}: installed by the shipped {@code logback.xml} files (standalone
 * and WAR) with {@code <turboFilter class="org.buildhook.servlet.logging.RepeatedLibraryLogFilter"/>};
 * a configuration of one's own can add the same line.
 */
public final class RepeatedLibraryLogFilter extends TurboFilter {

    /** How long one message of a library is logged at most once, in seconds. */
    public static final long WINDOW_SECONDS = 60;

    /** The libraries whose repeats are folded: db-scheduler and HikariCP. */
    private static final String[] LIBRARIES = {"com.github.kagkarlsson.", "com.zaxxer.hikari."};

    /**
     * Library warnings said at DEBUG instead (logger and message pattern): they tell an operator nothing
     * that buildhook's own lines do not. HikariCP's "Timed-out waiting for add connection executor to
     * shutdown" comes before every refused start whose database did not answer in time (final18 F6): a
     * connection attempt still under way when the pool closed, which ends by itself within the login
     * timeout; the refusal says what happened. HikariCP's "Failed to validate connection … Possibly consider using a
     * shorter maxLifetime value": a pooled connection found dead when it was to be handed out (the database restarted,
     * ended the session, or cannot be reached), which the pool replaces by itself; its advice is about a HikariCP
     * setting buildhook does not expose and does not apply, and what matters is said by buildhook's own lines (the
     * outage, the node id's lost session, the stop's account: stophung21, tryout28 F3). db-scheduler's "Execution has
     * more than 1 failed heartbeats. Should not happen. Risk of being considered dead. …", at every heartbeat of a
     * running job from its second failed one on: with buildhook it does happen, and is said by its own lines — the store
     * unreachable (db-scheduler's own "Failed to update heartbeat. No more retries." WARN before it, one line with the
     * outage, and buildhook's outage lines), the job fenced before another node may take it ("job …: killed by its own
     * node: no heartbeat could be written for … ms …"), or taken over while this node was paused ("job …: its execution
     * was taken over by node …"); its "Heartbeat-state" and the execution's {@code toString} add nothing (fence32).
     */
    private static final java.util.Set<String> ONLY_DEBUG = java.util.Set.of(
            "com.github.kagkarlsson.scheduler.Scheduler\u0000Execution has more than 1 failed heartbeats. Should not"
                    + " happen. Risk of being considered dead. See heartbeat-state. Heartbeat-state={}, Execution={}",
            "com.zaxxer.hikari.pool.HikariPool\u0000Timed-out waiting for add connection executor to shutdown",
            "com.zaxxer.hikari.pool.PoolBase\u0000{} - Failed to validate connection {} ({})."
                    + " Possibly consider using a shorter maxLifetime value.");

    private final LongSupplier nanoTime;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    public RepeatedLibraryLogFilter() {
        this(System::nanoTime);
    }

    RepeatedLibraryLogFilter(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** One message's window: when it was last logged, and how many were left out since. */
    private static final class Window {
        long loggedAt;
        int leftOut;
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
            Throwable t) {
        if (level == null || !level.isGreaterOrEqual(Level.WARN) || !isLibrary(logger.getName())) {
            return FilterReply.NEUTRAL;
        }
        if (ONLY_DEBUG.contains(logger.getName() + '\u0000' + format)) {
            // Below WARN this filter is neutral: no loop.
            logger.debug(format, params);
            return FilterReply.DENY;
        }
        if (RELOGGING.get() != null) {
            return FilterReply.NEUTRAL; // this filter's own one line, said below: neither folded nor cut again
        }
        Throwable thrown = t != null ? t : params != null && params.length > 0
                && params[params.length - 1] instanceof Throwable last ? last : null;
        boolean outage = thrown != null && isOutage(thrown);
        if (outage && aStopPastItsGrace()) {
            // A stop past its grace period whose database could not be reached (a partition, a hung server): the stop's
            // own lines say so and what it left, and the library's stack trace says nothing more to an operator
            // (tryout20 F2: HikariCP's trace at the node id's release of a stop whose store hung). One line at the
            // same level, with what failed; the stack at DEBUG. Below WARN and without a throwable this filter is
            // neutral or folds: no loop.
            oneLine(logger, level, format, params, t, thrown, "");
            return FilterReply.DENY;
        }
        String key = logger.getName() + '\u0000' + format;
        long now = nanoTime.getAsLong();
        int leftOut;
        synchronized (windows) {
            Window window = windows.get(key);
            if (window != null && now - window.loggedAt < TimeUnit.SECONDS.toNanos(WINDOW_SECONDS)) {
                window.leftOut++;
                return FilterReply.DENY;
            }
            if (window == null) {
                if (windows.size() > 1000) {
                    windows.clear(); // a bound on what is kept; at worst a repeat is logged once more
                }
                window = new Window();
                windows.put(key, window);
            }
            leftOut = window.leftOut;
            window.loggedAt = now;
            window.leftOut = 0;
        }
        if (leftOut > 0) {
            // Through the logger's own context: the one this filter is installed in.
            logger.getLoggerContext().getLogger(RepeatedLibraryLogFilter.class).warn("{} more like the next line of {} were left out in the last {} s (each such message of"
                    + " db-scheduler and HikariCP is logged once a minute: they repeat while the database is away;"
                    + " /healthz says whether it answers)", leftOut, logger.getName(), WINDOW_SECONDS);
        }
        if (outage) {
            // The database cannot be reached: buildhook's own lines say so (the pool's "the store gives this node no
            // connection", /healthz), and the library's stack trace adds nothing an operator can use (tryout25 F7:
            // HikariCP's "marked as broken" and db-scheduler's housekeeper, each with a whole trace). One line.
            if (level.isGreaterOrEqual(Level.ERROR) && logger.getName().startsWith(LIBRARIES[0])
                    && isConnectionLost(thrown)) {
                // chaos32 L2: db-scheduler's housekeeping "Unhandled exception. Will keep running." at ERROR at every
                // look while PostgreSQL is down, for an outage buildhook already reports and db-scheduler rides out by
                // itself. A WARN saying so; any other failure (a full disk, a corrupt file, a statement refused) keeps
                // its ERROR.
                oneLine(logger, Level.WARN, format, params, t, thrown, CONNECTION_LOST);
            } else if (level.isGreaterOrEqual(Level.ERROR) && logger.getName().startsWith(LIBRARIES[0])
                    && StoreUnavailableException.isOutOfRoom(thrown)) {
                // tryout44 F8: while SQLite's disk was full, db-scheduler's "Failed while handling dead execution …
                // Will be tried again later. (SQLRuntimeException: … SQLITE_FULL …)" at ERROR beside buildhook's own
                // WARN of the outage, as if it were a crash. A full disk is an outage buildhook says itself (store
                // unavailable …, /healthz "the store cannot write: its disk is full"), and db-scheduler's look is
                // made again once there is room. A WARN saying so; a corrupt file or a statement refused stays ERROR.
                oneLine(logger, Level.WARN, format, params, t, thrown, OUT_OF_ROOM);
            } else {
                oneLine(logger, level, format, params, t, thrown, "");
            }
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }

    /** Set while this filter logs its own line of a library's message: that line passes the filter as it is. */
    private static final ThreadLocal<Boolean> RELOGGING = new ThreadLocal<>();

    /**
     * The library's message at its level in one line, the exception's class and message (and its deepest cause's)
     * instead of its stack trace, which goes to {@code DEBUG}.
     */
    private static void oneLine(Logger logger, Level level, String format, Object[] params, Throwable t,
            Throwable thrown, String meaning) {
        RELOGGING.set(Boolean.TRUE);
        try {
            logger.debug(format, params == null ? new Object[] {thrown} : withThrowable(params, t));
            Object[] line = withoutThrowable(params, t);
            Object[] args = java.util.Arrays.copyOf(line, line.length + 1);
            args[line.length] = summary(thrown);
            String oneLine = format + " ({}" + meaning + "; stack trace at DEBUG)";
            if (level.isGreaterOrEqual(Level.ERROR)) {
                logger.error(oneLine, args);
            } else {
                logger.warn(oneLine, args);
            }
        } finally {
            RELOGGING.remove();
        }
    }

    /** {@link Store#anyStoppingPastItsGrace()}; false where the filter is installed without buildhook's classes. */
    private static boolean aStopPastItsGrace() {
        try {
            return Store.anyStoppingPastItsGrace();
        } catch (LinkageError e) {
            return false;
        }
    }

    /** Whether {@code failure} or one of its causes says the database cannot be reached (the store's own rules). */
    private static boolean isOutage(Throwable failure) {
        Throwable e = failure;
        for (int depth = 0; e != null && depth < 20; depth++, e = e.getCause()) {
            if (e instanceof StoreUnavailableException
                    || e instanceof SQLException sql && StoreUnavailableException.isOutage(sql)) {
                return true;
            }
        }
        return false;
    }

    /**
     * What a db-scheduler error whose connection was lost means, said after its exception in its one WARN line: the
     * condition buildhook reports itself, and that nothing needs doing for db-scheduler.
     */
    static final String CONNECTION_LOST = "; the database cannot be reached: db-scheduler tries again by itself at its"
            + " next look, and buildhook says the outage in its own lines (store unavailable …) and at /healthz";

    /**
     * What a db-scheduler error for want of room on the store's disk means (SQLite {@code SQLITE_FULL}, PostgreSQL
     * {@code 53100}), said after its exception in its one WARN line.
     */
    static final String OUT_OF_ROOM = "; the store's disk is full: db-scheduler tries again by itself at its next look"
            + " once there is room, and buildhook says the outage in its own lines (store unavailable …) and at /healthz"
            + " (the store cannot write: …)";

    /**
     * Whether {@code failure} says a connection to the database could not be made or was lost: a connection exception
     * ({@code SQLTransientConnectionException}, {@code SQLNonTransientConnectionException}, SQLSTATE class {@code 08}) or
     * the server ending its sessions ({@code 57P01}–{@code 57P03}: shut down, restarted, not yet accepting). Not a full
     * disk, a read-only or corrupt file, a lock or a statement refused: those stay errors.
     */
    static boolean isConnectionLost(Throwable failure) {
        Throwable e = failure;
        for (int depth = 0; e != null && depth < 20; depth++) {
            if (e instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (sql instanceof java.sql.SQLTransientConnectionException
                        || sql instanceof java.sql.SQLNonTransientConnectionException
                        || state != null && (state.startsWith("08") || state.equals("57P01")
                        || state.equals("57P02") || state.equals("57P03"))) {
                    return true;
                }
                e = sql.getNextException() != null ? sql.getNextException() : sql.getCause();
            } else {
                e = e.getCause();
            }
        }
        return false;
    }

    /** The throwable's class and message, and those of its deepest cause: what failed, in one line. */
    private static String summary(Throwable thrown) {
        Throwable root = thrown;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 20; depth++) {
            root = root.getCause();
        }
        String first = thrown.getClass().getSimpleName() + ": " + thrown.getMessage();
        return root == thrown ? first
                : first + "; caused by " + root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    /** The arguments without a trailing throwable (the one the library passed for its stack trace). */
    private static Object[] withoutThrowable(Object[] params, Throwable t) {
        if (params == null) {
            return new Object[0];
        }
        return t == null && params.length > 0 && params[params.length - 1] instanceof Throwable
                ? java.util.Arrays.copyOf(params, params.length - 1) : params;
    }

    /** The arguments with the throwable last, so that a log call shows its stack trace. */
    private static Object[] withThrowable(Object[] params, Throwable t) {
        if (t == null) {
            return params;
        }
        Object[] args = java.util.Arrays.copyOf(params, params.length + 1);
        args[params.length] = t;
        return args;
    }

    private static boolean isLibrary(String name) {
        for (String library : LIBRARIES) {
            if (name.startsWith(library)) {
                return true;
            }
        }
        return false;
    }
}
