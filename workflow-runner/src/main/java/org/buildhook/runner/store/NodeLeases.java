package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;
import org.buildhook.runner.rules.RulesFingerprint;

/**
 * Which running node holds each {@code runner.node-id} (table {@code node_leases}): a node claims its
 * id when its engine starts, renews the claim every heartbeat interval and gives it back when it
 * stops. A second node given the same id while the first runs would take the first's picked jobs
 * for lost picks of its own and run them a second time at once; it is refused instead.
 *
 * <p>A claim is taken over from the node that held it when that node is gone: it gave it back (a
 * clean stop); its session no longer holds the id's advisory lock ({@link Lock}: PostgreSQL frees
 * it as soon as the node's connection closes, which a killed JVM's or a stopped container's does);
 * its last renewal is older than the dead-node limit (a host that vanished without closing its
 * connection); or it ran on this very host, boot and PID namespace and its JVM no longer runs
 * ({@link ProcessIdentity#isAlive()}, as {@link DeadNodeRelease} decides). The claims' times are the
 * nodes' own clocks, as db-scheduler's heartbeats are.
 */
public final class NodeLeases {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeLeases.class);

    private final Database db;
    private final Clock clock;
    /**
     * This host's clock, the one db-scheduler stamps this JVM's picks with: a claim's {@code acquired_host_at} (V19),
     * so that {@link DeadNodeRelease} compares a pick with the claim on one clock (review32 F2).
     */
    private final Clock hostClock;

    NodeLeases(Database db, Clock clock) {
        this(db, clock, Clock.systemUTC());
    }

    /**
     * @param hostClock this host's clock, as db-scheduler stamps picks (the system clock; another only in tests, to
     *                  stand for a host whose clock is off the database's)
     */
    NodeLeases(Database db, Clock clock, Clock hostClock) {
        this.db = db;
        this.clock = clock;
        this.hostClock = java.util.Objects.requireNonNull(hostClock, "hostClock");
    }

    /**
     * The node that holds an id.
     *
     * @param instance  the holding engine's random instance id
     * @param host      its host name
     * @param bootId    its host's boot and PID namespace ({@link NodeIdentity#bootId()})
     * @param process   its JVM
     * @param renewedAt when it last renewed the claim (its clock)
     */
    public record Holder(String instance, String host, String bootId, ProcessIdentity process, Instant renewedAt) {

        /**
         * The holder of an id whose lock another session holds with no claim written yet (a node
         * starting this very moment); {@code now} stands for its renewal.
         */
        static Holder notWrittenYet(Instant now) {
            return new Holder("", "unknown (its claim not written yet)", "", new ProcessIdentity(-1, -1, -1), now);
        }

        /** Whether this is a claim written in the table, not {@link #notWrittenYet}. */
        public boolean written() {
            return !instance.isEmpty();
        }

        /** "host H, pid P", for messages. */
        public String describe() {
            return "host " + host + ", pid " + process.pid();
        }
    }

    /**
     * Claims {@code nodeId} for {@code instance}, unless another node that is not provably gone holds
     * it (see the class comment).
     *
     * @param nodeId    the node id ({@code runner.node-id}, at most 50 characters)
     * @param instance  this engine's instance id (a random UUID, at most 36 characters)
     * @param self      this JVM, its host and boot
     * @param deadLimit how long without a renewal a holder is taken for dead (the dead-node limit)
     * @param lockHeld  whether this node holds the id's advisory lock ({@link Lock#take}): then no other
     *                  node's session does, and any holder is taken over
     * @return empty when claimed (taken over, or held already by {@code instance}); else the holder
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<Holder> claim(String nodeId, String instance, NodeIdentity self, Duration deadLimit,
            boolean lockHeld) {
        return db.inTransaction("claim the node id", c -> {
            Instant now = now(c);
            if (lockHeld) {
                // No other session holds the id's lock: whoever wrote the row is gone, or is this engine.
                write(c, nodeId, instance, self, now);
                return Optional.<Holder>empty();
            }
            // Another session holds the lock: a running node (refused), one starting this very moment
            // (its row may not be written yet), or the session of a host that vanished without
            // closing it. Only a holder provably gone is taken over, never a missing row.
            try (PreparedStatement p = c.prepareStatement(SELECT_HOLDER + forUpdate())) {
                p.setString(1, nodeId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.of(Holder.notWrittenYet(now));
                    }
                    Holder holder = holder(rs);
                    if (!holder.instance().equals(instance) && !gone(holder, self, now, deadLimit)) {
                        return Optional.of(holder);
                    }
                }
            }
            write(c, nodeId, instance, self, now);
            return Optional.<Holder>empty();
        });
    }

    /**
     * Now by the database's clock on PostgreSQL (every node's claims and their ages are measured by
     * one clock, whatever the skew between the nodes' hosts), by this JVM's on SQLite.
     */
    private Instant now(Connection c) throws SQLException {
        if (db.dialect() != Dialect.POSTGRESQL) {
            return clock.instant();
        }
        return databaseNow(c);
    }

    private static final String SELECT_HOLDER = "SELECT instance, host, boot_id, node_pid, node_started, renewed_at"
            + " FROM node_leases WHERE node_id = ?";

    private static Holder holder(ResultSet rs) throws SQLException {
        return new Holder(rs.getString(1), rs.getString(2), rs.getString(3),
                new ProcessIdentity(rs.getLong(4), -1, rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)));
    }

    /**
     * Renews {@code instance}'s claim of {@code nodeId}.
     *
     * @return false when the claim is no longer its own (another node took the id over, after this
     * one stopped renewing for longer than the dead-node limit)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean renew(String nodeId, String instance) {
        return db.inTransaction("renew the node id", Durability.DEFERRED, c -> {
            long now = now(c).toEpochMilli();
            try (PreparedStatement p = c.prepareStatement("UPDATE node_leases SET renewed_at = ? WHERE node_id = ?"
                    + " AND instance = ?")) {
                p.setLong(1, now);
                p.setString(2, nodeId);
                p.setString(3, instance);
                return p.executeUpdate() == 1;
            }
        });
    }

    /** What a renewal came to ({@link #renew(String, String, NodeIdentity, boolean)}). */
    public enum Renewal {
        /** The claim was {@code instance}'s and is renewed. */
        RENEWED,
        /**
         * The id had no claim at all (an operator forgot the node, {@link #forget}, while it was cut off) and this
         * node holds the id's advisory lock: claimed again, as at a start.
         */
        CLAIMED_AGAIN,
        /** Another node claims the id now (or one starting with it holds its lock): the id is no longer this one's. */
        LOST,
        /**
         * The id had no claim at all, and its lock could not be asked ({@link LockAnswer#NOT_ASKED}): whether another
         * node starts with the id is not known, so it is neither claimed again nor lost; the next renewal asks again
         * (tryout29 F1: this was taken for {@link #LOST}, and a forgotten node that came back fenced itself for good).
         */
        ASK_AGAIN
    }

    /**
     * Renews {@code instance}'s claim of {@code nodeId}; when the id has no claim at all (forgotten by an operator,
     * {@link #forget}, while this node was silent) and {@code lockHeld}, claims it again: no other session holds the
     * id's lock, so no other node runs with it, and a node forgotten that comes back simply appears again.
     *
     * @param self     this JVM, its host and boot, for a claim written again
     * @param lockHeld whether this node holds the id's advisory lock now ({@link Lock#take})
     * @return what the renewal came to
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Renewal renew(String nodeId, String instance, NodeIdentity self, boolean lockHeld) {
        return renew(nodeId, instance, self, lockHeld ? LockAnswer.HELD : LockAnswer.HELD_ELSEWHERE);
    }

    /**
     * As {@link #renew(String, String, NodeIdentity, boolean)}, with what {@link Lock#ask} found of the id's lock: a
     * claim of this instance is renewed whatever that was; with no claim at all, {@link LockAnswer#HELD} claims it
     * again, {@link LockAnswer#HELD_ELSEWHERE} is {@link Renewal#LOST} (a node starting with the id holds its lock)
     * and {@link LockAnswer#NOT_ASKED} is {@link Renewal#ASK_AGAIN}; a claim of another instance is {@link
     * Renewal#LOST} whatever the lock.
     *
     * @param lock what this node found of the id's advisory lock just before
     * @return what the renewal came to
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Renewal renew(String nodeId, String instance, NodeIdentity self, LockAnswer lock) {
        java.util.Objects.requireNonNull(lock, "lock");
        return db.inTransaction("renew the node id", Durability.DEFERRED, c -> {
            Instant now = now(c);
            try (PreparedStatement p = c.prepareStatement("UPDATE node_leases SET renewed_at = ? WHERE node_id = ?"
                    + " AND instance = ?")) {
                p.setLong(1, now.toEpochMilli());
                p.setString(2, nodeId);
                p.setString(3, instance);
                if (p.executeUpdate() == 1) {
                    return Renewal.RENEWED;
                }
            }
            if (lock == LockAnswer.HELD) {
                return write(c, nodeId, instance, self, now, false) ? Renewal.CLAIMED_AGAIN : Renewal.LOST;
            }
            if (lock == LockAnswer.HELD_ELSEWHERE) {
                return Renewal.LOST;
            }
            // Not asked: another instance's claim is a takeover all the same; no claim at all is not known to be one.
            return holder(c, nodeId).isPresent() ? Renewal.LOST : Renewal.ASK_AGAIN;
        });
    }

    /** Why {@link #forget} did or did not forget a node. */
    public enum ForgetOutcome {
        /** Its claim is deleted: it is no longer listed. */
        FORGOTTEN,
        /** No node claims that id. */
        UNKNOWN,
        /** It is the node asked: it answers, so it runs. */
        SELF,
        /** It renewed its claim within the dead-node limit (and is not known dead on this host): it runs. */
        NOT_SILENT,
        /** It still holds picked jobs or units of shared resources that no other node has taken over yet. */
        HOLDS_WORK,
        /**
         * PostgreSQL: a database session still holds its id's advisory lock (its process is paused, or its host cut
         * off without its connection closed): a node started with its id takes it over; forgetting it would make
         * such a start wait for the session instead.
         */
        SESSION_OPEN
    }

    /**
     * What {@link #forget} did.
     *
     * @param outcome    what it came to
     * @param holder     the claim found; empty when {@link ForgetOutcome#UNKNOWN} or {@link ForgetOutcome#SELF}
     * @param silentFor  how long the claim had not been renewed, by the clock of the claims; zero when not known
     * @param pickedJobs the jobs it held picked ({@code scheduled_tasks.picked_by}), for {@link ForgetOutcome#HOLDS_WORK}
     * @param heldUnits  the units of shared resources its attempts held ({@code resource_holds.node}), likewise
     */
    public record Forget(ForgetOutcome outcome, Optional<Holder> holder, Duration silentFor, int pickedJobs,
            int heldUnits) {

        public Forget {
            java.util.Objects.requireNonNull(outcome, "outcome");
            java.util.Objects.requireNonNull(holder, "holder");
            silentFor = silentFor == null || silentFor.isNegative() ? Duration.ZERO : silentFor;
        }

        static Forget of(ForgetOutcome outcome) {
            return new Forget(outcome, Optional.empty(), Duration.ZERO, 0, 0);
        }
    }

    /**
     * Forgets a node killed and never started again (a decommissioned host): deletes its claim of {@code nodeId}, so
     * the nodes view ({@link #nodes}) and the {@code buildhook_cluster_nodes} gauge no longer count it, only when
     * that changes nothing else: the node is silent past {@code deadLimit} by the claims' clock (or known dead on
     * this host, as {@link #claim} takes it over), holds no picked job and no units not yet taken over by another
     * node, and, on PostgreSQL, no session holds its id's advisory lock (taken for this transaction, so a node
     * starting with the id meanwhile either waits for the decision or is the one refused here). The jobs' history
     * keeps its name; a node started later with the id claims it as any new node does, and one that was only cut
     * off claims it again at its next renewal ({@link #renew(String, String, NodeIdentity, boolean)}).
     *
     * @param nodeId    the node to forget
     * @param selfId    the asking node's id: never forgotten
     * @param deadLimit the dead-node limit ({@code runner.heartbeat-interval × runner.missed-heartbeats})
     * @return what was done, and why not when not
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Forget forget(String nodeId, String selfId, Duration deadLimit) {
        return forget(nodeId, selfId, deadLimit, null);
    }

    /**
     * As {@link #forget(String, String, Duration)}, writing the audit row of a forget ({@code audit} applied to what
     * was done, when {@link ForgetOutcome#FORGOTTEN}) in the forget's own transaction: the node is forgotten and the
     * trail says so, or neither (nodes29: the row was written after the transaction, and a store failure between the
     * two answered 503 although the node was forgotten).
     *
     * @param audit the audit row of a forget, from what was done; null for none
     * @throws StoreUnavailableException when the store cannot be reached, or the audit row cannot be written: then
     *                                   nothing is forgotten
     */
    public Forget forget(String nodeId, String selfId, Duration deadLimit,
            java.util.function.Function<Forget, AdminAction> audit) {
        if (nodeId.equals(selfId)) {
            return Forget.of(ForgetOutcome.SELF);
        }
        if (nodeId.equals(SqliteServer.KEY) && db.dialect() == Dialect.SQLITE) {
            // A SQLite store's record of the server that serves it, not a node's claim: forgetting it would let a
            // copy of the store start beside its live original unrefused (fixes36 N1). On PostgreSQL it is a node's
            // claim like any other, from before the id was refused (review37 F7).
            return Forget.of(ForgetOutcome.UNKNOWN);
        }
        NodeIdentity self = NodeIdentity.current();
        return db.inTransaction("forget a node", c -> {
            Instant now = now(c);
            Holder holder;
            try (PreparedStatement p = c.prepareStatement(SELECT_HOLDER + forUpdate())) {
                p.setString(1, nodeId);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Forget.of(ForgetOutcome.UNKNOWN);
                    }
                    holder = holder(rs);
                }
            }
            Duration silentFor = Duration.between(holder.renewedAt(), now);
            if (!gone(holder, self, now, deadLimit)) {
                return new Forget(ForgetOutcome.NOT_SILENT, Optional.of(holder), silentFor, 0, 0);
            }
            int picked = count(c, "SELECT COUNT(*) FROM scheduled_tasks WHERE task_name = ? AND picked = ?"
                    + " AND picked_by = ?", JobQueue.TASK_NAME, true, nodeId);
            int units = count(c, "SELECT COALESCE(SUM(units), 0) FROM resource_holds WHERE node = ?", nodeId);
            if (picked > 0 || units > 0) {
                return new Forget(ForgetOutcome.HOLDS_WORK, Optional.of(holder), silentFor, picked, units);
            }
            if (db.dialect() == Dialect.POSTGRESQL) {
                // For this transaction only: freed at its end whatever happens, and exclusive with a node's Lock.
                try (PreparedStatement p = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?, hashtext("
                        + "current_schema() || '/' || ?))")) {
                    p.setInt(1, LOCK_CLASS);
                    p.setString(2, nodeId);
                    try (ResultSet rs = p.executeQuery()) {
                        if (!rs.next() || !rs.getBoolean(1)) {
                            return new Forget(ForgetOutcome.SESSION_OPEN, Optional.of(holder), silentFor, 0, 0);
                        }
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("DELETE FROM node_leases WHERE node_id = ? AND instance = ?")) {
                p.setString(1, nodeId);
                p.setString(2, holder.instance());
                p.executeUpdate();
            }
            Forget forgotten = new Forget(ForgetOutcome.FORGOTTEN, Optional.of(holder), silentFor, 0, 0);
            if (audit != null) {
                DeliveryWriter.insertAction(c, audit.apply(forgotten));
            }
            return forgotten;
        });
    }

    private static int count(Connection c, String sql, Object... values) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                p.setObject(i + 1, values[i]);
            }
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /**
     * Gives {@code instance}'s claim of {@code nodeId} back (a stop): the next node started with the
     * id takes it at once. Nothing when another holds it.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public void release(String nodeId, String instance) {
        db.inTransaction("give the node id back", c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM node_leases WHERE node_id = ? AND instance = ?")) {
                p.setString(1, nodeId);
                p.setString(2, instance);
                p.executeUpdate();
            }
            return null;
        });
    }

    /** What {@link Lock#ask} found of a node id's advisory lock. */
    public enum LockAnswer {
        /** This node's session holds it: no other session does, so no other node runs with the id. */
        HELD,
        /** Another session of the database holds it: a node running, or starting, with the id. */
        HELD_ELSEWHERE,
        /**
         * The database could not be asked (no connection of the pool {@code buildhook-node-id}: a login refused,
         * PostgreSQL out of connections, a database that does not answer): nothing is known of who holds it.
         */
        NOT_ASKED
    }

    /** A new, not yet taken, advisory lock of {@code nodeId} for one engine ({@link Lock#take}). */
    public Lock lock(String nodeId) {
        return new Lock(nodeId);
    }

    /**
     * PostgreSQL: the advisory lock of one node id (in this store's schema), taken on a connection of
     * its own that keeps it until {@link #release}, or until the connection ends.
     */
    public final class Lock {

        private final String nodeId;
        private Connection held;
        /** When the session that held the lock was found ended, until the lock is held again; else null. */
        private Instant lostAt;

        private Lock(String nodeId) {
            this.nodeId = nodeId;
        }

        /** Why the last {@link #ask} could not ask the database ({@link LockAnswer#NOT_ASKED}); null otherwise. */
        private StoreUnavailableException notAsked;

        /**
         * Takes the lock, or checks that it is still held, as {@link #ask} does.
         *
         * @return true when this lock holds it now; false when another session of the database holds it
         * @throws StoreUnavailableException when the database could not be asked (no connection of the pool {@code
         *                                   buildhook-node-id} could be had: a login refused, PostgreSQL out of
         *                                   connections, a database that does not answer), with the database's reason:
         *                                   that says nothing of who holds the lock
         */
        public synchronized boolean take() {
            LockAnswer answer = ask();
            if (answer == LockAnswer.NOT_ASKED) {
                throw notAsked;
            }
            return answer == LockAnswer.HELD;
        }

        /**
         * Takes the lock, or checks that it is still held (a lost connection is opened again and the
         * lock taken anew). Never throws. When the session that held it had ended (ended by the database, as
         * {@code pg_terminate_backend} or a restart does, or its connection cut), one {@code WARN} says so once
         * the lock is held again (cluster27 F7): in between, a node started with the same id was not refused.
         *
         * @return {@link LockAnswer#HELD} when this lock holds it now, {@link LockAnswer#HELD_ELSEWHERE} when another
         * session holds it, {@link LockAnswer#NOT_ASKED} when the database could not be asked (its reason: {@link
         * #take}); never "held elsewhere" for a connection that could not be had (tryout29 F1, F2)
         */
        public synchronized LockAnswer ask() {
            notAsked = null;
            if (held != null) {
                try {
                    if (held.isValid(5)) {
                        return LockAnswer.HELD;
                    }
                } catch (SQLException | RuntimeException e) {
                    // Opened again below.
                }
                release();
                lostAt = Instant.now(clock).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            }
            Connection c = null;
            try {
                c = db.nodeLockDataSource().getConnection();
                // Only quick statements run on it (take, check, give back the lock), and a stop waits for the
                // last of them, also while this thread holds the lock's monitor: none may wait without end for
                // a database that stopped answering with its connection open (review11 F3).
                StopWaits.answersWithin(c, db.connectionWait());
                try (PreparedStatement p = c.prepareStatement(TRY_LOCK)) {
                    p.setInt(1, LOCK_CLASS);
                    p.setString(2, nodeId);
                    try (ResultSet rs = p.executeQuery()) {
                        boolean answered = rs.next();
                        if (answered && !rs.getBoolean(1)) {
                            return LockAnswer.HELD_ELSEWHERE; // asked, and another session holds it
                        }
                        if (answered) {
                            held = c;
                            c = null;
                            if (lostAt != null) {
                                LOG.warn("node id {}: the database session that held its advisory lock had ended"
                                        + " (found at {}: ended by the database, e.g. pg_terminate_backend or a restart,"
                                        + " or its connection was cut); the lock is held again now, on a new session."
                                        + " Until then a node started with this id would not have been refused",
                                        nodeId, lostAt);
                                lostAt = null;
                            }
                            return LockAnswer.HELD;
                        }
                    }
                }
                notAsked = new StoreUnavailableException("store unavailable while trying to take the node id's lock:"
                        + " pg_try_advisory_lock gave no answer", null);
                return LockAnswer.NOT_ASKED;
            } catch (StoreUnavailableException e) {
                notAsked = e; // the pool's first connection refused at the start, with the database's reason
                return LockAnswer.NOT_ASKED;
            } catch (SQLException e) {
                notAsked = db.dialect() == Dialect.POSTGRESQL && e.getCause() instanceof SQLException login
                        && !Store.timedOut(login)
                        // The pool's last login failed (refused, out of connections): said as at a start.
                        ? Store.poolCannotConnect(db.config(), "buildhook-node-id", e)
                        : new StoreUnavailableException("store unavailable while trying to take the node id's lock: "
                                + e.getMessage(), e);
                return LockAnswer.NOT_ASKED;
            } catch (RuntimeException e) {
                notAsked = new StoreUnavailableException("store unavailable while trying to take the node id's lock: "
                        + e, e);
                return LockAnswer.NOT_ASKED;
            } finally {
                if (c != null) {
                    closeQuietly(c, false);
                }
            }
        }

        /** Gives the lock back (and its connection); nothing when it is not held. */
        public synchronized void release() {
            if (held != null) {
                closeQuietly(held, true);
                held = null;
            }
        }

        /**
         * Closes a connection of the one-connection pool. One that may still hold the lock is unlocked
         * first (closing a pooled connection does not end its session); when that fails it is evicted,
         * which ends the session and with it the lock, and frees the pool's place.
         */
        private void closeQuietly(Connection c, boolean mayHoldLock) {
            boolean unlocked = !mayHoldLock;
            if (mayHoldLock) {
                try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_unlock_all()")) {
                    p.execute();
                    unlocked = true;
                } catch (SQLException | RuntimeException e) {
                    // Evicted below.
                }
            }
            try {
                if (!unlocked && db.nodeLockDataSource() instanceof com.zaxxer.hikari.HikariDataSource pool) {
                    pool.evictConnection(c);
                } else {
                    c.close();
                }
            } catch (SQLException | RuntimeException e) {
                // The session is gone with its lock, or ends with the pool.
            }
        }
    }

    /** The advisory lock class of node ids ("bhni"); the key is a hash of the schema and the id. */
    private static final int LOCK_CLASS = 0x62686e69;
    /** Takes {@code nodeId}'s advisory lock if free (parameters: {@link #LOCK_CLASS}, the node id). */
    private static final String TRY_LOCK = "SELECT pg_try_advisory_lock(?, hashtext(current_schema() || '/' || ?))";

    /**
     * The data folder the node that last claimed {@code nodeId} recorded with its claim (V21: its {@code storage.data-dir},
     * absolute), for a node of the same host that finds that node's JVM gone and reads what its stop kept there
     * (tryout47 F2); empty when there is no claim, or one written before V21 or by a node of an older version.
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<java.nio.file.Path> dataFolder(String nodeId) {
        return db.read("read a node's data folder", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT data_dir FROM node_leases WHERE node_id = ?")) {
                p.setString(1, nodeId);
                try (ResultSet rs = p.executeQuery()) {
                    String folder = rs.next() ? rs.getString(1) : null;
                    return folder == null || folder.isEmpty() ? Optional.<java.nio.file.Path>empty()
                            : Optional.of(java.nio.file.Path.of(folder));
                }
            }
        });
    }

    /** This node's data folder as its claims record it: absolute, or null when the store has none. */
    private String dataFolder() {
        java.nio.file.Path folder = db.config().dataDir();
        return folder == null ? null : folder.toAbsolutePath().normalize().toString();
    }

    /** The holder of {@code nodeId}, if any. */
    public Optional<Holder> holder(String nodeId) {
        return db.read("read the node id's holder", c -> holder(c, nodeId));
    }

    /** The holder of {@code nodeId}, if any, read on a connection of the caller's ({@link NodeIdPending}). */
    static Optional<Holder> holder(Connection c, String nodeId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(SELECT_HOLDER)) {
            p.setString(1, nodeId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(holder(rs)) : Optional.<Holder>empty();
            }
        }
    }

    /**
     * PostgreSQL: whether no session holds {@code nodeId}'s advisory lock ({@link Lock}) now, asked on a
     * connection of the caller's ({@link NodeIdPending}): taken and given back at once.
     */
    static boolean lockFree(Connection c, String nodeId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(TRY_LOCK)) {
            p.setInt(1, LOCK_CLASS);
            p.setString(2, nodeId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return false;
                }
            }
        }
        try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_unlock(?, hashtext(current_schema()"
                + " || '/' || ?))")) {
            p.setInt(1, LOCK_CLASS);
            p.setString(2, nodeId);
            p.execute();
        }
        return true;
    }

    /**
     * What rules one running node has in force, as it recorded them ({@link #recordRules}).
     *
     * @param nodeId      its {@code runner.node-id}
     * @param host        its host name
     * @param pid         its JVM's process id
     * @param fingerprint its rules' fingerprint; empty for a node that records none (a buildhook older
     *                    than schema version 15, or one that has not recorded them yet)
     * @param loadedAt    when it loaded those rules (its clock); empty with the fingerprint
     * @param claimedFor  how long ago it claimed its id (by the database's clock on PostgreSQL), not negative: a node
     *                    that claimed it moments ago may not have recorded its rules yet (cluster27 F1)
     */
    public record NodeRules(String nodeId, String host, long pid, Optional<RulesFingerprint> fingerprint,
            Optional<Instant> loadedAt, Duration claimedFor) {

        public NodeRules {
            java.util.Objects.requireNonNull(nodeId, "nodeId");
            java.util.Objects.requireNonNull(host, "host");
            java.util.Objects.requireNonNull(fingerprint, "fingerprint");
            java.util.Objects.requireNonNull(loadedAt, "loadedAt");
            claimedFor = claimedFor == null || claimedFor.isNegative() ? Duration.ZERO : claimedFor;
        }

        /** As above, claimed long ago (a claim whose age is not known). */
        public NodeRules(String nodeId, String host, long pid, Optional<RulesFingerprint> fingerprint,
                Optional<Instant> loadedAt) {
            this(nodeId, host, pid, fingerprint, loadedAt, java.time.temporal.ChronoUnit.FOREVER.getDuration());
        }

        /** "node-2 (host h, pid p)", for messages. */
        public String describe() {
            return nodeId + " (host " + host + ", pid " + pid + ")";
        }
    }

    /**
     * Records, with this JVM's claim of {@code nodeId}, the rules it has in force now (at its start and
     * at each reload): other nodes compare theirs with it ({@link #runningNodesRules}). Nothing when the
     * id is not claimed by this JVM (SQLite, where no node claims one; a claim lost to another node).
     *
     * @param nodeId      this node's id
     * @param self        this JVM, as its claim names it
     * @param fingerprint the rules in force
     * @param loadedAt    when they were loaded
     * @return whether this JVM's claim now carries them
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public boolean recordRules(String nodeId, NodeIdentity self, RulesFingerprint fingerprint, Instant loadedAt) {
        return db.inTransaction("record the node's rules fingerprint", Durability.DEFERRED, c -> {
            // rules_instance = instance: the fingerprint belongs to this claim, not to a later one that an
            // older node, which writes no fingerprint, makes of the row.
            try (PreparedStatement p = c.prepareStatement("UPDATE node_leases SET rules_fingerprint = ?,"
                    + " rules_loaded_at = ?, rules_instance = instance WHERE node_id = ? AND host = ? AND node_pid = ?"
                    + " AND node_started = ?")) {
                p.setString(1, fingerprint.hex());
                p.setLong(2, loadedAt.toEpochMilli());
                p.setString(3, nodeId);
                p.setString(4, self.host());
                p.setLong(5, self.process().pid());
                p.setLong(6, self.process().startTicks());
                return p.executeUpdate() == 1;
            }
        });
    }

    /**
     * The running nodes (claims renewed within {@code deadLimit}, by the database's clock on PostgreSQL)
     * with the rules each recorded, by node id; not a node of this host whose JVM is gone (it stopped without
     * giving its claim back, tryout22 F4).
     *
     * @param deadLimit the dead-node limit ({@code runner.heartbeat-interval × runner.missed-heartbeats})
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public java.util.List<NodeRules> runningNodesRules(Duration deadLimit) {
        return db.read("read the running nodes' rules", c -> runningNodesRules(c, now(c), deadLimit));
    }

    /**
     * {@link #runningNodesRules(Duration)} on a connection of the caller's ({@code buildhook check}, which
     * opens no store), {@code now} by the database's clock on PostgreSQL; empty on a store whose schema is
     * older than version 15 (the caller rolls back after such a failure).
     */
    static java.util.List<NodeRules> runningNodesRules(Connection c, Instant now, Duration deadLimit)
            throws SQLException {
        java.util.List<NodeRules> nodes = new java.util.ArrayList<>();
        NodeIdentity self = NodeIdentity.current();
        try (PreparedStatement p = c.prepareStatement("SELECT node_id, host, node_pid,"
                + " CASE WHEN rules_instance = instance THEN rules_fingerprint END,"
                + " CASE WHEN rules_instance = instance THEN rules_loaded_at END, boot_id, node_started, acquired_at"
                + " FROM node_leases WHERE renewed_at >= ? AND node_id <> ? ORDER BY node_id")) {
            p.setLong(1, now.minus(deadLimit).toEpochMilli());
            p.setString(2, SqliteServer.KEY); // no node's claim
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long started = rs.getLong(7);
                    if (deadOnThisHost(self, rs.getString(6), new ProcessIdentity(rs.getLong(3), -1,
                            rs.wasNull() ? -1 : started))) {
                        // A node of this host whose JVM is gone (a stop that could not give its id back): not running,
                        // though its claim is younger than the dead-node limit (tryout22 F4).
                        continue;
                    }
                    Duration claimedFor = Duration.ofMillis(now.toEpochMilli() - rs.getLong(8));
                    String hex = rs.getString(4);
                    long loaded = rs.getLong(5);
                    boolean none = rs.wasNull() || hex == null;
                    Optional<RulesFingerprint> fingerprint = Optional.empty();
                    if (!none) {
                        try {
                            fingerprint = Optional.of(new RulesFingerprint(hex));
                        } catch (IllegalArgumentException e) {
                            none = true; // not one this version writes: shown as none, never compared
                        }
                    }
                    nodes.add(new NodeRules(rs.getString(1), rs.getString(2), rs.getLong(3), fingerprint,
                            none ? Optional.empty() : Optional.of(Instant.ofEpochMilli(loaded)), claimedFor));
                }
            }
        }
        return nodes;
    }

    /**
     * The nodes of the cluster, this one first ({@link ClusterNodes}): on SQLite, and on PostgreSQL before this
     * node claimed its id, this node alone among the claims.
     *
     * @param deadLimit the dead-node limit ({@code runner.heartbeat-interval × runner.missed-heartbeats})
     * @param selfId    this node's {@code runner.node-id}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public java.util.List<ClusterNodes.Node> nodes(Duration deadLimit, String selfId) {
        return nodes(deadLimit, selfId, NodeIdentity.current());
    }

    /**
     * As {@link #nodes(Duration, String)}, as the JVM {@code self} with the id {@code selfId} reads the list: its own
     * row is the claim of {@code selfId} written by {@code self}; a claim of that id by another JVM is listed as that
     * JVM's (tryout49 F2). For a reader standing for another JVM (tests).
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public java.util.List<ClusterNodes.Node> nodes(Duration deadLimit, String selfId, NodeIdentity self) {
        return db.read("read the cluster's nodes", c -> ClusterNodes.read(c, now(c), deadLimit, selfId, self));
    }

    /**
     * How many nodes are running, silent past the dead-node limit and gone ({@link ClusterNodes#counts}): one read of
     * the claims alone, by the clock {@link #nodes} uses.
     *
     * @param deadLimit the dead-node limit ({@code runner.heartbeat-interval × runner.missed-heartbeats})
     * @param selfId    this node's {@code runner.node-id}
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public ClusterNodes.Counts counts(Duration deadLimit, String selfId) {
        return counts(deadLimit, selfId, NodeIdentity.current());
    }

    /**
     * As {@link #counts(Duration, String)}, as the JVM {@code self} with the id {@code selfId} counts (see {@link
     * #nodes(Duration, String, NodeIdentity)}).
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public ClusterNodes.Counts counts(Duration deadLimit, String selfId, NodeIdentity self) {
        return db.read("count the cluster's nodes", c -> ClusterNodes.counts(c, now(c), deadLimit, selfId, self));
    }

    /**
     * PostgreSQL: whether the node {@code nodeId} shows it is alive by the database's clock, whatever this host's clock
     * or its own say: it claims its id, renewed that claim within {@code deadLimit} by the database's clock, and a
     * session holds its id's advisory lock ({@link Lock}). A node that heart-beats its jobs with a clock ahead of or
     * behind this host's has its jobs' heartbeats look older (or younger) here than they are; its claim, renewed every
     * heartbeat interval by the database's clock, tells whether it runs (review57b F1).
     *
     * @param nodeId    the node's {@code runner.node-id}
     * @param deadLimit the dead-node limit
     * @param host      this host's clock (the one db-scheduler stamps this JVM's heartbeats with), for {@link
     *                  Alive#hostAhead}
     * @return its last renewal's age and this host's clock less the database's, when alive; empty otherwise (no claim,
     *         a claim silent past the limit, or no session holds its lock: killed, stopped, cut off)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<Alive> alive(String nodeId, Duration deadLimit, Clock host) {
        if (db.dialect() != Dialect.POSTGRESQL) {
            return Optional.empty();
        }
        return db.read("read whether a node is alive", c -> {
            Optional<Holder> holder = holder(c, nodeId);
            Instant before = host.instant();
            Instant now = databaseNow(c);
            Instant after = host.instant();
            if (holder.isEmpty() || holder.get().renewedAt().plus(deadLimit).isBefore(now)
                    || lockFree(c, nodeId)) {
                return Optional.<Alive>empty();
            }
            Duration silent = Duration.between(holder.get().renewedAt(), now);
            return Optional.of(new Alive(silent.isNegative() ? Duration.ZERO : silent,
                    Duration.between(now, before.plus(Duration.between(before, after).dividedBy(2)))));
        });
    }

    /**
     * A node alive by the database's clock ({@link #alive}).
     *
     * @param silent    how long ago it last renewed its claim, by the database's clock
     * @param hostAhead this host's clock less the database's (negative: behind), as read with that renewal's age
     */
    public record Alive(Duration silent, Duration hostAhead) {
    }

    /**
     * PostgreSQL: this host's clock ({@code host}) less the database's (negative: behind), read on one connection:
     * the midpoint of the host's clock around the database's answer, so off by at most half the round trip, which is
     * returned too. Empty on SQLite (every time there is this host's).
     *
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Optional<ClockOffset> hostAhead(Clock host) {
        if (db.dialect() != Dialect.POSTGRESQL) {
            return Optional.empty();
        }
        return Optional.of(db.read("read the database's clock", c -> {
            long before = System.nanoTime();
            Instant hostBefore = host.instant();
            Instant now = databaseNow(c);
            Duration trip = Duration.ofNanos(System.nanoTime() - before);
            return new ClockOffset(Duration.between(now, hostBefore.plus(trip.dividedBy(2))), trip.dividedBy(2));
        }));
    }

    /**
     * This host's clock less the database's ({@link #hostAhead}).
     *
     * @param ahead  the difference (negative: this host's clock is behind)
     * @param within how far off that figure may be (half the round trip it was read in)
     */
    public record ClockOffset(Duration ahead, Duration within) {
    }

    /** Now by the database's clock on PostgreSQL, for a caller's own connection. */
    static Instant databaseNow(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000"
                + " AS BIGINT)"); ResultSet rs = p.executeQuery()) {
            rs.next();
            return Instant.ofEpochMilli(rs.getLong(1));
        }
    }

    /** Whether {@code holder} is provably gone: silent past the dead-node limit, or its JVM dead on this host. */
    private static boolean gone(Holder holder, NodeIdentity self, Instant now, Duration deadLimit) {
        if (holder.renewedAt().plus(deadLimit).isBefore(now)) {
            return true;
        }
        return deadOnThisHost(self, holder.bootId(), holder.process());
    }

    /** Whether a claim's JVM ({@code process}, of host boot {@code bootId}) is of this host and provably gone. */
    private static boolean deadOnThisHost(NodeIdentity self, String bootId, ProcessIdentity process) {
        return self.sameBoot(bootId) && !self.process().sameProcess(process) && !process.isAlive();
    }

    private String forUpdate() {
        return db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : "";
    }

    /** Writes {@code instance}'s claim of {@code nodeId}, in place of any claim of it there is. */
    private void write(Connection c, String nodeId, String instance, NodeIdentity self, Instant now)
            throws SQLException {
        write(c, nodeId, instance, self, now, true);
    }

    /**
     * Writes {@code instance}'s claim of {@code nodeId}: in place of any claim of it there is when {@code replace},
     * else only when there is none. With it, the claim's time by this host's clock ({@code acquired_host_at}, V19) and
     * the instance that wrote it, read after {@code now}: the claim commits after both, so a pick this JVM makes under
     * it is stamped later on that clock unless the clock is set back meanwhile.
     *
     * @return whether it was written
     */
    private boolean write(Connection c, String nodeId, String instance, NodeIdentity self, Instant now,
            boolean replace) throws SQLException {
        long hostNow = hostClock.millis();
        try (PreparedStatement p = c.prepareStatement(LeaseRow.insert(replace, "acquired_host_at",
                "acquired_host_instance", "data_dir"))) {
            int next = LeaseRow.bind(p, nodeId, instance, self, now, now.toEpochMilli());
            p.setLong(next, hostNow);
            p.setString(next + 1, instance);
            p.setString(next + 2, dataFolder());
            return p.executeUpdate() == 1;
        }
    }
}
