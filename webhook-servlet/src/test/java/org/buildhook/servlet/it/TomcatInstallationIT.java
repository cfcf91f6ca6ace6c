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

    @TempDir
    Path dir;

    private Path home;
    private Path base;
    private Map<String, String> env;

    @AfterEach
    void stopTomcat() throws Exception {
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
