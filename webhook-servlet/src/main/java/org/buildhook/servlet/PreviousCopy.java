package org.buildhook.servlet;

import java.time.Duration;
import org.buildhook.runner.store.NodeIdPending;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.StoreLock;

/**
 * What a previous copy of this web application in this JVM holds and this copy waits for: the SQLite
 * store's lock ({@link StoreLock.Pending}) or, on PostgreSQL, the node id ({@link NodeIdPending}).
 */
interface PreviousCopy {

    /** For the log: what is held ("the SQLite database D is still served"). */
    String held();

    /** For the log: the holder, as " (what it says of itself)", or "" when unknown. */
    String holder();

    /** Waits for it (as {@link StoreLock.Pending#await}); the store's lock to start with. */
    StoreLock await(Duration atMost) throws InterruptedException;

    /** Whether the wait is over (what was waited for found free, or given up). */
    boolean over();

    /** Gives up the wait. */
    void close();

    /** The SQLite store's lock, held by the previous copy. */
    static PreviousCopy of(StoreLock.Pending lock) {
        return new PreviousCopy() {
            @Override
            public String held() {
                return "the SQLite database " + lock.database() + " is still served";
            }

            @Override
            public String holder() {
                return lock.holderLine() == null ? "" : " (" + lock.holderLine() + ")";
            }

            @Override
            public StoreLock await(Duration atMost) throws InterruptedException {
                return lock.await(atMost);
            }

            @Override
            public boolean over() {
                return lock.over();
            }

            @Override
            public void close() {
                lock.close();
            }
        };
    }

    /** The node id, held by the previous copy on the PostgreSQL store {@code store}. */
    static PreviousCopy of(NodeIdPending node, StoreConfig store) {
        return new PreviousCopy() {
            @Override
            public String held() {
                return "runner.node-id '" + node.nodeId() + "' of the PostgreSQL store is still held";
            }

            @Override
            public String holder() {
                return " (" + node.holderLine() + ")";
            }

            @Override
            public StoreLock await(Duration atMost) throws InterruptedException {
                node.await(atMost);
                return StoreLock.acquire(store); // nothing is locked on PostgreSQL
            }

            @Override
            public boolean over() {
                return node.over();
            }

            @Override
            public void close() {
                node.close();
            }
        };
    }
}
