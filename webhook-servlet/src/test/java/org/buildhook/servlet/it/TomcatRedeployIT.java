package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
            String message = new java.util.logging.SimpleFormatter().formatMessage(record);
            // Tomcat's own background thread can be caught holding the web application's class
            // loader while it processes the context being stopped (seen on a loaded machine): that
            // warning names Tomcat's thread, not one buildhook started.
            if (record.getLevel().intValue() >= Level.WARNING.intValue() && !message.contains("[Catalina-utility-")) {
                leaks.add(record.getLoggerName() + ": " + message);
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
        // A job that outlives the deployment: it records its pid, then sleeps.
        Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: long",
                "    run:",
                "      command: [/bin/sh, -c, 'echo $$ > \"$0\"; exec sleep 300', '" + dir.resolve("pids") + "/${build.id}']",
                ""));
        Files.createDirectories(dir.resolve("pids"));
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data", "rules: rules.yaml", "endpoints:", "  default:", "    secrets:",
                "      - file: secret", "runner:", "  shutdown-grace: 1s", "  kill-grace: 1s", ""));
    }

    /** Open file descriptors of this JVM that point into the test's data folder. */
    List<String> openDataFiles() throws IOException {
        Path data = dir.resolve("data").toAbsolutePath();
        List<String> open = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.startsWith(data)) {
                        open.add(target.toString());
                    }
                } catch (IOException gone) {
                    // closed while we looked
                }
            }
        }
        return open;
    }

    static boolean alive(long pid) {
        // A zombie (state Z) has ended; nothing here reaps orphans, so do not count it.
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isPresent() && !zombie(pid);
    }

    static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void threeDeployUndeployCyclesLeaveNoThreadNoOpenFileNoProcessAndNoLeakWarning() throws Exception {
        Path config = config();
        try (TomcatContainer tomcat = new TomcatContainer(dir.resolve("tomcat"))) {
            for (int cycle = 1; cycle <= 3; cycle++) {
                assertThat(tomcat.deploy(Container.war(), config)).as("deploy %d", cycle).isTrue();
                long buildId = 600 + cycle;
                assertThat(Deliveries.postSigned(tomcat.base().resolve("webhook"), Deliveries.seedWithBuildId(buildId))
                        .statusCode()).isEqualTo(202);
                // A refused delivery starts the refusal log's timer thread: gone after undeploy too.
                assertThat(Deliveries.post(tomcat.base().resolve("webhook"), Deliveries.seedWithBuildId(buildId),
                        "sha256:" + "0".repeat(64)).statusCode()).isEqualTo(401);
                assertThat(ourThreads()).as("threads while deployed").contains("buildhook-refusal-log");
                Path pidFile = dir.resolve("pids/" + buildId);
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(pidFile)
                        && !Files.readString(pidFile).isBlank());
                long pid = Long.parseLong(Files.readString(pidFile).trim());
                assertThat(openDataFiles()).as("the store is open while deployed").isNotEmpty();

                tomcat.undeploy();

                String after = " after undeploy " + cycle;
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(ourThreads()).as("threads" + after).isEmpty());
                assertThat(openDataFiles()).as("open files" + after).isEmpty();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(alive(pid)).as("the job's process" + after).isFalse());
            }
        }
        assertThat(leaks).as("Tomcat's leak warnings").isEmpty();
    }

    /**
     * The JDBC drivers of WEB-INF/lib also in the container's own class path ($CATALINA_BASE/lib, for a
     * JNDI pool): listing the registered drivers loads the application's copy of each, which registers
     * itself while the list is read; it must be deregistered too (war17).
     */
    @Test
    void driversTheContainerAlsoHasAreDeregisteredWithTheWebApplication() throws Exception {
        // As a container with the driver in its lib/: DriverManager initialised, the container's copy registered.
        java.sql.DriverManager.getDrivers();
        Class.forName("org.postgresql.Driver", true, ClassLoader.getSystemClassLoader());
        Path config = config();
        try (TomcatContainer tomcat = new TomcatContainer(dir.resolve("tomcat"))) {
            assertThat(tomcat.deploy(Container.war(), config)).isTrue();
            tomcat.undeploy();
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

    @Test
    void aWarThatFindsNoConfigurationRefusesToStartAndSaysWhyInTheContainersLog() throws Exception {
        assertThat(System.getenv("BUILDHOOK_CONFIG")).isNull();
        StdoutTee stdout = new StdoutTee();
        try (stdout; TomcatContainer tomcat = new TomcatContainer(dir.resolve("tomcat"))) {
            assertThat(tomcat.deploy(Container.war(), null)).as("started without configuration").isFalse();
            assertThat(Deliveries.get(tomcat.base().resolve("healthz")).statusCode()).isNotEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(ourThreads()).isEmpty());
        }
        assertThat(stdout.text())
                .contains("buildhook cannot start").contains("no configuration file")
                .contains("-Dbuildhook.config=/etc/buildhook/buildhook.yaml").contains("buildhook.defaults=true");
        assertThat(Path.of("data", "webhook-secret")).as("no secret generated in the working directory").doesNotExist();
    }
}
