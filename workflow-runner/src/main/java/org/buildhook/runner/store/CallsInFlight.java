package org.buildhook.runner.store;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * PostgreSQL: the pooled connections the store's callers hold now, each since when, so that a stop
 * can end the calls the database does not answer. pgjdbc's connections have no socket timeout, and
 * none can be given them that suits every statement (a migration, a retention batch on a big
 * store); a call on a database that stopped answering with its connections still open (a network
 * partition, a hung server) therefore waited for ever, and a stop waited for it: the job's
 * interrupted attempt, db-scheduler's bookkeeping, a delivery in flight (review11 F3). {@link #stuck}
 * names the connections held longer than a limit, {@link #abort} closes their sockets, which ends
 * their calls at once with a connection failure (SQLSTATE 08006): an outage, as everywhere else.
 *
 * <p>A connection is held from {@link #track} until its {@code close()}, through a thin proxy (one
 * map entry per transaction; its methods cost a reflective call, nothing next to a round trip).
 */
final class CallsInFlight {

    private final Map<Connection, Long> held = new ConcurrentHashMap<>();

    /** {@code c}, held from now until its {@code close()}. */
    Connection track(Connection c) {
        long since = System.nanoTime();
        Connection tracked = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "close":
                            held.remove(proxy);
                            break;
                        case "hashCode":
                            if (args == null) {
                                return System.identityHashCode(proxy);
                            }
                            break;
                        case "equals":
                            if (args != null && args.length == 1) {
                                return proxy == args[0];
                            }
                            break;
                        default:
                            break;
                    }
                    return Unclosable.delegate(method, c, args);
                });
        held.put(tracked, since);
        return tracked;
    }

    /**
     * The connections held for longer than {@code limitNanos}, counted from {@code fromNanos} for
     * those taken before it (a stop gives every call the same time from its own start).
     */
    List<Connection> stuck(long nowNanos, long fromNanos, long limitNanos) {
        List<Connection> stuck = new ArrayList<>();
        held.forEach((c, since) -> {
            long start = since - fromNanos < 0 ? fromNanos : since;
            if (nowNanos - start > limitNanos) {
                stuck.add(c);
            }
        });
        return stuck;
    }

    /** Closes {@code c}'s socket: its call, and any later one on it, fails at once; the pool drops it. */
    void abort(Connection c) {
        held.remove(c);
        try {
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            // Closed meanwhile: nothing left to end.
        }
    }

    /** How many connections are held now (for tests). */
    int size() {
        return held.size();
    }
}
