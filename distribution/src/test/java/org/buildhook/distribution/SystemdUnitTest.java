package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped systemd unit: it starts when installed as the documentation says, systemd finds
 * nothing wrong in it, and its sandbox is tight ({@code systemd-analyze security} exposure at most
 * 4.0). systemd-analyze is required on CI ({@code .ci/run} installs it), skipped elsewhere.
 */
class SystemdUnitTest {

    static final Path UNIT = Path.of("src/main/dist/systemd/buildhook.service");
    static final Path SOCKET = Path.of("src/main/dist/systemd/buildhook.socket");
    static final Path SOCKET_DROP_IN = Path.of("src/main/dist/systemd/buildhook.service.d/socket.conf");
    static final Path ANALYZE = Path.of("/usr/bin/systemd-analyze");
    static final Path DOCS = Path.of(System.getProperty("buildhook.fixtures")).getParent();

    @TempDir
    Path dir;

    static void requireSystemdAnalyze() {
        if (!Files.isExecutable(ANALYZE)) {
            assertThat(System.getenv("CI")).as("systemd-analyze is required on CI (apt-get install systemd)")
                    .isNotEqualTo("true");
            assumeTrue(false, "systemd-analyze is not installed");
        }
    }

    /** The unit with /opt/buildhook pointing at a copy of the installation's bin/ under the test's folder. */
    Path installedUnit() throws IOException {
        Path home = Files.createDirectories(dir.resolve("opt/buildhook/bin"));
        Path launcher = Files.copy(Path.of("src/main/dist/bin/buildhook"), home.resolve("buildhook"));
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        String text = Files.readString(UNIT).replace("/opt/buildhook", dir.resolve("opt/buildhook").toString());
        return Files.writeString(dir.resolve("buildhook.service"), text);
    }

    /** {@link #installedUnit()}, with buildhook.socket and the service's drop-in for it beside it. */
    Path installedSocketActivation() throws IOException {
        Path unit = installedUnit();
        Files.copy(SOCKET, dir.resolve("buildhook.socket"));
        Files.copy(SOCKET_DROP_IN, Files.createDirectories(dir.resolve("buildhook.service.d")).resolve("socket.conf"));
        return unit;
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + out).isZero();
        return out;
    }

    @Test
    void systemdFindsNothingWrongInTheUnit() throws Exception {
        requireSystemdAnalyze();
        String out = run(ANALYZE.toString(), "verify", installedUnit().toString());
        assertThat(out).isEmpty();
    }

    /**
     * tryout35 F1: systemd holds the port across a restart when buildhook.socket is enabled; the drop-in that
     * hands it to the service as its standard input is read (a mistake in it is reported, as the first check
     * proves) and systemd finds nothing wrong in the three files together.
     */
    @Test
    void systemdFindsNothingWrongInTheSocketAndTheServicesDropInForIt() throws Exception {
        requireSystemdAnalyze();
        Path unit = installedSocketActivation();
        Path dropIn = dir.resolve("buildhook.service.d/socket.conf");
        String shipped = Files.readString(dropIn);
        Files.writeString(dropIn, shipped + "StandardInput=no-such-input\n");
        assertThat(runAllowingFailure(ANALYZE.toString(), "verify", unit.toString(),
                dir.resolve("buildhook.socket").toString())).as("the drop-in is read").contains("no-such-input");
        Files.writeString(dropIn, shipped);

        String out = run(ANALYZE.toString(), "verify", unit.toString(), dir.resolve("buildhook.socket").toString());

        assertThat(out).isEmpty();
        String exposure = run(ANALYZE.toString(), "security", "--offline=yes", unit.toString());
        Matcher level = Pattern.compile("Overall exposure level for \\S+: ([0-9.]+)").matcher(exposure);
        assertThat(level.find()).as(exposure).isTrue();
        assertThat(Double.parseDouble(level.group(1))).as(exposure).isLessThanOrEqualTo(4.0);
    }

    /**
     * The socket is opt-in: the service alone listens by itself (no StandardInput=socket, which would keep it
     * from starting without the socket); with the drop-in it takes exactly one TCP socket as standard input, its
     * output going to the journal, not into that socket.
     */
    @Test
    void theSocketIsOptInAndTheDropInHandsItOverAsStandardInputWithOutputToTheJournal() throws Exception {
        assertThat(Files.readAllLines(UNIT)).noneMatch(line -> line.startsWith("StandardInput="))
                .noneMatch(line -> line.startsWith("Sockets="))
                .noneMatch(line -> !line.startsWith("#") && line.contains("buildhook.socket"));
        assertThat(Files.readAllLines(SOCKET_DROP_IN)).contains("Requires=buildhook.socket", "After=buildhook.socket",
                "StandardInput=socket", "StandardOutput=journal", "StandardError=journal");
        List<String> socket = Files.readAllLines(SOCKET);
        assertThat(socket).filteredOn(line -> line.startsWith("ListenStream=")).containsExactly("ListenStream=8080");
        assertThat(socket).noneMatch(line -> line.startsWith("Accept=yes")).contains("WantedBy=sockets.target");
        String deploying = Files.readString(DOCS.resolve("docs/deploying.md"));
        assertThat(deploying).contains("systemctl enable --now buildhook.socket",
                "cp /opt/buildhook/systemd/buildhook.service.d/socket.conf /etc/systemd/system/buildhook.service.d/");
        assertThat(Files.readString(SOCKET)).contains("cp /opt/buildhook/systemd/buildhook.service.d/socket.conf"
                + " /etc/systemd/system/buildhook.service.d/", "systemctl enable --now buildhook.socket");
    }

    /**
     * review36: the install line enabled the socket while the service still listened on the port itself: systemd's
     * bind of ListenStream= then fails (EADDRINUSE, as a second listener on a port always does), the socket unit
     * fails and the line stops before the restart. The service is stopped first, started after the socket.
     */
    @Test
    void theInstallLinesStopTheServiceBeforeTheSocketTakesItsPort() throws Exception {
        String deploying = Files.readString(DOCS.resolve("docs/deploying.md"));
        assertThat(deploying).contains("systemctl daemon-reload && systemctl stop buildhook && systemctl enable --now"
                + " buildhook.socket && systemctl start buildhook").doesNotContain("enable --now buildhook.socket &&"
                        + " systemctl restart buildhook");
        String socket = Files.readString(SOCKET);
        assertThat(socket).contains("systemctl daemon-reload && systemctl stop buildhook && systemctl enable --now"
                + " buildhook.socket \\\n#     && systemctl start buildhook").doesNotContain("enable --now buildhook.socket && systemctl restart buildhook");
        try (java.net.ServerSocket service = new java.net.ServerSocket(0)) {
            // What systemd meets: the running service's listener keeps a second one off its port.
            try (java.net.ServerSocket held = new java.net.ServerSocket()) {
                held.setReuseAddress(true);
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> held.bind(
                        new java.net.InetSocketAddress(service.getLocalPort()))).isInstanceOf(java.net.BindException.class);
            }
        }
    }

    static String runAllowingFailure(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void theSandboxExposureIsAtMost4() throws Exception {
        requireSystemdAnalyze();
        String out = run(ANALYZE.toString(), "security", "--offline=yes", installedUnit().toString());
        Matcher level = Pattern.compile("Overall exposure level for \\S+: ([0-9.]+)").matcher(out);
        assertThat(level.find()).as(out).isTrue();
        assertThat(Double.parseDouble(level.group(1))).as(out).isLessThanOrEqualTo(4.0);
        assertThat(Files.readString(UNIT)).as("breaks the JIT").doesNotContain("MemoryDenyWriteExecute=yes");
    }

    /**
     * What docs/deploying.md says of stopping: SIGTERM is the graceful stop, whose exit status 143 is
     * a success, and there is no reload (buildhook.yaml is read at start only), so no ExecReload that
     * would make {@code systemctl reload} send a signal that stops the server.
     */
    @Test
    void stopsWithSigtermAsASuccessAndOffersNoReload() throws Exception {
        List<String> lines = Files.readAllLines(UNIT);
        // mixed: the SIGTERM to the server only, which gives its jobs their grace (GracefulStopIT stops it so).
        assertThat(lines).contains("KillSignal=SIGTERM", "SuccessExitStatus=143", "KillMode=mixed")
                .noneMatch(line -> line.startsWith("ExecReload="));
        assertThat(Files.readString(DOCS.resolve("docs/deploying.md")))
                .contains("there is no reload", "`systemctl restart buildhook`", "129 for SIGHUP");
    }

    /**
     * tryout47b F7: a mistake in buildhook.yaml or the rules file ended {@code serve} with 3, as a store that does not
     * answer does, so {@code Restart=on-failure} started the JVM again every ~6 s for ever ({@code RestartSec=5s}
     * keeps it under systemd's default start limit). Real starts of the server: a configuration mistake and a rules
     * mistake end with a status the unit's {@code RestartPreventExitStatus=} lists; a store that refuses the
     * connection ends with one it does not, and is restarted.
     */
    @Test
    void aMistakeEndsTheServiceWhileAStoreThatDoesNotAnswerIsStartedAgain() throws Exception {
        List<String> lines = Files.readAllLines(UNIT);
        List<Integer> prevented = lines.stream().filter(line -> line.startsWith("RestartPreventExitStatus="))
                .flatMap(line -> Arrays.stream(line.substring("RestartPreventExitStatus=".length()).trim().split("\\s+")))
                .map(Integer::valueOf).toList();
        assertThat(lines).contains("Restart=on-failure");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: typo\n    run: {comand: [/bin/true]}\n");
        Path configMistake = Files.writeString(dir.resolve("mistake.yaml"), "data-dir: data\nrunner: {threads: 0}\n");
        Path rulesMistake = Files.writeString(dir.resolve("rules-mistake.yaml"), "data-dir: data\nrules: rules.yaml\n");
        int closed;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        Path noStore = Files.writeString(dir.resolve("no-store.yaml"), "data-dir: data\nstore: {url: "
                + "'jdbc:postgresql://127.0.0.1:" + closed + "/buildhook?user=u&password=p'}\n");

        assertThat(prevented).as("what serve exits with for a mistake in buildhook.yaml")
                .contains(serveExitCode(configMistake, "runner.threads: must be between 1 and 1000"));
        assertThat(prevented).as("and in its rules file").contains(serveExitCode(rulesMistake, "rules.yaml:3:11"));
        assertThat(prevented).as("a store that does not answer is restarted")
                .doesNotContain(serveExitCode(noStore, "cannot start"));
    }

    /** The exit status of a {@code serve} of {@code config} that does not start, after checking it says {@code why}. */
    private int serveExitCode(Path config, String why) throws Exception {
        Process serve = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config", config.toString(),
                "--host", "127.0.0.1", "--port", "0").directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(serve.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(serve.waitFor(120, TimeUnit.SECONDS)).as(output).isTrue();
        assertThat(output).contains(why).doesNotContain("Exception");
        return serve.exitValue();
    }

    /** The unit's comment says what serve's help says: the rules file reloads when saved, buildhook.yaml by a restart. */
    @Test
    void theUnitsCommentSaysHowToApplyAChangeToTheRulesAndToBuildhookYaml() throws Exception {
        String comments = Files.readAllLines(UNIT).stream().filter(line -> line.startsWith("#"))
                .map(line -> line.substring(1).trim()).reduce("", (a, b) -> a + " " + b);

        assertThat(comments).contains("buildhook.yaml is read at start only, so apply a change to it with"
                        + " `systemctl restart buildhook`")
                .contains("SIGHUP stops the server too (exit 129, restarted), it is not a reload")
                .contains("The rules file needs neither: save it and the server loads it again by itself");
    }

    @Test
    void everyWritablePathIsOneTheInstructionsCreate() throws Exception {
        List<String> writable = new ArrayList<>();
        for (String line : Files.readAllLines(UNIT)) {
            if (line.startsWith("ReadWritePaths=")) {
                writable.addAll(Arrays.asList(line.substring("ReadWritePaths=".length()).trim().split("\\s+")));
            }
        }
        String instructions = systemdInstructions();
        List<String> created = new ArrayList<>();
        Matcher install = Pattern.compile("(?m)^install -d (?:-[ogm] \\S+ )*(.+)$").matcher(instructions);
        while (install.find()) {
            created.addAll(Arrays.asList(install.group(1).trim().split("\\s+")));
        }

        assertThat(writable).isNotEmpty();
        // A ReadWritePaths= folder that does not exist stops the unit from starting (226/NAMESPACE).
        assertThat(created).containsAll(writable);
        assertThat(instructions).contains("sudo").contains("/tmp").contains("/home");
    }

    /**
     * The unit's own "Install:" comment is what an operator who opens only the unit follows: it has
     * every command of the documentation's steps (it lacked copying buildhook.yaml to /etc/buildhook,
     * so the unit it enabled could not start), "journalctl" aside.
     */
    @Test
    void theUnitsInstallCommentHasEveryCommandOfTheDocumentedSteps() throws IOException {
        String instructions = systemdInstructions();
        int open = instructions.indexOf("```sh\n");
        String block = instructions.substring(open + "```sh\n".length(), instructions.indexOf("```", open + 5));
        List<String> header = new ArrayList<>();
        for (String line : Files.readAllLines(UNIT)) {
            if (!line.startsWith("#")) {
                break;
            }
            header.add(line.replaceFirst("^#\\s*", ""));
        }
        List<String> commands = block.lines().filter(l -> !l.isBlank() && !l.startsWith("#") && !l.startsWith("journalctl"))
                .toList();

        assertThat(commands).contains("systemctl daemon-reload && systemctl enable --now buildhook");
        assertThat(header).containsAll(commands);
    }

    /**
     * tryout15 F10: under the unit, JNA unpacked its native library into {@code ~/.cache} of the
     * {@code buildhook} user, whose home is the data folder. A real server started as the unit starts
     * it (its {@code Environment=} lines, its user's home as {@code user.home}, which Java takes from the
     * user's entry, not from $HOME) unpacks it into the cache folder the unit has systemd make instead.
     */
    @Test
    void jnaUnpacksItsLibraryIntoTheUnitsCacheFolderNotTheDataFolder() throws Exception {
        List<String> lines = Files.readAllLines(UNIT);
        Path data = Files.createDirectories(dir.resolve("var/lib/buildhook"));
        Path cache = Files.createDirectories(dir.resolve("var/cache/buildhook"));
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + data + "\n"
                + TestConfig.LOCAL_SERVER + "\n");
        ProcessBuilder unit = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-Duser.home=" + data, "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
                "--config", config.toString()).directory(data.toFile()).redirectErrorStream(true);
        unit.environment().remove("XDG_CACHE_HOME");
        for (String line : lines) {
            if (line.startsWith("Environment=")) {
                String[] pair = line.substring("Environment=".length()).split("=", 2);
                unit.environment().put(pair[0], pair[1].replace("/var/cache/buildhook", cache.toString()));
            }
        }
        Process server = unit.start();
        try {
            ServeOutput.awaitListening(server, java.util.Collections.synchronizedList(new ArrayList<>()),
                    "systemd-unit-jna-test-output");

            assertThat(cache.resolve("JNA/temp")).as("JNA loaded at start, its library unpacked here").isDirectory();
            assertThat(data.resolve(".cache")).doesNotExist();
        } finally {
            server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        // The folder stood in for here is the one systemd makes for the unit.
        assertThat(lines).contains("CacheDirectory=buildhook", "Environment=XDG_CACHE_HOME=/var/cache/buildhook");
    }

    /**
     * Issue 17: the unit gives bin/buildhook its cache folder for the class-data archive of {@code serve}
     * (ClassDataArchiveIT runs the launcher with it): the one folder there that systemd makes writable
     * for the service besides the data folder, so the install folder stays untouched.
     */
    @Test
    void theClassDataArchiveGoesToTheFolderSystemdMakesForTheUnit() throws Exception {
        List<String> lines = Files.readAllLines(UNIT);

        assertThat(lines).contains("CacheDirectory=buildhook", "Environment=BUILDHOOK_CDS_DIR=/var/cache/buildhook");
        assertThat(lines).filteredOn(l -> l.startsWith("ReadWritePaths=")).noneMatch(l -> l.contains("/opt"));
    }

    /** The documentation's systemd section: README or whichever docs/ page now holds it. */
    static String systemdInstructions() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(DOCS.resolve("README.md")));
        try (Stream<Path> docs = Files.list(DOCS.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        for (Path page : pages) {
            String text = Files.readString(page);
            int at = text.indexOf("useradd --system");
            if (at >= 0) {
                int start = text.lastIndexOf("\n#", at);
                int end = text.indexOf("\n#", text.indexOf("```", at));
                return text.substring(start, end < 0 ? text.length() : end);
            }
        }
        throw new AssertionError("no page has the systemd instructions (useradd --system)");
    }
}
