package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.buildhook.core.Signer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server as PID 1 of its own PID namespace ({@code unshare --pid --fork --mount-proc}), as in a
 * container started without {@code --init}: jobs that leave a background process behind, which
 * buildhook kills, must not leave zombies: under tini, and without it (bin/buildhook makes the server a child
 * subreaper, which reaps them itself; orphans30). Without an init the server says so at start, in words that depend
 * on whether it reaps orphans. Needs root (unshare) and tini, which {@code .ci/run} installs.
 */
class Pid1IT {

    static final String SECRET = "pid-one-secret";
    static final int JOBS = 4;

    @TempDir
    Path dir;
    Path home;
    Path work;
    Process server;
    final List<String> output = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void unpack() throws Exception {
        assertThat(Path.of("/usr/bin/unshare")).as("util-linux unshare").isExecutable();
        assertThat(ProcessHandle.current().info().user().orElse("")).as("unshare --pid needs root").isEqualTo("root");
        home = Tarball.unpack(dir);
        work = Files.createDirectories(dir.resolve("work"));
        Files.writeString(work.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: leaves-a-daemon",
                "    run:",
                "      command: [/bin/sh, -c, 'sleep 300 & echo started']",
                ""));
        TestConfig.writeWithSecret(work, SECRET, "rules: rules.yaml", "runner: {kill-grace: 1s}");
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            // unshare does not pass a signal on to the namespace: stop what runs inside it first (the
            // server gets SIGTERM and stops gracefully), or it outlives the test.
            List<ProcessHandle> inside = server.descendants().toList();
            inside.forEach(ProcessHandle::destroy);
            for (ProcessHandle p : inside) {
                try {
                    p.onExit().get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    p.destroyForcibly();
                }
            }
        }
        if (server != null && server.isAlive()) {
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void asPid1TheServerRunsUnderTiniAndTheKilledLeftoversOfJobsAreReaped() throws Exception {
        assertThat(Path.of("/usr/bin/tini")).as("tini (Debian package tini)").isExecutable();
        String base = serve(Map.of());

        for (int i = 0; i < JOBS; i++) {
            deliver(base, 9100 + i);
        }
        await().atMost(Duration.ofSeconds(120)).until(() -> finishedAttempts() == JOBS && living("sleep").isEmpty());

        // Every leftover was killed; reaped, none is left a zombie.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(zombies()).as("zombies in the server's PID namespace").isEmpty());
        assertThat(namespace().values()).anySatisfy(s -> assertThat(s.command()).isEqualTo("tini"));
        assertThat(ServeOutput.text(output)).doesNotContain("runs as PID 1 with no init");
    }

    @Test
    void asPid1WithoutAnInitTheSubreaperReapsTheKilledLeftoversAndTheWarningSaysWhatAnInitStillDoes() throws Exception {
        String base = serve(Map.of("BUILDHOOK_TINI", ""));

        for (int i = 0; i < JOBS; i++) {
            deliver(base, 9200 + i);
        }
        await().atMost(Duration.ofSeconds(120)).until(() -> finishedAttempts() == JOBS && living("sleep").isEmpty());

        // The JVM is PID 1 and a child subreaper: it reaps what it ended, no init needed for that.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(zombies()).as("zombies in the server's PID namespace").isEmpty());
        assertThat(namespace().values()).noneSatisfy(s -> assertThat(s.command()).isEqualTo("tini"));
        assertThat(ServeOutput.text(output)).contains("re-parented to this server (child subreaper)")
                .contains("buildhook runs as PID 1 with no init").doesNotContain("stay zombies")
                .contains("docker/podman exec").contains("--init").contains("tini");
    }

    @Test
    void asPid1WithoutAnInitOrTheSubreaperTheServerSaysLeftoversStayZombiesNamingTheFix() throws Exception {
        serve(Map.of("BUILDHOOK_TINI", "", "JAVA_OPTS", "-Xmx256m -XX:+UseSerialGC -Dbuildhook.subreaper=off"));

        assertThat(ServeOutput.text(output)).contains("buildhook runs as PID 1 with no init to reap orphans")
                .contains("stay zombies").contains("--init").contains("tini").doesNotContain("(child subreaper)");
    }

    void deliver(String base, long buildId) throws Exception {
        byte[] body = Files.readString(Path.of(System.getProperty("buildhook.fixtures"), "build-67-passed.json"))
                .replace("\"build_id\": 67", "\"build_id\": " + buildId).getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "webhook"))
                .header("X-JobServ-Sig", Signer.sign(body, SECRET.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
    }

    /** Attempts whose outcome is recorded: their log says the leftover was terminated. */
    long finishedAttempts() throws IOException {
        Path logs = work.resolve("data/logs");
        if (!Files.isDirectory(logs)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(logs)) {
            return files.filter(p -> p.getFileName().toString().equals("attempt-1.log")).count();
        }
    }

    record Stat(long pid, long ppid, char state, String command) {
    }

    /** Every process under the unshare command (the namespace's PID 1 and all it holds), by host pid. */
    Map<Long, Stat> namespace() throws IOException {
        Map<Long, Stat> all = new HashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    String[] rest = stat.substring(close + 2).split(" ");
                    long pid = Long.parseLong(p.getFileName().toString());
                    all.put(pid, new Stat(pid, Long.parseLong(rest[1]), rest[0].charAt(0),
                            stat.substring(open + 1, close)));
                } catch (IOException | RuntimeException gone) {
                    // ended while listed
                }
            }
        }
        Map<Long, Stat> under = new HashMap<>();
        List<Long> frontier = new ArrayList<>(List.of(server.pid()));
        while (!frontier.isEmpty()) {
            long parent = frontier.remove(frontier.size() - 1);
            for (Stat s : all.values()) {
                if (s.ppid() == parent && under.put(s.pid(), s) == null) {
                    frontier.add(s.pid());
                }
            }
        }
        return under;
    }

    List<Stat> zombies() throws IOException {
        return namespace().values().stream().filter(s -> s.state() == 'Z').toList();
    }

    List<Stat> living(String command) throws IOException {
        return namespace().values().stream().filter(s -> s.command().equals(command) && s.state() != 'Z').toList();
    }

    String serve(Map<String, String> variables) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
                home.resolve("bin/buildhook").toString(), "serve", "--config", work.resolve("buildhook.yaml").toString(),
                "--port", "0", "--host", "127.0.0.1")
                .directory(work.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("JAVA_OPTS", "-Xmx256m -XX:+UseSerialGC");
        pb.environment().remove("BUILDHOOK_CONFIG");
        // No class-data archive (BUILDHOOK_CDS_DIR unset would keep one in the user's cache folder): ClassDataArchiveIT.
        pb.environment().put("BUILDHOOK_CDS_DIR", "");
        pb.environment().putAll(variables);
        server = pb.start();
        return ServeOutput.awaitListening(server, output, "pid1-it-server-output");
    }
}
