package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's five-minute walk-through, every command exactly as written, run by {@code /bin/sh}
 * from the folder the walk-through runs them in (the repository's top: the built installation is
 * {@code distribution/target/buildhook}, the payloads {@code fixtures/}). The only changes: the
 * server listens on a free port ({@code server.port: 0} added to the shipped configuration, the
 * admin commands find it in {@code data/server-url}), the URL of step 2 is that port's, and
 * {@code <job id>} is the id step 3's {@code jobs} printed.
 */
class WalkthroughIT {

    static final Path README = Path.of(System.getProperty("buildhook.fixtures")).resolveSibling("README.md");

    @TempDir
    Path root;
    Process server;
    final List<String> serverOutput = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroy();
            server.waitFor(60, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
    }

    /** The shell commands of a README part: continuation lines joined, comments and prompts left out. */
    static List<String> commands(String markdown) {
        List<String> out = new ArrayList<>();
        Matcher block = Pattern.compile("```sh\\n(.*?)```", Pattern.DOTALL).matcher(markdown);
        while (block.find()) {
            String joined = block.group(1).replaceAll("\\\\\\n\\s*", "");
            for (String line : joined.split("\\n")) {
                String command = line.replaceAll("\\s+#\\s.*$", "").strip();
                if (!command.isEmpty() && !command.startsWith("#")) {
                    out.add(command);
                }
            }
        }
        return out;
    }

    static String walkthrough() throws IOException {
        String readme = Files.readString(README);
        int start = readme.indexOf("\n## Five-minute walk-through\n");
        assertThat(start).as("the README has its walk-through").isPositive();
        return readme.substring(start, readme.indexOf("\n## ", start + 1));
    }

    ProcessBuilder shell(String command) {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).directory(root.toFile())
                .redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("BUILDHOOK_CONFIG");
        // No class-data archive (BUILDHOOK_CDS_DIR unset would keep one in the user's cache folder): ClassDataArchiveIT.
        pb.environment().put("BUILDHOOK_CDS_DIR", "");
        return pb;
    }

    String run(String command, int expectedExit) throws Exception {
        Process p = shell(command).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(command + "\n" + out).isEqualTo(expectedExit);
        return out;
    }

    /** The repository's top as the walk-through sees it after step 1's build. */
    void layOut() throws Exception {
        Path target = Files.createDirectories(root.resolve("distribution/target"));
        Process tar = new ProcessBuilder("tar", "-xzf", System.getProperty("buildhook.tarball"), "-C", target.toString())
                .inheritIO().start();
        assertThat(tar.waitFor()).isZero();
        try (Stream<Path> unpacked = Files.list(target)) {
            Files.move(unpacked.findFirst().orElseThrow(), target.resolve("buildhook"));
        }
        Path fixtures = Files.createDirectories(root.resolve("fixtures"));
        Path repoFixtures = Path.of(System.getProperty("buildhook.fixtures"));
        try (Stream<Path> files = Files.list(repoFixtures)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, fixtures.resolve(f.getFileName()));
            }
        }
        Path conf = target.resolve("buildhook/conf/buildhook.yaml");
        Files.writeString(conf, Files.readString(conf) + "\nserver: {host: 127.0.0.1, port: 0}\n");
    }

    String serve(String command) throws Exception {
        server = shell("exec " + command).start();
        return ServeOutput.awaitListening(server, serverOutput, "walkthrough-server-output");
    }

    @Test
    void everyCommandOfTheWalkthroughWorksAsWritten() throws Exception {
        layOut();
        String readme = Files.readString(README);
        String build = commands(readme.substring(0, readme.indexOf("\n## "))).get(0);
        List<String> steps = commands(walkthrough());
        assertThat(build).startsWith("mvn -B -q package -DskipTests && ");
        assertThat(steps).hasSize(5);

        // 1. start (the build itself is what made the tarball this test unpacked)
        String base = serve(build.substring("mvn -B -q package -DskipTests && ".length()));
        assertThat(String.join("\n", serverOutput)).contains("generated a new secret for endpoint 'default'")
                .contains("give it to JobServ");
        assertThat(root.resolve("data/webhook-secret")).exists();

        // 2. send the sample, twice
        String send = steps.get(0).replace("http://localhost:8080/", base);
        assertThat(run(send, 0)).startsWith("HTTP 202");
        assertThat(run(send, 0)).startsWith("HTTP 200").contains("\"duplicate\":true");

        // 3. what the server did
        assertThat(steps.get(1)).endsWith("bin/buildhook jobs");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(run(steps.get(1), 0)).contains("log-every-build").contains("SUCCEEDED"));
        JsonNode jobs = new ObjectMapper().readTree(run(steps.get(1) + " --json", 0));
        String jobId = jobs.get("items").get(0).get("id").asText();
        assertThat(run(steps.get(2).replace("<job id>", jobId), 0))
                .contains("build 67 of andy-corp/lmp is PASSED (trigger: containers-devel)");
        assertThat(run(steps.get(3).replace("<job id>", jobId), 0)).isNotBlank();

        // 4. the dry run
        assertThat(run(steps.get(4), 0)).contains("log-every-build");
    }
}
