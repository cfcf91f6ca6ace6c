package org.buildhook.distribution.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped compose.yaml with podman-compose: its single node on SQLite (the shipped config/
 * folder), and its cluster profile, PostgreSQL and two buildhook nodes (the shipped config-cluster/
 * folder); secrets as compose secrets. Skipped without podman, except on CI ({@code CI=true}),
 * where that fails.
 */
class ComposeClusterIT {

    static final int DELIVERIES = 200;

    static String image;

    @TempDir
    Path dir;
    final String project = "buildhook-it-" + UUID.randomUUID().toString().substring(0, 8);
    final Map<String, String> env = new HashMap<>();
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void buildImages() {
        Podman.requireInstalled();
        image = Images.buildhook();
    }

    @AfterEach
    void down() {
        compose("down", "-v");
        // What a failed "up" may have left.
        for (String id : Podman.podman("ps", "-aq", "--filter", "label=io.podman.compose.project=" + project)
                .out().lines().toList()) {
            Podman.podman("rm", "-f", "-v", "-t", "0", id);
        }
        for (String volume : Podman.podman("volume", "ls", "-q", "--filter", "label=io.podman.compose.project=" + project)
                .out().lines().toList()) {
            Podman.podman("volume", "rm", "-f", volume);
        }
        // podman-compose 1.0 leaves the project's network.
        Podman.podman("network", "rm", "-f", project + "_default");
    }

    Podman.Result compose(String... args) {
        List<String> command = new ArrayList<>(List.of("podman-compose", "-p", project, "-f", "compose.yaml"));
        command.addAll(List.of(args));
        return Podman.exec(command, dir, env, Duration.ofMinutes(10));
    }

    @Test
    void twoNodesOnPostgresqlRunEachOfTwoHundredDeliveriesJobsExactlyOnce() throws Exception {
        copy(Podman.SOURCE_DIR.resolve("compose.yaml"), dir.resolve("compose.yaml"));
        for (String folder : List.of("config-cluster", "scripts")) {
            try (Stream<Path> files = Files.walk(Podman.SOURCE_DIR.resolve(folder))) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    copy(file, dir.resolve(Podman.SOURCE_DIR.relativize(file).toString()));
                }
            }
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path path : all.toList()) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(
                        Files.isDirectory(path) || path.toString().endsWith(".sh") ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        // The secrets exactly as docs/deploying.md#compose makes them: its commands, its owners and modes.
        documentedSecrets(dir);
        String secret = Files.readString(dir.resolve("secrets/jobserv-secret")).strip();
        String adminToken = Files.readString(dir.resolve("secrets/admin-token")).strip();
        env.put("BUILDHOOK_IMAGE", image);
        env.put("BUILDHOOK_POSTGRES_IMAGE", Images.POSTGRES);
        // "127.0.0.1:" makes the mapping "127.0.0.1::8080": a free port of the loopback interface.
        env.put("BUILDHOOK_NODE1_PORT", "127.0.0.1:");
        env.put("BUILDHOOK_NODE2_PORT", "127.0.0.1:");

        compose("up", "-d", "node-1", "node-2").ok();

        List<String> nodes = List.of(project + "_node-1_1", project + "_node-2_1");
        Map<String, String> bases = new ConcurrentHashMap<>();
        for (String node : nodes) {
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(() -> {
                String base = "http://" + Podman.podman("port", node, "8080/tcp").ok().out().strip().lines()
                        .findFirst().orElseThrow() + "/";
                assertThat(get(base + "healthz", null).statusCode()).isEqualTo(200);
                bases.put(node, base);
            });
        }

        ExecutorService senders = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < DELIVERIES; i++) {
                int build = 5000 + i;
                String base = bases.get(nodes.get(i % 2));
                answers.add(senders.submit(() -> {
                    byte[] body = ContainerIT.build(build);
                    return http.send(HttpRequest.newBuilder(URI.create(base + "webhook")).timeout(Duration.ofSeconds(60))
                            .header("X-JobServ-Sig", ContainerIT.sign(secret, body))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                }));
            }
            for (Future<Integer> answer : answers) {
                assertThat(answer.get()).isEqualTo(202);
            }
        } finally {
            senders.shutdownNow();
        }

        String base = bases.get(nodes.get(0));
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() ->
                assertThat(jobs(base, adminToken)).hasSize(DELIVERIES)
                        .allSatisfy(job -> assertThat(job.get("state").asText()).isEqualTo("SUCCEEDED")));
        List<JsonNode> jobs = jobs(base, adminToken);
        assertThat(jobs).allSatisfy(job -> {
            assertThat(job.get("rule").asText()).isEqualTo("log-every-build");
            assertThat(job.get("attempts").asInt()).as("attempts of %s", job.get("id")).isEqualTo(1);
        });
        Set<String> builds = new TreeSet<>();
        for (JsonNode job : jobs) {
            JsonNode attempts = json(get(base + "api/jobs/" + job.get("id").asText(), adminToken)).get("attempts");
            assertThat(attempts).hasSize(1);
            builds.add(json(get(base + "api/deliveries/" + job.get("delivery").asText(), adminToken))
                    .get("delivery").get("buildId").asText());
        }
        assertThat(builds).hasSize(DELIVERIES);
        Set<String> ranOn = new TreeSet<>();
        jobs.forEach(job -> ranOn.add(job.get("node").asText()));
        System.out.println("jobs ran on nodes " + ranOn);
        assertThat(ranOn).as("both nodes ran jobs").hasSize(2);
    }

    /**
     * Runs the commands of the first {@code sh} block of docs/deploying.md's "Compose" section in
     * {@code dir}, except copying the release and starting compose: the secrets as an operator makes them.
     */
    static void documentedSecrets(Path dir) throws IOException {
        Path docs = Podman.SOURCE_DIR.toAbsolutePath().resolve("../../../../docs/deploying.md").normalize();
        String text = Files.readString(docs);
        int section = text.indexOf("\n### Compose\n");
        int start = text.indexOf("```sh\n", section) + "```sh\n".length();
        String block = text.substring(start, text.indexOf("```", start));
        List<String> commands = block.lines().filter(line -> !line.startsWith("cp -r ") && !line.startsWith("docker compose"))
                .toList();
        assertThat(String.join("\n", commands)).contains("secrets/db-password", "chmod");
        Podman.exec(List.of("sh", "-ec", String.join("\n", commands)), dir, Map.of(), Duration.ofMinutes(1)).ok();
    }

    @Test
    void theSingleNodeServiceRunsOnSqliteWithTheShippedConfigAndItsSecretFromComposeSecrets() throws Exception {
        copy(Podman.SOURCE_DIR.resolve("compose.yaml"), dir.resolve("compose.yaml"));
        for (String folder : List.of("config", "scripts")) {
            try (Stream<Path> files = Files.walk(Podman.SOURCE_DIR.resolve(folder))) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    copy(file, dir.resolve(Podman.SOURCE_DIR.relativize(file).toString()));
                }
            }
        }
        String secret = "jobserv-" + UUID.randomUUID();
        Files.writeString(Files.createDirectories(dir.resolve("secrets")).resolve("jobserv-secret"), secret + "\n");
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path path : all.toList()) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(
                        Files.isDirectory(path) || path.toString().endsWith(".sh") ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        env.put("BUILDHOOK_IMAGE", image);
        env.put("BUILDHOOK_PORT", "127.0.0.1:");

        compose("up", "-d", "buildhook").ok();

        String node = project + "_buildhook_1";
        String[] base = new String[1];
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(() -> {
            base[0] = "http://" + Podman.podman("port", node, "8080/tcp").ok().out().strip().lines()
                    .findFirst().orElseThrow() + "/";
            assertThat(get(base[0] + "healthz", null).statusCode()).isEqualTo(200);
        });
        Podman.Result sent = Podman.exec(List.of("python3", ContainerIT.SENDER.toString(), base[0] + "webhook",
                ContainerIT.FIXTURES.resolve("build-67-passed.json").toString(), secret, "--no-retry"), null, Map.of(),
                Duration.ofMinutes(2));
        assertThat(sent.out()).startsWith("HTTP 202");
        String adminToken = Podman.podman("exec", node, "cat", "/var/lib/buildhook/admin-token").ok().out().strip();
        await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(jobs(base[0], adminToken)).singleElement()
                .satisfies(job -> assertThat(job.get("state").asText()).isEqualTo("SUCCEEDED")));
        String job = jobs(base[0], adminToken).get(0).get("id").asText();
        assertThat(get(base[0] + "api/jobs/" + job + "/log", adminToken).body())
                .contains("build 67 of andy-corp/lmp is PASSED (trigger: containers-devel)");
        assertThat(Podman.podman("exec", node, "ls", "/var/lib/buildhook").ok().out()).contains("buildhook.db");
    }

    List<JsonNode> jobs(String base, String adminToken) throws IOException, InterruptedException {
        JsonNode page = json(get(base + "api/jobs?limit=500", adminToken));
        return StreamSupport.stream(page.get("items").spliterator(), false).toList();
    }

    HttpResponse<String> get(String url, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    static JsonNode json(HttpResponse<String> response) throws IOException {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return BuildhookContainer.JSON.readTree(response.body());
    }

    static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to);
    }
}
