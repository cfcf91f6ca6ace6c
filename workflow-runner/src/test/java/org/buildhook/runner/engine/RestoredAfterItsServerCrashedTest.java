package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.AttemptMarker;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * tryout58 F1: the docs' restore of a SQLite backup taken while a job ran, into an empty data folder on the same host,
 * after the server that wrote it was killed -9 (gone for good). The first run's command lives on; it carries the
 * attempt's {@code BUILDHOOK_ATTEMPT} but the original file's {@code BUILDHOOK_STORE} (same installation, another
 * inode). The restored server said "another buildhook serves a copy … left alone", then "none of its processes was
 * found … run again", and ran the job beside its first run. Now the processes of a copy whose server
 * ({@code BUILDHOOK_SERVER}) is gone are the attempt's leftovers, killed before the job runs again; those whose server
 * runs (a real {@code sleep} stands for it), or that name none (started by an older buildhook), are left alone and the
 * job waits until they are gone. The original runs in a JVM of its own, its job a real command; real SQLite.
 */
class RestoredAfterItsServerCrashedTest {

    @TempDir
    Path dir;
    private Path events;
    private Path go;
    private final List<Process> started = new ArrayList<>();
    private final String before = AttemptMarker.servedStore();
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger sweep = (Logger) LoggerFactory.getLogger(LeftoverSweep.class);
    private final Logger task = (Logger) LoggerFactory.getLogger(JobTask.class);
    private final Level taskWas = task.getLevel();

    /** The copy's dead-node limit (4 × 200 ms) passes at once: its pick of the job comes soon after its start. */
    /** AttemptMarker.SERVER_VARIABLE, by its name: this test compiles, and fails, before it existed. */
    private static final String SERVER = "BUILDHOOK_SERVER";

    private static final EngineConfig FAST = new EngineConfig("restored", 2, Duration.ofMillis(250),
            Duration.ofMillis(200), 4, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(200));

    @BeforeEach
    void listen() {
        log.start();
        sweep.addAppender(log);
        task.addAppender(log);
        task.setLevel(Level.DEBUG);
    }

    @AfterEach
    void end() throws Exception {
        sweep.detachAppender(log);
        task.detachAppender(log);
        task.setLevel(taskWas);
        started.forEach(Process::destroyForcibly);
        AttemptMarker.serveStore(before);
    }

    @Test
    void theFirstRunsProcessesAreKilledBeforeTheJobRunsAgainNeverBesideThem() throws Exception {
        long first = crashedWhileTheJobRan();

        try (Copy copy = new Copy()) {
            // The start's sweep is over when the start returns: the first run is ended before any pick.
            assertThat(ProcessIdentity.of(first)).as("the first run's command after the copy's start")
                    .matches(p -> p == null || !p.isAlive());
            await().atMost(Duration.ofMinutes(5)).until(() -> starts().size() == 2);
            assertThat(attemptMessage(1)).contains("killed what it left: ").contains(first + " sh");
            assertThat(said()).noneMatch(m -> m.contains("none of its processes was found"));
            copy.finish();
        }
        assertThat(Files.readAllLines(events)).doesNotContain("beside job-slow-0");
        assertThat(environmentOf(first).get(SERVER)).as("the first run's server").isNotNull();
    }

    @Test
    void processesOfTheAttemptWhoseServerRunsHoldTheJobUntilTheyAreGone() throws Exception {
        Process server = sleep(Map.of());
        ProcessIdentity live = await().atMost(Duration.ofMinutes(1)).until(() -> ProcessIdentity.of(server.pid()),
                p -> p != null && p.startTicks() >= 0);
        heldUntilGone(live.pid() + ":" + live.startTicks() + "/"
                + NodeIdentity.pidNamespace(NodeIdentity.current().bootId()), "its server (pid " + server.pid()
                + ") still runs");
        assertThat(server.isAlive()).as("the other server, left alone").isTrue();
    }

    @Test
    void processesOfTheAttemptThatNameNoServerHoldTheJobUntilTheyAreGone() throws Exception {
        heldUntilGone(null, "its server is not named");
    }

    /**
     * The first run's command ended by the test, a stand-in carrying its marker and store, and {@code server} as
     * {@code BUILDHOOK_SERVER} (none when null), left alive: the copy leaves it alone and does not run the job while it
     * lives; once it is ended, the job runs.
     */
    private void heldUntilGone(String server, String words) throws Exception {
        long first = crashedWhileTheJobRan();
        Map<String, String> env = environmentOf(first);
        ProcessHandle.of(first).ifPresent(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
        Map<String, String> marked = new java.util.HashMap<>(Map.of(AttemptMarker.VARIABLE,
                env.get(AttemptMarker.VARIABLE), AttemptMarker.STORE_VARIABLE, env.get(AttemptMarker.STORE_VARIABLE)));
        if (server != null) {
            marked.put(SERVER, server);
        }
        Process standIn = sleep(marked);

        try (Copy copy = new Copy()) {
            assertThat(attemptOutcome(1)).isEqualTo("RUNNING");
            // Revived after the dead-node limit, its pick puts it back while the stand-in lives.
            await().atMost(Duration.ofMinutes(2)).until(() -> said().stream().anyMatch(m -> m.contains(
                    "back in the queue for") && m.contains("processes of its attempt run for another buildhook")));
            assertThat(said()).filteredOn(m -> m.contains("not run again while processes of it run")).singleElement()
                    .satisfies(m -> assertThat(m).contains(standIn.pid() + " sleep").contains(words)
                            .contains("kill " + standIn.pid()));
            assertThat(starts()).hasSize(1);
            assertThat(standIn.isAlive()).as("left alone").isTrue();

            standIn.destroyForcibly().waitFor();
            await().atMost(Duration.ofMinutes(5)).until(() -> starts().size() == 2);
            assertThat(said()).anyMatch(m -> m.contains("the processes another buildhook server ran of it are gone"));
            copy.finish();
        }
    }

    /**
     * The original server (a JVM of its own, on {@code dir/data}) runs the job; a backup is taken while its command
     * runs; the server is killed -9, its command living on; the backup is restored as {@code dir/restored/buildhook.db}.
     *
     * @return the pid of the first run's command
     */
    private long crashedWhileTheJobRan() throws Exception {
        events = dir.resolve("events");
        go = dir.resolve("go");
        // "beside": started while an earlier run of the same job still ran.
        Path script = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\n"
                + "if [ -f " + dir.resolve("pid") + " ] && [ -d /proc/$(cat " + dir.resolve("pid") + ") ]"
                + " && ! grep -q '^State:.*Z' /proc/$(cat " + dir.resolve("pid") + ")/status; then echo \"beside $1\" >> "
                + events + "; fi\n"
                + "echo $$ > " + dir.resolve("pid") + "\n"
                + "tr '\\0' '\\n' < /proc/$$/environ > " + dir.resolve("env") + "-$$\n"
                + "echo \"start $1 $$\" >> " + events + "\n"
                + "while [ ! -f " + go + " ]; do [ -d " + go.getParent() + " ] || exit 1; sleep 0.05; done\n"
                + "echo \"end $1\" >> " + events + "\n");
        StoreConfig original = StoreConfig.sqlite(dir.resolve("data"));
        NodeProcess node = NodeProcess.start(dir, "original", "url=" + original.url(), "data=" + original.dataDir(),
                "slow=1", "slowScript=" + script, "label=job", "heartbeat=1000", "missed=20");
        long first;
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") && starts().size() == 1
                    || !node.process.isAlive());
            assertThat(node.process.isAlive()).as("the original node: %s", Files.readString(dir.resolve("original.err")))
                    .isTrue();
            first = Long.parseLong(starts().get(0).split(" ")[2]);
            await().atMost(Duration.ofMinutes(1)).until(() -> "RUNNING".equals(outcome(original, 1)));
            Path copy = Files.createDirectories(dir.resolve("restored"));
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + original.dataDir().resolve("buildhook.db"));
                    Statement s = c.createStatement()) {
                s.executeUpdate("backup to " + copy.resolve("buildhook.db"));
            }
        } finally {
            node.kill();
        }
        assertThat(ProcessIdentity.of(first)).as("the first run, after its server's kill -9")
                .matches(p -> p != null && p.isAlive());
        assertThat(environmentOf(first)).containsKey(AttemptMarker.STORE_VARIABLE);
        return first;
    }

    /** The restored copy's server, in this JVM: started at its making; {@link #finish} lets its run end. */
    private final class Copy implements AutoCloseable {
        final Store store = Store.open(StoreConfig.sqlite(dir.resolve("restored")));
        final CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(
                dir.resolve("restored").resolve("logs")));
        final JobEngine engine = JobEngine.create(store, launcher, FAST);

        Copy() {
            engine.start();
        }

        void finish() throws Exception {
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(5)).until(() -> "SUCCEEDED".equals(attemptOutcome(2)));
        }

        @Override
        public void close() throws Exception {
            try {
                engine.stop();
            } finally {
                launcher.close();
                store.close();
            }
        }
    }

    private Process sleep(Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "sleep", "300");
        builder.environment().clear();
        builder.environment().putAll(env);
        Process p = builder.start();
        started.add(p);
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(Path.of("/proc/" + p.pid() + "/comm"))
                .strip().equals("sleep"));
        return p;
    }

    private List<String> starts() throws Exception {
        return Files.exists(events) ? Files.readAllLines(events).stream().filter(l -> l.startsWith("start ")).toList()
                : List.of();
    }

    private List<String> said() {
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    private Map<String, String> environmentOf(long pid) throws Exception {
        Map<String, String> env = new java.util.HashMap<>();
        for (String line : Files.readAllLines(dir.resolve("env-" + pid))) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    private String attemptOutcome(int attempt) throws Exception {
        return outcome(StoreConfig.sqlite(dir.resolve("restored")), attempt);
    }

    private String attemptMessage(int attempt) throws Exception {
        return column(StoreConfig.sqlite(dir.resolve("restored")), attempt, "message");
    }

    private static String outcome(StoreConfig store, int attempt) throws Exception {
        return column(store, attempt, "outcome");
    }

    private static String column(StoreConfig store, int attempt, String column) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store.dataDir().resolve("buildhook.db"));
                Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT " + column + " FROM job_attempts WHERE attempt = "
                        + attempt)) {
            return rs.next() ? rs.getString(1) : "";
        }
    }
}
