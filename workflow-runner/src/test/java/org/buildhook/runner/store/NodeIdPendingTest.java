package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.NodeIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pgredeploy23: on PostgreSQL a node id held by this very JVM (a previous copy of the web application, which
 * Jetty 12 stops only after the new copy has started) is waited for until its holder gives it back; one held by
 * another process is not (the engine's claim refuses it as before). Real PostgreSQL, real advisory locks.
 */
class NodeIdPendingTest {

    private static final Duration DEAD_LIMIT = Duration.ofMinutes(3);

    @TempDir
    Path dir;
    private StoreConfig config;
    private Store store;
    private NodeLeases.Lock lock;

    @BeforeEach
    void open() {
        config = TestStores.postgres(dir);
        store = Store.open(config);
    }

    @AfterEach
    void close() {
        if (lock != null) {
            lock.release();
        }
        store.close();
    }

    @Test
    void aNodeIdHeldByThisJvmIsWaitedForUntilItsHolderGivesItBack() throws Exception {
        holdAsAnEngineDoes("node-7");

        NodeIdPending pending = NodeIdPending.find(config, "node-7").orElseThrow();
        assertThat(pending.nodeId()).isEqualTo("node-7");
        assertThat(pending.holderLine()).isEqualTo("host " + NodeIdentity.current().host() + ", pid "
                + ProcessHandle.current().pid());
        assertThatThrownBy(() -> pending.await(Duration.ofMillis(300))).isInstanceOf(RunnerException.class)
                .hasMessage("runner.node-id 'node-7' is still held by a previous copy of this web application in this"
                        + " JVM (host " + NodeIdentity.current().host() + ", pid " + ProcessHandle.current().pid() + ")"
                        + " after 0 s: it did not stop. Stop it (undeploy it, or restart the"
                        + " container), then deploy this one again");
        assertThat(pending.over()).isFalse();

        // The holder stops: it gives its claim and its lock back (JobEngine.releaseNodeId).
        store.nodeLeases().release("node-7", "old-copy");
        lock.release();
        pending.await(Duration.ofMinutes(10)); // returns once the lock is free; the bound only for a hang
        assertThat(pending.over()).isTrue();
        assertThat(NodeIdPending.find(config, "node-7")).isEmpty();
        // And the new copy's claim takes it.
        NodeLeases.Lock mine = store.nodeLeases().lock("node-7");
        try {
            assertThat(mine.take()).isTrue();
            assertThat(store.nodeLeases().claim("node-7", "new-copy", NodeIdentity.current(), DEAD_LIMIT, true))
                    .isEmpty();
        } finally {
            mine.release();
        }
    }

    @Test
    void aNodeIdHeldByAnotherProcessOrByNoOneIsNotWaitedFor() throws Exception {
        assertThat(NodeIdPending.find(config, "node-7")).as("no claim").isEmpty();

        holdAsAnEngineDoes("node-7");
        // The claim names another JVM of this host (a second server started with the same id): refused as before.
        try (Connection c = java.sql.DriverManager.getConnection(config.url());
                PreparedStatement p = c.prepareStatement("UPDATE node_leases SET node_pid = node_pid + 1")) {
            p.executeUpdate();
        }
        assertThat(NodeIdPending.find(config, "node-7")).isEmpty();
        assertThat(NodeIdPending.find(TestStores.sqlite(dir.resolve("sqlite")), "node-7")).as("SQLite").isEmpty();
    }

    /** The id claimed by an engine of this JVM, its advisory lock held on a session of its own. */
    private void holdAsAnEngineDoes(String nodeId) {
        lock = store.nodeLeases().lock(nodeId);
        assertThat(lock.take()).isTrue();
        assertThat(store.nodeLeases().claim(nodeId, "old-copy", NodeIdentity.current(), DEAD_LIMIT, true)).isEmpty();
    }
}
