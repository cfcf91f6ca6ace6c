package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness's {@link NodeProcess#kill()} is a kill -9 of the node: the node must never see its input close (its
 * graceful stop) before the kill reaches it. ci-ag: a node under {@code unshare --kill-child} began a graceful stop
 * (its "begun" note in stops-not-recorded) because {@link Process#destroyForcibly()} closed its input right after
 * killing unshare, and unshare's own end, which kills the node, came later on a loaded machine; the next start then
 * said the node "was killed during its stop". Here the wrapper passes on no kill at all (the widest such window), so
 * only a kill that reaches the node itself first leaves its attempt unrecorded, as a kill -9 does.
 */
class NodeProcessKillTest {

    @TempDir
    Path dir;

    @Test
    void aWrappedNodeIsKilledBeforeItsInputCloses() throws Exception {
        StoreConfig config = TestStores.sqlite(dir.resolve("data"));
        Path started = dir.resolve("started");
        Path slow = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\ntouch " + started + "\nwhile [ -d "
                + dir + " ]; do sleep 0.05; done\n");
        // sh runs the node in the background, its input the wrapper's (else /dev/null), and does not pass a kill on.
        NodeProcess node = NodeProcess.start(dir, List.of("sh", "-c", "exec 3<&0; \"$@\" 0<&3 3<&- & wait", "sh"),
                "node", AbstractCrashTest.concat(NodeProcess.hourLimit(config, dir.resolve("data"), 1), "slow=1",
                        "slowScript=" + slow, "label=job"));
        ProcessHandle jvm = null;
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> !node.process.isAlive()
                    || node.printed("ACCEPTED") && Files.exists(started));
            assertThat(node.process.isAlive()).as("the node runs; its errors: %s", dir.resolve("node.err")).isTrue();
            jvm = node.process.children().findFirst().orElseThrow();
            node.kill();
            ProcessHandle killed = jvm;
            await().atMost(Duration.ofMinutes(5)).until(() -> !killed.isAlive());
            try (Store store = Store.open(config)) {
                Job job = store.jobs(JobQuery.latest(10)).items().get(0);
                assertThat(store.ledger().runningAttempt(job.id())).as("not recorded by a graceful stop: %s",
                        store.job(job.id()).orElseThrow().attempts()).isPresent();
            }
            Path stops = dir.resolve("data").resolve(StopsNotRecorded.FILE_NAME);
            assertThat(Files.exists(stops) ? Files.readString(stops) : "").as("no stop began").doesNotContain("begun");
        } finally {
            if (jvm != null) {
                jvm.destroyForcibly();
            }
            node.kill();
        }
    }
}
