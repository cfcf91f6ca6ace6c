package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.ProcessIdentity;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review21 R3: another node's record of an attempt whose own node was only stopped (or paused) counted as that node's
 * death for good ({@code node_died = 1}), so three such guesses in a row ended a job {@code FAILED} as a poison pill.
 * Now a node's start takes back the deaths recorded of the attempts its last stop noted in its data folder (they count
 * as stops, node_died 0, runner.stops-in-a-row), and a sweep of this host does not count an attempt whose node's JVM
 * still runs (paused) as a death. Also tryout22 F5: an
 * attempt the stop noted with the kill of its process tree ends then, not at the next start. Real stores (SQLite and
 * PostgreSQL by the subclasses), real processes for the nodes' JVMs.
 */
abstract class AbstractStoppedNotADeathTest {

    @TempDir
    Path dir;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private int builds;

    /** A new job, of a delivery of its own. */
    private String job() {
        return store.accept(Plans.delivery("{\"build_id\": " + ++builds + "}"),
                List.of(Plans.job("deploy", List.of("/bin/true"), Map.of(), 0, Duration.ZERO, 0))).jobIds().get(0);
    }

    /** The attempts' {@code node_died}, in order. */
    private List<Object> deaths(String jobId) throws SQLException {
        List<Object> deaths = new java.util.ArrayList<>();
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement p = c.prepareStatement("SELECT node_died FROM job_attempts WHERE job_id = ?"
                        + " ORDER BY attempt")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    Object died = rs.getObject(1);
                    deaths.add(died == null ? null : ((Number) died).intValue());
                }
            }
        }
        return deaths;
    }

    /** Makes the job's attempt {@code attempt} one of a node whose JVM is {@code jvm}. */
    private void ranIn(String jobId, int attempt, ProcessIdentity jvm) throws SQLException {
        ranIn(store, jobId, attempt, jvm);
    }

    private static void ranIn(Store store, String jobId, int attempt, ProcessIdentity jvm) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET node_pid = ?, node_started = ?"
                        + " WHERE job_id = ? AND attempt = ?")) {
            p.setLong(1, jvm.pid());
            p.setLong(2, jvm.startTicks());
            p.setString(3, jobId);
            p.setInt(4, attempt);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /**
     * Three nodes, each stopped while the store could not be reached (each noted its attempt in its data folder),
     * each attempt then ended by the node that took the job over (on another host: its guess, a death). The stopped
     * nodes start again: the deaths are taken back, and the job is not ended as a poison pill.
     */
    @Test
    void theDeathsGuessedOfAStoppedNodesAttemptsAreTakenBackAtItsNextStart() throws Exception {
        String jobId = job();
        for (int i = 1; i <= 2; i++) {
            assertThat(store.ledger().startAttempt(jobId, "node-" + i)).isEqualTo(i);
            Path data = dir.resolve("data-" + i);
            java.nio.file.Files.createDirectories(data);
            new StopsNotRecorded(data.resolve(StopsNotRecorded.FILE_NAME), "node-" + i).add(jobId, i);
        }
        // Attempt 2 (of node-2) is ended by the next taker; attempt 1 was ended by node-2's start of attempt 2.
        assertThat(store.ledger().startAttempt(jobId, "node-3")).isEqualTo(3);
        assertThat(deaths(jobId)).containsExactly(1, 1, null);

        for (int i = 1; i <= 2; i++) {
            Path data = dir.resolve("data-" + i);
            // Started again under another id (the default one is another at every start).
            String id = "node-" + i + "-again";
            new LeftoverSweep(store.ledger(), id, new StopsNotRecorded(data.resolve(StopsNotRecorded.FILE_NAME), id))
                    .sweepDeadNodes();
        }

        assertThat(deaths(jobId)).as("only stopped: stops (0), no deaths").containsExactly(0, 0, null);
        // node-3 is gone on another host too: its attempt is ended by the next taker's guess, a death, the first
        // in a row now; before, the third, and the job ended FAILED though no node had died.
        assertThat(store.ledger().startAttempt(jobId, "node-4")).isEqualTo(4);
        assertThat(deaths(jobId)).containsExactly(0, 0, 1, null);
    }

    /** Another node's attempt (the same job run again there) is never touched: only the noting node's own. */
    @Test
    void onlyTheNotingNodesOwnInterruptedAttemptIsTakenBack() throws Exception {
        String jobId = job();
        assertThat(store.ledger().startAttempt(jobId, "other")).isEqualTo(1);
        assertThat(store.ledger().startAttempt(jobId, "taker")).isEqualTo(2);
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        // A line naming attempt 1 under another node id than the one that ran it.
        new StopsNotRecorded(file, "stopped").add(jobId, 1);

        new LeftoverSweep(store.ledger(), "again", new StopsNotRecorded(file, "again")).sweepDeadNodes();

        assertThat(deaths(jobId)).containsExactly(1, null);
    }

    /**
     * A node of this host whose JVM still runs (paused, stalled past the dead-node limit) and whose job runs again
     * here: its attempt is ended by this node's sweep, and is no death (review21 R3).
     */
    @Test
    void aPausedNodesAttemptEndedBeforeItsJobRunsAgainIsNoDeath() throws Exception {
        String jobId = job();
        assertThat(store.ledger().startAttempt(jobId, "paused")).isEqualTo(1);

        sweptWhileItsNodeRuns(jobId, "sweeper");

        assertThat(store.job(jobId).orElseThrow().attempts().get(0).message())
                .startsWith("its node paused stopped heart-beating before the attempt's end was recorded");
        assertThat(deaths(jobId)).containsExactly((Object) null);
    }

    /**
     * tryout22 F5: the attempt a stop noted with the kill of its process tree ends then, not when the next start
     * came (hours later, after a store down overnight); and the fencing a node noted is said in its own words.
     */
    @Test
    void aNotedKillIsTheAttemptsEndAndAFencingIsSaidInItsOwnWords() throws Exception {
        String stoppedJob = job();
        String fencedJob = job();
        assertThat(store.ledger().startAttempt(stoppedJob, "node-1")).isEqualTo(1);
        assertThat(store.ledger().startAttempt(fencedJob, "node-1")).isEqualTo(1);
        Process gone = new ProcessBuilder("/bin/true").start();
        ProcessIdentity jvm = ProcessIdentity.of(gone.pid());
        assertThat(gone.waitFor()).isZero();
        ranIn(stoppedJob, 1, jvm == null ? new ProcessIdentity(gone.pid(), -1, 7) : jvm);
        ranIn(fencedJob, 1, jvm == null ? new ProcessIdentity(gone.pid(), -1, 7) : jvm);
        Instant killed = Instant.now().minus(Duration.ofHours(9)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1");
        stop.add(stoppedJob, 1, new StopsNotRecorded.Cut(killed, null));
        stop.add(fencedJob, 1, new StopsNotRecorded.Cut(killed.plusSeconds(1), "killed by its own node: no heartbeat"
                + " could be written for 2000 ms (the store is unreachable), and after 4000 ms another node may run the"
                + " job"));

        new LeftoverSweep(store.ledger(), "node-1b", new StopsNotRecorded(file, "node-1b")).sweepDeadNodes();

        var stopped = store.job(stoppedJob).orElseThrow().attempts().get(0);
        assertThat(stopped.message()).startsWith("its node node-1 was stopped before the attempt ended");
        assertThat(stopped.endedAt()).as("when its tree was killed").isEqualTo(killed);
        var fenced = store.job(fencedJob).orElseThrow().attempts().get(0);
        assertThat(fenced.message()).startsWith("killed by its own node: no heartbeat could be written for 2000 ms (the"
                + " store is unreachable), and after 4000 ms another node may run the job (self-fencing, at " + killed
                .plusSeconds(1) + "); its node node-1 then stopped before it could record this")
                .doesNotContain("was gone").endsWith("; run again");
        assertThat(fenced.endedAt()).isEqualTo(killed.plusSeconds(1));
        assertThat(deaths(stoppedJob)).as("a stop").containsExactly(0);
        assertThat(deaths(fencedJob)).as("its node's own account of a fencing: neither").containsExactly((Object) null);
        assertThat(store.ledger().startAttempt(fencedJob, "node-1b")).isEqualTo(2);
    }

    /**
     * tryout50 F11: a node killed during its graceful stop (here by the operator's {@code kill -9}; the start cannot
     * tell which) is said so at its next start; the cause it names is an example, not a claim: it said "(a stop
     * timeout shorter than the stop …)" as if it knew.
     */
    @Test
    void aNodeKilledDuringItsStopIsSaidSoWithoutClaimingWhy() throws Exception {
        String jobId = job();
        assertThat(store.ledger().startAttempt(jobId, "node-1")).isEqualTo(1);
        Process gone = new ProcessBuilder("/bin/true").start();
        ProcessIdentity jvm = ProcessIdentity.of(gone.pid());
        assertThat(gone.waitFor()).isZero();
        ranIn(jobId, 1, jvm == null ? new ProcessIdentity(gone.pid(), -1, 7) : jvm);
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        new StopsNotRecorded(file, "node-1").begun(Map.of(jobId, 1));

        new LeftoverSweep(store.ledger(), "node-1b", new StopsNotRecorded(file, "node-1b")).sweepDeadNodes();

        assertThat(store.job(jobId).orElseThrow().attempts().get(0).message())
                .startsWith("its node node-1 was killed during its stop, before the stop could record the attempt's"
                        + " end (for example a stop timeout shorter than the stop, or a kill -9: docs/deploying.md,"
                        + " \"Stopping: the stop timeout\")")
                .doesNotContain("(a stop timeout shorter than the stop");
        assertThat(deaths(jobId)).as("a stop, not a death").containsExactly(0);
    }

    /**
     * Node {@code taker} of the same host takes attempt 1 of {@code jobId} over before it runs again, while the
     * attempt's node's JVM still runs (paused, or stopping: a {@code sleep} stands for it): its sweep finds nothing
     * left and records the attempt cut short.
     */
    private void sweptWhileItsNodeRuns(String jobId, String taker) throws Exception {
        sweptWhileItsNodeRuns(store, jobId, taker);
    }

    /** As {@link #sweptWhileItsNodeRuns(String, String)}, in {@code store}: the job is then queued again. */
    static void sweptWhileItsNodeRuns(Store store, String jobId, String taker) throws Exception {
        Process running = new ProcessBuilder("sleep", "600").start();
        try {
            ranIn(store, jobId, 1, ProcessIdentity.of(running.pid()));
            new LeftoverSweep(store.ledger(), taker).beforeRerun(jobId);
        } finally {
            running.destroyForcibly();
        }
    }

    /**
     * cluster27 F11: a node's command exits 0 (or 3) while the store cannot be reached, the node is stopped before it
     * can record it (it notes it in its data folder), and another node takes the job over and runs it again. At its
     * next start the stopped node records in the attempt's row what it knew: the command ran to its end, with its exit
     * code, end and log, recorded late; no longer counted as interrupted, nor as a death. The job stays as its later
     * attempt made it. Before, the start logged "not recorded now" and the attempt stayed {@code INTERRUPTED} "none of
     * its processes was left" for good. Two takers: one of this host (its sweep found nothing left, the stopping node's
     * JVM still alive) and one of another host (its guess: a death).
     */
    @Test
    void anExitTheStoppedNodeKnewIsRecordedLateInTheAttemptAnotherNodeTookOver() throws Exception {
        String sameHost = job();
        String otherHost = job();
        Instant exited = Instant.now().minus(Duration.ofMinutes(3)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Path log = dir.resolve("logs/attempt-1.log");
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-2b");
        assertThat(store.ledger().startAttempt(sameHost, "node-2b")).isEqualTo(1);
        assertThat(store.ledger().startAttempt(otherHost, "node-2b")).isEqualTo(1);
        stop.add(sameHost, 1, new StopsNotRecorded.Known(org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0,
                exited, log));
        stop.add(otherHost, 1, new StopsNotRecorded.Known(org.buildhook.runner.exec.JobOutcome.Result.FAILED, 3,
                exited, null));
        sweptWhileItsNodeRuns(sameHost, "node-3");
        assertThat(store.ledger().startAttempt(sameHost, "node-3")).isEqualTo(2);
        assertThat(store.ledger().finishAttempt(sameHost, 2, new org.buildhook.runner.exec.JobOutcome(
                org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, exited.plusSeconds(30),
                exited.plusSeconds(40), "exited with 0", null, false), org.buildhook.runner.store.JobState.SUCCEEDED))
                .isTrue();
        assertThat(store.ledger().startAttempt(otherHost, "node-1")).isEqualTo(2); // still running there
        assertThat(store.job(sameHost).orElseThrow().attempts().get(0).message()).contains(
                org.buildhook.runner.store.ExecutionLedger.NONE_LEFT);
        assertThat(deaths(otherHost)).as("the other host's guess").containsExactly(1, null);
        String jobMessage = store.job(sameHost).orElseThrow().job().message();

        new LeftoverSweep(store.ledger(), "node-2b", new StopsNotRecorded(file, "node-2b")).sweepDeadNodes();

        var detail = store.job(sameHost).orElseThrow();
        var first = detail.attempts().get(0);
        assertThat(first.outcome()).as("%s", first).isEqualTo(org.buildhook.runner.store.AttemptOutcome.SUCCEEDED);
        assertThat(first.exitCode()).isZero();
        assertThat(first.endedAt()).as("when the command exited").isEqualTo(exited);
        assertThat(first.logPath()).isEqualTo(log.toString());
        assertThat(first.node()).isEqualTo("node-2b");
        assertThat(first.message()).isEqualTo("exited with 0 at " + exited + "; recorded late, at the next start of"
                + " node node-2b, which was stopped before it could record it (the store could not be reached);"
                + " meanwhile another node took the job over (its node was taken for gone) and ran it again: attempt 2"
                + " on node node-3");
        assertThat(detail.attempts().get(1).outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.SUCCEEDED);
        assertThat(detail.job().state()).isEqualTo(org.buildhook.runner.store.JobState.SUCCEEDED);
        assertThat(detail.job().message()).as("the job as its later attempt made it").isEqualTo(jobMessage);
        assertThat(org.buildhook.runner.store.Job.interrupted(detail.attempts())).isZero();
        assertThat(store.interruptedAttempts(List.of(sameHost, otherHost))).as("no interrupted attempt").isEmpty();

        var other = store.job(otherHost).orElseThrow();
        assertThat(other.attempts().get(0).outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.FAILED);
        assertThat(other.attempts().get(0).exitCode()).isEqualTo(3);
        assertThat(other.attempts().get(0).message()).startsWith("exited with 3 at " + exited + "; recorded late")
                .endsWith("attempt 2 on node node-1");
        assertThat(deaths(otherHost)).as("no death (nor stop): it ended by itself").containsExactly(null, null);
        assertThat(other.job().state()).as("still running on node-1, not touched")
                .isEqualTo(org.buildhook.runner.store.JobState.RUNNING);
        assertThat(other.attempts().get(1).outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.RUNNING);
    }

    /**
     * cluster27 F11, the job not run again yet: another node's sweep recorded the attempt cut short and queued the job
     * again, and the stopped node's start comes before any later attempt: the exit it knew is recorded as the
     * attempt's outcome to conclude from ({@link org.buildhook.runner.store.ExecutionLedger#decided}), so the next
     * pick ends the job from it instead of running the command again. Before, nothing was recorded.
     */
    @Test
    void anExitTheStoppedNodeKnewOfAnAttemptCutShortIsConcludedFromBeforeTheJobRunsAgain() throws Exception {
        String jobId = job();
        Instant exited = Instant.now().minus(Duration.ofMinutes(3)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        assertThat(store.ledger().startAttempt(jobId, "node-2b")).isEqualTo(1);
        new StopsNotRecorded(file, "node-2b").add(jobId, 1, new StopsNotRecorded.Known(
                org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, exited, null));
        sweptWhileItsNodeRuns(jobId, "node-3");
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(org.buildhook.runner.store.JobState.QUEUED);

        new LeftoverSweep(store.ledger(), "node-2b", new StopsNotRecorded(file, "node-2b")).sweepDeadNodes();

        var decided = store.ledger().decided(jobId, 1);
        assertThat(decided).as("the next pick concludes from it").isPresent();
        assertThat(decided.get().result()).isEqualTo(org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED);
        assertThat(decided.get().exitCode()).isZero();
        assertThat(decided.get().endedAt()).isEqualTo(exited);
    }

    /**
     * stopnote44: a pick of this node looks first at what its last stop kept of the picked job
     * ({@link LeftoverSweep#beforePick}), as the start's sweep does for every job, in case that sweep could not reach
     * the store: the exit kept of the job's attempt is recorded for the pick to conclude from, and a death another
     * node recorded of an attempt that stop cut short is taken back; nothing of another job. No store call for a job
     * the file does not name, nor again for one done (the store closed here: any call would throw).
     */
    @Test
    void aPickRecordsWhatTheLastStopKeptOfItsJobOnly() throws Exception {
        String kept = job();
        String other = job();
        String cut = job();
        Instant exited = Instant.now().minus(Duration.ofMinutes(3)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-2b");
        for (String jobId : List.of(kept, other, cut)) {
            assertThat(store.ledger().startAttempt(jobId, "node-2b")).isEqualTo(1);
        }
        stop.add(kept, 1, new StopsNotRecorded.Known(org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, exited,
                null));
        stop.add(other, 1, new StopsNotRecorded.Known(org.buildhook.runner.exec.JobOutcome.Result.FAILED, 3, exited,
                null));
        stop.add(cut, 1);
        assertThat(store.ledger().startAttempt(cut, "node-3")).as("taken over on another host").isEqualTo(2);
        assertThat(deaths(cut)).as("its guess").containsExactly(1, null);
        LeftoverSweep started = new LeftoverSweep(store.ledger(), "node-a", new StopsNotRecorded(file, "node-a"));

        started.beforePick(kept);
        started.beforePick(cut);

        var decided = store.ledger().decided(kept, 1);
        assertThat(decided).as("the pick concludes from it").isPresent();
        assertThat(decided.get().result()).isEqualTo(org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED);
        assertThat(decided.get().exitCode()).isZero();
        assertThat(store.ledger().decided(other, 1)).as("another job's, left to its own pick or the sweep").isEmpty();
        assertThat(deaths(cut)).as("a stop, not a death").containsExactly(0, null);
        store.close();
        store = null;
        started.beforePick(kept);
        started.beforePick(cut);
        started.beforePick("01JNOTNAMEDINTHEFILE00000");
    }

    /**
     * cluster27 F4/F11, the node stayed up: cut off from the store, its command exited 0, another node took the job
     * over and ran it again; once the store answers it records its exit over the other node's guess, and says that it
     * is late and that the job ran again, as a stopped node's next start does. Before, the attempt said only "exited
     * with 0" beside a second run, with nothing to tell why.
     */
    @Test
    void anExitRecordedByItsNodeAfterATakeOverSaysItIsLateAndThatTheJobRanAgain() throws Exception {
        String jobId = job();
        Instant exited = Instant.now().minus(Duration.ofMinutes(3)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        assertThat(store.ledger().startAttempt(jobId, "node-2")).isEqualTo(1);
        assertThat(store.ledger().startAttempt(jobId, "node-1b")).isEqualTo(2); // its guess: a death
        assertThat(deaths(jobId)).containsExactly(1, null);

        assertThat(store.ledger().finishAttempt(jobId, 1, new org.buildhook.runner.exec.JobOutcome(
                org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, exited.minusSeconds(8), exited,
                "exited with 0", null, false), org.buildhook.runner.store.JobState.SUCCEEDED))
                .as("a later attempt started").isFalse();

        var detail = store.job(jobId).orElseThrow();
        var first = detail.attempts().get(0);
        assertThat(first.outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.SUCCEEDED);
        assertThat(first.endedAt()).isEqualTo(exited);
        assertThat(first.message()).isEqualTo("exited with 0; recorded late, by its node node-2 once the store answered"
                + " again; meanwhile another node took the job over (its node was taken for gone) and ran it again:"
                + " attempt 2 on node node-1b");
        assertThat(deaths(jobId)).containsExactly(null, null);
        assertThat(detail.job().state()).as("the job is node-1b's").isEqualTo(org.buildhook.runner.store.JobState.RUNNING);
    }

    /**
     * tryout45 F6: node-2 frozen past the dead-node limit, a node of its host swept its attempt (killed the command it
     * left, recorded that) and ran the job again; thawed, node-2 saw its command end with 137, that sweep's SIGKILL, and
     * recorded "exited with 137 … recorded late" over the sweep's record. The first record stays; the job is node-1b's.
     */
    @Test
    void aSweepsRecordOfWhatItKilledStaysOverTheEndItsNodeSawAfterIt() throws Exception {
        String jobId = job();
        assertThat(store.ledger().startAttempt(jobId, "node-2")).isEqualTo(1);
        String swept = sweptByAnotherNode(jobId);
        assertThat(store.ledger().startAttempt(jobId, "node-1b")).as("run again").isEqualTo(2);

        assertThat(store.ledger().finishAttempt(jobId, 1, killedBySweep(), org.buildhook.runner.store.JobState.FAILED))
                .as("not the job's latest").isFalse();

        var detail = store.job(jobId).orElseThrow();
        var first = detail.attempts().get(0);
        assertThat(first.outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.INTERRUPTED);
        assertThat(first.exitCode()).isNull();
        assertThat(first.message()).isEqualTo(swept);
        assertThat(detail.job().state()).as("the job is node-1b's").isEqualTo(org.buildhook.runner.store.JobState.RUNNING);
        assertThat(detail.job().attempts()).isEqualTo(2);
    }

    /**
     * tryout45 F6, before the taker's next start: the sweep put the job back in its place ({@code QUEUED}, attempt 1
     * still its latest). The thawed node's view of the end neither replaces the sweep's record nor ends the job
     * {@code FAILED} (which left the job's execution to start nothing: the job was final).
     */
    @Test
    void theEndItsNodeSawAfterASweepDoesNotEndTheJobThatSweepPutBack() throws Exception {
        String jobId = job();
        assertThat(store.ledger().startAttempt(jobId, "node-2")).isEqualTo(1);
        String swept = sweptByAnotherNode(jobId);

        assertThat(store.ledger().finishAttempt(jobId, 1, killedBySweep(), org.buildhook.runner.store.JobState.FAILED))
                .as("another node recorded its end").isFalse();

        var detail = store.job(jobId).orElseThrow();
        assertThat(detail.attempts()).singleElement().satisfies(first -> {
            assertThat(first.outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.INTERRUPTED);
            assertThat(first.message()).isEqualTo(swept);
        });
        assertThat(detail.job().state()).as("back in its place, to run again")
                .isEqualTo(org.buildhook.runner.store.JobState.QUEUED);
        assertThat(detail.job().exitCode()).isNull();
    }

    /** Attempt 1 of {@code jobId} ended by a sweep of node-1b, as LeftoverSweep records it; its message. */
    private String sweptByAnotherNode(String jobId) throws InterruptedException {
        String message = "its node node-2 stopped heart-beating before the attempt's end was recorded; node node-1b"
                + " killed what it left: sh (pid 4242); run again";
        assertThat(store.ledger().interruptLeftover(jobId, 1, () -> message)).contains(message);
        return message;
    }

    /** What the thawed node saw: its command killed (by that sweep), as an exit of 137. */
    private static org.buildhook.runner.exec.JobOutcome killedBySweep() {
        Instant now = Instant.now();
        return new org.buildhook.runner.exec.JobOutcome(org.buildhook.runner.exec.JobOutcome.Result.FAILED, 137,
                now.minusSeconds(30), now, "exited with 137", null, false);
    }
}
