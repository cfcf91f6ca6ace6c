package org.buildhook.distribution.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import java.util.zip.GZIPInputStream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image built from this build's tarball with the shipped Containerfile, run with
 * podman as an operator would: configuration, secrets and scripts mounted, data in a volume.
 * Skipped without podman, except on CI ({@code CI=true}), where that fails.
 */
class ContainerIT {

    static final Path FIXTURES = Path.of(System.getProperty("buildhook.fixtures"));
    static final Path SENDER = Path.of(System.getProperty("buildhook.tools")).resolve("jobserv-send");

    static String image;

    @TempDir
    Path dir;
    final List<BuildhookContainer> containers = new ArrayList<>();

    @BeforeAll
    static void buildImage() {
        Podman.requireInstalled();
        image = Images.buildhook();
    }

    @AfterEach
    void remove() {
        containers.forEach(BuildhookContainer::close);
    }

    BuildhookContainer start(Deployment deployment) {
        BuildhookContainer container = BuildhookContainer.start(image, deployment.adminToken, deployment.mounts());
        containers.add(container);
        return container;
    }

    @Test
    void theImageRunsAsNonRootUnderTiniOnItsBuiltInConfigurationAndIsHealthy() throws Exception {
        JsonNode inspected = BuildhookContainer.JSON.readTree(Podman.podman("image", "inspect", image).ok().out()).get(0);
        JsonNode config = inspected.get("Config");
        assertThat(config.get("User").asText()).isEqualTo("10001:10001");
        assertThat(config.get("StopSignal").asText()).isEqualTo("SIGTERM");
        assertThat(config.get("ExposedPorts").has("8080/tcp")).isTrue();
        assertThat(config.get("Volumes").has("/var/lib/buildhook")).isTrue();
        assertThat(config.get("Env").toString()).contains("LANG=C.UTF-8").contains("XDG_CACHE_HOME=/var/cache/buildhook");
        assertThat(inspected.get("Healthcheck").get("Test").toString()).contains("/opt/buildhook/container/healthcheck");

        BuildhookContainer container = BuildhookContainer.start(image, "none", List.of());
        containers.add(container);

        assertThat(Podman.podman("healthcheck", "run", container.name).ok().out()).doesNotContain("unhealthy");
        assertThat(container.exec("id", "-u").ok().out().strip()).isEqualTo(Deployment.UID);
        assertThat(container.exec("cat", "/proc/1/comm").ok().out().strip()).isEqualTo("tini");
        assertThat(Podman.podman("top", container.name, "user", "comm").ok().out().lines().skip(1).toList())
                .isNotEmpty().allSatisfy(line -> assertThat(line.strip()).doesNotStartWith("root"));
        // The built-in configuration keeps everything in the volume: generated secret and admin token.
        assertThat(container.exec("ls", "-A", "/var/lib/buildhook").ok().out()).contains("webhook-secret")
                .contains("admin-token").contains("buildhook.db")
                // JNA's native library is unpacked outside the volume, the user's home (tryout15 F10).
                .doesNotContain(".cache");
        assertThat(container.exec("ls", "/var/cache/buildhook").ok().out()).contains("JNA");
        // Issue 17: the image carries the class-data archive its build made (train-cds), so even a new
        // container's first start maps it; the training left nothing else (no half-written archive, no
        // throw-away data folder with its generated secrets).
        assertThat(container.exec("sh", "-c", "cat /proc/[0-9]*/maps 2>/dev/null | grep -o '/var/cache/buildhook/.*jsa'"
                + " | sort -u").ok().out()).startsWith("/var/cache/buildhook/buildhook-serve-java17");
        assertThat(container.exec("ls", "-A", "/var/cache/buildhook").ok().out().lines())
                .allSatisfy(name -> assertThat(name).matches("JNA|buildhook-serve-java17[0-9.]*-[0-9]+-[0-9]+\\.jsa"));
        assertThat(container.exec("ls", "-A", "/tmp").ok().out()).doesNotContain("buildhook-train");
    }

    @Test
    void everyJobServFixtureSentWithJobservSendIsAcceptedRunsAndItsLogIsReadableWithTheExactNonAsciiValues()
            throws Exception {
        Deployment deployment = Deployment.of(dir, "", String.join("\n",
                "rules:",
                "  - name: record",
                "    run:",
                "      command: [/opt/scripts/record.sh, \"${build.project}\"]",
                "      stdin: off",
                "      timeout: 1m",
                "  - name: each-run",
                "    when:",
                "      factory: zürich",
                "      runs: {match: each}",
                "    run:",
                "      command: [/opt/scripts/record.sh, \"${run.name}\"]",
                "      stdin: off",
                "      timeout: 1m",
                "")).script("record.sh", String.join("\n",
                        "printf 'arg=%s\\n' \"$1\"",
                        "printf 'project=%s\\n' \"$BUILDHOOK_PROJECT\"",
                        "printf 'uid=%s\\n' \"$(id -u)\"",
                        ""));
        BuildhookContainer container = start(deployment);

        List<String> fixtures = List.of("build-67-passed.json", "build-68-failed.json", "build-412-promoted.json",
                "build-7-unusual.json", "build-9000-1500-runs.json");
        Map<String, String> deliveries = new java.util.LinkedHashMap<>();
        for (String fixture : fixtures) {
            Podman.Result sent = Podman.exec(List.of("python3", SENDER.toString(), container.base() + "webhook",
                    FIXTURES.resolve(fixture).toString(), deployment.secret, "--no-retry"), null, Map.of(),
                    Duration.ofMinutes(2));
            assertThat(sent.out()).as(fixture).startsWith("HTTP 202");
            deliveries.put(fixture, BuildhookContainer.JSON.readTree(sent.out().strip().substring("HTTP 202 ".length()))
                    .get("delivery").asText());
        }

        for (Map.Entry<String, String> delivery : deliveries.entrySet()) {
            JsonNode event = BuildhookContainer.JSON.readTree(FIXTURES.resolve(delivery.getKey()).toFile());
            String project = event.get("url").asText().replaceFirst(".*/projects/([^/]+/[^/]+)/builds/.*", "$1");
            await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
                JsonNode jobs = container.api("jobs?delivery=" + delivery.getValue()).get("items");
                assertThat(jobs).isNotEmpty().allSatisfy(job -> assertThat(job.get("state").asText()).isEqualTo("SUCCEEDED"));
            });
            for (JsonNode job : container.api("jobs?delivery=" + delivery.getValue()).get("items")) {
                HttpResponse<String> log = container.get("api/jobs/" + job.get("id").asText() + "/log", true);
                assertThat(log.statusCode()).isEqualTo(200);
                String expectedArg = job.get("rule").asText().equals("record") ? project
                        : event.get("runs").get(0).get("name").asText();
                assertThat(log.body()).as(delivery.getKey()).isEqualTo(
                        "arg=" + expectedArg + "\nproject=" + project + "\nuid=" + Deployment.UID + "\n");
            }
        }
        // The unusual build's values, exactly: "zürich/lmp" and the run "tëst-ünïcode-ラン".
        assertThat(container.api("jobs?delivery=" + deliveries.get("build-7-unusual.json")).get("items"))
                .hasSize(2);

        assertSecretAppearsNowhere(container, deployment.secret, deployment.adminToken);
    }

    @Test
    void theDerivedImageOfTheDocsAddsToolsAndStillRunsAsNonRoot() throws Exception {
        String page = Files.readString(FIXTURES.resolveSibling("docs").resolve("deploying.md"));
        Matcher block = Pattern.compile("```dockerfile\n(.*?)```", Pattern.DOTALL)
                .matcher(page.substring(page.indexOf("### Adding tools")));
        assertThat(block.find()).as("a dockerfile block under 'Adding tools' in docs/deploying.md").isTrue();
        Path context = Files.createDirectories(dir.resolve("derived"));
        Files.writeString(context.resolve("Containerfile"), block.group(1).replace("localhost/buildhook:latest", image));
        Files.writeString(context.resolve("deploy.sh"), "#!/bin/sh\ngit --version\n");
        String derived = "localhost/buildhook-it-derived:" + java.util.UUID.randomUUID().toString().substring(0, 8);
        try {
            Podman.exec(List.of("podman", "build", "--pull=never", "--network=host", "--format", "docker", "-t", derived,
                    context.toString()), null, Map.of(), Duration.ofMinutes(20)).ok();

            assertThat(Podman.podman("run", "--rm", "--entrypoint", "/opt/scripts/deploy.sh", derived).ok().out())
                    .startsWith("git version");
            BuildhookContainer container = BuildhookContainer.start(derived, "none", List.of());
            containers.add(container);
            assertThat(container.exec("id", "-u").ok().out().strip()).isEqualTo(Deployment.UID);
            assertThat(container.exec("cat", "/proc/1/comm").ok().out().strip()).isEqualTo("tini");
        } finally {
            containers.forEach(BuildhookContainer::close);
            containers.clear();
            Podman.podman("rmi", "-f", derived);
        }
    }

    /** A rule running {@code /opt/scripts/trace.sh}, which appends "<build> start|end" to data/trace.txt. */
    Deployment traceDeployment(String extraYaml, String pause) throws IOException {
        return Deployment.of(dir, extraYaml, String.join("\n",
                "rules:",
                "  - name: trace",
                "    run:",
                "      command: [/opt/scripts/trace.sh, \"${build.id}\"]",
                "      stdin: off",
                "      timeout: 10m",
                "")).script("trace.sh", String.join("\n",
                        "echo \"$1 start\" >> /var/lib/buildhook/trace.txt",
                        pause,
                        "echo \"$1 end\" >> /var/lib/buildhook/trace.txt",
                        ""));
    }

    String send(BuildhookContainer container, Deployment deployment, int build) throws Exception {
        byte[] body = build(build);
        HttpResponse<String> response = container.post(body, sign(deployment.secret, body));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return BuildhookContainer.JSON.readTree(response.body()).get("jobs").get(0).asText();
    }

    @Test
    void podmanStopLetsARunningJobFinishWithinTheShutdownGrace() throws Exception {
        Deployment deployment = traceDeployment("", "sleep 5");
        BuildhookContainer container = start(deployment);
        String job = send(container, deployment, 1001);
        await().atMost(Duration.ofMinutes(1)).until(() -> deployment.lines("trace.txt").contains("1001 start"));

        Podman.podman("stop", "-t", String.valueOf(BuildhookContainer.STOP_TIMEOUT_SECONDS), container.name).ok();

        assertThat(deployment.lines("trace.txt")).containsExactly("1001 start", "1001 end");
        assertThat(container.inspect("{{.State.ExitCode}}")).as("stopped by SIGTERM, not killed").isIn("0", "143");
        Podman.podman("start", container.name).ok();
        container.awaitHealthy();
        // Issue 17: the restarted server maps the image's class-data archive (BUILDHOOK_CDS_DIR).
        assertThat(container.exec("sh", "-c", "cat /proc/[0-9]*/maps 2>/dev/null | grep -o '/var/cache/buildhook/.*jsa'"
                + " | sort -u").ok().out()).startsWith("/var/cache/buildhook/buildhook-serve-java17");
        Podman.Result logs = Podman.podman("logs", container.name);
        assertThat(logs.out() + logs.err()).doesNotContain("[cds").doesNotContain("BUILDHOOK_CDS_DIR");
        JsonNode found = container.api("jobs/" + job);
        assertThat(found.get("job").get("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(found.get("attempts")).hasSize(1);
        assertThat(deployment.lines("trace.txt")).containsExactly("1001 start", "1001 end");
    }

    @Test
    void podmanStopHandsAJobLongerThanTheShutdownGraceBackAndItRunsAgainAfterStart() throws Exception {
        // The first attempt waits forever; the next one (after the restart) ends at once.
        Deployment deployment = traceDeployment("runner:\n  shutdown-grace: 2s\n  kill-grace: 2s",
                "if [ ! -e /var/lib/buildhook/first ]; then touch /var/lib/buildhook/first; exec sleep 3600; fi");
        BuildhookContainer container = start(deployment);
        String job = send(container, deployment, 1002);
        await().atMost(Duration.ofMinutes(1)).until(() -> deployment.lines("trace.txt").contains("1002 start"));

        Podman.podman("stop", "-t", String.valueOf(BuildhookContainer.STOP_TIMEOUT_SECONDS), container.name).ok();

        assertThat(container.inspect("{{.State.ExitCode}}")).as("stopped by SIGTERM, not killed").isIn("0", "143");
        Podman.podman("start", container.name).ok();
        container.awaitHealthy();
        await().atMost(Duration.ofMinutes(2)).untilAsserted(() ->
                assertThat(container.api("jobs/" + job).get("job").get("state").asText()).isEqualTo("SUCCEEDED"));
        JsonNode attempts = container.api("jobs/" + job).get("attempts");
        assertThat(StreamSupport.stream(attempts.spliterator(), false).map(a -> a.get("outcome").asText()).toList())
                .contains("INTERRUPTED").endsWith("SUCCEEDED");
        assertThat(deployment.lines("trace.txt")).containsExactly("1002 start", "1002 start", "1002 end");
    }

    @Test
    void podmanKillThenStartCompletesEveryAcceptedJob() throws Exception {
        Deployment deployment = traceDeployment("", "sleep 2");
        BuildhookContainer container = start(deployment);
        List<String> jobs = new ArrayList<>();
        for (int build = 2001; build <= 2020; build++) {
            jobs.add(send(container, deployment, build));
        }

        Podman.podman("kill", "-s", "KILL", container.name).ok();
        Podman.podman("wait", container.name).ok();
        Podman.podman("start", container.name).ok();
        container.awaitHealthy();

        await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> {
            List<String> trace = deployment.lines("trace.txt");
            for (int build = 2001; build <= 2020; build++) {
                assertThat(trace).contains(build + " end");
            }
        });
        for (String job : jobs) {
            assertThat(container.api("jobs/" + job).get("job").get("state").asText()).isEqualTo("SUCCEEDED");
        }
    }

    @Test
    void orphansAJobLeavesBehindAreReapedNoZombieRemains() throws Exception {
        Deployment deployment = Deployment.of(dir, "", String.join("\n",
                "rules:",
                "  - name: orphans",
                "    run:",
                "      command: [/opt/scripts/orphans.sh]",
                "      stdin: off",
                "      timeout: 1m",
                "")).script("orphans.sh", String.join("\n",
                        "sleep 300 &",
                        "sleep 1 &",
                        "echo $! > /var/lib/buildhook/short-orphan.pid",
                        "exit 0",
                        ""));
        BuildhookContainer container = start(deployment);
        String job = send(container, deployment, 3001);
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() ->
                assertThat(container.api("jobs/" + job).get("job").get("state").asText()).isEqualTo("SUCCEEDED"));

        // The short orphan ends after its parent did: PID 1 (tini) reaps it, and nothing is left a zombie.
        String orphan = deployment.lines("short-orphan.pid").get(0).strip();
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() ->
                assertThat(container.exec("test", "-e", "/proc/" + orphan).exit()).as("/proc/%s still there", orphan)
                        .isNotZero());
        assertThat(processStates(container)).isNotEmpty().noneMatch(s -> s.endsWith(" Z"));
    }

    /** "comm state" of every process in the container, from /proc. */
    static List<String> processStates(BuildhookContainer container) {
        String stats = container.exec("sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null").out();
        return stats.lines().map(line -> {
            String comm = line.substring(line.indexOf('(') + 1, line.lastIndexOf(')'));
            String state = line.substring(line.lastIndexOf(')') + 2, line.lastIndexOf(')') + 3);
            return comm + " " + state;
        }).toList();
    }

    /** The mounted secrets are in no inspect output, image layer, history, container log or job log. */
    void assertSecretAppearsNowhere(BuildhookContainer container, String... secrets) throws Exception {
        List<String> texts = new ArrayList<>();
        texts.add(Podman.podman("inspect", container.name).ok().out());
        texts.add(Podman.podman("image", "inspect", image).ok().out());
        texts.add(Podman.podman("history", "--no-trunc", image).ok().out());
        Podman.Result logs = Podman.podman("logs", container.name).ok();
        texts.add(logs.out() + logs.err());
        assertThat(logs.out() + logs.err()).contains("listening");
        for (JsonNode job : container.api("jobs?limit=500").get("items")) {
            texts.add(container.get("api/jobs/" + job.get("id").asText() + "/log", true).body());
        }
        for (String secret : secrets) {
            assertThat(texts).noneSatisfy(text -> assertThat(text).contains(secret));
        }
        Path archive = dir.resolve("image.tar");
        Podman.podman("save", "--format", "docker-archive", "-o", archive.toString(), image).ok();
        for (String secret : secrets) {
            assertThat(containsInArchive(archive, secret.getBytes(StandardCharsets.UTF_8)))
                    .as("secret in the saved image").isFalse();
        }
        Files.delete(archive);
    }

    /** Whether {@code needle} occurs in the tar, or in any gzip-compressed layer inside it. */
    static boolean containsInArchive(Path archive, byte[] needle) throws IOException {
        try (InputStream in = Files.newInputStream(archive)) {
            if (contains(in, needle)) {
                return true;
            }
        }
        // Compressed layers: look inside every gzip stream the archive holds.
        Path unpacked = Files.createTempDirectory(archive.getParent(), "layers");
        Podman.exec(List.of("tar", "-xf", archive.toString(), "-C", unpacked.toString()), null, Map.of(),
                Duration.ofMinutes(5)).ok();
        try (var files = Files.walk(unpacked)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                try (InputStream raw = Files.newInputStream(file)) {
                    byte[] magic = raw.readNBytes(2);
                    if (magic.length == 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                        try (InputStream gz = new GZIPInputStream(Files.newInputStream(file))) {
                            if (contains(gz, needle)) {
                                return true;
                            }
                        }
                    }
                }
            }
        } finally {
            Podman.exec(List.of("rm", "-rf", unpacked.toString()), null, Map.of(), Duration.ofMinutes(1));
        }
        return false;
    }

    /** Streaming search, keeping the last needle.length - 1 bytes across reads. */
    static boolean contains(InputStream in, byte[] needle) throws IOException {
        byte[] buffer = new byte[1 << 16];
        byte[] window = new byte[0];
        int n;
        while ((n = in.read(buffer)) > 0) {
            byte[] joined = new byte[window.length + n];
            System.arraycopy(window, 0, joined, 0, window.length);
            System.arraycopy(buffer, 0, joined, window.length, n);
            if (indexOf(joined, needle) >= 0) {
                return true;
            }
            int keep = Math.min(needle.length - 1, joined.length);
            window = java.util.Arrays.copyOfRange(joined, joined.length - keep, joined.length);
        }
        return false;
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static String sign(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "sha256:" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sample build 67 as build {@code n}: a distinct, valid body. */
    static byte[] build(int n) throws IOException {
        return Files.readString(FIXTURES.resolve("build-67-passed.json"))
                .replace("\"build_id\": 67", "\"build_id\": " + n)
                .replace("/builds/67/", "/builds/" + n + "/").getBytes(StandardCharsets.UTF_8);
    }

}
