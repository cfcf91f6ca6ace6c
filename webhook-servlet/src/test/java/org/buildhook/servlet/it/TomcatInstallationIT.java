package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.buildhook.servlet.Docs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * docs/deploying.md's Tomcat steps, followed as written against a real Tomcat 10.1 and 11: each
 * release's own tarball (Maven Central, {@code org.apache.tomcat:tomcat}), unpacked and started by its own scripts
 * as a separate process, with the WAR copied into it while it runs, undeployed and deployed again;
 * deliveries come from JobServ's independent sender in another process.
 */
class TomcatInstallationIT {

    private static final String SECTION = "## As a WAR in Tomcat (10.1 or 11)";
    /** Tomcat's name for the connector told port 0 and address 127.0.0.1, once bound: {@code http-nio-127.0.0.1-auto-1-PORT}. */
    private static final Pattern BOUND = Pattern.compile("\"http-nio-127\\.0\\.0\\.1-auto-\\d+-(\\d+)\"");

    /** What Tomcat's Jasper logs when it opened jars looking for tag libraries and found none. */
    private static final String TLD_SCAN = "was scanned for TLDs yet contained no TLDs";

    @TempDir
    Path dir;

    private Path home;
    private Path base;
    private Map<String, String> env;

    /** The PostgreSQL schema of a test on PostgreSQL, dropped after it (Tomcat stopped first). */
    private String schema;

    @AfterEach
    void stopTomcat() throws Exception {
        try {
            stopTomcatProcess();
        } finally {
            if (schema != null) {
                try (java.sql.Connection c = WarWatchdogIT.connect(System.getenv("BUILDHOOK_TEST_PG_URL"));
                        java.sql.Statement s = c.createStatement()) {
                    s.execute("DROP SCHEMA " + schema + " CASCADE");
                }
            }
        }
    }

    private void stopTomcatProcess() throws Exception {
        if (base == null || !Files.exists(base.resolve("tomcat.pid"))) {
            return;
        }
        long pid = Long.parseLong(Files.readString(base.resolve("tomcat.pid")).trim());
        ProcessHandle.of(pid).ifPresent(tomcat -> {
            tomcat.destroy(); // SIGTERM: Tomcat's shutdown hook stops it as shutdown.sh would (no shutdown port here)
            try {
                tomcat.onExit().get(2, TimeUnit.MINUTES);
            } catch (Exception e) {
                tomcat.destroyForcibly();
            }
        });
    }

    /** @param tarball the system property naming the release's tarball: Tomcat 10.1, then 11 */
    @ParameterizedTest
    @ValueSource(strings = {"buildhook.tomcat.tarball", "buildhook.tomcat11.tarball"})
    void theDocumentedStepsDeployUndeployAndRedeployIntoARunningTomcatWithoutASevereLine(String tarball)
            throws Exception {
        install(Path.of(System.getProperty(tarball)));
        Path markers = Files.createDirectories(dir.resolve("markers"));
        Path config = Installations.writeConfiguration(dir, markers);

        // Step 2: the configuration's place in bin/setenv.sh, exactly the docs' line, before Tomcat starts.
        String setenv = Docs.codeBlock("deploying.md", SECTION, "sh", "CATALINA_OPTS")
                .replace("/etc/buildhook/buildhook.yaml", config.toString());
        Files.writeString(base.resolve("bin/setenv.sh"), setenv);
        Process startup = script("startup.sh").start();
        String started = new String(startup.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(startup.waitFor()).as(started).isZero();
        long pid = Long.parseLong(Files.readString(base.resolve("tomcat.pid")).trim());
        int port = Installations.boundPort(base.resolve("logs/catalina.out"), BOUND,
                () -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        URI root = URI.create("http://127.0.0.1:" + port + "/");
        await().atMost(Installations.DEPLOY).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> Deliveries.get(root).statusCode() > 0);

        // Step 3: the WAR into the running Tomcat, as webapps/buildhook.war.
        URI app = root.resolve("buildhook/");
        Installations.copyWar(base.resolve("webapps"));
        Installations.awaitHealth(app, 200);

        // Step 4: catalina.out says it started.
        assertThat(catalinaOut()).contains("buildhook started: endpoints")
                .contains("; build " + org.buildhook.servlet.BuildInfo.describe() + "\n");
        // The WAR's META-INF/context.xml kept Tomcat from opening the jars of WEB-INF/lib for tag libraries (war31:
        // with the other scans it skips, that was about half of a redeploy's start).
        assertThat(catalinaOut()).as("Tomcat scanned the WAR's jars for TLDs").doesNotContain(TLD_SCAN);

        // A real delivery from another process, and its job.
        Installations.deliverBuild68AndAwaitItsJob(app, markers);

        // What Tomcat refuses before the application, with the Host's documented JSON valve.
        assertThat(Installations.raw(port, "POST /buildhook/% HTTP/1.1")).startsWith("HTTP/1.1 400")
                .containsIgnoringCase("Content-Type: application/json").doesNotContainIgnoringCase("<html");

        // Undeploy as documented: delete the WAR; Tomcat removes the unpacked folder, buildhook says it stopped.
        Files.delete(base.resolve("webapps/buildhook.war"));
        Installations.awaitHealth(app, 404);
        await().atMost(Installations.DEPLOY).until(() -> !Files.exists(base.resolve("webapps/buildhook")));
        await().atMost(Duration.ofMinutes(1)).until(() -> catalinaOut().contains("buildhook stopped"));

        // Redeploy: the configuration survives (setenv.sh), so the same body is the same delivery.
        Installations.redeployAndSendBuild68Again(base.resolve("webapps"), app);

        assertThat(severeLines()).as("SEVERE lines in Tomcat's logs").isEmpty();
    }

    /**
     * docs/deploying.md, "Redeploying without losing a build": the new version copied in as {@code buildhook##002.war}
     * beside the running {@code buildhook.war} (Tomcat's parallel deployment), which waits for the old version and
     * meanwhile hands it the deliveries; then the old version undeployed. A sender posts distinct builds all along,
     * as JobServ does: every answer is {@code 202} or a {@code 503} with {@code Retry-After} that, sent again, becomes
     * a {@code 202} (never Tomcat's {@code 404}, as for a WAR copied over the old one), and each build's job runs once.
     * On SQLite both versions share the data folder and its lock; on PostgreSQL the node id (one JVM, one id).
     */
    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aParallelDeploymentAnswersEveryBuildSentDuringTheRedeployAndRunsEachJobOnce(String store) throws Exception {
        install(Path.of(System.getProperty("buildhook.tomcat.tarball")));
        Path runs = Files.createDirectories(dir.resolve("runs"));
        // One line per run of a build's job: a second line would be a second run.
        Files.writeString(dir.resolve("rules.yaml"), String.join("\n", "rules:", "  - name: once", "    run:",
                "      command: [/bin/sh, -c, 'echo ran >> \"$0\"', '" + runs + "/${build.id}']", ""));
        List<String> more = new ArrayList<>(List.of("runner:", "  shutdown-grace: 5s"));
        if (store.equals("postgresql")) {
            more.addAll(List.of("store:", "  url: " + postgresUrl()));
        }
        Path config = Installations.writeBuildhookYaml(dir, more.toArray(String[]::new));
        Files.writeString(base.resolve("bin/setenv.sh"), Docs.codeBlock("deploying.md", SECTION, "sh", "CATALINA_OPTS")
                .replace("/etc/buildhook/buildhook.yaml", config.toString()));
        Process startup = script("startup.sh").start();
        String started = new String(startup.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(startup.waitFor()).as(started).isZero();
        long pid = Long.parseLong(Files.readString(base.resolve("tomcat.pid")).trim());
        int port = Installations.boundPort(base.resolve("logs/catalina.out"), BOUND,
                () -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        URI app = URI.create("http://127.0.0.1:" + port + "/buildhook/");
        Path webapps = base.resolve("webapps");
        Installations.copyWar(webapps);
        Installations.awaitHealth(app, 200);

        Sender sender = new Sender(app.resolve("webhook"), 5000);
        Thread sending = new Thread(sender, "war31-sender");
        sending.start();
        try {
            await().atMost(Installations.DEPLOY).until(() -> sender.accepted.size() >= 3);
            // The new version, beside the old one, as the docs say: staged, then moved in.
            Path staged = Files.copy(Container.war(), webapps.resolveSibling("buildhook##002.war.part"));
            Files.move(staged, webapps.resolve("buildhook##002.war"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            await().atMost(Installations.DEPLOY).until(() -> catalinaOut().contains("[" + webapps.resolve(
                    "buildhook##002.war") + "] has finished in"));
            String waiting = store.equals("sqlite") ? "is still served by the previous copy of the web application"
                    : "of the PostgreSQL store is still held by the previous copy of the web application";
            assertThat(catalinaOut()).contains(waiting);
            // Tomcat now passes new requests to the new version, which waits and hands deliveries to the old one.
            assertThat(Deliveries.get(app.resolve("healthz")).body()).contains("\"status\":\"starting\"");
            Path handed = Files.write(dir.resolve("build-4000.json"), Deliveries.seedWithBuildId(4000));
            assertThat(Installations.sendFile(app, handed, Deliveries.SECRET)).as("JobServ's sender, once")
                    .startsWith("HTTP 202");
            int acceptedBefore = sender.accepted.size();
            // The old version undeployed: its jobs' grace, its store closed, then the new version starts.
            Files.delete(webapps.resolve("buildhook.war"));
            await().atMost(Installations.DEPLOY).until(() -> count(catalinaOut(), "buildhook started") == 2);
            Installations.awaitHealth(app, 200);
            await().atMost(Installations.DEPLOY).until(() -> sender.accepted.size() >= acceptedBefore + 3);
        } finally {
            sender.stop = true;
            sending.join(Installations.DEPLOY.toMillis());
        }
        assertThat(sender.failure).as("the sender's failure").isNull();
        assertThat(sender.unexpected).as("answers other than 202 and 503 with Retry-After").isEmpty();
        List<Long> builds = new ArrayList<>(sender.accepted);
        builds.add(4000L);
        await().atMost(Installations.DEPLOY).untilAsserted(() -> assertThat(builds)
                .allSatisfy(build -> assertThat(runs.resolve(Long.toString(build))).as("build %d's job ran", build)
                        .exists()));
        for (long build : builds) {
            assertThat(Files.readAllLines(runs.resolve(Long.toString(build)))).as("runs of build %d", build)
                    .containsExactly("ran");
        }
        assertThat(catalinaOut()).doesNotContain(TLD_SCAN).doesNotContain("Failed startup");
        assertThat(severeLines()).as("SEVERE lines in Tomcat's logs").isEmpty();
    }

    /**
     * Posts distinct builds one after another until {@link #stop}, each sent again after a {@code 503} (as JobServ
     * does, but until it is accepted) until it is answered {@code 202}; collects any other answer.
     */
    private static final class Sender implements Runnable {
        final URI webhook;
        final List<Long> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile boolean stop;
        volatile Throwable failure;
        private long next;

        Sender(URI webhook, long first) {
            this.webhook = webhook;
            this.next = first;
        }

        @Override
        public void run() {
            try {
                while (!stop) {
                    long build = next++;
                    byte[] body = Deliveries.seedWithBuildId(build);
                    while (true) {
                        java.net.http.HttpResponse<String> answer = Deliveries.postSigned(webhook, body);
                        if (answer.statusCode() == 202) {
                            accepted.add(build);
                            break;
                        }
                        if (answer.statusCode() != 503 || answer.headers().firstValue("Retry-After").isEmpty()) {
                            unexpected.add("build " + build + ": " + answer.statusCode() + " " + answer.body());
                            break;
                        }
                        Thread.sleep(200); // not a synchronisation: how soon a sender tries again
                    }
                }
            } catch (Throwable e) {
                failure = e;
            }
        }
    }

    /** A new schema on the test PostgreSQL ({@code BUILDHOOK_TEST_PG_URL}), dropped after the test; fails without one on CI. */
    private String postgresUrl() throws Exception {
        String pg = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (pg == null || pg.isBlank()) {
            assertThat(System.getenv("CI")).as("BUILDHOOK_TEST_PG_URL must be set on CI").isNotEqualToIgnoringCase("true");
            org.junit.jupiter.api.Assumptions.abort("BUILDHOOK_TEST_PG_URL not set: PostgreSQL tests skipped");
        }
        schema = "t_" + java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (java.sql.Connection c = WarWatchdogIT.connect(pg); java.sql.Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return pg + (pg.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            n++;
        }
        return n;
    }

    /** Tomcat's tarball unpacked as CATALINA_HOME, and a CATALINA_BASE with its conf/ on free ports. */
    private void install(Path tarball) throws Exception {
        home = Installations.unpack(tarball, dir.resolve("home"), "apache-tomcat-");
        base = dir.resolve("base");
        for (String folder : List.of("bin", "logs", "temp", "webapps", "work")) {
            Files.createDirectories(base.resolve(folder));
        }
        copyTree(home.resolve("conf"), base.resolve("conf"));
        Path serverXml = base.resolve("conf/server.xml");
        // Port 0: a free port, which catalina.out names; no shutdown port (-1): stopped by SIGTERM.
        // Two test JVMs on one machine then never pick the same port, as a port found free could be.
        String server = Files.readString(serverXml)
                .replace("port=\"8005\"", "port=\"-1\"")
                .replace("port=\"8080\"", "port=\"0\" address=\"127.0.0.1\"");
        // docs/deploying.md, "Errors the container answers itself": the Host's JSON error report valve.
        String host = "<Host name=\"localhost\"  appBase=\"webapps\"";
        assertThat(server).contains(host);
        server = server.replace(host, host + " errorReportValveClass=\"" + TomcatContainer.documentedErrorReportValve()
                + "\"");
        Files.writeString(serverXml, server);
        env = Map.of("CATALINA_HOME", home.toString(), "CATALINA_BASE", base.toString(),
                "CATALINA_PID", base.resolve("tomcat.pid").toString(), "JAVA_HOME", System.getProperty("java.home"));
    }

    private ProcessBuilder script(String name) {
        ProcessBuilder builder = new ProcessBuilder(home.resolve("bin").resolve(name).toString())
                .redirectErrorStream(true);
        builder.environment().keySet().removeIf(key -> key.startsWith("CATALINA_") || key.startsWith("JAVA_OPTS"));
        builder.environment().putAll(env);
        return builder;
    }

    private String catalinaOut() throws IOException {
        return Files.readString(base.resolve("logs/catalina.out"), StandardCharsets.UTF_8);
    }

    private List<String> severeLines() throws IOException {
        List<String> severe = new ArrayList<>();
        try (Stream<Path> logs = Files.list(base.resolve("logs"))) {
            for (Path log : logs.toList()) {
                for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    if (line.toUpperCase(Locale.ROOT).contains("SEVERE")) {
                        severe.add(log.getFileName() + ": " + line);
                    }
                }
            }
        }
        return severe;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            files.forEach(source -> {
                try {
                    Path target = to.resolve(from.relativize(source).toString());
                    if (Files.isDirectory(source)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(source, target);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
