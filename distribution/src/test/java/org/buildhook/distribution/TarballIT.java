package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built tarball, used as a user would: unpacked into a fresh folder, {@code bin/buildhook}
 * run as separate processes.
 */
class TarballIT {


    @TempDir
    Path dir;
    Path home;
    Path work;
    Process server;
    final List<String> serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>(); // read while it is added to

    @BeforeEach
    void unpack() throws Exception {
        home = Tarball.unpack(dir);
        work = Files.createDirectories(dir.resolve("work"));
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    ProcessBuilder buildhook(String... args) {
        return Tarball.launcher(home, work, args);
    }

    static String run(ProcessBuilder pb, int expectedExit) throws Exception {
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(expectedExit);
        return out;
    }

    /** Starts {@code serve} on a free port and returns its base URL once it listens. */
    String serve() throws Exception {
        server = buildhook("serve", "--port", "0", "--host", "127.0.0.1").start();
        return ServeOutput.awaitListening(server, serverOutput, "tarball-it-server-output");
    }

    @Test
    void servesOnEmbeddedDefaultsAcceptsTheSampleRunsItsJobAndStopsGracefullyOnSigterm() throws Exception {
        String base = serve();
        assertThat(work.resolve("data/webhook-secret")).exists();

        String sent = run(buildhook("send", base + "webhook", "--sample", "--secret-file", "data/webhook-secret"), 0);
        assertThat(sent).startsWith("HTTP 202");

        // The sample rule echoes the build: its output is the job's log under the data folder.
        await().atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
            try (Stream<Path> logs = Files.walk(work.resolve("data/logs"))) {
                assertThat(logs.filter(p -> p.getFileName().toString().equals("attempt-1.log")).toList())
                        .singleElement().satisfies(log -> assertThat(Files.readString(log))
                                .contains("build 67 of andy-corp/lmp is PASSED (trigger: containers-devel)"));
            }
        });
        assertThat(run(buildhook("send", base + "webhook", "--sample", "--secret-file", "data/webhook-secret"), 0))
                .startsWith("HTTP 200").contains("\"duplicate\":true");
        // On glibc 2.34 or newer (CI: Debian 12) the job was started by posix_spawn, without the setsid exec.
        await().atMost(Duration.ofMinutes(3)).until(() -> serverOutput.stream()
                .anyMatch(l -> l.contains("jobs start in their own session through posix_spawn with POSIX_SPAWN_SETSID")));
        assertThat(serverOutput).noneMatch(l -> l.contains("restricted method"));

        // Each try starts a JVM (the CLI): at load 40 one took more than 30 s, which Awaitility cut short (ci42-f).
        // As the operator would: the admin commands find the server and its generated token themselves.
        await().atMost(Duration.ofMinutes(3)).untilAsserted(() ->
                assertThat(run(buildhook("jobs", "--url", base), 0)).contains("log-every-build").contains("SUCCEEDED"));

        server.destroy(); // SIGTERM
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).as("stopped within its grace period").isTrue();
        assertThat(server.exitValue()).isIn(0, 143);
        try (Stream<Path> files = Files.walk(home)) {
            assertThat(files.filter(p -> p.getFileName().toString().equals("data") || p.toString().endsWith(".db")).toList())
                    .as("nothing written into the install folder").isEmpty();
        }
        // Issue 17: without BUILDHOOK_CDS_DIR, the stop wrote the class-data archive for the next start into
        // the user's cache folder (XDG_CACHE_HOME; Tarball.launcher's), not into the install folder.
        try (Stream<Path> archive = Files.list(Tarball.defaultArchiveFolder(Tarball.userCache(home)))) {
            assertThat(archive.map(p -> p.getFileName().toString()).toList())
                    .anyMatch(name -> name.startsWith("buildhook-serve-java") && name.endsWith(".tmp.stopped"));
        }
    }

    /**
     * docs/operations.md ("Logs"): an operator replaces the standalone server's logging with {@code
     * -Dlogback.configurationFile=…} in {@code JAVA_OPTS}. The launcher passed its own {@code conf/logback.xml}
     * after {@code JAVA_OPTS}, and the JVM keeps the last {@code -D} of a name: the operator's file was ignored, and
     * nothing said so (review55b F1).
     */
    @Test
    void aLoggingConfigurationNamedInJavaOptsReplacesTheShippedOne() throws Exception {
        Path logback = Files.writeString(dir.resolve("operator-logback.xml"), """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>operator-logback %level %logger - %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="OUT"/></root>
                </configuration>
                """);
        ProcessBuilder pb = buildhook("serve", "--port", "0", "--host", "127.0.0.1");
        pb.environment().put("JAVA_OPTS", "-Dlogback.configurationFile=" + logback);
        server = pb.start();
        ServeOutput.awaitListening(server, serverOutput, "tarball-it-logback-output");

        // Every log line of the start is the operator's pattern; none is the shipped one's ("<time> INFO  [thread]").
        assertThat(serverOutput).anyMatch(l -> l.startsWith("operator-logback INFO org.buildhook."))
                .noneMatch(l -> l.matches("^\\d{4}-\\d\\d-\\d\\dT.* (INFO|WARN|ERROR) +\\[.*"));
    }

    /**
     * The README shipped in the tarball, for someone who has only the tarball: every command of its
     * walk-through runs as written from the unpacked folder (no {@code distribution/target/}, no
     * {@code fixtures/}), and every page it links to is in it.
     */
    @Test
    void theShippedReadmesWalkthroughWorksAsWrittenFromTheUnpackedFolder() throws Exception {
        String readme = Files.readString(home.resolve("README"));
        assertThat(readme).doesNotContain("distribution/target").doesNotContain("fixtures/").doesNotContain("mvn ");
        java.util.regex.Matcher link = java.util.regex.Pattern.compile("\\]\\(([^)#]+)").matcher(readme);
        while (link.find()) {
            assertThat(home.resolve(link.group(1))).as("linked from the shipped README").isRegularFile();
        }
        List<String> steps = WalkthroughIT.commands(readme);
        assertThat(steps).hasSize(6).first().isEqualTo("bin/buildhook serve");
        Path conf = home.resolve("conf/buildhook.yaml");
        Files.writeString(conf, Files.readString(conf) + "\nserver: {host: 127.0.0.1, port: 0}\n");

        server = shell(steps.get(0)).start();
        String base = ServeOutput.awaitListening(server, serverOutput, "tarball-readme-server-output");
        assertThat(run(shell(steps.get(1).replace("http://localhost:8080/", base)), 0)).startsWith("HTTP 202");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(run(shell(steps.get(2)), 0)).contains("log-every-build").contains("SUCCEEDED"));
        String jobId = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run(shell(steps.get(2) + " --json"), 0))
                .get("items").get(0).get("id").asText();
        assertThat(run(shell(steps.get(3).replace("<job id>", jobId)), 0))
                .contains("build 67 of andy-corp/lmp is PASSED (trigger: containers-devel)");
        assertThat(run(shell(steps.get(4).replace("<job id>", jobId)), 0)).isNotBlank();
        assertThat(run(shell(steps.get(5)), 0)).contains("log-every-build");
    }

    /** A command of the shipped README, run by {@code /bin/sh} in the unpacked folder. */
    ProcessBuilder shell(String command) {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", "exec " + command).directory(home.toFile())
                .redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("BUILDHOOK_CONFIG");
        // serve keeps its class-data archive in the user's cache folder: the test's, not the home folder's.
        pb.environment().remove("BUILDHOOK_CDS_DIR");
        pb.environment().put("XDG_CACHE_HOME", Tarball.userCache(home).toString());
        return pb;
    }

    @Test
    void checkPrintsEveryMistakeWithItsLineAndExitsNonZero() throws Exception {
        Path rules = Files.writeString(work.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: a",
                "    run:",
                "      comand: [/bin/true]",
                "  - name: a",
                "    run: {command: [/bin/true], timeout: 5 min}",
                ""));

        String out = run(buildhook("check", "--rules", rules.toString()), ExitCodes.FAILED);

        assertThat(out).contains("rules.yaml:4:7").contains("did you mean 'command'").contains("rules.yaml:5:")
                .contains("rules.yaml:6:").contains("mistake(s) found");
    }

    @Test
    void checkAcceptsTheShippedConfigurationAndRulesAndWritesNothing() throws Exception {
        String out = run(buildhook("check", "--config", home.resolve("conf/buildhook.yaml").toString()), 0);
        String found = run(buildhook("check"), 0);

        assertThat(out).contains("rules.yaml: ok (1 rule(s): log-every-build)")
                .contains("the secret of endpoint 'default' will be generated at first start in "
                        + work.toRealPath().resolve("data/webhook-secret"));
        assertThat(found).contains(home.resolve("conf/buildhook.yaml") + ": ok").contains("log-every-build");
        assertThat(work).isEmptyDirectory();
    }

    @Test
    void versionNamesTheBuildAndTheCommitItWasMadeFrom() throws Exception {
        String out = run(buildhook("--version"), 0);

        // The tarball's jars, not these test classes, say it: the same build, so the same words.
        assertThat(out).startsWith("buildhook " + org.buildhook.servlet.BuildInfo.describe() + "\nJava ");
        if (Files.exists(Path.of("..", ".git"))) {
            assertThat(out).containsPattern("^buildhook [0-9][^ ]* \\(commit [0-9a-f]{8}(-dirty)?\\)\n");
        }
    }

    @Test
    void theLauncherRefusesAJavaOlderThan17WithAClearMessage() throws Exception {
        Path fakeJdk = Files.createDirectories(dir.resolve("old-jdk/bin"));
        Path java = Files.writeString(fakeJdk.resolve("java"),
                "#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n");
        assertThat(java.toFile().setExecutable(true)).isTrue();
        ProcessBuilder pb = buildhook("--version");
        pb.environment().put("JAVA_HOME", dir.resolve("old-jdk").toString());

        String out = run(pb, 2);

        assertThat(out).contains("Java 17 or newer is required").contains("11.0.2");
    }
    /**
     * The launcher reads the Java version from the JDK's {@code release} file rather than starting a JVM
     * for {@code java -version}: one JVM start less for every command (issue 17, docs/BENCHMARKS.md). This
     * java fails when asked its version, and the release file decides, both ways.
     */
    @Test
    void theLauncherReadsTheJavaVersionFromTheReleaseFileWithoutStartingJava() throws Exception {
        Path jdk17 = fakeJava("17.0.15");
        Path jdk11 = fakeJava("11.0.2");
        for (Path jdk : List.of(jdk17, jdk11)) {
            Files.writeString(jdk.resolve("bin/java"), "#!/bin/sh\n"
                    + "if [ \"$1\" = -version ]; then echo 'asked for its version' >&2; exit 1; fi\necho \"$@\"\n");
        }
        Files.writeString(jdk17.resolve("release"), "IMPLEMENTOR=\"Debian\"\nJAVA_VERSION=\"17.0.15\"\n");
        Files.writeString(jdk11.resolve("release"), "JAVA_VERSION=\"11.0.2\"\nJAVA_VERSION_DATE=\"2019-01-15\"\n");

        assertThat(argumentsGivenTo(jdk17)).contains("-XX:TieredStopAtLevel=1").doesNotContain("asked for its version");
        ProcessBuilder old = buildhook("--version");
        old.environment().put("JAVA_HOME", jdk11.toString());
        assertThat(run(old, 2)).contains("Java 17 or newer is required").contains("'11.0.2'");
    }

    @Test
    void theLauncherStartsJobsWithVforkOnJava17To24AndNotFromJava25() throws Exception {
        // VFORK saves the jspawnhelper exec per job (docs/BENCHMARKS.md); Java 25 deprecates it.
        assertThat(argumentsGivenTo(fakeJava("17.0.15"))).contains("-XX:TieredStopAtLevel=1",
                "-Djdk.lang.Process.launchMechanism=VFORK");
        assertThat(argumentsGivenTo(fakeJava("24.0.1"))).contains("-Djdk.lang.Process.launchMechanism=VFORK");
        assertThat(argumentsGivenTo(fakeJava("25"))).contains("-XX:TieredStopAtLevel=1")
                .doesNotContain("-Djdk.lang.Process.launchMechanism=VFORK");
    }

    @Test
    void theLauncherDropsItsJvmDefaultsWhenTheOperatorEmptiesThem() throws Exception {
        ProcessBuilder pb = buildhook("--version");
        pb.environment().put("JAVA_HOME", fakeJava("17.0.15").toString());
        pb.environment().put("BUILDHOOK_JVM_DEFAULTS", "");

        assertThat(run(pb, 0)).doesNotContain("TieredStopAtLevel").doesNotContain("launchMechanism")
                .contains("--enable-native-access=ALL-UNNAMED");
    }

    @Test
    void theLauncherEnablesNativeAccessForJnaOnEveryJava() throws Exception {
        // Jobs start through posix_spawn called with JNA; Java 24+ warns without it, Java 17 accepts it.
        for (String version : List.of("17.0.15", "21.0.4", "25")) {
            assertThat(argumentsGivenTo(fakeJava(version))).as(version).contains("--enable-native-access=ALL-UNNAMED");
        }
    }

    @Test
    void everyInstalledJavaAcceptsTheNativeAccessOptionSilently() throws Exception {
        List<Path> javas = new ArrayList<>();
        javas.add(Path.of(System.getProperty("java.home"), "bin", "java"));
        Path jvms = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvms)) {
            try (var installed = Files.list(jvms)) {
                installed.map(p -> p.resolve("bin/java")).filter(Files::isExecutable).forEach(javas::add);
            }
        }
        for (Path java : javas) {
            String out = run(new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-version")
                    .redirectErrorStream(true), 0);
            assertThat(out).as(java.toString()).contains(" version ").doesNotContainIgnoringCase("warning")
                    .doesNotContainIgnoringCase("unrecognized");
        }
    }

    /** A JAVA_HOME whose java reports {@code version} and otherwise prints the arguments it got. */
    private Path fakeJava(String version) throws Exception {
        Path bin = Files.createDirectories(work.resolve("jdk-" + version + "/bin"));
        Path java = Files.writeString(bin.resolve("java"), "#!/bin/sh\n"
                + "if [ \"$1\" = -version ]; then echo 'openjdk version \"" + version + "\" 2025-09-16' >&2; exit 0; fi\n"
                + "echo \"$@\"\n");
        assertThat(java.toFile().setExecutable(true)).isTrue();
        return bin.getParent();
    }

    private String argumentsGivenTo(Path javaHome) throws Exception {
        ProcessBuilder pb = buildhook("--version");
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().remove("BUILDHOOK_JVM_DEFAULTS");
        return run(pb, 0);
    }
}
