package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.rules.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL: statements of this node refused a lock within their session's {@code lock_timeout}
 * (SQLSTATE {@code 55P03}, <a href="https://www.postgresql.org/docs/current/errcodes-appendix.html">errcodes
 * appendix</a>) because another session holds a table lock that blocks writes: an operator's {@code VACUUM
 * FULL}, {@code ALTER TABLE}, {@code REINDEX TABLE}, {@code CLUSTER} or {@code LOCK TABLE} (tryout25 F1:
 * before the bound a delivery waited as long as the lock was held, with no answer and {@code /healthz} ok).
 *
 * <p>An episode begins with the first such refusal (said once at {@code WARN}, naming the tables and the
 * sessions that hold them, as {@code pg_locks} and {@code pg_stat_activity} show them) and ends, said at
 * {@code INFO}, when a look on the health check's connection finds no such lock any more: {@code /healthz}
 * and the status page look while it lasts, so both recover by themselves.
 */
final class TableLockWait {

    private static final Logger LOG = LoggerFactory.getLogger(TableLockWait.class);

    /** What {@code /healthz}, the status page and the log say first while the episode lasts. */
    static final String LOCKED = "the store cannot write: a table it needs is locked by another session";

    /**
     * The query an operator runs to see who holds a lock that blocks buildhook's writes: the table lock modes
     * that conflict with {@code ROW EXCLUSIVE} (what {@code INSERT}/{@code UPDATE}/{@code DELETE} take).
     */
    static final String FIND_THEM = "SELECT l.relation::regclass AS locked, l.mode, a.pid, a.usename,"
            + " a.application_name, a.client_addr, a.xact_start, a.query FROM pg_locks l JOIN pg_stat_activity a"
            + " ON a.pid = l.pid WHERE l.locktype = 'relation' AND l.granted AND l.mode IN ('ShareLock',"
            + " 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')";

    /** As {@link #FIND_THEM}, limited to this store's schema and to other sessions than the one asking. */
    private static final String HOLDERS = "SELECT c.relname, l.mode, a.pid, COALESCE(a.application_name, ''),"
            + " COALESCE(a.usename::text, ''), a.xact_start, left(COALESCE(a.query, ''), 120) FROM pg_locks l"
            + " JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid"
            + " WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid()"
            + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            + " AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            + " AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')"
            + " ORDER BY c.relname, a.pid";

    /** One table lock held by another session, as {@code pg_locks} and {@code pg_stat_activity} say it. */
    record Holder(String table, String mode, int pid, String application, String user, Instant since, String query) {

        /** For the log and the status page (signed-in readers): the table, the mode, who and since when. */
        String describe() {
            return "table " + table + " (" + mode + ", held by pid " + pid
                    + (user.isEmpty() ? "" : ", user " + user)
                    + (application.isEmpty() ? "" : ", application '" + application + "'")
                    + (since == null ? "" : ", in a transaction since " + since)
                    + (query.isEmpty() ? "" : ", its statement: " + query.replaceAll("\\s+", " ")) + ")";
        }
    }

    /** The first refusal of the episode; {@code null} while none lasts. */
    private final AtomicReference<Instant> since = new AtomicReference<>();
    /** Whether a refused statement was a delivery's (the store's pool) rather than only the jobs'. */
    private volatile boolean deliveries;
    /** The locks found last, for the status page. */
    private volatile List<Holder> lastFound = List.of();

    /** The sessions' bound: what the log says the statements waited. */
    private final Duration bound;

    TableLockWait(Duration bound) {
        this.bound = bound;
    }

    /** Whether {@code e} (or what it wraps) is PostgreSQL's {@code 55P03 lock_not_available}. */
    static boolean isLockRefused(Throwable e) {
        return StoreUnavailableException.firstInChain(e, s -> "55P03".equals(s.getSQLState()) ? Boolean.TRUE : null)
                != null;
    }

    /**
     * A statement was refused its lock ({@link #isLockRefused}); the first of an episode looks up who holds
     * what and says it at {@code WARN}.
     *
     * @param deliveryPool whether it ran on the pool of deliveries ({@code buildhook-store})
     * @param lookup       runs {@link #holders} on a connection apart from the pools (the health check's)
     * @return the words for the refused caller's exception
     */
    String refused(boolean deliveryPool, java.util.function.Supplier<List<Holder>> lookup) {
        if (deliveryPool) {
            deliveries = true;
        }
        if (since.compareAndSet(null, Instant.now())) {
            List<Holder> found = lookedUp(lookup);
            lastFound = found;
            LOG.warn("{}: {}. Statements of this node waited store.connect-timeout ({}, PostgreSQL's lock_timeout of"
                    + " its sessions) for it and gave up: until it ends deliveries are answered 503 with Retry-After"
                    + " (JobServ sends each again for about 7 s only: a build refused longer is listed to re-send, by the"
                    + " status page and GET /api/refused-builds) and jobs are not started or ended; /healthz answers"
                    + " 503. Such a lock is taken by VACUUM FULL, ALTER TABLE, REINDEX TABLE, CLUSTER or LOCK TABLE;"
                    + " let it finish, or end that session (SELECT pg_cancel_backend(<pid>)). Find it with: {}",
                    LOCKED, found.isEmpty() ? "no table lock of another session is held now (it ended already, or the lock"
                            + " waited for was a row's, held by another transaction for that long)"
                            : String.join("; ", found.stream().map(Holder::describe).toList()),
                    Durations.describe(bound), FIND_THEM);
        }
        return LOCKED + " (waited " + Durations.describe(bound) + " for it)";
    }

    /**
     * While an episode lasts, the locks that still block writes, looked up now; ends the episode (said at
     * {@code INFO}) when there are none. {@code null} when there is no episode or it just ended.
     *
     * @param deliveriesOnly only an episode in which a delivery's statement was refused
     */
    List<Holder> current(boolean deliveriesOnly, java.util.function.Supplier<List<Holder>> lookup) {
        Instant began = since.get();
        if (began == null || (deliveriesOnly && !deliveries)) {
            return null;
        }
        List<Holder> found = lookedUp(lookup);
        if (found.isEmpty()) {
            if (since.compareAndSet(began, null)) {
                deliveries = false;
                lastFound = List.of();
                LOG.info("the store writes again: no table of it is locked by another session any more (since {})",
                        began);
            }
            return null;
        }
        lastFound = found;
        return found;
    }

    /** When the episode began, or {@code null}. */
    Instant since() {
        return since.get();
    }

    /** Whether a delivery's statement was refused in this episode. */
    boolean deliveriesRefused() {
        return deliveries;
    }

    /** {@code /healthz}'s words: the tables, never who holds them (it answers anyone). */
    static String reason(List<Holder> found) {
        return LOCKED + ": " + String.join(", ", found.stream().map(Holder::table).distinct().toList())
                + "; see the server log";
    }

    /** The status page's detail for signed-in readers: who holds what, and how to find them. */
    static String detail(List<Holder> found) {
        return String.join("; ", found.stream().map(Holder::describe).toList()) + ". Let it finish or end that"
                + " session (SELECT pg_cancel_backend(<pid>)); find it with: " + FIND_THEM;
    }

    private static List<Holder> lookedUp(java.util.function.Supplier<List<Holder>> lookup) {
        try {
            return lookup.get();
        } catch (RuntimeException e) {
            // The health connection did not answer: the episode stands (the lock is not known to be gone).
            LOG.debug("could not look up the table locks", e);
            return List.of(new Holder("(which one is not known: the health check's connection did not answer)", "?", 0,
                    "", "", null, ""));
        }
    }

    /** The table locks held by other sessions that block writes on this store's schema ({@link #HOLDERS}). */
    static List<Holder> holders(Connection c) throws SQLException {
        List<Holder> found = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(HOLDERS)) {
            p.setQueryTimeout(3);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    java.sql.Timestamp at = rs.getTimestamp(6);
                    found.add(new Holder(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4),
                            rs.getString(5), at == null ? null : at.toInstant(), rs.getString(7)));
                }
            }
        }
        return found;
    }
}
