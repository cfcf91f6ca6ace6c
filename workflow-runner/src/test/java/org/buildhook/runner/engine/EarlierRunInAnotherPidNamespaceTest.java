package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout23 F4: a container killed (kill -9, an OOM kill) and started again ({@code podman start}) runs in a new PID
 * namespace, so its start found its previous run's attempts "of another host": they showed RUNNING with no process
 * until the stale-pick look freed them ~90 s later as "picked by this node but never started", the attempt saying its
 * node "stopped heart-beating". Here the previous run is a node under {@code unshare --pid --fork --kill-child} (its
 * JVM the namespace's first process, as a container's java under tini): killed, its namespace ends with it; the next
 * node (the host's namespace, the same host name) must end that attempt at its start, saying where its processes were,
 * and run the job again at once (the dead-node limit here is 5 s x 1000 missed heartbeats, over an hour; the stale-pick
 * look would take two heartbeats). Needs root for {@code unshare --pid} (CI runs as root).
 */
class EarlierRunInAnotherPidNamespaceTest {

    @TempDir
    Path dir;

    /** SQLite: the data folder's previous node, whatever its node id (one server per database). */
    @Test
    void sqliteTheNextStartEndsTheAttemptsOfTheDeadRunInAnotherNamespaceAtOnce() throws Exception {
        restartedInANewNamespace(TestStores.sqlite(dir.resolve("data")), "second");
    }

    /** PostgreSQL: the previous run of this node id (this node holds the id's lock), as a restarted container's. */
    @Test
    void postgresTheNextStartEndsTheAttemptsOfItsOwnIdsDeadRunInAnotherNamespaceAtOnce() throws Exception {
        restartedInANewNamespace(TestStores.postgres(dir.resolve("data")), "first");
    }

    private void restartedInANewNamespace(StoreConfig config, String next) throws Exception {
        assertThat(Path.of("/usr/bin/unshare")).as("util-linux unshare").isExecutable();
        assertThat(ProcessHandle.current().info().user().orElse("")).as("unshare --pid needs root").isEqualTo("root");
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path slow = slowScript(events, go);
        String[] common = NodeProcess.hourLimit(config, dir.resolve("data"), 1);
        NodeProcess first = NodeProcess.start(dir, List.of("unshare", "--pid", "--fork", "--mount-proc", "--kill-child"),
                "first", AbstractCrashTest.concat(common, "slow=1", "slowScript=" + slow, "label=job"));
        NodeProcess second = null;
        Path again = Files.createDirectories(dir.resolve("again"));
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> !first.process.isAlive()
                    || first.printed("ACCEPTED") && starts(events).size() == 1);
            assertThat(first.process.isAlive()).as("the contained node runs; its errors: %s", first.out).isTrue();
            String namespace = starts(events).get(0)[3];
            // unshare is killed; --kill-child kills the namespace's first process, the JVM; the kernel all the others.
            first.kill();
            await().atMost(Duration.ofMinutes(5)).until(() -> !NodeIdentity.anyProcessIn(namespace));

            second = NodeProcess.start(again, next, common);
            NodeProcess started = second;
            await().atMost(Duration.ofMinutes(5)).until(() -> !started.process.isAlive() || starts(events).size() == 2);
            assertThat(starts(events)).as("run again by %s; its log: %s", next, again).hasSize(2);
            Files.createFile(go);
            try (Store store = Store.open(config)) {
                JobDetail detail = AbstractCrashTest.succeededAtItsSecondAttempt(store);
                Job job = detail.job();
                List<JobAttempt> attempts = detail.attempts();
                // Started again under its own id (PostgreSQL here): the earlier run named, its JVM pid 1 in its
                // namespace, as a container's under tini is pid 6 at every start (tryout44 F7).
                String message = attempts.get(0).message();
                assertThat(message).startsWith(next.equals("first") ? "its node first's earlier run (pid 1, started "
                        : "its node first was gone ");
                assertThat(message.replaceFirst("^its node first's earlier run \\(pid 1, started [0-9T:-]+Z\\)",
                        "its node first")).isEqualTo("its node first was gone before the attempt's end was"
                        + " recorded; its processes were in PID namespace " + namespace + " of an earlier run on this"
                        + " host (a container started again?), which this node cannot see: a PID namespace ends with its"
                        + " first process, and every process in it with that; run again");
                String log = Files.readString(again.resolve(next + ".err"));
                assertThat(log).doesNotContain("never started").contains("job " + job.id() + ": its node first (in PID"
                        + " namespace " + namespace + " of an earlier run) was gone before the job's end was recorded,"
                        + " and its processes ended with that namespace; the job is put back in the queue now");
            }
        } finally {
            first.kill();
            if (second != null) {
                second.stop();
                second.kill();
            }
        }
    }

    /**
     * The other way round: the earlier run was outside any container (the host's initial PID namespace, which ends only
     * with the host) and its kill -9 left its command running; a node in a new namespace on the same data folder cannot
     * see it. It must not take that namespace for ended and run the job beside the command still running: the attempt
     * stays running (for the dead-node limit), and a WARN says why.
     */
    @Test
    void anAttemptOfTheHostsOwnNamespaceIsNotTakenForEnded() throws Exception {
        assertThat(ProcessHandle.current().info().user().orElse("")).as("unshare --pid needs root").isEqualTo("root");
        assertThat(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString()).as("this JVM outside containers")
                .isEqualTo(NodeIdentity.INITIAL_PID_NAMESPACE);
        StoreConfig config = TestStores.sqlite(dir.resolve("data"));
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path slow = slowScript(events, go);
        String[] common = NodeProcess.hourLimit(config, dir.resolve("data"), 1);
        NodeProcess first = NodeProcess.start(dir, "first", AbstractCrashTest.concat(common, "slow=1",
                "slowScript=" + slow, "label=job"));
        NodeProcess second = null;
        long orphan = -1;
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> first.printed("ACCEPTED") && starts(events).size() == 1);
            orphan = Long.parseLong(starts(events).get(0)[2]);
            first.kill();
            assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive)).as("the command outlives its node")
                    .contains(true);

            second = NodeProcess.start(dir, List.of("unshare", "--pid", "--fork", "--mount-proc", "--kill-child"),
                    "second", common);
            NodeProcess started = second;
            await().atMost(Duration.ofMinutes(5)).until(() -> !started.process.isAlive() || started.printed("READY"));
            try (Store store = Store.open(config)) {
                Job job = store.jobs(JobQuery.latest(10)).items().get(0);
                assertThat(store.ledger().runningAttempt(job.id()).map(a -> a.attempt()))
                        .as("the attempt whose command still runs, still running").contains(1);
                assertThat(Files.readString(dir.resolve("second.err"))).contains("job " + job.id() + " attempt 1: its"
                        + " node first is gone, but PID namespace " + starts(events).get(0)[3] + ", where its processes"
                        + " ran, is the host's own (outside any container), which ends only with the host: they may"
                        + " still run, so the job is not run again before the dead-node limit");
            }
            assertThat(starts(events)).as("not started again beside the command still running").hasSize(1);
        } finally {
            first.kill();
            if (second != null) {
                second.kill();
            }
            if (orphan > 0) {
                ProcessHandle.of(orphan).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /**
     * A job's command that appends {@code start <label> <pid in its namespace> <its PID namespace>} to {@code events},
     * then waits until {@code go} exists (ending with 1 once its folder is gone).
     */
    private Path slowScript(Path events, Path go) throws IOException {
        return Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\necho \"start $1 $$ $(readlink /proc/$$/ns/pid)\""
                + " >> " + events + "\nwhile [ ! -f " + go + " ]; do [ -d " + go.getParent() + " ] || exit 1; sleep 0.05;"
                + " done\n");
    }

    /** Lines {@code start <label> <pid> <namespace>} of the events file, split. */
    private static List<String[]> starts(Path events) throws IOException {
        return Files.exists(events) ? Files.readAllLines(events).stream().map(l -> l.split(" "))
                .filter(f -> f.length == 4 && f[0].equals("start")).toList() : List.of();
    }
}
