package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.buildhook.servlet.Docs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/deploying.md's Jetty 12 steps, followed as written against a real Jetty 12.1 installed from
 * its own distribution ({@code org.eclipse.jetty:jetty-home}, Maven Central) and started with its
 * {@code start.jar} as a separate process: the documented modules and {@code start.d} file (deployer
 * scan interval, configuration), the documented error handler XML, the WAR copied into the running
 * Jetty, undeployed by deleting it and deployed again; deliveries from JobServ's independent sender.
 */
class JettyInstallationIT {

    private static final String SECTION = "## As a WAR in Jetty 12 (ee10)";
    private static final String ERRORS = "## Errors the container answers itself";
    /** Jetty's line for its HTTP connector once bound: {@code Started oejs.ServerConnector@…{HTTP/1.1, …}{127.0.0.1:PORT}}. */
    private static final Pattern BOUND = Pattern.compile("Started \\S*ServerConnector@\\S*\\{[^}]*\\}\\{127\\.0\\.0\\.1:(\\d+)\\}");

    @TempDir
    Path dir;

    private Path home;
    private Path base;
    private Process jetty;

    @AfterEach
    void stopJetty() throws Exception {
        if (jetty != null && jetty.isAlive()) {
            jetty.toHandle().destroy(); // SIGTERM: Jetty's graceful stop
            if (!jetty.waitFor(2, TimeUnit.MINUTES)) {
                jetty.destroyForcibly();
            }
        }
    }

    @Test
    void theDocumentedStepsDeployUndeployAndRedeployIntoARunningJetty() throws Exception {
        install(Path.of(System.getProperty("buildhook.jetty.tarball")));
        Path markers = Files.createDirectories(dir.resolve("markers"));
        Path config = Installations.writeConfiguration(dir, markers);

        // The documented commands in $JETTY_BASE: modules, then start.d/buildhook.ini.
        String steps = Docs.codeBlock("deploying.md", SECTION, "sh", "start.jar")
                .replace("/etc/buildhook/buildhook.yaml", config.toString());
        Process setup = shell(steps).start();
        String output = new String(setup.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(setup.waitFor()).as(output).isZero();
        assertThat(base.resolve("start.d/buildhook.ini")).content().contains("jetty.deploy.scanInterval=1");

        // The documented error handler: etc/buildhook-errors.xml, named in start.d/buildhook.ini.
        Files.createDirectories(base.resolve("etc"));
        Files.writeString(base.resolve("etc/buildhook-errors.xml"),
                Docs.codeBlock("deploying.md", ERRORS, "xml", "ReHandlingErrorHandler"));
        Files.writeString(base.resolve("start.d/buildhook.ini"), "etc/buildhook-errors.xml\n", StandardOpenOption.APPEND);

        Path log = dir.resolve("jetty.out");
        jetty = new ProcessBuilder(java(), "-Xmx384m", "-jar", home.resolve("start.jar").toString(),
                "jetty.http.port=0", "jetty.http.host=127.0.0.1")
                .directory(base.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        int port = Installations.boundPort(log, BOUND, jetty::isAlive);
        URI root = URI.create("http://127.0.0.1:" + port + "/");
        await().atMost(Installations.DEPLOY).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> !jetty.isAlive() || Deliveries.get(root).statusCode() > 0);
        assertThat(jetty.isAlive()).as("Jetty runs; its output: %s", Files.readString(log)).isTrue();

        // The WAR copied into the running Jetty: deployed at /buildhook by the scanning deployer.
        URI app = root.resolve("buildhook/");
        Installations.copyWar(base.resolve("webapps"));
        Installations.awaitHealth(app, 200);
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(log).contains("buildhook started"));

        Installations.deliverBuild68AndAwaitItsJob(app, markers);

        // What Jetty refuses before the application, handed to buildhook's error page by the documented XML.
        assertThat(Installations.raw(port, "POST /buildhook/% HTTP/1.1")).startsWith("HTTP/1.1 400")
                .containsIgnoringCase("Content-Type: application/json").doesNotContainIgnoringCase("<html")
                .contains("\"webhook\":\"/buildhook/webhook\"");

        // Undeploy as documented: delete the WAR; buildhook says it stopped.
        Files.delete(base.resolve("webapps/buildhook.war"));
        Installations.awaitHealth(app, 404);
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(log).contains("buildhook stopped"));

        // Redeploy: the configuration survives in start.d, so the same body is the same delivery.
        Installations.redeployAndSendBuild68Again(base.resolve("webapps"), app);
    }

    /** jetty-home unpacked as JETTY_HOME, and an empty JETTY_BASE. */
    private void install(Path tarball) throws Exception {
        home = Installations.unpack(tarball, dir.resolve("home"), "jetty-home-");
        base = Files.createDirectories(dir.resolve("base"));
    }

    /** A POSIX shell in $JETTY_BASE with JETTY_HOME and JETTY_BASE set and this JVM's java first on PATH. */
    private ProcessBuilder shell(String script) {
        ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-e", "-c", script).directory(base.toFile())
                .redirectErrorStream(true);
        builder.environment().put("JETTY_HOME", home.toString());
        builder.environment().put("JETTY_BASE", base.toString());
        builder.environment().put("PATH", Path.of(java()).getParent() + ":" + builder.environment().get("PATH"));
        return builder;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
