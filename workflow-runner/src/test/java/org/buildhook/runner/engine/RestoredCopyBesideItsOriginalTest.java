package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout33 F3: a restored copy of a SQLite store (an online {@code .backup}) started on the host where its
 * original still runs, with its own data folder, took the original's node for dead, killed the original's
 * running command and ran the job itself. The original runs here in a JVM of its own, its job a real command;
 * the copy is refused at its start, before anything is swept or run, naming the live server; the original's
 * command is untouched; and that command carries the original store's identity ({@code BUILDHOOK_STORE}), by
 * which no sweep of the copy takes it for its own.
 */
class RestoredCopyBesideItsOriginalTest {

    @TempDir
    Path dir;

    @Test
    void aRestoredCopyStartedBesideItsLiveOriginalIsRefusedAndKillsNothing() throws Exception {
        Path events = dir.resolve("events");
        Path marker = dir.resolve("go");
        Path script = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\nenv > " + dir.resolve("env") + "-$$\n"
                + "echo \"start $1 $$\" >> " + events + "\n"
                + "while [ ! -f " + marker + " ]; do [ -d " + marker.getParent() + " ] || exit 1; sleep 0.05; done\n"
                + "echo \"end $1\" >> " + events + "\n");
        NodeProcess node = NodeProcess.start(dir, "original", "url=" + original().url(),
                "data=" + original().dataDir(), "slow=1", "slowScript=" + script, "label=job", "heartbeat=1000",
                "missed=20");
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") && Files.exists(events)
                    && !Files.readAllLines(events).isEmpty() || !node.process.isAlive());
            assertThat(node.process.isAlive()).as("the original node: %s", Files.readString(dir.resolve("original.err")))
                    .isTrue();
            long command = Long.parseLong(Files.readAllLines(events).get(0).split(" ")[2]);
            assertThat(Files.readString(dir.resolve("env-" + command))).contains("BUILDHOOK_STORE=");

            assertThat(startOn(restoredCopy())).isInstanceOf(RunnerException.class)
                    .hasMessageContaining("is a copy of one still served on this host")
                    .hasMessageContaining("pid " + node.process.pid())
                    .hasMessageContaining("What to do: stop that server first");
            assertThat(ProcessHandle.of(command).map(ProcessHandle::isAlive)).contains(true);
            assertThat(node.process.isAlive()).isTrue();
            Files.createFile(marker);
            await().atMost(Duration.ofMinutes(5)).until(() -> Files.readAllLines(events).contains("end job-slow-0"));
            assertThat(Files.readAllLines(events).stream().filter(l -> l.startsWith("start")).toList()).hasSize(1);
        } finally {
            NodeProcess.continueAndKill(List.of(node));
        }
    }

    /**
     * tryout34 F6: the backup holds no running attempt but a job waiting for its retry (attempt 1 FAILED, recorded by
     * the original's live JVM). Before, the copy started without a word and would run that retry at the same moment
     * as the original. Now refused, naming the attempt, the live server and the job not ended.
     */
    @Test
    void aRestoredCopyHoldingARetryDueBesideItsLiveOriginalIsRefused() throws Exception {
        NodeProcess node = startWithARetryDue("original");
        try {
            assertThat(startOn(restoredCopy())).isInstanceOf(RunnerException.class)
                    .hasMessageContaining("is a copy of one still served on this host")
                    .hasMessageContaining("'s attempt 1 (FAILED) was recorded by node original")
                    .hasMessageContaining("pid " + node.process.pid())
                    .hasMessageContaining("is QUEUED")
                    .hasMessageContaining("What to do: stop that server first");
            assertThat(node.process.isAlive()).isTrue();
            assertThat(Files.readAllLines(dir.resolve("events"))).hasSize(1);
        } finally {
            NodeProcess.continueAndKill(List.of(node));
        }
    }

    /**
     * drill35 F1: the live server has recorded no attempt at all (the backup is taken just after its start; the job
     * not ended, a retry due in an hour, was left by an earlier server of the store, gone since). Before, nothing in
     * the backup named the live server: the copy started beside it and would run that retry at the same moment as
     * the original. Now the store records the JVM serving it at each start, and the copy is refused naming it.
     */
    @Test
    void aBackupTakenBeforeTheLiveServerRecordedAnyAttemptIsRefusedBesideIt() throws Exception {
        startWithARetryDue("earlier").kill();
        NodeProcess node = NodeProcess.start(dir, "original", "url=" + original().url(),
                "data=" + original().dataDir(), "heartbeat=1000", "missed=20");
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") || !node.process.isAlive());
            assertThat(node.process.isAlive()).as("the original node: %s", Files.readString(dir.resolve("original.err")))
                    .isTrue();

            StoreConfig copy = restoredCopy();
            assertThat(attemptAndJob(copy.dataDir().resolve("buildhook.db"))).isEqualTo("FAILED QUEUED");
            assertThat(startOn(copy)).isInstanceOf(RunnerException.class)
                    .hasMessageContaining("is a copy of one still served on this host: the server that served"
                            + " it (pid " + node.process.pid() + ", since ")
                    .hasMessageContaining("is QUEUED")
                    .hasMessageContaining("What to do: stop that server first");
            assertThat(node.process.isAlive()).isTrue();
            assertThat(Files.readAllLines(dir.resolve("events"))).hasSize(1);
        } finally {
            NodeProcess.continueAndKill(List.of(node));
        }
    }

    /**
     * drill35 F2: the server that recorded the store's attempts stopped cleanly but its JVM runs on (a servlet
     * container whose buildhook was undeployed). Before, a server started on the same data folder took that JVM for a
     * live original and was refused; now the stop is recorded in the store, and the start goes on.
     */
    @Test
    void aServerStartedOnTheStoreOfAnUndeployedApplicationWhoseJvmStillRunsStarts() throws Exception {
        NodeProcess container = startWithARetryDue("container", "afterStop=stay");
        try {
            container.process.getOutputStream().close(); // the undeploy: engine and store stopped, the JVM runs on
            await().atMost(Duration.ofMinutes(5)).until(() -> container.printed("STOPPED") || !container.process.isAlive());
            assertThat(container.process.isAlive()).as("the container: %s", Files.readString(dir.resolve("container.err")))
                    .isTrue();

            assertThat(startOn(original())).as("the start on the undeployed application's store").isNull();
            assertThat(container.process.isAlive()).isTrue();
        } finally {
            NodeProcess.continueAndKill(List.of(container));
        }
    }

    /** The copy's dead-node limit (4 × 200 ms) has long passed since the backup's last heartbeat. */
    private static final EngineConfig FAST = new EngineConfig("restored", 2, Duration.ofMillis(250),
            Duration.ofMillis(200), 4, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(200));

    /** The original's store: SQLite in {@code dir/data}. */
    private StoreConfig original() {
        return StoreConfig.sqlite(dir.resolve("data"));
    }

    /**
     * Starts node {@code name} (with {@code more} settings) on the {@link #original()} store with one job whose command
     * notes its start in {@code dir/events} and exits 3, and waits until its attempt 1 FAILED and the job is QUEUED for
     * its retry, the node still running. Kills the node if it does not get there.
     */
    private NodeProcess startWithARetryDue(String name, String... more) throws Exception {
        Path script = Files.writeString(dir.resolve("fail.sh"), "#!/bin/sh\necho \"start $1 $$\" >> "
                + dir.resolve("events") + "\nexit 3\n");
        List<String> settings = new ArrayList<>(List.of("url=" + original().url(), "data=" + original().dataDir(),
                "retryScript=" + script, "label=job", "heartbeat=1000", "missed=20"));
        settings.addAll(List.of(more));
        NodeProcess node = NodeProcess.start(dir, name, settings.toArray(String[]::new));
        try {
            Path db = original().dataDir().resolve("buildhook.db");
            await().atMost(Duration.ofMinutes(5)).ignoreExceptions().until(() -> !node.process.isAlive()
                    || Files.exists(db) && "FAILED QUEUED".equals(attemptAndJob(db)));
            assertThat(node.process.isAlive()).as("the %s node: %s", name, Files.readString(dir.resolve(name + ".err")))
                    .isTrue();
            return node;
        } catch (Exception | AssertionError e) {
            NodeProcess.continueAndKill(List.of(node));
            throw e;
        }
    }

    /**
     * The operator's restore drill: an online backup ({@code .backup}) of the original's store, restored into a data
     * folder of its own, {@code dir/restored}.
     */
    private StoreConfig restoredCopy() throws Exception {
        Path copy = Files.createDirectories(dir.resolve("restored"));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + original().dataDir().resolve("buildhook.db"));
                Statement s = c.createStatement()) {
            s.executeUpdate("backup to " + copy.resolve("buildhook.db"));
        }
        return StoreConfig.sqlite(copy);
    }

    /**
     * Starts an engine ({@link #FAST}, node 'restored') on {@code store}, its logs in the store's data folder, and
     * stops it: what its start threw, or null when it started.
     */
    private static Throwable startOn(StoreConfig store) throws Exception {
        try (Store opened = Store.open(store);
                CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(
                        store.dataDir().resolve("logs")))) {
            JobEngine engine = JobEngine.create(opened, launcher, FAST);
            try {
                engine.start();
                return null;
            } catch (RuntimeException e) {
                return e;
            } finally {
                engine.stop();
            }
        }
    }

    /** The outcome of the store's one attempt and its job's state, space-separated, or "" while there is none. */
    private static String attemptAndJob(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT a.outcome || ' ' || j.state FROM job_attempts a"
                        + " JOIN jobs j ON j.id = a.job_id")) {
            return rs.next() ? rs.getString(1) : "";
        }
    }
}
