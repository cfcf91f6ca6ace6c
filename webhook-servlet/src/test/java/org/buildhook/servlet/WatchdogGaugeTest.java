package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.buildhook.servlet.config.ConfigException;
import org.buildhook.servlet.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code runner.watchdog}: on PostgreSQL a node runs its watchdog process and says so in
 * {@code buildhook_watchdog_up}; with {@code off}, or on SQLite, there is none (and no gauge).
 */
class WatchdogGaugeTest {

    @TempDir
    Path dir;

    private static final PostgresSchemas PG = new PostgresSchemas();

    @org.junit.jupiter.api.AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @Test
    void aPostgresNodeRunsItsWatchdogAndShowsItAsAGauge() throws Exception {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nstore: {url: '" + postgresUrl()
                + "'}\n");
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            await().atMost(Duration.ofMinutes(2)).until(() -> BuildhookMetricsTest.value(app.metrics().scrape(),
                    "buildhook_watchdog_up") == 1.0);
            assertThat(watchdogs()).isEqualTo(1);
        }
        assertThat(watchdogs()).as("stopped with the application").isZero();
    }

    @Test
    void offMeansNoWatchdogAndNoGauge() throws Exception {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nstore: {url: '" + postgresUrl()
                + "'}\nrunner: {watchdog: off}\n");
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            assertThat(app.metrics().scrape()).doesNotContain("buildhook_watchdog_up");
            assertThat(watchdogs()).isZero();
        }
    }

    @Test
    void aSqliteNodeHasNoWatchdog() throws Exception {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\n");
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            assertThat(app.metrics().scrape()).doesNotContain("buildhook_watchdog_up");
            assertThat(watchdogs()).isZero();
        }
    }

    @Test
    void anUnknownModeIsRefusedAtItsLine() throws Exception {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrunner:\n  watchdog: on\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(file)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("buildhook.yaml:3:")
                .hasMessageContaining("runner.watchdog: expected auto (a watchdog process beside each node on PostgreSQL)"
                        + " or off, got 'on'");
    }

    /** The watchdog processes this JVM started that still run. */
    private static long watchdogs() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                .filter(c -> c.info().arguments().map(a -> String.join(" ", a)).orElse("")
                        .contains("org.buildhook.runner.exec.NodeWatchdog"))
                .count();
    }

    private static String postgresUrl() throws Exception {
        return PG.newSchemaUrl();
    }
}
