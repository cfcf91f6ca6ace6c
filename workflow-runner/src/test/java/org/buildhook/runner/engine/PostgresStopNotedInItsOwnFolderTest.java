package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout47 F2: two nodes of one host, each with a data folder of its own, on one PostgreSQL. Node-1 was stopped while
 * its command's end could not be recorded, and kept it in its data folder (stops-not-recorded) for its next start.
 * Node-2's sweep found node-1's JVM gone and took the attempt over at once, as a death: the command ran a second time 4
 * s after the stop, although a stopped node has the dead-node limit to start and record what it kept. Now each claim
 * records its node's data folder (V21), and a sweep of this host reads the gone node's folder first: an attempt noted
 * there, or a folder it cannot read, is left to that node's start (or to the dead-node limit); an attempt not noted (a
 * crash) is taken over at once, as before. Real PostgreSQL, a real ended process for node-1's JVM.
 */
class PostgresStopNotedInItsOwnFolderTest {

    @TempDir
    Path dir;
    private Store node1;
    private Store node2;
    private Path data1;
    private Path data2;
    private int builds;

    @BeforeEach
    void open() throws Exception {
        String url = TestStores.postgresUrl();
        data1 = Files.createDirectories(dir.resolve("data-1"));
        data2 = Files.createDirectories(dir.resolve("data-2"));
        node1 = Store.open(StoreConfig.of(url, data1));
        node2 = Store.open(StoreConfig.of(url, data2));
        assertThat(node1.nodeLeases().claim("node-1", "instance-1", NodeIdentity.current(), Duration.ofMinutes(3),
                true)).isEmpty();
    }

    @AfterEach
    void close() {
        if (node2 != null) {
            node2.close();
        }
        if (node1 != null) {
            node1.close();
        }
    }

    /** A job whose attempt 1 was started by {@code node} in a JVM that has ended since. */
    private String startedByAGoneJvm(String node) throws Exception {
        String jobId = node2.accept(Plans.delivery("{\"build_id\": " + ++builds + "}"),
                List.of(Plans.job("deploy", List.of("/bin/true"), Map.of(), 0, Duration.ZERO, 0))).jobIds().get(0);
        assertThat(node2.ledger().startAttempt(jobId, node)).isEqualTo(1);
        Process gone = new ProcessBuilder("/bin/true").start();
        ProcessIdentity jvm = ProcessIdentity.of(gone.pid());
        assertThat(gone.waitFor()).isZero();
        try (Connection c = node2.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE job_attempts SET node_pid = ?, node_started = ? WHERE job_id = ? AND attempt = 1")) {
            p.setLong(1, gone.pid());
            p.setLong(2, jvm == null ? 7 : jvm.startTicks());
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        return jobId;
    }

    private AttemptOutcome firstAttempt(String jobId) {
        return node2.job(jobId).orElseThrow().attempts().get(0).outcome();
    }

    /** Node-2's sweep of this host, reading the other nodes' data folders as its engine does on PostgreSQL. */
    private void node2Sweeps() throws InterruptedException {
        LeftoverSweep sweep = new LeftoverSweep(node2.ledger(), "node-2",
                new StopsNotRecorded(data2.resolve(StopsNotRecorded.FILE_NAME), "node-2"));
        sweep.readsFoldersOf(id -> node2.nodeLeases().dataFolder(id));
        sweep.sweepDeadNodes();
    }

    @Test
    void theClaimRecordsItsNodesDataFolder() {
        assertThat(node2.nodeLeases().dataFolder("node-1")).contains(data1.toAbsolutePath().normalize());
        assertThat(node2.nodeLeases().dataFolder("no-such-node")).isEmpty();
    }

    @Test
    void anAttemptItsStoppedNodeNotedInItsOwnFolderIsLeftForThatNodesStartWhichRecordsIt() throws Exception {
        String jobId = startedByAGoneJvm("node-1");
        Instant exited = Instant.now().minusSeconds(20).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME), "node-1").add(jobId, 1,
                new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, exited, null));

        node2Sweeps();

        assertThat(firstAttempt(jobId)).as("left to node-1's start, not taken over at once").isEqualTo(
                AttemptOutcome.RUNNING);
        assertThat(Files.exists(data1.resolve(StopsNotRecorded.FILE_NAME))).as("node-2 only reads it").isTrue();

        // Node-1 starts again: it records what its stop kept, which the job's next pick concludes from instead of
        // running the command again.
        new LeftoverSweep(node1.ledger(), "node-1", new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME),
                "node-1")).sweepDeadNodes();

        assertThat(node2.job(jobId).orElseThrow().attempts()).hasSize(1);
        assertThat(node2.ledger().decided(jobId, 1)).hasValueSatisfying(decided -> {
            assertThat(decided.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
            assertThat(decided.exitCode()).isZero();
        });
    }

    /**
     * review57a F1 (M): as above, but node-1's stop gave its claim of its id back, as every graceful stop whose store
     * answers did (the store refusing the record of the outcome it kept, or an outage over before the stop's end): the
     * claim, deleted, no longer named node-1's data folder, and node-2 took the attempt for a death at once and ran it
     * again. The stop now keeps its claim while its folder holds what the store has not recorded; a node started again
     * with the id takes the claim over at once, and records what its stop kept.
     */
    @Test
    void aStopWhoseFolderKeepsAnUnrecordedAttemptKeepsItsClaimSoTheAttemptIsLeftForThatNodesStart() throws Exception {
        String jobId = startedByAGoneJvm("node-1");
        Instant exited = Instant.now().minusSeconds(20).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        StopsNotRecorded stop = new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME), "node-1");
        stop.add(jobId, 1, new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, exited, null));

        assertThat(JobEngine.giveBackNodeId(node1.nodeLeases(), stop, "node-1", "instance-1"))
                .isEqualTo(JobEngine.GiveBack.KEPT);
        node2Sweeps();

        assertThat(node2.nodeLeases().dataFolder("node-1")).contains(data1.toAbsolutePath().normalize());
        assertThat(firstAttempt(jobId)).as("left to node-1's start, not taken over at once").isEqualTo(
                AttemptOutcome.RUNNING);

        // Node-1 starts again (its lock free, as once its stop's connections closed): it takes its claim over at once.
        assertThat(node1.nodeLeases().claim("node-1", "instance-2", NodeIdentity.current(), Duration.ofMinutes(3),
                true)).isEmpty();
        assertThat(node2.nodeLeases().holder("node-1")).hasValueSatisfying(h -> assertThat(h.instance())
                .isEqualTo("instance-2"));
        StopsNotRecorded start = new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME), "node-1");
        new LeftoverSweep(node1.ledger(), "node-1", start).sweepDeadNodes();
        assertThat(node2.ledger().decided(jobId, 1)).hasValueSatisfying(decided -> assertThat(decided.exitCode())
                .isZero());

        // A claim taken over is left to its new holder by a late stop of the earlier one.
        assertThat(JobEngine.giveBackNodeId(node1.nodeLeases(), stop, "node-1", "instance-1"))
                .isEqualTo(JobEngine.GiveBack.NOT_HELD);
        // Recorded: its next stop gives the claim back as before, and the node leaves the list.
        assertThat(start.holdsUnrecorded()).isFalse();
        assertThat(JobEngine.giveBackNodeId(node1.nodeLeases(), start, "node-1", "instance-2"))
                .isEqualTo(JobEngine.GiveBack.GIVEN_BACK);
        assertThat(node2.nodeLeases().holder("node-1")).isEmpty();
    }

    /**
     * A stop that recorded every attempt it cut short leaves only its begun lines in its folder: it gives its claim back
     * as before: the node leaves the list (page30), and a node started with the id claims it as a new one.
     */
    @Test
    void aStopThatRecordedEveryAttemptGivesItsClaimBackAsBefore() throws Exception {
        StopsNotRecorded stop = new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME), "node-1");
        stop.begun(Map.of("01JOTHER", 1));

        assertThat(JobEngine.giveBackNodeId(node1.nodeLeases(), stop, "node-1", "instance-1"))
                .isEqualTo(JobEngine.GiveBack.GIVEN_BACK);

        assertThat(node2.nodeLeases().holder("node-1")).isEmpty();
        assertThat(node2.nodeLeases().dataFolder("node-1")).isEmpty();
    }

    @Test
    void anAttemptNotNotedIsACrashAndTakenOverAtOnceAsBefore() throws Exception {
        String jobId = startedByAGoneJvm("node-1");

        node2Sweeps();

        assertThat(firstAttempt(jobId)).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(node2.job(jobId).orElseThrow().attempts().get(0).message())
                .startsWith("its node node-1 was gone before the attempt's end was recorded");
    }

    @Test
    void anAttemptOfANodeWhoseFolderCannotBeReadIsLeftAlone() throws Exception {
        Path gone = Files.createDirectories(dir.resolve("data-9"));
        try (Store node9 = Store.open(StoreConfig.of(node2.config().url(), gone))) {
            assertThat(node9.nodeLeases().claim("node-9", "instance-9", NodeIdentity.current(), Duration.ofMinutes(3),
                    true)).isEmpty();
        }
        Files.move(gone, dir.resolve("moved")); // moved away, or on a disk this node does not see
        String jobId = startedByAGoneJvm("node-9");

        node2Sweeps();

        assertThat(firstAttempt(jobId)).isEqualTo(AttemptOutcome.RUNNING);
    }

    /**
     * review47 F2: node-s shares node-2's data folder (docs/deploying.md, nodes sharing a data folder) and stops, noting
     * its attempt, after node-2 started: what node-2 read of the file at its start came before that note. The folder
     * is read again at the sweep: the attempt is left to node-s's start too. Failed before: INTERRUPTED at once.
     */
    @Test
    void anAttemptNotedInASharedFolderAfterThisNodesStartIsLeftToo() throws Exception {
        try (Store shared = Store.open(StoreConfig.of(node2.config().url(), data2))) {
            assertThat(shared.nodeLeases().claim("node-s", "instance-s", NodeIdentity.current(), Duration.ofMinutes(3),
                    true)).isEmpty();
        }
        String jobId = startedByAGoneJvm("node-s");
        LeftoverSweep sweep = new LeftoverSweep(node2.ledger(), "node-2",
                new StopsNotRecorded(data2.resolve(StopsNotRecorded.FILE_NAME), "node-2"));
        sweep.readsFoldersOf(id -> node2.nodeLeases().dataFolder(id));
        new StopsNotRecorded(data2.resolve(StopsNotRecorded.FILE_NAME), "node-s").add(jobId, 1,
                new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, Instant.now(), null));

        sweep.sweepDeadNodes();

        assertThat(firstAttempt(jobId)).as("left to node-s's start, not taken over at once").isEqualTo(
                AttemptOutcome.RUNNING);
    }

    /**
     * tryout46 F11: node-1's stop noted its attempt in its own data folder, and node-1 did not start again within the
     * dead-node limit: the job is taken over ({@link LeftoverSweep#beforeRerun}, after db-scheduler's dead-execution
     * check). The attempt is its stop's, counted as a stop ({@code runner.stops-in-a-row}) and said so; before, it was
     * recorded "its node node-1 was gone …" and counted as a death ({@code runner.deaths-in-a-row}, 3), so three such
     * stops in a row (a node drained during database maintenance) ended the job FAILED as if its command killed its node.
     */
    @Test
    void anAttemptItsStoppedNodeNotedIsTakenOverAtTheLimitAsAStopNotADeath() throws Exception {
        String jobId = startedByAGoneJvm("node-1");
        new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME), "node-1").add(jobId, 1);
        LeftoverSweep sweep = new LeftoverSweep(node2.ledger(), "node-2",
                new StopsNotRecorded(data2.resolve(StopsNotRecorded.FILE_NAME), "node-2"));
        sweep.readsFoldersOf(id -> node2.nodeLeases().dataFolder(id));
        sweep.sweepDeadNodes();
        assertThat(firstAttempt(jobId)).as("left to node-1's start").isEqualTo(AttemptOutcome.RUNNING);

        // The dead-node limit passed without node-1's start: node-2 picks the job to run it again.
        sweep.beforeRerun(jobId);

        assertThat(firstAttempt(jobId)).isEqualTo(AttemptOutcome.INTERRUPTED);
        assertThat(node2.job(jobId).orElseThrow().attempts().get(0).message())
                .startsWith("its node node-1 was stopped before the attempt ended, and the stop could not record its end");
        try (Connection c = node2.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT node_died FROM job_attempts WHERE job_id = ? AND attempt = 1")) {
            p.setString(1, jobId);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).as("node_died: 0, a stop; 1 a death").isZero();
                assertThat(rs.wasNull()).isFalse();
            }
        }
    }

    /**
     * review48 F5: node-1's stop killed its attempt's process tree 9 hours ago (or its self-fencing had, before the
     * stop) and noted when in its own data folder; node-1 did not start again, and node-2 takes the job over at the
     * dead-node limit. The attempt ended when that tree was killed, as node-1's own start records it (tryout22 F5), not
     * when node-2 took it over. Failed before: the end recorded was node-2's "now".
     */
    @Test
    void theEndItsStoppedNodeNotedInItsOwnFolderIsTheAttemptsEndWhenTakenOverAtTheLimit() throws Exception {
        String stoppedJob = startedByAGoneJvm("node-1");
        String fencedJob = startedByAGoneJvm("node-1");
        Instant killed = Instant.now().minus(Duration.ofHours(9)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        StopsNotRecorded stop = new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME), "node-1");
        stop.add(stoppedJob, 1, new StopsNotRecorded.Cut(killed, null));
        stop.add(fencedJob, 1, new StopsNotRecorded.Cut(killed.plusSeconds(1), "killed by its own node: no heartbeat"
                + " could be written for 2000 ms (the store is unreachable), and after 4000 ms another node may run the"
                + " job"));
        LeftoverSweep sweep = new LeftoverSweep(node2.ledger(), "node-2",
                new StopsNotRecorded(data2.resolve(StopsNotRecorded.FILE_NAME), "node-2"));
        sweep.readsFoldersOf(id -> node2.nodeLeases().dataFolder(id));
        sweep.sweepDeadNodes();
        assertThat(firstAttempt(stoppedJob)).as("left to node-1's start").isEqualTo(AttemptOutcome.RUNNING);

        sweep.beforeRerun(stoppedJob);
        sweep.beforeRerun(fencedJob);

        var stopped = node2.job(stoppedJob).orElseThrow().attempts().get(0);
        assertThat(stopped.message()).startsWith("its node node-1 was stopped before the attempt ended");
        assertThat(stopped.endedAt()).as("when its stop killed its tree, as noted").isEqualTo(killed);
        var fenced = node2.job(fencedJob).orElseThrow().attempts().get(0);
        assertThat(fenced.message()).startsWith("killed by its own node: no heartbeat could be written for 2000 ms")
                .contains("(self-fencing, at " + killed.plusSeconds(1) + "); its node node-1 then stopped");
        assertThat(fenced.endedAt()).as("when its fencing killed its tree, as noted").isEqualTo(killed.plusSeconds(1));
        assertThat(Files.exists(data1.resolve(StopsNotRecorded.FILE_NAME))).as("node-2 only reads it").isTrue();
    }

    /**
     * review48 F5: node-1's command exited 0 while the store could not record it, and node-1's stop noted that exit in
     * its own data folder; node-1 did not start again within the dead-node limit, and node-2 picks the job (its
     * execution revived). The pick records that exit as node-1's start would have, and concludes from it: the job ends
     * SUCCEEDED at the time the command exited, its command not run again. With the engine's own {@link JobTask} and a
     * real command that leaves a trace when it runs. Node-1 starting later finds the attempt recorded and changes
     * nothing. Failed before: the pick ran the command again (attempt 2), attempt 1 recorded "its node node-1 was
     * stopped after the attempt ended, …; run again".
     */
    @Test
    void anExitItsStoppedNodeNotedInItsOwnFolderIsConcludedFromAtTheLimitNotRunAgain() throws Exception {
        Path ran = dir.resolve("ran");
        Path script = Files.writeString(dir.resolve("deploy.sh"), "#!/bin/sh\necho ran >> " + ran + "\n");
        String jobId = node2.accept(Plans.delivery("{\"build_id\": " + ++builds + "}"), List.of(Plans.job("deploy",
                List.of("/bin/sh", script.toString())))).jobIds().get(0);
        assertThat(node2.ledger().startAttempt(jobId, "node-1")).isEqualTo(1);
        Process gone = new ProcessBuilder("/bin/true").start();
        ProcessIdentity jvm = ProcessIdentity.of(gone.pid());
        assertThat(gone.waitFor()).isZero();
        try (Connection c = node2.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE job_attempts SET node_pid = ?, node_started = ? WHERE job_id = ? AND attempt = 1")) {
            p.setLong(1, gone.pid());
            p.setLong(2, jvm == null ? 7 : jvm.startTicks());
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        Instant exited = Instant.now().minus(Duration.ofMinutes(7)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Path log = data1.resolve("logs").resolve(jobId).resolve("attempt-1.log");
        assertThat(new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME), "node-1").add(jobId, 1,
                new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, exited, log)).kept()).isTrue();
        LeftoverSweep sweep = new LeftoverSweep(node2.ledger(), "node-2",
                new StopsNotRecorded(data2.resolve(StopsNotRecorded.FILE_NAME), "node-2"));
        sweep.readsFoldersOf(id -> node2.nodeLeases().dataFolder(id));
        sweep.sweepDeadNodes();
        assertThat(firstAttempt(jobId)).as("left to node-1's start").isEqualTo(AttemptOutcome.RUNNING);
        org.buildhook.runner.exec.CommonsExecLauncher launcher = org.buildhook.runner.exec.CommonsExecLauncher.create(
                org.buildhook.runner.exec.LauncherConfig.defaults(dir.resolve("logs")));
        try {
            JobTask task = new JobTask(node2, launcher, AbstractEngineTest.fast("node-2"), new RunningJobs(),
                    java.time.Clock.systemUTC(), JobEvents.NONE, sweep, () -> { }, Runnable::run, () -> null);
            // The dead-node limit passed without node-1's start: its execution revived, node-2 picks the job.
            var picked = AbstractPickLeaseTest.pick(node2, jobId, Instant.now(), "node-2");

            AbstractPickLeaseTest.complete(task.execute(picked.taskInstance, AbstractPickLeaseTest.context(picked)));
        } finally {
            launcher.close();
        }

        assertThat(ran).as("the command run again though its node's stop kept its exit").doesNotExist();
        var job = node2.job(jobId).orElseThrow();
        assertThat(job.attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
            assertThat(a.exitCode()).isZero();
            assertThat(a.endedAt()).as("when the command exited, as noted").isEqualTo(exited);
            assertThat(a.logPath()).isEqualTo(log.toString());
            assertThat(a.message()).startsWith("exited with 0; then its node node-1 was stopped after the attempt"
                    + " ended, and the stop could not record its end (the store could not be reached)")
                    .endsWith("; not run again");
        });
        assertThat(job.job().state()).isEqualTo(org.buildhook.runner.store.JobState.SUCCEEDED);
        String message = job.attempts().get(0).message();

        // Node-1 starts at last: what its stop kept was recorded already; nothing changes, nothing runs.
        new LeftoverSweep(node1.ledger(), "node-1", new StopsNotRecorded(data1.resolve(StopsNotRecorded.FILE_NAME),
                "node-1")).sweepDeadNodes();

        var after = node2.job(jobId).orElseThrow();
        assertThat(after.attempts()).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
            assertThat(a.message()).isEqualTo(message);
        });
        assertThat(after.job().state()).isEqualTo(org.buildhook.runner.store.JobState.SUCCEEDED);
        assertThat(ran).doesNotExist();
    }
}
