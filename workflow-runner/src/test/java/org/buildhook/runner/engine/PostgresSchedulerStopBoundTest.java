package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stop's bounds for the jobs' threads (JobEngine's own wait, then db-scheduler's {@code shutdownMaxWait}): after
 * the grace period, the stop waits for the jobs' threads, which record what their attempts came to, at most {@code
 * runner.kill-grace} + 3 × {@code store.connect-timeout} more (its own wait, the kill-grace and two connection waits,
 * then db-scheduler's twice its bound; docs/storage.md, "Graceful shutdown"; the systemd unit's {@code TimeoutStopSec}
 * is set above it), not db-scheduler's default of 30 minutes. Here the job's
 * bookkeeping hangs for real: another session of PostgreSQL holds its rows' locks while the node stops. The bound
 * is read from what db-scheduler says it waits for, not from the machine's clock: a removed or changed bound
 * fails the test however fast the machine is.
 */
class PostgresSchedulerStopBoundTest {

    @TempDir
    Path dir;

    @Test
    void aStopWhoseJobsBookkeepingHangsWaitsForTheSchedulerAtMostThreeConnectionWaitsAfterTheGrace() throws Exception {
        StoreConfig config = rowsHeldForEver();
        StopLog log = new StopLog();
        try (log; Store store = Store.open(config);
             CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")))) {
            JobEngine engine = started(store, launcher, "bound-node");
            Path started = dir.resolve("started");
            PlannedJob sleeper = new PlannedJob("hung-bookkeeping", "name: hung-bookkeeping", List.of("/bin/sh", "-c",
                    "echo $$ > " + started + "; exec sleep 600"), Map.of(), null, false, Duration.ofMinutes(30), 0,
                    Duration.ofMillis(100), 0, null);
            String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(sleeper)).jobIds().get(0);
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(started) && engine.runningCount() == 1);

            // Another session holds the job's rows: recording its interrupted attempt waits for them.
            try (Connection other = holdingTheRowsOf(config, jobId)) {
                CompletableFuture<Void> stop = CompletableFuture.runAsync(engine::stop);
                // Only tells a stop that ends from one that hangs (db-scheduler's default bound is 2 × 30 minutes).
                await().atMost(Duration.ofMinutes(5)).until(stop::isDone);
                stop.get();
                other.rollback();
            }
        }
        List<String> said = log.said();
        // After the grace the stop waits itself for the kill-grace (10 s, LauncherConfig's default) + 2 × 2 s, two
        // connection waits, then db-scheduler twice its bound at most (before and after interrupting the jobs' threads),
        // 2 × 1 s: the third connection wait. Before (bounds20 B4) db-scheduler's bound counted the grace again and was
        // 1 s + 3 × 2 s; then (review20) it left out the kill-grace, 2 × 3 s, and interrupted the thread of a job that
        // ignores SIGTERM before its SIGKILL; then it was half of all (2 × 8 s), which still did for a kill-grace above
        // three connection waits (StopKillSequenceTest).
        // Its words after the bound depend on whether SIGTERM had ended the sleep before the stop looked (tryout28 F9:
        // then "for what became of 1 job(s) … to be recorded"); the bound is what is tested here.
        assertThat(said).as("the stop's own bound").anyMatch(m -> m.startsWith("stopping: waiting up to 14s for ")
                && m.contains("1 job(s) of node bound-node"));
        assertThat(said).as("the scheduler's stop bound").contains("Letting running executions finish. Will wait up to 2x"
                + Duration.ofSeconds(1) + ".");
        // The bookkeeping that hung was what the stop waited for, and its own bound ended it.
        assertThat(said).as("the hung call was ended by the store's bound").anyMatch(m -> m.startsWith(
                "stopped waiting for the store: it left ") && m.contains(" unanswered for 2000 ms after the grace period"));
    }

    /**
     * tryout28 F9: a stop whose only job's command had exited (its recording waiting for the store) said "waiting up
     * to 20s for 1 job(s) … to end (a process tree that outlives SIGTERM gets SIGKILL after runner.kill-grace, 10s)",
     * of a command gone long before. It says what it awaits: the recording.
     */
    @Test
    void aStopWhoseJobsCommandHasEndedSaysItWaitsOnlyForItsRecording() throws Exception {
        StoreConfig config = rowsHeldForEver();
        StopLog log = new StopLog();
        try (log; Store store = Store.open(config);
             CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")))) {
            JobEngine engine = started(store, launcher, "ended-node");
            Path go = dir.resolve("go");
            String jobId = runningUntil(go, store, engine);

            // Another session holds the job's rows: recording the command's exit waits for them.
            try (Connection other = holdingTheRowsOf(config, jobId)) {
                Files.createFile(go);
                // Its command has ended (no longer running here); its thread waits for the rows to record it.
                await().atMost(Duration.ofMinutes(2)).until(() -> engine.runningCount() == 0);
                CompletableFuture<Void> stop = CompletableFuture.runAsync(engine::stop);
                await().atMost(Duration.ofMinutes(2)).until(() -> log.said().stream()
                        .anyMatch(m -> m.startsWith("stopping: waiting up to")));
                other.rollback();
                await().atMost(Duration.ofMinutes(5)).until(stop::isDone);
                stop.get();
            }
        }
        assertThat(log.said()).filteredOn(m -> m.startsWith("stopping: waiting up to")).singleElement().asString()
                .isEqualTo("stopping: waiting up to 14s for what became of 1 job(s) of node ended-node to be recorded"
                        + " (their commands have ended)");
    }
    /**
     * tryout31 F6: a stop with a running job and one whose command had ended said "… to end (…) and for what became
     * of them to be recorded (1 of them only that: their commands have ended)". It says it plainly: how many it waits
     * for, and how many of them have ended and wait only for their outcome to be recorded. The running one ignores
     * SIGTERM, so it is still running when the stop looks (its SIGKILL comes after the kill-grace, 10 s).
     */
    @Test
    void aStopWithARunningJobAndOneWhoseCommandHasEndedSaysPlainlyWhatEachWaitsFor() throws Exception {
        StoreConfig config = rowsHeldForEver();
        StopLog log = new StopLog();
        try (log; Store store = Store.open(config);
             CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")))) {
            JobEngine engine = started(store, launcher, "mixed-node");
            Path started = dir.resolve("started");
            Path go = dir.resolve("go");
            Path running = dir.resolve("running");
            PlannedJob ends = new PlannedJob("ends", "name: ends", List.of("/bin/sh", "-c", "echo $$ > " + started
                    + "; while [ ! -e " + go + " ]; do sleep 0.1; done"), Map.of(), null, false, Duration.ofMinutes(30),
                    0, Duration.ofMillis(100), 0, null);
            PlannedJob stubborn = new PlannedJob("stubborn", "name: stubborn", List.of("/bin/sh", "-c", "trap '' TERM;"
                    + " echo $$ > " + running + "; while true; do sleep 0.1; done"), Map.of(), null, false,
                    Duration.ofMinutes(30), 0, Duration.ofMillis(100), 0, null);
            List<String> ids = store.accept(Plans.delivery(Plans.fixture()), List.of(ends, stubborn)).jobIds();
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(started) && Files.exists(running)
                    && engine.runningCount() == 2 && processRecorded(store, ids.get(0))
                    && processRecorded(store, ids.get(1)));

            // Another session holds the ended job's rows: recording its command's exit waits for them.
            try (Connection other = holdingTheRowsOf(config, ids.get(0))) {
                Files.createFile(go);
                await().atMost(Duration.ofMinutes(2)).until(() -> engine.runningCount() == 1);
                CompletableFuture<Void> stop = CompletableFuture.runAsync(engine::stop);
                await().atMost(Duration.ofMinutes(2)).until(() -> log.said().stream()
                        .anyMatch(m -> m.startsWith("stopping: waiting up to")));
                other.rollback();
                await().atMost(Duration.ofMinutes(5)).until(stop::isDone);
                stop.get();
            }
        }
        assertThat(log.said()).filteredOn(m -> m.startsWith("stopping: waiting up to")).singleElement().asString()
                .isEqualTo("stopping: waiting up to 14s for 2 job(s) of node mixed-node to end and their outcomes to be"
                        + " recorded (a process tree that outlives SIGTERM gets SIGKILL after runner.kill-grace, 10s);"
                        + " 1 of them has ended already and waits only for its outcome to be recorded");
    }

    /**
     * tryout29 F5: a stop whose only job's command had ended (its recording waiting for the store) waited the whole
     * runner.shutdown-grace in silence (its first line speaks of running jobs), then said "waiting up to 20s". The
     * grace still waits for the recording (docs/storage.md, "Graceful shutdown": an outcome is not dropped for a store
     * away for a moment), but says so at once, and the stop ends as soon as it is recorded. The grace here is 10
     * minutes: the line is awaited while the stop is still in its grace, so a line said only at the grace's end fails.
     */
    @Test
    void aStopWhoseJobsCommandHasEndedSaysAtOnceThatItsGraceWaitsForTheRecording() throws Exception {
        StoreConfig config = rowsHeldForEver();
        StopLog log = new StopLog();
        String line = "stopping: node grace-node waits up to 10m (runner.shutdown-grace) for what became of 1 job(s)"
                + " whose commands have ended to be recorded (the store has not taken it yet; it is tried again"
                + " meanwhile, and the stop goes on as soon as it is recorded)";
        try (log; Store store = Store.open(config);
             CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")))) {
            JobEngine engine = started(store, launcher, "grace-node", Duration.ofMinutes(10));
            Path go = dir.resolve("go");
            String jobId = runningUntil(go, store, engine);

            try (Connection other = holdingTheRowsOf(config, jobId)) {
                Files.createFile(go);
                await().atMost(Duration.ofMinutes(2)).until(() -> engine.runningCount() == 0);
                CompletableFuture<Void> stop = CompletableFuture.runAsync(engine::stop);
                await().atMost(Duration.ofMinutes(2)).until(() -> log.said().contains(line));
                assertThat(stop).as("still in its grace period").isNotDone();
                other.rollback();
                // Recorded: the grace ends with it, not after its 10 minutes.
                await().atMost(Duration.ofMinutes(5)).until(stop::isDone);
                stop.get();
            }
            assertThat(store.ledger().job(jobId).orElseThrow().state().name()).isEqualTo("SUCCEEDED");
        }
        assertThat(log.said()).filteredOn(m -> m.startsWith("stopping: waiting up to")).isEmpty();
    }

    /**
     * A store whose sessions wait for a row lock as long as it is held: such rows stand for a call the database leaves
     * unanswered (a partition, a hung server); store.url's lock_timeout wins over the pools' store.connect-timeout (2 s
     * here), which would end a lock's wait as a lock (PostgresLockTimeoutTest).
     */
    private StoreConfig rowsHeldForEver() {
        return rowsHeldForEver(dir);
    }

    /** As {@link #rowsHeldForEver()}, its data folder {@code dir/data}. */
    static StoreConfig rowsHeldForEver(Path dir) {
        return StoreConfig.of(TestStores.postgres(dir.resolve("data")).url() + "&options=-c%20lock_timeout%3D0",
                dir.resolve("data")).withConnectTimeout(Duration.ofSeconds(2));
    }

    /** A started engine of node {@code node}: grace 1 s; 1 s × 1000 heartbeats: no self-fencing, whatever the stalls. */
    static JobEngine started(Store store, CommonsExecLauncher launcher, String node) {
        return started(store, launcher, node, Duration.ofSeconds(1));
    }

    /** As {@link #started(Store, CommonsExecLauncher, String)}, with the grace period {@code grace}. */
    private static JobEngine started(Store store, CommonsExecLauncher launcher, String node, Duration grace) {
        JobEngine engine = JobEngine.create(store, launcher, new EngineConfig(node, 2, Duration.ofMillis(250),
                Duration.ofSeconds(1), 1000, grace, Duration.ofMillis(100), Duration.ofMillis(200)));
        engine.start();
        return engine;
    }

    /**
     * Accepts a job {@code ends} whose command runs until {@code go} exists, then exits 0; returns its id once its
     * command runs on {@code engine} and its process is recorded.
     */
    static String runningUntil(Path go, Store store, JobEngine engine) {
        Path started = go.resolveSibling(go.getFileName() + ".started");
        PlannedJob job = new PlannedJob("ends", "name: ends", List.of("/bin/sh", "-c", "echo $$ > " + started
                + "; while [ ! -e " + go + " ]; do sleep 0.1; done"), Map.of(), null, false, Duration.ofMinutes(30),
                0, Duration.ofMillis(100), 0, null);
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(job)).jobIds().get(0);
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(started) && engine.runningCount() == 1
                && processRecorded(store, jobId));
        return jobId;
    }

    /**
     * Whether the job's command's process is recorded with its attempt: held before, the rows would hold that record
     * (written after the start, on the job's own thread, before it awaits the command) instead of the command's end.
     */
    private static boolean processRecorded(Store store, String jobId) {
        return store.ledger().runningAttempt(jobId).map(a -> a.process() != null).orElse(false);
    }

    /** Another session, in a transaction that holds the rows of job {@code jobId} until it ends. */
    private static Connection holdingTheRowsOf(StoreConfig config, String jobId) throws java.sql.SQLException {
        Connection other = DriverManager.getConnection(config.url());
        other.setAutoCommit(false);
        for (String sql : List.of("SELECT 1 FROM jobs WHERE id = ? FOR UPDATE",
                "SELECT 1 FROM job_attempts WHERE job_id = ? FOR UPDATE")) {
            try (PreparedStatement st = other.prepareStatement(sql)) {
                st.setString(1, jobId);
                st.executeQuery().close();
            }
        }
        return other;
    }
}
