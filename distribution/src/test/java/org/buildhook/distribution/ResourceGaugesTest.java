package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.servlet.config.BuildhookConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The per-resource gauge {@code buildhook_resource_units_in_use} of a real server whose rules file is
 * edited while it runs: one gauge per declared resource, registered once (no Micrometer warning about a
 * gauge registered twice), gone when the resource is no longer declared.
 */
class ResourceGaugesTest {

    @TempDir
    Path dir;

    @Test
    void rulesReloadsThatDeclareResourcesGiveOneGaugeEachWithoutAnyWarning() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules: []\n");
        Path config = TestConfig.write(dir, "rules: rules.yaml", TestConfig.LOCAL_SERVER);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
                org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(log);
        BuildhookConfig loaded = TestConfig.load(config);
        try (BuildhookServer server = TestConfig.server(loaded)) {
            server.start();
            int port = server.port();
            assertThat(metrics(port)).doesNotContain("buildhook_resource_units_in_use{");

            Files.writeString(rules, "resources: {boards: 3, phones: 2}\nrules: []\n");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(metrics(port))
                    .contains("buildhook_rules_reloads_total 1.0"));
            for (int i = 0; i < 3; i++) {
                String scrape = metrics(port);
                assertThat(scrape).contains("buildhook_resource_units_in_use{resource=\"boards\"} 0.0",
                        "buildhook_resource_units_in_use{resource=\"phones\"} 0.0");
            }

            Files.writeString(rules, "resources: {boards: 3, lamps: 1}\nrules: []\n");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(metrics(port))
                    .contains("buildhook_rules_reloads_total 2.0"));
            String scrape = metrics(port);
            assertThat(scrape).contains("buildhook_resource_units_in_use{resource=\"boards\"} 0.0",
                    "buildhook_resource_units_in_use{resource=\"lamps\"} 0.0")
                    .doesNotContain("resource=\"phones\"");
            metrics(port);
        } finally {
            root.detachAppender(log);
        }
        assertThat(log.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(m -> m.contains("already registered") || m.contains("buildhook.resource"));
    }

    private static String metrics(int port) throws Exception {
        return UnknownPathTest.raw(port, "GET", "/metrics");
    }
}
