package org.buildhook.runner.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.PoolStats;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.rules.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which of the store's connection pools has been unable to give a connection, from HikariCP's own
 * signals: its metrics tracker hears of every wait for a connection that ended without one
 * ({@code recordConnectionTimeout}: the caller waited the whole connection wait, {@code
 * store.connect-timeout}) and of every connection handed out; its {@link HikariPoolMXBean} says
 * whether one lies idle now.
 *
 * <p>A pool is <em>starved</em> from a wait that ended without a connection until a connection is
 * handed out again or one lies idle (HikariCP keeps one open while it can: a pool that gives
 * connections again shows it at once, without a caller having to try). A pool that nobody asked
 * (an idle node) is starved too once it has been seen with no connection open, by looks at least the
 * connection wait apart: HikariCP keeps one open while it can, so the next caller would wait in vain. While a pool the node needs is
 * starved, every delivery, admin call or job step that needs it is answered 503 after the wait, so
 * {@code /healthz}, which runs on a connection of its own, must not say ok (tryout22 F3: it said 200
 * four times in five while the pools had no connection). One wait that ended empty is already a wait
 * of {@code store.connect-timeout}, the bound a delivery is given: so the first one counts.
 *
 * <p>Said once at {@code WARN} when a pool becomes starved, however many waits end empty until it gives
 * connections again (each caller's own error says it was refused), with why as the pool knows it ({@link #why}: its
 * last failed try to connect, in {@code /healthz}'s words, or every connection in use), and once at {@code INFO} when
 * it hands out a connection again or has one idle. HikariCP reports a wait that ended empty as a connection acquired too: that
 * call is told apart from a handout (see {@link #BORROW_TIMEOUT}), so that it neither ends the episode nor moves its
 * start.
 */
final class PoolStarvation implements MetricsTrackerFactory {

    private static final Logger LOG = LoggerFactory.getLogger(PoolStarvation.class);

    /** What /healthz, the status page and the log say first about a starved pool. */
    static final String NO_CONNECTION = "the store gives this node no connection";

    /**
     * Set on the thread of the start while it opens the store ({@link #duringStart}) and while it waits for a pool's
     * first connection ({@link #firstConnection}): its waits that end empty are the start's, not a pool that cannot
     * give one to a running node.
     */
    private static final ThreadLocal<Boolean> AT_START = ThreadLocal.withInitial(() -> Boolean.FALSE);

    /**
     * The start's ask for {@code pool}'s first connection ({@link Database}'s wait for it, up to the logins' bound): a
     * wait of it that ends empty is not said as the pool starved (WARN, {@code /healthz}), since logins slower than
     * the connection wait are what the start waits for there.
     *
     * @throws java.sql.SQLException as {@link HikariDataSource#getConnection()}
     */
    static java.sql.Connection firstConnection(HikariDataSource pool) throws java.sql.SQLException {
        return duringStart(pool::getConnection);
    }

    /** Work of the start whose waits for a connection are not a pool starved ({@link #duringStart}). */
    interface StartWork<T, E extends Exception> {
        T run() throws E;
    }

    /**
     * Runs {@code work}, the start's opening of the store ({@link Store#open}: its migrations, on the pools just made),
     * on this thread; a wait of it for a connection that ends empty is not said as a pool starved (no WARN, nothing
     * for {@code /healthz}): nothing runs on the node yet, no delivery or job waits for the pool, and the start ends
     * with its own error, which says why (PostgreSQL out of connections: a {@code CONNECTION LIMIT} of 0, {@code
     * max_connections} reached; logins not answered). It said "connection pool buildhook-store gave no connection …
     * until it gives one again, deliveries are answered 503" just before a start refused for a connection limit of 0
     * (SQLSTATE 53300): the start's first login, refused, is left to the pool (it may be a server coming up), and the
     * migrations' wait for the pool was taken for a starved pool. Waits on other threads, and on this one afterwards,
     * are told as ever. Nests.
     *
     * @throws E as {@code work}
     */
    static <T, E extends Exception> T duringStart(StartWork<T, E> work) throws E {
        boolean outer = AT_START.get();
        AT_START.set(Boolean.TRUE);
        try {
            return work.run();
        } finally {
            if (!outer) {
                AT_START.remove();
            }
        }
    }

    /**
     * Set on a thread while it asks a pool made by {@link #pool} for a connection: a wait of it that begins an episode
     * is said when HikariCP's error is in hand, with the pool's last failed try to connect it carries ({@link #why}).
     */
    private static final ThreadLocal<Asking> ASKING = new ThreadLocal<>();

    /** A caller's ask for a connection: the tracker whose episode its wait began, if one did. */
    private static final class Asking {
        Tracker began;
    }

    private final Duration wait;
    private final Map<String, Tracker> pools = new ConcurrentHashMap<>();

    /** @param wait how long a caller waits for a connection ({@code store.connect-timeout}, at least 250 ms) */
    PoolStarvation(Duration wait) {
        this.wait = wait;
    }

    /**
     * A pool made from {@code config} (whose metrics tracker factory is this) whose callers' waits that end empty are
     * said with why: HikariCP's error for such a wait carries the pool's last failed try to connect as its cause
     * (5.1.0's {@code createTimeoutException}: {@code getLastConnectionFailure()}, {@code null} once a connection
     * was made since), known only once the tracker has been told of the wait (tryout43 F3: PostgreSQL stopped was
     * said as "raise store.pool-size").
     */
    HikariDataSource pool(HikariConfig config) {
        return new WatchedPool(config);
    }

    /**
     * A pool that tells its tracker's {@code WARN} the error its caller is given ({@link #pool}), and its tracker the
     * cause of every wait of an episode that ended empty ({@link Tracker#cause}).
     */
    private final class WatchedPool extends HikariDataSource {

        WatchedPool(HikariConfig config) {
            super(config);
        }

        @Override
        public Connection getConnection() throws SQLException {
            Tracker tracker = pools.get(getPoolName());
            if (tracker != null && (tracker.refused.get() != null || tracker.empty.get() != null)
                    && hasOneIdle(this)) {
                // A connection was made since the episode began (the database came back) and nobody asked: the
                // episode is over, even if that connection turns out dead now (tryout44 F13: PostgreSQL back for half
                // a minute and stopped again, and the status page's "Since" was the first outage's start). So is
                // the pool's time seen with no connection open, as a look would have found it.
                tracker.emptySince(false);
                tracker.ended("has one idle");
            }
            Asking outer = ASKING.get();
            Asking asking = new Asking();
            ASKING.set(asking);
            SQLException refused = null;
            try {
                return super.getConnection();
            } catch (SQLException e) {
                refused = e;
                throw e;
            } finally {
                ASKING.set(outer);
                if (refused != null && tracker != null) {
                    tracker.refusedBecause(refused);
                }
                if (asking.began != null) {
                    asking.began.warn(why(refused, this));
                }
            }
        }
    }

    /** Whether {@code pool} has a connection lying idle now (the next caller gets it). */
    private static boolean hasOneIdle(HikariDataSource pool) {
        HikariPoolMXBean now = pool.isClosed() ? null : pool.getHikariPoolMXBean();
        return now != null && now.getIdleConnections() > 0;
    }

    @Override
    public IMetricsTracker create(String poolName, PoolStats stats) {
        Tracker tracker = new Tracker(poolName);
        pools.put(poolName, tracker);
        return tracker;
    }

    /**
     * A pool that cannot give a connection now, as said to operators.
     *
     * @param pool    the pool's name ({@code buildhook-store}, {@code buildhook-scheduler}, {@code buildhook-node-id})
     * @param since   when the first wait that ended without a connection began
     * @param total   connections open now
     * @param active  of those, in use
     * @param waiting threads waiting for one now
     * @param cause   the pool's last failed try to connect in {@code /healthz}'s words ({@link
     *                HealthReport#unreachable}), {@code null} when none is known this episode (every connection in
     *                use, or only tries that got no answer)
     */
    record Starved(String pool, Instant since, int total, int active, int waiting, String cause) {
    }

    /**
     * The first cause known among {@code starved} ({@link Starved#cause}): what {@code /healthz} says of a store
     * that refuses this node's connections, for the status page's banner (tryout44 F13: it said only that the pools
     * gave none, where {@code /healthz} and the WARN said PostgreSQL refused connections); {@code null} when none is.
     */
    static String cause(List<Starved> starved) {
        return starved.stream().map(Starved::cause).filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    /**
     * The pools among {@code watched} that cannot give a connection now (see the class comment), in
     * the order given; empty when all can.
     */
    List<Starved> starved(List<HikariDataSource> watched) {
        return watched.stream().map(this::starved).flatMap(Optional::stream).toList();
    }

    private Optional<Starved> starved(HikariDataSource pool) {
        Tracker tracker = pools.get(pool.getPoolName());
        HikariPoolMXBean now = pool.isClosed() ? null : pool.getHikariPoolMXBean();
        if (tracker == null || now == null) {
            return Optional.empty();
        }
        int total = now.getTotalConnections();
        Instant empty = tracker.emptySince(total == 0);
        if (now.getIdleConnections() > 0) {
            // It has one to give: the next caller gets it. The episode is over, also when no caller took one since
            // (a quiet node): else the next one would be dated from this one and not said (review23 R3).
            tracker.ended("has one idle");
            return Optional.empty();
        }
        Refused refused = tracker.refused.get();
        Instant since = refused != null ? refused.at()
                // Nobody asked meanwhile (an idle node), but HikariCP, which keeps one connection open while it can,
                // has had none for longer than a caller would wait: the next delivery would be refused.
                : empty != null && Duration.between(empty, Instant.now()).compareTo(wait) > 0 ? empty : null;
        return since == null ? Optional.empty() : Optional.of(new Starved(pool.getPoolName(), since, total,
                now.getActiveConnections(), now.getThreadsAwaitingConnection(), tracker.cause.get()));
    }

    /**
     * The words of {@code /healthz} (which answers anyone: pool names and counts, no host or user) and of the
     * status page for {@code starved}, which is not empty; with the pools' last failed try to connect when one is
     * known ({@link #cause(List)}).
     */
    String describe(List<Starved> starved) {
        return describe(starved, true);
    }

    /** As {@link #describe(List)}; {@code withCause}: with the pools' last failed try to connect, when known. */
    String describe(List<Starved> starved, boolean withCause) {
        Instant since = starved.stream().map(Starved::since).min(Instant::compareTo).orElseThrow();
        long seconds = Math.max(1, Duration.between(since, Instant.now()).toSeconds());
        StringBuilder said = new StringBuilder(NO_CONNECTION).append(": ")
                .append(starved.size() == 1 ? "its connection pool " : "its connection pools ")
                .append(String.join(", ", starved.stream().map(Starved::pool).toList()))
                .append(starved.size() == 1 ? " has" : " have").append(" given none for ").append(seconds)
                .append(" s (none within store.connect-timeout, ").append(Durations.describe(wait)).append("; ");
        for (int i = 0; i < starved.size(); i++) {
            Starved s = starved.get(i);
            said.append(i == 0 ? "" : "; ").append(s.pool()).append(": ").append(s.total()).append(" open, ")
                    .append(s.active()).append(" in use, ").append(s.waiting()).append(" waiting");
        }
        said.append(")");
        String cause = withCause ? cause(starved) : null;
        if (cause != null) {
            said.append("; its last try to connect failed: ").append(cause);
        }
        return said.append("; see the server log").toString();
    }

    /** The pool deliveries, the admin API and the status page use. */
    static final String STORE_POOL = "buildhook-store";

    /** What stops while {@code pool} gives no connection, for the log. */
    private static String whatNeeds(String pool) {
        return switch (pool) {
            case STORE_POOL -> "deliveries are answered 503 (JobServ sends each again for about 7 s only; the builds"
                    + " refused are listed to re-send), the admin API and the status page answer 503";
            case "buildhook-scheduler" -> "jobs are not picked, and the ends of running ones may not be recorded";
            case "buildhook-node-id" -> "this node cannot claim or renew its node id";
            default -> "what needs it";
        };
    }

    /**
     * Why {@code pool} gave no connection, as said after its name in the {@code WARN}: the pool's last failed try to
     * connect ({@code refused}'s cause, HikariCP's), in the words of {@code /healthz} ({@link HealthReport#unreachable}:
     * from its SQLSTATE or a refused TCP connection, never its message); with none, every connection in use (then,
     * and only then, {@code store.pool-size}) or connections still being made.
     *
     * @param refused the error the caller was given, or {@code null} when not known
     */
    private static String why(SQLException refused, HikariDataSource pool) {
        Throwable failure = refused == null ? null : refused.getCause();
        if (failure != null) {
            String reason = HealthReport.unreachable(refused).reason();
            return "its last try to connect failed: " + (reason.equals(HealthReport.DOES_NOT_ANSWER)
                    ? reason + " (a database or a proxy that accepts connections and does not answer them, or a login"
                            + " slower than the wait)"
                    : reason) + "; the pool's own errors (HikariCP's 'Connection is not available') carry the"
                    + " database's words";
        }
        HikariPoolMXBean now = pool == null || pool.isClosed() ? null : pool.getHikariPoolMXBean();
        if (now == null) {
            return "the pool's own errors (HikariCP's 'Connection is not available') and the database's say why";
        }
        int total = now.getTotalConnections();
        int active = now.getActiveConnections();
        if (total >= pool.getMaximumPoolSize() && active >= total) {
            return "every one of its " + total + " connections (store.pool-size) is in use: slow calls hold them (find"
                    + " them in pg_stat_activity by application_name), or the load needs more (raise store.pool-size)";
        }
        return "no try to connect has failed, and it has " + total + " of " + pool.getMaximumPoolSize()
                + " connections open, " + active + " in use: its tries to connect take longer than the wait (a"
                + " database or a proxy that accepts connections and does not answer them, slow logins)";
    }

    /** The stack's frames that tell who called {@link Tracker#recordConnectionAcquiredNanos}. */
    private static final StackWalker STACK = StackWalker.getInstance();

    /**
     * HikariCP's method that reports a wait that ended without a connection as a connection acquired: HikariCP 5.1.0's
     * {@code HikariPool.getConnection}, once its wait is over, calls {@code
     * PoolBase.MetricsTrackerDelegate.recordBorrowTimeoutStats(startTime)}, which calls the tracker's {@code
     * recordConnectionAcquiredNanos} with the time waited, and then throws {@code createTimeoutException}'s error, which
     * calls {@code recordConnectionTimeout}. A real handout comes through {@code recordBorrowStats} instead.
     */
    private static final String BORROW_TIMEOUT = "recordBorrowTimeoutStats";

    /**
     * Whether HikariCP calls {@code recordConnectionAcquiredNanos} on this thread for a wait that ended without a
     * connection ({@link #BORROW_TIMEOUT}), not for a connection handed out. Taking that call for a handout ended the
     * episode at every wait, and the next call, {@code recordConnectionTimeout}, began a new one: a false "gives this node
     * connections again", a WARN again, and the episode's start moved to that wait (tryout25 F6). The time waited cannot
     * tell them apart: a handout whose connection HikariCP first checks (up to its validation timeout) may come after
     * a whole wait too. PoolStarvationTest, on a real pool, fails if a HikariCP upgrade renames the method.
     */
    private static boolean forAWaitThatEndedEmpty() {
        return STACK.walk(frames -> frames.limit(4).anyMatch(frame -> frame.getMethodName().equals(BORROW_TIMEOUT)
                && frame.getClassName().startsWith("com.zaxxer.hikari.")));
    }

    /** When the first wait of a run of waits that ended without a connection began. */
    private record Refused(Instant at, long nanos) {
    }

    /** One pool's tracker: told by HikariCP on the threads that ask for connections. */
    private final class Tracker implements IMetricsTracker {
        private final String pool;
        /** The run of waits that ended empty since the last connection handed out; {@code null}: none. */
        private final AtomicReference<Refused> refused = new AtomicReference<>();
        /** Since when the pool was seen with no connection open, by the looks of {@link #starved}; {@code null}: it had one. */
        private final AtomicReference<Instant> empty = new AtomicReference<>();

        /** Notes what a look saw ({@code none}: no connection open); since when the pool has been seen with none. */
        Instant emptySince(boolean none) {
            if (!none) {
                empty.set(null);
                return null;
            }
            empty.compareAndSet(null, Instant.now());
            return empty.get();
        }

        Tracker(String pool) {
            this.pool = pool;
        }

        @Override
        public void recordConnectionAcquiredNanos(long elapsedAcquiredNanos) {
            // The look at the stack only while an episode is under way: a handout in good times costs nothing.
            if (refused.get() != null && !forAWaitThatEndedEmpty()) {
                ended("handed one out");
            }
        }

        /**
         * The pool's last failed try to connect this episode, in {@code /healthz}'s words ({@link Starved#cause});
         * {@code null}: none known.
         */
        private final AtomicReference<String> cause = new AtomicReference<>();

        /**
         * A caller of an episode was refused with {@code refused}: its cause, HikariCP's last failed try to connect
         * ({@code null} once a connection was made since), is the episode's cause from now on, in {@code /healthz}'s
         * words; "does not answer" is no cause known.
         */
        void refusedBecause(SQLException refused) {
            if (refused.getCause() == null || this.refused.get() == null) {
                return;
            }
            String reason = HealthReport.unreachable(refused).reason();
            cause.set(reason.equals(HealthReport.DOES_NOT_ANSWER) ? null : reason);
        }

        /** Ends the run of waits that ended empty, if one is under way, saying so once ({@code how}: what showed it). */
        void ended(String how) {
            Refused was = refused.get();
            if (was != null && refused.compareAndSet(was, null)) {
                cause.set(null);
                LOG.info("the store gives this node connections again: connection pool {} {}, after about {} s"
                        + " without", pool, how, Math.max(1,
                                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - was.nanos())));
            }
        }

        @Override
        public void recordConnectionTimeout() {
            if (AT_START.get()) {
                return; // the start's own wait (duringStart, firstConnection): the start's error says why
            }
            long began = System.nanoTime() - wait.toNanos();
            if (refused.compareAndSet(null, new Refused(Instant.now().minus(wait), began))) {
                Asking asking = ASKING.get();
                if (asking != null) {
                    asking.began = this; // said once its caller's error, which says why, is in hand (WatchedPool)
                } else {
                    warn(why(null, null));
                }
            }
        }

        /** The {@code WARN} of an episode that began, {@code why} as {@link #why} says it. */
        void warn(String why) {
            LOG.warn("{}: connection pool {} gave no connection within store.connect-timeout ({}): {}. Until it gives"
                    + " one again, what needs it is refused: {}; /healthz answers 503 naming the pool", NO_CONNECTION,
                    pool, Durations.describe(wait), why, whatNeeds(pool));
        }
    }
}
