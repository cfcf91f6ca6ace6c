package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * tryout32 F8: a start that upgrades the shared PostgreSQL schema while a node of the older build runs on it (its
 * claim renewed now) says so at WARN, naming that node and the step of deploying.md it breaks; a start that upgrades
 * nothing says nothing of it. node-a's claim is renewed every 100 ms, as a running node's is (the steady engine's
 * dead-node limit is 10 s). The older schema is made by this build's own migration scripts but the newest.
 */
class PostgresOlderNodesAtUpgradeTest {

    @TempDir
    Path dir;

    private static final String FOLDER = "/org/buildhook/runner/store/migrations/postgresql/";

    private static String resource(String name) throws IOException {
        try (InputStream in = PostgresOlderNodesAtUpgradeTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The schema an older build left: every migration script but the newest, with its schema_version row. */
    private static int olderSchema(String url) throws Exception {
        List<String> scripts = Stream.of(resource(FOLDER + "index.txt").split("\n")).map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL,"
                    + " applied_at BIGINT NOT NULL)");
            for (int v = 1; v < scripts.size(); v++) {
                for (String sql : resource(FOLDER + scripts.get(v - 1)).split(";\\s*\\n")) {
                    if (!sql.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("--"))) {
                        s.execute(sql);
                    }
                }
                s.execute("INSERT INTO schema_version VALUES (" + v + ", 'older', 0)");
            }
        }
        return scripts.size() - 1;
    }

    @Test
    void aStartThatUpgradesTheSchemaUnderARunningNodeOfTheOlderBuildWarnsNamingIt() throws Exception {
        String url = TestStores.postgresUrl();
        int older = olderSchema(url);
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("INSERT INTO node_leases (node_id, instance, host, boot_id, node_pid, node_started, acquired_at,"
                    + " renewed_at) VALUES ('node-a', 'instance-a', 'old-host', '', 4242, 1,"
                    + " (extract(epoch from clock_timestamp()) * 1000)::bigint - 60000,"
                    + " (extract(epoch from clock_timestamp()) * 1000)::bigint)");
        }
        // node-a is alive: it renews its claim as a running node does, whatever the time the starts below take.
        java.util.concurrent.ScheduledExecutorService heartbeat = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor();
        Connection beating = DriverManager.getConnection(url);
        heartbeat.scheduleWithFixedDelay(() -> {
            try (Statement s = beating.createStatement()) {
                s.executeUpdate("UPDATE node_leases SET renewed_at = (extract(epoch from clock_timestamp()) * 1000)"
                        + "::bigint WHERE node_id = 'node-a'");
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        }, 0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
        Logger logger = (Logger) LoggerFactory.getLogger(JobEngine.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        StoreConfig config = StoreConfig.of(url, dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION,
                Duration.ZERO);
        try {
            for (int start = 1; start <= 2; start++) {
                try (Store store = Store.open(config);
                        CommonsExecLauncher launcher = CommonsExecLauncher.create(
                                LauncherConfig.defaults(dir.resolve("logs")))) {
                    JobEngine engine = JobEngine.create(store, launcher, AbstractEngineTest.steady("node-b"));
                    try {
                        engine.start();
                    } finally {
                        engine.stop();
                    }
                }
            }
        } finally {
            logger.detachAppender(log);
            heartbeat.shutdownNow();
            heartbeat.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
            beating.close();
        }

        List<String> warned = log.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("upgraded the shared store")).toList();
        assertThat(warned).as("once: the second start upgraded nothing").containsExactly("this start upgraded the"
                + " shared store's schema from version " + older + " to " + (older + 1) + " while 1 node(s) ran on it:"
                + " node-a (host old-host, pid 4242); they run an older buildhook, which cannot open the upgraded"
                + " schema (it refuses to start again) and may go on writing to it until it stops: stop them now and"
                + " start them with this build (docs/deploying.md#upgrading, step 4: in a cluster, stop every node"
                + " before the first new one starts)");
    }
}
