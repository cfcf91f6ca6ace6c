package org.buildhook.runner.store;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.Set;
import org.buildhook.runner.RunnerException;
import org.sqlite.SQLiteErrorCode;

/**
 * The store cannot be reached or cannot write for now: connection refused, pool exhausted, SQLite
 * file locked beyond the busy timeout, read-only, disk full, I/O error, or its file deleted while
 * the server runs. Callers answer {@code 503} with {@code Retry-After} so the sender retries;
 * nothing the caller asked for was stored, unless PostgreSQL did not answer in time ({@link #unanswered}): then what
 * it was sent may have been done all the same, only its answer was lost.
 */
public class StoreUnavailableException extends RunnerException {

    private static final long serialVersionUID = 1L;

    /** Whether what the call sent may have been done all the same ({@link #outcomeUnknown(Throwable)}). */
    private final boolean outcomeUnknown;

    public StoreUnavailableException(String message, Throwable cause) {
        this(message, cause, false);
    }

    /**
     * @param outcomeUnknown whether what the call sent may have been done all the same: its statement (or its
     *     transaction's commit) was sent and the connection broke, or the wait for it was given up, before its answer
     *     came; {@code false} when nothing of it was done (no connection was had, the database refused it)
     */
    public StoreUnavailableException(String message, Throwable cause, boolean outcomeUnknown) {
        super(message, cause);
        this.outcomeUnknown = outcomeUnknown;
    }

    /**
     * Whether {@code e} (or what it wraps, up to 10 causes deep) says that what the call sent may have been done all the
     * same, only its answer lost: it was not answered in time ({@link #unanswered}), or a connection broke after its
     * statement or its commit was sent (a PostgreSQL crash, {@code pg_ctl stop -m immediate}, a network cut), or the
     * wait for the SQLite writer was given up by an interrupt (tryout50 F8). Then "not stored" is not known; a failure
     * before (no connection, a statement the database refused) says it was not done.
     */
    public static boolean outcomeUnknown(Throwable e) {
        Throwable t = e;
        for (int depth = 0; t != null && depth < 10; depth++, t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.SocketTimeoutException
                    || (t instanceof StoreUnavailableException u && u.outcomeUnknown)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the driver's {@code e} says the connection itself broke or was ended (SQLSTATE class {@code 08}, as
     * PostgreSQL's driver says of an I/O error; {@code 57P01}/{@code 57P02}: the server ended the session, by an
     * administrator's command or a crash), rather than that the database refused the statement: once the statement
     * was sent, its outcome is then unknown.
     */
    static boolean connectionLost(SQLException e) {
        return firstInChain(e, s -> {
            String state = s.getSQLState();
            return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02"))
                    ? Boolean.TRUE : null;
        }) != null;
    }

    /**
     * Whether {@code e} (or what it wraps, up to 10 causes deep) says that a call was not answered in time: the socket's
     * own bound on a PostgreSQL connection ran out ({@link java.net.SocketTimeoutException}: {@link Store#look}, {@link
     * Store#readWithin}), the connection is closed. What the call sent may have been done all the same (a commit whose
     * answer was lost).
     */
    public static boolean unanswered(Throwable e) {
        Throwable t = e;
        for (int depth = 0; t != null && depth < 10; depth++, t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the driver's {@code e} means the database cannot be reached or cannot write for now
     * (try again later, an operator may have to act) rather than a mistake in a statement:
     * <ul>
     *   <li>connection failures: {@link SQLTransientConnectionException},
     *       {@link SQLNonTransientConnectionException}, SQLSTATE class {@code 08};</li>
     *   <li>PostgreSQL: {@code 57P…} (shutting down or restarting), class {@code 53} (disk full, out
     *       of memory or connections), class {@code 58} (I/O error), {@code 25006} (a read-only
     *       server, such as a standby after a failover), {@code XX001}/{@code XX002} (corrupted data
     *       or index), {@code 55P03} (a lock not given within the session's {@code lock_timeout}: another
     *       session holds a table lock, {@link TableLockWait});</li>
     *   <li>SQLite primary result codes (any extended code): {@code BUSY}, {@code LOCKED},
     *       {@code READONLY}, {@code IOERR}, {@code CORRUPT}, {@code FULL}, {@code CANTOPEN},
     *       {@code PROTOCOL}, {@code NOLFS}, {@code NOTADB}, {@code PERM}, {@code NOMEM}
     *       (<a href="https://www.sqlite.org/rescode.html">sqlite.org/rescode.html</a>);</li>
     *   <li>a wait for a connection given up because the calling thread was interrupted (HikariCP's
     *       {@code "<pool> - Interrupted during connection acquisition"}, an {@link SQLException} with no
     *       SQLSTATE caused by an {@link InterruptedException}): nothing was sent to the database. Only a
     *       stopping node interrupts its threads (db-scheduler's stop, once its own wait is over), and a job's
     *       thread must then keep what it could not record as it does for an outage; taken for a failed
     *       statement, it was thrown to db-scheduler (an ERROR with its stack trace) and nothing was kept
     *       (interrupt45).</li>
     * </ul>
     * The exception's chained {@link SQLException#getNextException() next exceptions} and causes
     * are looked at too.
     */
    public static boolean isOutage(SQLException e) {
        return firstInChain(e, s -> isOutageItself(s) ? Boolean.TRUE : null) != null;
    }

    /**
     * Whether {@code e} (or a cause, or a chained next exception) is PostgreSQL ending a transaction to let another go
     * on: {@code 40P01} {@code deadlock_detected} or {@code 40001} {@code serialization_failure} (PostgreSQL's
     * documentation, Appendix A, "PostgreSQL Error Codes", class 40 "Transaction Rollback"). The transaction was rolled
     * back whole, so what it was to change was not changed, and the same request made again may go through: not an
     * outage, and not a fault of buildhook's or of the request.
     *
     * @param e any failure, or null (false)
     * @return true when a transaction of it was ended so
     */
    public static boolean isTransactionRollback(Throwable e) {
        return firstInChain(e, s -> "40P01".equals(s.getSQLState()) || "40001".equals(s.getSQLState())
                ? Boolean.TRUE : null) != null;
    }

    /**
     * Whether {@code e} (or a cause, or a chained next exception) is PostgreSQL cancelling a statement: {@code 57014}
     * {@code query_canceled}, what a {@code statement_timeout} (set in {@code store.url}, or on the role or database)
     * ends a statement with, as does {@code pg_cancel_backend}. The statement's transaction was rolled back whole, so
     * nothing of it was written, and the same request made again may go through.
     *
     * @param e any failure, or null (false)
     * @return true when a statement of it was cancelled so
     */
    public static boolean isStatementCancelled(Throwable e) {
        return firstInChain(e, s -> "57014".equals(s.getSQLState()) ? Boolean.TRUE : null) != null;
    }

    /**
     * The first non-null answer of {@code found} for an {@link SQLException} in {@code e}'s chain (its
     * causes, and the next exceptions of each SQLException), or {@code null}. Bounded to 10 links: a
     * chain that loops must not hang a request thread.
     */
    static <T> T firstInChain(Throwable e, java.util.function.Function<SQLException, T> found) {
        Throwable t = e;
        for (int depth = 0; t != null && depth < 10; depth++) {
            if (t instanceof SQLException s) {
                T answer = found.apply(s);
                if (answer != null) {
                    return answer;
                }
                t = s.getNextException() != null ? s.getNextException() : s.getCause();
            } else {
                t = t.getCause();
            }
        }
        return null;
    }

    private static boolean isOutageItself(SQLException e) {
        if (e instanceof SQLTransientConnectionException || e instanceof SQLNonTransientConnectionException) {
            return true;
        }
        if (e.getCause() instanceof InterruptedException) {
            return true; // a wait for a connection given up by an interrupt (see isOutage)
        }
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || state.startsWith("57P") || state.startsWith("53")
                || state.startsWith("58") || state.equals("25006") || state.equals("55P03") || state.equals("XX001") || state.equals("XX002"))) {
            return true;
        }
        // The SQLite driver's codes; PostgreSQL's driver always says 0.
        return SQLITE_OUTAGES.contains(e.getErrorCode() & 0xff);
    }

    /**
     * Whether {@code e} (or what it wraps) says the store was refused for want of room: a full disk
     * (SQLite {@code SQLITE_FULL}, PostgreSQL {@code 53100 disk_full}).
     */
    public static boolean isOutOfRoom(Throwable e) {
        // The SQLite driver's code, as in isOutageItself; PostgreSQL's driver always says 0.
        return firstInChain(e, s -> "53100".equals(s.getSQLState())
                || (s.getErrorCode() & 0xff) == SQLiteErrorCode.SQLITE_FULL.code ? Boolean.TRUE : null) != null;
    }

    /** SQLite's primary result codes that say the file cannot be read or written now, not that a statement is wrong. */
    private static final Set<Integer> SQLITE_OUTAGES = Set.of(SQLiteErrorCode.SQLITE_BUSY.code,
            SQLiteErrorCode.SQLITE_LOCKED.code, SQLiteErrorCode.SQLITE_READONLY.code, SQLiteErrorCode.SQLITE_IOERR.code,
            SQLiteErrorCode.SQLITE_CORRUPT.code, SQLiteErrorCode.SQLITE_FULL.code, SQLiteErrorCode.SQLITE_CANTOPEN.code,
            SQLiteErrorCode.SQLITE_PROTOCOL.code, SQLiteErrorCode.SQLITE_NOLFS.code, SQLiteErrorCode.SQLITE_NOTADB.code,
            SQLiteErrorCode.SQLITE_PERM.code, SQLiteErrorCode.SQLITE_NOMEM.code);
}
