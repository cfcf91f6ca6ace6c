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
    private static final String BUILD_PROPERTIES = "WEB-INF/classes/org/buildhook/servlet/build.properties";
    /** Jetty's line for its HTTP connector once bound: {@code Started oejs.ServerConnector@…{HTTP/1.1, …}{127.0.0.1:PORT}}. */
    private static final Pattern BOUND = Pattern.compile("Started \\S*ServerConnector@\\S*\\{[^}]*\\}\\{127\\.0\\.0\\.1:(\\d+)\\}");

    @TempDir
    Path dir;

    private Path home;
    private Path base;
    private Process jetty;
    private int port;
    /** The PostgreSQL schema of a test on PostgreSQL, dropped after it (Jetty stopped first). */
    private String schema;

    @AfterEach
    void stopJetty(org.junit.jupiter.api.TestInfo test) throws Exception {
        if (jetty != null && jetty.isAlive()) {
            jetty.toHandle().destroy(); // SIGTERM: Jetty's graceful stop
            if (!jetty.waitFor(2, TimeUnit.MINUTES)) {
                jetty.destroyForcibly();
            }
        }
        if (schema != null) {
            try (java.sql.Connection c = WarWatchdogIT.connect(System.getenv("BUILDHOOK_TEST_PG_URL"));
                    java.sql.Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
        // Jetty's output outlives the temporary folder, for a failure's post-mortem.
        if (Files.exists(dir.resolve("jetty.out"))) {
            Path reports = Files.createDirectories(Path.of("target", "failsafe-reports"));
            Files.copy(dir.resolve("jetty.out"), reports.resolve("JettyInstallationIT-"
                    + test.getTestMethod().map(java.lang.reflect.Method::getName).orElse("test") + "-jetty.out"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void theDocumentedStepsDeployUndeployAndRedeployIntoARunningJetty() throws Exception {
        Path markers = Files.createDirectories(dir.resolve("markers"));
        Path config = Installations.writeConfiguration(dir, markers);
        Path log = startDocumentedJetty(config);
        URI root = URI.create("http://127.0.0.1:" + port + "/");

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

    /**
     * An upgrade in place as deploying.md says (the new WAR under a name of its own, the context XML rewritten to
     * name it), to a WAR of another revision, which then runs (tryout32 F1: copied over the deployed WAR, the old
     * content ran again). Jetty 12.1's deployer starts the new copy
     * before it stops the old one (its default, {@code jetty.deploy.atomicRedeploy=true}); the new copy waits
     * for the old one to let the SQLite store go (answering 503 with Retry-After meanwhile), then takes over:
     * deliveries are answered 202 again and the job the old copy's stop cut short runs again, never while the
     * old copy's attempt still runs (tryout23 F3: the new copy was refused, then the old one stopped, and
     * nothing served until someone acted).
     */
    @Test
    void aNewBuildDeployedAsDocumentedRunsOnceTheOldCopyHasStopped() throws Exception {
        replaceTheWarWhileAJobRuns();
    }

    /**
     * As {@link #aNewBuildDeployedAsDocumentedRunsOnceTheOldCopyHasStopped}, on PostgreSQL: the new copy
     * claims the same {@code runner.node-id} (by default {@code <hostname>-<pid>}, one JVM's), held by the old
     * copy; it waits for the old copy to give the id back (pgredeploy23: it was refused as "another running node",
     * then Jetty stopped the old copy and nothing served).
     */
    @Test
    void onPostgresqlANewBuildDeployedAsDocumentedRunsOnceTheOldCopyHasGivenItsNodeIdBack() throws Exception {
        String url = postgresUrl();
        replaceTheWarWhileAJobRuns("store:", "  url: '" + url + "'");
    }

    /**
     * A job running, a new WAR deployed as documented: the new copy waits (saying so, 503 with Retry-After)
     * until the old one has stopped, then serves, and the cut-short job runs again, never two attempts at once.
     * Meanwhile a build sent by JobServ's sender is verified by the new copy and stored by the old one (202), and
     * its job runs once, after the takeover.
     */
    private void replaceTheWarWhileAJobRuns(String... store) throws Exception {
        Path pids = Files.createDirectories(dir.resolve("pids"));
        Files.createDirectories(dir.resolve("markers"));
        // A job that outlives the old copy: it says if an earlier attempt of its build still runs, records its
        // pid, then sleeps.
        Installations.writeMarkerRules(dir, dir.resolve("markers"),
                "  - name: slow",
                "    run:",
                "      command: [/bin/sh, -c, 'for p in $(cat \"$0\" 2>/dev/null); do kill -0 \"$p\" 2>/dev/null"
                        + " && echo \"$p\" >> \"$0.overlap\"; done; echo $$ >> \"$0\"; exec sleep 600', '"
                        + pids + "/${build.id}']",
                "      timeout: 20m");
        // runner.shutdown-grace: its default, 30 s, far longer than JobServ's retries (1, 2 and 4 s).
        java.util.List<String> yaml = new java.util.ArrayList<>(java.util.List.of("runner:", "  kill-grace: 2s"));
        yaml.addAll(java.util.List.of(store));
        Path config = Installations.writeBuildhookYaml(dir, yaml.toArray(String[]::new));
        Path log = startDocumentedJetty(config);
        URI app = URI.create("http://127.0.0.1:" + port + "/buildhook/");
        String first = revision(Container.war());
        deployAsDocumented(Container.war(), first);
        Installations.awaitHealth(app, 200);
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(log).contains("buildhook started"));
        assertThat(Installations.send(app, "build-68-failed.json")).startsWith("HTTP 202");
        await().atMost(Duration.ofMinutes(1)).until(() -> lines(pids.resolve("68")) == 1);

        // The upgrade, as documented: the new WAR (another build: only its revision differs) under a name of its own,
        // and the context XML rewritten to name it. A WAR copied over the deployed one would run the old WAR's content
        // again in Jetty 12.1.8 (jetty/jetty.project#14136: the old copy's mount of that file is reused).
        Path upgrade = otherRevision(Container.war(), "deadbeef");
        deployAsDocumented(upgrade, "deadbeef");

        // While the old copy lets its job finish (runner.shutdown-grace, 30 s), the new one waits and says so.
        await().atMost(Installations.DEPLOY).until(() -> Files.readString(log).contains("the previous copy of the web"
                + " application /buildhook in this JVM"));
        // Jetty puts the new copy in the old one's place once the new one's start returns, then stops the old one.
        java.util.concurrent.atomic.AtomicReference<java.net.http.HttpResponse<String>> answer =
                new java.util.concurrent.atomic.AtomicReference<>();
        await().atMost(Installations.DEPLOY).pollInterval(Duration.ofMillis(200)).until(() -> {
            answer.set(Deliveries.get(app.resolve("healthz")));
            return answer.get().body().contains("\"status\":\"starting\"");
        });
        java.net.http.HttpResponse<String> health = answer.get();
        assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
        assertThat(health.headers().firstValue("Retry-After")).hasValue("5");
        // The old copy is stopping (its engine starts no job), and lets its job run out its grace: a build JobServ
        // sends meanwhile, verified by the new copy, is stored by the old one (upgrade26; it was answered 503 for the
        // whole grace, past JobServ's retries, and lost).
        await().atMost(Installations.DEPLOY).until(() -> Files.readString(log).contains("stopping: no new job starts"));
        Path build69 = Files.write(dir.resolve("build-69.json"), Deliveries.seedWithBuildId(69));
        assertThat(Installations.sendFile(app, build69, Deliveries.SECRET)).as("JobServ's sender, once, during the wait")
                .startsWith("HTTP 202");
        assertThat(Files.readString(log)).contains("accepted: build 69 ").doesNotContain("buildhook stopped");
        // Still waiting: a delivery with a wrong signature is refused with the new copy's secrets.
        assertThat(Deliveries.post(app.resolve("webhook"), Deliveries.seedWithBuildId(70), "sha256:" + "0".repeat(64))
                .statusCode()).isEqualTo(401);
        assertThat(Deliveries.get(app.resolve("healthz")).body()).contains("\"status\":\"starting\"");

        // The new copy has started once the old one stopped: it takes deliveries, and the cut-short job runs again.
        await().atMost(Installations.DEPLOY).until(() -> count(Files.readString(log), "buildhook started") == 2);
        Installations.awaitHealth(app, 200);
        assertThat(Files.readString(log)).contains("buildhook stopped").doesNotContain("Failed startup of context");
        // Build 69 is stored once: sent again, it is the same delivery.
        java.net.http.HttpResponse<String> again = Deliveries.postSigned(app.resolve("webhook"),
                Deliveries.seedWithBuildId(69));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(again.body()).contains("\"duplicate\":true");
        await().atMost(Installations.DEPLOY).until(() -> lines(pids.resolve("68")) == 2 && lines(pids.resolve("69")) == 1);
        // Its job ran once, after the takeover: the old copy, stopping, did not start it (its attempt would have been
        // cut short by that stop and run again, a second line).
        assertThat(lines(pids.resolve("69"))).isEqualTo(1);
        assertThat(pids.resolve("68.overlap")).as("an attempt started while the earlier one still ran").doesNotExist();
        assertThat(pids.resolve("69.overlap")).doesNotExist();
        assertThat(Files.readString(log).indexOf("buildhook stopped"))
                .as("the new copy started only after the old one stopped")
                .isLessThan(Files.readString(log).lastIndexOf("buildhook started"));
        // The new build runs: its started line and buildhook_build_info say its revision, not the old one's.
        String started = Files.readString(log).substring(Files.readString(log).lastIndexOf("buildhook started"));
        assertThat(started.lines().findFirst().orElseThrow()).as("the new copy's started line")
                .contains("(commit deadbeef)");
        assertThat(Deliveries.get(app.resolve("metrics")).body()).containsPattern(
                "buildhook_build_info\\{[^}]*revision=\"deadbeef\"").doesNotContain("revision=\"" + first + "\"");
    }

    /**
     * deploying.md's deploy and upgrade step, run as written in $JETTY_BASE: {@code war} copied under
     * {@code wars/buildhook-<version>.war}, then {@code webapps/buildhook.xml} (staged, moved) naming it.
     */
    private void deployAsDocumented(Path war, String version) throws Exception {
        String steps = Docs.codeBlock("deploying.md", SECTION, "sh", "buildhook.xml.part");
        assertThat(steps).contains("VERSION=1.4.0").contains("NEW_WAR=/tmp/buildhook.war");
        Process run = shell(steps.replace("VERSION=1.4.0", "VERSION=" + version)
                .replace("NEW_WAR=/tmp/buildhook.war", "NEW_WAR=" + war)).start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(run.waitFor()).as(output).isZero();
        assertThat(base.resolve("webapps/buildhook.xml")).content().contains("wars/buildhook-" + version + ".war");
    }

    /** The {@code revision} of {@code build.properties} in {@code war}. */
    private static String revision(Path war) throws java.io.IOException {
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(war.toFile())) {
            java.util.Properties build = new java.util.Properties();
            build.load(zip.getInputStream(zip.getEntry(BUILD_PROPERTIES)));
            return build.getProperty("revision");
        }
    }

    /**
     * A copy of {@code war} whose {@code build.properties} says {@code revision} (from a clean tree) instead: another
     * build of it.
     */
    private Path otherRevision(Path war, String revision) throws java.io.IOException {
        Path copy = Files.copy(war, dir.resolve("buildhook-" + revision + ".war"));
        try (java.nio.file.FileSystem zip = java.nio.file.FileSystems.newFileSystem(copy)) {
            Path properties = zip.getPath(BUILD_PROPERTIES);
            Files.writeString(properties, Files.readString(properties).replaceAll("(?m)^revision=.*$",
                    "revision=" + revision).replaceAll("(?m)^dirty=.*$", "dirty=false"));
        }
        assertThat(revision(copy)).isEqualTo(revision);
        return copy;
    }

    /** A new schema on the test PostgreSQL ({@code BUILDHOOK_TEST_PG_URL}), dropped after the test; skipped without one, except on CI. */
    private String postgresUrl() throws Exception {
        String base = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (base == null || base.isBlank()) {
            assertThat(System.getenv("CI")).as("BUILDHOOK_TEST_PG_URL must be set on CI").isNotEqualToIgnoringCase("true");
            org.junit.jupiter.api.Assumptions.abort("BUILDHOOK_TEST_PG_URL not set: PostgreSQL tests skipped");
        }
        schema = "t_" + java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (java.sql.Connection c = WarWatchdogIT.connect(base); java.sql.Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    private static long lines(Path file) throws java.io.IOException {
        return Files.exists(file) ? Files.readAllLines(file).stream().filter(l -> !l.isBlank()).count() : 0;
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            n++;
        }
        return n;
    }

    /**
     * Jetty installed and set up as deploying.md says (modules, start.d/buildhook.ini naming {@code config},
     * the error handler XML), started on an ephemeral port ({@link #port}) with no WAR yet; its output.
     */
    private Path startDocumentedJetty(Path config) throws Exception {
        install(Path.of(System.getProperty("buildhook.jetty.tarball")));
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
        port = Installations.boundPort(log, BOUND, jetty::isAlive);
        URI root = URI.create("http://127.0.0.1:" + port + "/");
        await().atMost(Installations.DEPLOY).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> !jetty.isAlive() || Deliveries.get(root).statusCode() > 0);
        assertThat(jetty.isAlive()).as("Jetty runs; its output: %s", Files.readString(log)).isTrue();
        return log;
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
