package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.NodeIdentity;

/**
 * PostgreSQL: a {@code runner.node-id} held by another application of this same JVM, a previous copy of this
 * web application that the container has not stopped yet. Jetty 12's deployer starts the new copy of a
 * replaced WAR before it stops the old one ({@code jetty.deploy.atomicRedeploy=true}, its default), and both
 * copies have the same id (by default {@code <hostname>-<pid>}): the new copy's claim would be refused as
 * another running node's ({@link NodeLeases#claim}). Found when the id's claim names this host, boot and JVM
 * (pid and start time) and another session holds the id's advisory lock; the new copy then waits until that
 * lock is free (the old copy gave its id back at the end of its stop, after its jobs ended), and only then
 * starts its engine, which claims the id as usual. An id held by another process is not this: the claim
 * refuses it, or takes it over, as before.
 */
public final class NodeIdPending implements AutoCloseable {

    private static final Duration POLL = Duration.ofMillis(250);

    private final StoreConfig config;
    private final String nodeId;
    private final NodeLeases.Holder holder;
    private final AtomicBoolean done = new AtomicBoolean();

    private NodeIdPending(StoreConfig config, String nodeId, NodeLeases.Holder holder) {
        this.config = config;
        this.nodeId = nodeId;
        this.holder = holder;
    }

    /**
     * The wait for {@code nodeId} when another application of this JVM holds it now; empty on SQLite, when
     * no one holds it or another process does, and when the store cannot be read now (no {@code node_leases}
     * table yet, PostgreSQL unreachable: the start then goes on and says what it finds). One connection of its
     * own, closed before this returns; never throws.
     *
     * @param config the store's configuration
     * @param nodeId this node's {@code runner.node-id}
     */
    public static Optional<NodeIdPending> find(StoreConfig config, String nodeId) {
        if (config.dialect() != Dialect.POSTGRESQL) {
            return Optional.empty();
        }
        try (Connection c = connect(config)) {
            Optional<NodeLeases.Holder> holder = NodeLeases.holder(c, nodeId);
            if (holder.isEmpty() || !thisProcess(holder.get()) || NodeLeases.lockFree(c, nodeId)) {
                return Optional.empty();
            }
            return Optional.of(new NodeIdPending(config, nodeId, holder.get()));
        } catch (SQLException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether a claim names this very JVM: this host, boot and PID namespace, pid and start time. */
    private static boolean thisProcess(NodeLeases.Holder holder) {
        NodeIdentity self = NodeIdentity.current();
        return self.sameBoot(holder.bootId()) && self.host().equals(holder.host())
                && self.process().sameProcess(holder.process());
    }

    /** The node id waited for. */
    public String nodeId() {
        return nodeId;
    }

    /** Who holds it, as its claim says ("host H, pid P"). */
    public String holderLine() {
        return holder.describe();
    }

    /** Whether this wait is over: the id's lock found free by {@link #await}, or this closed. */
    public boolean over() {
        return done.get();
    }

    /**
     * Waits until no session holds the id's advisory lock any more (the other application gave the id back,
     * or its connection ended), checking every 250 ms on a new connection (the lock offers no event to wait on;
     * a connection that fails is only a check missed). The engine's start then claims the id as usual, and
     * refuses it should another node have taken it meanwhile.
     *
     * @param atMost how long to wait at most
     * @throws RunnerException when it is still held after {@code atMost}, saying what to do
     * @throws InterruptedException when interrupted while waiting
     */
    public void await(Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!done.get()) {
            try (Connection c = connect(config)) {
                if (NodeLeases.lockFree(c, nodeId)) {
                    done.set(true);
                    return;
                }
            } catch (SQLException | RuntimeException e) {
                // Checked again at the next poll; the deadline still holds.
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new RunnerException("runner.node-id '" + nodeId + "' is still held by "
                        + StoreLock.Pending.PREVIOUS_COPY + " (" + holder.describe() + ") after "
                        + atMost.toSeconds() + " s: it did not stop. Stop it (undeploy it, or restart the container),"
                        + " then deploy this one again");
            }
            Thread.sleep(POLL.toMillis());
        }
        throw new InterruptedException("the wait for runner.node-id '" + nodeId + "' was given up");
    }

    /** Gives up waiting (nothing is held by a wait). */
    @Override
    public void close() {
        done.set(true);
    }

    private static Connection connect(StoreConfig config) throws SQLException {
        return StoreReachability.connect(config);
    }
}
