package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes on one host in different PID namespaces (containers of one compose project, a node under
 * {@code unshare --pid}) share the host's boot id but not their pids: a node must never take a
 * live node of another namespace for dead because that node's JVM pid means something else in its
 * own {@code /proc}. Before the PID namespace was part of the node identity, this test's sweep
 * killed the other node's running job and recorded it as interrupted. Needs root for
 * {@code unshare --pid} (CI runs as root).
 */
class PidNamespaceSweepTest {

    @TempDir
    Path dir;

    @Test
    void aLiveNodeInAnotherPidNamespaceIsNeverSwept() throws Exception {
        assertThat(Path.of("/usr/bin/unshare")).as("util-linux unshare").isExecutable();
        assertThat(ProcessHandle.current().info().user().orElse("")).as("unshare --pid needs root").isEqualTo("root");
        StoreConfig config = TestStores.postgres(dir.resolve("data"));
        Path events = dir.resolve("events");
        Path marker = dir.resolve("go");
        Path slow = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\necho \"start $1\" >> " + events
                + "\nwhile [ ! -f " + marker + " ]; do [ -d " + marker.getParent()
                        + " ] || exit 1; sleep 0.05; done\n");
        try (Store store = Store.open(config)) {
            NodeProcess node = NodeProcess.start(dir, List.of("unshare", "--pid", "--fork", "--mount-proc", "--kill-child"),
                    "contained", "url=" + config.url(), "data=" + dir.resolve("data"), "threads=2", "slow=1",
                    "quick=0", "slowScript=" + slow, "quickScript=" + slow, "label=c");
            try {
                await().atMost(Duration.ofMinutes(5)).until(() -> !node.process.isAlive()
                        || Files.exists(events) && Files.readString(events).contains("start "));
                assertThat(node.process.isAlive()).as("the contained node runs; its output: %s", node.out).isTrue();
                Job job = store.jobs(new JobQuery(null, "slow", null, null, 10)).items().get(0);

                // This JVM (the host's PID namespace) sweeps: the other node is alive, its job must stay.
                new LeftoverSweep(store.ledger(), "host-node").sweepDeadNodes();

                assertThat(store.ledger().runningAttempt(job.id())).as("the live node's attempt is still running")
                        .isPresent();
                Files.createFile(marker);
                await().atMost(Duration.ofMinutes(5)).until(() -> store.job(job.id()).orElseThrow().job().state()
                        == JobState.SUCCEEDED);
                List<JobAttempt> attempts = store.job(job.id()).orElseThrow().attempts();
                assertThat(attempts).hasSize(1);
                assertThat(attempts.get(0).outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
            } finally {
                node.kill();
            }
        }
    }
}
