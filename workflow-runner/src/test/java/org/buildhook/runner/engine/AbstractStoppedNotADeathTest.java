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
        Process paused = new ProcessBuilder("sleep", "600").start();
        try {
            ranIn(jobId, 1, ProcessIdentity.of(paused.pid()));

            new LeftoverSweep(store.ledger(), "sweeper").beforeRerun(jobId);

            assertThat(store.job(jobId).orElseThrow().attempts().get(0).message())
                    .startsWith("its node paused stopped heart-beating before the attempt's end was recorded");
            assertThat(deaths(jobId)).containsExactly((Object) null);
        } finally {
            paused.destroyForcibly();
        }
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
}
