package org.buildhook.runner.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Optional;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;

/**
 * Which JVM serves a SQLite store, recorded in the store itself (drill35): one row of {@code node_leases} under a key
 * no {@code runner.node-id} takes ({@link #KEY}), written at each start and marked released at each clean stop. A
 * SQLite store has one server at a time (its lock, {@link StoreLock}), so the row names the last one; and since it is
 * in the database, a backup carries it. A copy started on this host while that JVM still runs, its release not
 * recorded, is a copy of a file that JVM serves: started, it would run the jobs not ended of both at the same moment,
 * even when the live server has recorded no attempt yet (a backup taken just after its start). The lock file beside
 * the database names its server too, but no backup or copy of the database file carries it.
 *
 * <p>The cluster's readers of {@code node_leases} ({@link ClusterNodes}, {@link NodeLeases#runningNodesRules}) leave
 * this row out: it is no node's claim. No schema change: the table is there since V9 and unused on SQLite before.
 */
public final class SqliteServer {

    /** The row's {@code node_id}: parentheses and a space, which no configuration gives a node id by accident. */
    public static final String KEY = "(sqlite server)";

    private final Database db;

    SqliteServer(Database db) {
        this.db = db;
    }

    /**
     * The last JVM that served the store.
     *
     * @param host     its host name
     * @param bootId   its host's boot id and PID namespace ({@link NodeIdentity#bootId()})
     * @param process  its pid and start time
     * @param since    when it started serving the store (its clock)
     * @param released whether it recorded a clean stop (a server stopped, a web application undeployed)
     */
    public record Served(String host, String bootId, ProcessIdentity process, Instant since, boolean released) {

        /**
         * Whether this JVM still serves the store's original, as seen from {@code self} (a JVM that holds this
         * store's lock): it runs on this host, boot and PID namespace, is not {@code self}, is alive (same pid and
         * start time) and did not record its stop.
         */
        public boolean servesAnotherCopy(NodeIdentity self) {
            return !released && self.host().equals(host) && self.sameBoot(bootId)
                    && !self.process().sameProcess(process) && process.isAlive();
        }
    }

    /**
     * The last JVM that served the store, as the store says; empty when none recorded it (a store no version with
     * this record has served, or PostgreSQL, where nothing is written).
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<Served> last() {
        return db.read("read which server served this store last", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT host, boot_id, node_pid, node_started, acquired_at,"
                    + " renewed_at FROM node_leases WHERE node_id = ?")) {
                p.setString(1, KEY);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<Served>empty();
                    }
                    return Optional.of(new Served(rs.getString(1), rs.getString(2) == null ? "" : rs.getString(2),
                            new ProcessIdentity(rs.getLong(3), -1, rs.getLong(4)), Instant.ofEpochMilli(rs.getLong(5)),
                            rs.getLong(6) == RELEASED));
                }
            }
        });
    }

    /** {@code renewed_at} of a released row: never renewed, as a claim given back. */
    private static final long RELEASED = 0;

    /**
     * Records {@code self} as the store's server, in place of the last one; {@code instance} names this start, so that
     * only its own stop marks it released.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public void serve(String instance, NodeIdentity self, Instant now) {
        db.inTransaction("record this server as the store's", c -> {
            try (PreparedStatement p = c.prepareStatement(LeaseRow.insert(true))) {
                LeaseRow.bind(p, KEY, instance, self, now, Math.max(RELEASED + 1, now.toEpochMilli()));
                p.executeUpdate();
            }
            return null;
        });
    }

    /**
     * Records that the start {@code instance} no longer serves the store (a clean stop); nothing when another start
     * has recorded itself since.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public void release(String instance) {
        db.inTransaction("record this server's stop", c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE node_leases SET renewed_at = ? WHERE node_id = ?"
                    + " AND instance = ?")) {
                p.setLong(1, RELEASED);
                p.setString(2, KEY);
                p.setString(3, instance);
                p.executeUpdate();
            }
            return null;
        });
    }
}
