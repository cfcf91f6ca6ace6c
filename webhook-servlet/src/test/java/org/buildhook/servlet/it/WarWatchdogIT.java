package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The WAR on PostgreSQL in a real Tomcat and a real Jetty (embedded, in this JVM): each deployment
 * starts its watchdog process (from the unpacked WAR's {@code WEB-INF/lib}) and shows it on
 * {@code /metrics}; an undeploy, a redeploy and the container's stop end it, with the job it guarded,
 * and Tomcat finds nothing leaking.
 */
class WarWatchdogIT {

    @TempDir
    Path dir;
    private String schema;
    private final TomcatRedeployIT leakWatch = new TomcatRedeployIT();

    @BeforeEach
    void listen() {
        leakWatch.listen();
    }

    @AfterEach
    void dropSchema() throws Exception {
        leakWatch.stopListening();
        if (schema != null) {
            try (Connection c = connect(System.getenv("BUILDHOOK_TEST_PG_URL"));
                    Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tomcat", "jetty"})
    void eachDeploymentRunsOneWatchdogAndNoneOutlivesItsWebApplication(String which) throws Exception {
        Path config = config(postgresUrl());
        Container container = which.equals("tomcat") ? new TomcatContainer(dir.resolve("tomcat"))
                : new JettyContainer(dir.resolve("jetty"));
        boolean stopped = false;
        try {
            for (int cycle = 1; cycle <= 2; cycle++) {
                String during = " (" + which + ", deployment " + cycle + ")";
                assertThat(container.deploy(Container.war(), config)).as("deployed" + during).isTrue();
                await().atMost(Duration.ofMinutes(1)).ignoreExceptions().untilAsserted(() ->
                        assertThat(Deliveries.get(container.base().resolve("metrics")).body())
                                .as("/metrics" + during).contains("buildhook_watchdog_up 1"));
                assertThat(watchdogs()).as("watchdog processes" + during).hasSize(1);

                long buildId = 700 + cycle;
                assertThat(Deliveries.postSigned(container.base().resolve("webhook"),
                        Deliveries.seedWithBuildId(buildId)).statusCode()).isEqualTo(202);
                Path pidFile = dir.resolve("pids/" + buildId);
                await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(pidFile)
                        && !Files.readString(pidFile).isBlank());
                long job = Long.parseLong(Files.readString(pidFile).trim());

                if (cycle == 1) {
                    container.undeploy();
                    String after = " after undeploy" + during;
                    await().atMost(Duration.ofMinutes(3)).untilAsserted(() ->
                            assertThat(watchdogs()).as("watchdog processes" + after).isEmpty());
                    await().atMost(Duration.ofMinutes(3)).untilAsserted(() ->
                            assertThat(TomcatRedeployIT.alive(job)).as("the job's process" + after).isFalse());
                    assertThat(TomcatRedeployIT.ourThreads()).as("threads" + after).isEmpty();
                } else {
                    stopped = true;
                    container.close();
                    String after = " after the container stopped" + during;
                    await().atMost(Duration.ofMinutes(3)).untilAsserted(() ->
                            assertThat(watchdogs()).as("watchdog processes" + after).isEmpty());
                    await().atMost(Duration.ofMinutes(3)).untilAsserted(() ->
                            assertThat(TomcatRedeployIT.alive(job)).as("the job's process" + after).isFalse());
                }
            }
        } finally {
            if (!stopped) {
                container.close();
            }
        }
        assertThat(leakWatch.leaks).as("Tomcat's leak warnings").isEmpty();
    }

    /** Tomcat with {@code unpackWARs="false"}: the runner's jar is inside the WAR, no file a JVM can load. */
    @org.junit.jupiter.api.Test
    void aWarTomcatDoesNotUnpackRunsWithoutAWatchdogAndSaysWhy() throws Exception {
        Path config = config(postgresUrl());
        StdoutTee stdout = new StdoutTee();
        try (stdout; Container container = new TomcatContainer(dir.resolve("tomcat")).unpackWars(false)) {
            // A WAR Tomcat does not unpack has each class read from its jar inside the WAR, from the jar's
            // start: on a loaded machine (the CI's 2 cores under stress-ng) the PostgreSQL driver's classes
            // took longer than the store's 5-s connection wait, and the deployment failed (review17: 3 runs of
            // 3); the test then skipped. store.connect-timeout (config(), 2m) now gives it the time.
            boolean deployed = container.deploy(Container.war(), config);
            assertThat(deployed).as("deployed").isTrue();
            assertThat(Deliveries.postSigned(container.base().resolve("webhook"), Deliveries.seedWithBuildId(801))
                    .statusCode()).isEqualTo(202);
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(dir.resolve("pids/801")));
            assertThat(Deliveries.get(container.base().resolve("metrics")).body()).contains("buildhook_watchdog_up 0");
            assertThat(watchdogs()).isEmpty();
        }
        assertThat(stdout.text())
                .contains("cannot be started").contains("not unpacked");
    }

    /** Jetty with {@code extractWAR=false} still copies {@code WEB-INF/lib} to its temporary folder: a watchdog runs. */
    @org.junit.jupiter.api.Test
    void aWarJettyDoesNotExtractStillRunsItsWatchdog() throws Exception {
        Path config = config(postgresUrl());
        try (Container container = new JettyContainer(dir.resolve("jetty")).extractWar(false)) {
            assertThat(container.deploy(Container.war(), config)).as("deployed").isTrue();
            await().atMost(Duration.ofMinutes(1)).ignoreExceptions().untilAsserted(() ->
                    assertThat(Deliveries.get(container.base().resolve("metrics")).body())
                            .contains("buildhook_watchdog_up 1"));
            assertThat(watchdogs()).hasSize(1);
        }
        await().atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertThat(watchdogs()).isEmpty());
    }

    private Path config(String storeUrl) throws Exception {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET);
        Files.createDirectories(dir.resolve("pids"));
        Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: long",
                "    run:",
                "      command: [/bin/sh, -c, 'echo $$ > \"$0\"; exec sleep 300', '" + dir.resolve("pids") + "/${build.id}']",
                ""));
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data", "rules: rules.yaml", "store:", "  url: '" + storeUrl + "'",
                // A busy machine's first connection from a packed WAR (see aWarTomcatDoesNotUnpack…).
                "  connect-timeout: 2m", "endpoints:",
                "  default:", "    secrets:", "      - file: secret", "runner:", "  shutdown-grace: 1s",
                "  kill-grace: 1s", ""));
    }

    /** The watchdog processes this JVM started that still run (a zombie has ended). */
    static List<ProcessHandle> watchdogs() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                .filter(c -> !TomcatRedeployIT.zombie(c.pid()))
                .filter(c -> c.info().arguments().map(a -> String.join(" ", a)).orElse("")
                        .contains("org.buildhook.runner.exec.NodeWatchdog"))
                .toList();
    }

    /**
     * A connection to {@code url} through the class path's PostgreSQL driver itself, not DriverManager:
     * DriverManager loads its drivers once per JVM, through the class loader of the thread that first asks.
     * In this suite that is a web application's deploy (an earlier IT), whose copy of the driver is
     * deregistered at its undeploy, and the class path's own copy is then never registered ("No suitable
     * driver found" when this IT ran after JettyWebhookIT, TomcatWebhookIT and WarLogFollowsIT).
     */
    static Connection connect(String url) throws Exception {
        java.sql.Driver driver = (java.sql.Driver) Class.forName("org.postgresql.Driver", true,
                WarWatchdogIT.class.getClassLoader()).getDeclaredConstructor().newInstance();
        Connection c = driver.connect(url, new java.util.Properties());
        if (c == null) {
            throw new java.sql.SQLException("the PostgreSQL driver does not take BUILDHOOK_TEST_PG_URL");
        }
        return c;
    }

    /** A new schema on the test PostgreSQL ({@code BUILDHOOK_TEST_PG_URL}); skipped without one, except on CI. */
    private String postgresUrl() throws Exception {
        String base = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (base == null || base.isBlank()) {
            assertThat(System.getenv("CI")).as("BUILDHOOK_TEST_PG_URL must be set on CI").isNotEqualToIgnoringCase("true");
            Assumptions.abort("BUILDHOOK_TEST_PG_URL not set: PostgreSQL tests skipped");
        }
        schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection c = connect(base); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }
}
