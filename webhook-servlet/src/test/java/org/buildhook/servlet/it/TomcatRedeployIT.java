package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Undeploying the WAR stops everything it started; Tomcat finds nothing leaking. */
class TomcatRedeployIT {

    /** Names of the threads buildhook (and the libraries it starts) create. */
    static final Pattern OURS = Pattern.compile("buildhook-.*|db-scheduler.*|Hikari.*|.*housekeeper.*|sqlite.*");

    @TempDir
    Path dir;
    final List<String> leaks = new CopyOnWriteArrayList<>();
    final Handler leakLog = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                leaks.add(record.getLoggerName() + ": " + new java.util.logging.SimpleFormatter().formatMessage(record));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    final Logger loader = Logger.getLogger("org.apache.catalina.loader.WebappClassLoaderBase");

    @BeforeEach
    void listen() {
        loader.addHandler(leakLog);
    }

    @AfterEach
    void stopListening() {
        loader.removeHandler(leakLog);
    }

    static List<String> ourThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> OURS.matcher(n).matches()).sorted().toList();
    }

    Path config() throws Exception {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET);
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: noop\n    run: {command: [/bin/true]}\n");
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data", "rules: rules.yaml", "endpoints:", "  default:", "    secrets:",
                "      - file: secret", ""));
    }

    @Test
    void threeDeployUndeployCyclesLeaveNoThreadAndNoLeakWarning() throws Exception {
        Path config = config();
        try (TomcatContainer tomcat = new TomcatContainer(dir.resolve("tomcat"))) {
            for (int cycle = 1; cycle <= 3; cycle++) {
                assertThat(tomcat.deploy(Container.war(), config)).as("deploy %d", cycle).isTrue();
                long buildId = 600 + cycle;
                assertThat(Deliveries.postSigned(tomcat.base().resolve("webhook"), Deliveries.seedWithBuildId(buildId))
                        .statusCode()).isEqualTo(202);
                assertThat(ourThreads()).as("threads while deployed").isNotEmpty();

                tomcat.undeploy();

                String after = "threads after undeploy " + cycle;
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(ourThreads()).as(after).isEmpty());
            }
        }
        assertThat(leaks).as("Tomcat's leak warnings").isEmpty();
    }

    @Test
    void aBrokenConfigurationFailsTheDeploymentAndLeavesNothingRunning() throws Exception {
        Path broken = Files.writeString(dir.resolve("broken.yaml"), String.join("\n",
                "data-dir: data", "endpoints:", "  default:", "    secrets:", "      - file: no-such-secret-file",
                "stor:", "  url: jdbc:sqlite:x.db", ""));
        try (TomcatContainer tomcat = new TomcatContainer(dir.resolve("tomcat"))) {
            assertThat(tomcat.deploy(Container.war(), broken)).isFalse();
            assertThat(Deliveries.get(tomcat.base().resolve("healthz")).statusCode()).isNotEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(ourThreads()).isEmpty());
        }
    }
}
