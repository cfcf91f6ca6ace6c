package org.buildhook.runner.store;

import java.net.ConnectException;
import java.util.Objects;
import org.sqlite.SQLiteErrorCode;

/**
 * What {@code /healthz} says about the store ({@link Store#healthReport()}): its {@link StoreHealth}
 * and, when that is not ok, what is wrong in a few words an operator can act on — a database that
 * does not answer, one that refuses connections (and why: out of disk, memory or connections,
 * starting or recovering, wrong credentials), one that answers but cannot write. Made from the
 * driver's failure: its SQLSTATE (PostgreSQL) or result code (SQLite), never its message, which may
 * name users, hosts or files; the server log has the message.
 *
 * @param state  the store's health
 * @param reason {@code null} when {@code state} is {@link StoreHealth#OK}, else what is wrong
 */
public record HealthReport(StoreHealth state, String reason) {

    /** Said when nothing more precise is known of a store whose reads fail, or one that does not answer in time. */
    public static final String DOES_NOT_ANSWER = "the store does not answer";
    /** Said when nothing more precise is known of a store whose writes fail. */
    public static final String CANNOT_WRITE = "the store cannot write; see the server log";

    /**
     * @throws IllegalArgumentException when a reason is given for a healthy store, or none for one that
     *         is not ({@code /healthz} always says what is wrong)
     */
    public HealthReport {
        Objects.requireNonNull(state, "state");
        if ((reason == null) != state.ok()) {
            throw new IllegalArgumentException("a reason is given exactly when the store is not ok: " + state);
        }
    }

    static HealthReport healthy() {
        return new HealthReport(StoreHealth.OK, null);
    }

    /** Reads failed with {@code failure} (or answered nothing, {@code null}). */
    static HealthReport unreachable(Throwable failure) {
        return new HealthReport(StoreHealth.UNREACHABLE, whyUnreachable(failure));
    }

    /** Reads answer; the last write failed with {@code failure} ({@code null}: not known). */
    static HealthReport notWritable(Throwable failure) {
        return new HealthReport(StoreHealth.NOT_WRITABLE, whyNotWritable(failure));
    }

    /** Reads answer; SQLite's file was deleted, replaced or moved while the server runs. */
    static HealthReport fileLost() {
        return new HealthReport(StoreHealth.NOT_WRITABLE,
                "the store cannot write: its file was deleted, replaced or moved; see the server log");
    }

    /** What is said while another program holds SQLite's write lock: on {@code /healthz}, the status page and the log. */
    public static final String LOCKED_BY_ANOTHER = "the store cannot write: its SQLite database is locked by another"
            + " program";

    /** Reads answer; another program holds SQLite's write lock ({@link SqliteWriter} said so at WARN). */
    static HealthReport lockedByAnother() {
        return new HealthReport(StoreHealth.NOT_WRITABLE, LOCKED_BY_ANOTHER + "; see the server log");
    }

    /**
     * Reads answer on the health check's own connection, but a pool deliveries or jobs need has given no
     * connection within the connection wait, and has none idle ({@link PoolStarvation}).
     *
     * @param said which pools, since when, their counts ({@link PoolStarvation#describe})
     */
    static HealthReport noConnection(String said) {
        return new HealthReport(StoreHealth.UNREACHABLE, said);
    }

    /**
     * Reads answer; PostgreSQL refused a delivery's statement a lock within {@code lock_timeout} and another
     * session still holds a table lock that blocks writes ({@link TableLockWait}).
     *
     * @param said which tables ({@link TableLockWait#reason}), never who holds them
     */
    static HealthReport tableLocked(String said) {
        return new HealthReport(StoreHealth.NOT_WRITABLE, said);
    }

    /** Whether the store answers and its writes work: {@code /healthz} answers 200. */
    public boolean ok() {
        return state.ok();
    }

    private static String whyUnreachable(Throwable failure) {
        String state = sqlState(failure);
        if (state != null) {
            String refused = "the store refuses connections: ";
            if (state.startsWith("53")) {
                return refused + "the database server is out of " + resource(state) + " (SQLSTATE " + state + ")";
            }
            if (state.equals("57P03")) {
                return refused + "the database server is starting, stopping or recovering (SQLSTATE " + state + ")";
            }
            if (state.startsWith("57P")) {
                return refused + "the database server is shutting down (SQLSTATE " + state + ")";
            }
            if (state.startsWith("28") || state.equals("3D000")) {
                return refused + "wrong user, password or database (SQLSTATE " + state + ")";
            }
        }
        if (has(failure, ConnectException.class)) {
            return "the store refuses connections: nothing listens at its address (connection refused)";
        }
        return DOES_NOT_ANSWER;
    }

    private static String whyNotWritable(Throwable failure) {
        String state = sqlState(failure);
        if (state != null && state.startsWith("53")) {
            return "the store cannot write: the database server is out of " + resource(state) + " (SQLSTATE " + state
                    + "); see the server log";
        }
        if ("25006".equals(state)) {
            return "the store cannot write: the database is read-only (SQLSTATE 25006); see the server log";
        }
        int sqlite = sqliteCode(failure);
        if (sqlite == SQLiteErrorCode.SQLITE_FULL.code) {
            return "the store cannot write: its disk is full (SQLITE_FULL); see the server log";
        }
        if (sqlite == SQLiteErrorCode.SQLITE_READONLY.code) {
            return "the store cannot write: its file is read-only (SQLITE_READONLY); see the server log";
        }
        return CANNOT_WRITE;
    }

    /** What a PostgreSQL server of SQLSTATE class 53 (insufficient resources) is out of. */
    private static String resource(String state) {
        return switch (state) {
            case "53100" -> "disk space";
            case "53200" -> "memory";
            case "53300" -> "connections (max_connections)";
            default -> "resources";
        };
    }

    /** The first SQLSTATE in {@code failure}'s chain of causes and next exceptions, or {@code null}. */
    private static String sqlState(Throwable failure) {
        return StoreUnavailableException.firstInChain(failure,
                s -> s.getSQLState() != null && !s.getSQLState().isBlank() ? s.getSQLState() : null);
    }

    /** The first SQLite primary result code in {@code failure}'s chain, or -1. */
    private static int sqliteCode(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.sqlite.SQLiteException s) {
                return s.getResultCode().code & 0xff;
            }
        }
        return -1;
    }

    private static boolean has(Throwable failure, Class<? extends Throwable> type) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 10; depth++) {
            if (type.isInstance(t)) {
                return true;
            }
            t = t.getCause();
        }
        return false;
    }
}
