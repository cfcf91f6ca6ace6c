package org.buildhook.distribution;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Real {@code buildhook serve} processes of a test, on this JVM's class path, each writing its output
 * (standard output and error) to a file; all killed by {@link #close}.
 */
final class ServeProcesses implements AutoCloseable {

    private final Path dir;
    private final List<Process> started = new ArrayList<>();

    /** @param dir the processes' working directory */
    ServeProcesses(Path dir) {
        this.dir = dir;
    }

    /** Starts {@code serve --config config} followed by {@code flags}, its output going to {@code out}. */
    Process serve(Path config, Path out, String... flags) throws IOException {
        return serve(config, out, java.util.Map.of(), flags);
    }

    /** As {@link #serve(Path, Path, String...)}, with {@code env} added to (or replacing in) this JVM's environment. */
    Process serve(Path config, Path out, java.util.Map<String, String> env, String... flags) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config", config.toString()));
        command.addAll(List.of(flags));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile());
        builder.environment().putAll(env);
        Process p = builder.start();
        started.add(p);
        OUTPUTS.put(p, out);
        return p;
    }

    /** Each started process's output file, so that a start that ends early can be told with its last lines. */
    private static final java.util.Map<Process, Path> OUTPUTS = java.util.Collections.synchronizedMap(
            new java.util.WeakHashMap<>());

    /**
     * The base URL {@code server} listens on, once it wrote it to {@code dataDir}'s {@code server-url}
     * (within 5 minutes, a hung start's bound: starts took up to 66 s under {@code stress-ng --cpu 4} on CI's two
     * cores; fails at once if the process ends first).
     */
    static URI awaitUrl(Process server, Path dataDir) throws IOException {
        Path urlFile = dataDir.resolve("server-url");
        try {
            await().atMost(Duration.ofMinutes(5)).failFast(() -> !server.isAlive())
                    .until(() -> Files.exists(urlFile) && !Files.readString(urlFile).isBlank());
        } catch (org.awaitility.core.ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
            // A start that ended (or hung) says why: its last lines (two proxied tests' servers ended at start once on
            // a loaded machine, and their output was gone with the test's folder).
            Path out = OUTPUTS.get(server);
            String tail = "";
            if (out != null && Files.exists(out)) {
                List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
                tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
            }
            throw new AssertionError("serve did not write its URL" + (server.isAlive() ? " within 5 minutes"
                    : ", it ended with exit code " + server.exitValue()) + "; its output's last lines:\n" + tail, e);
        }
        return URI.create(Files.readString(urlFile).strip());
    }

    /** The admin token {@link #followConfig} gives the server. */
    static final String FOLLOW_TOKEN = "admin-token-for-follow-test-0123456789";

    /**
     * Writes, in {@code dir}, a server's configuration for the log-follow tests: {@code rules} as its
     * rules file, the default endpoint with a secret of its own ({@code webhook-secret}), the admin API
     * with {@link #FOLLOW_TOKEN} ({@code admin-token}), and {@code server} as its {@code server:}
     * settings (host and port are given first, 127.0.0.1 and any free port), and a store connect-timeout of one
     * minute (a loaded machine's first SQLite connection). Returns the configuration.
     */
    static Path followConfig(Path dir, String rules, String server) throws IOException {
        Files.writeString(dir.resolve("admin-token"), FOLLOW_TOKEN + "\n");
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-follow-test\n");
        Files.writeString(dir.resolve("rules.yaml"), rules);
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "admin: {token: {file: admin-token}}",
                "server: {host: 127.0.0.1, port: 0" + (server.isEmpty() ? "" : ", " + server) + "}",
                // The SQLite store's first connection (the driver's native library loaded) took over the default 5 s
                // at load 30-45, and the start then ended with exit 3 (FollowDuringGracefulStopTest, twice).
                "store: {connect-timeout: 1m}",
                ""));
    }

    /** Sends the sample delivery to the server at {@code url} with {@link #followConfig}'s secret; its first job's id. */
    static String sendSample(URI url, Path dir) throws IOException {
        java.io.StringWriter sent = new java.io.StringWriter();
        int code = sendSample(url, dir, sent);
        if (code != 0) {
            throw new AssertionError("send exited " + code + ": " + sent);
        }
        String out = sent.toString();
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.substring(out.indexOf('{')))
                .path("jobs").path(0).asText();
    }

    /**
     * Sends the sample delivery once ({@code buildhook send --sample --no-retry}) with the secret in
     * {@code dir/webhook-secret}, what it prints going to {@code said}; its exit code (0: answered with a 2xx).
     */
    static int sendSample(URI url, Path dir, java.io.Writer said) {
        picocli.CommandLine send = BuildhookCommand.commandLine();
        send.setOut(new java.io.PrintWriter(said, true));
        send.setErr(new java.io.PrintWriter(said, true));
        return send.execute("send", url.resolve("webhook").toString(), "--sample", "--secret-file",
                dir.resolve("webhook-secret").toString(), "--no-retry");
    }

    /** Starts {@code buildhook logs -f job} against the server at {@code url} as a process of its own, output to {@code out}. */
    static Process logsFollow(String job, URI url, Path dir, Path out) throws IOException {
        return new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "logs", "-f", job, "--url", url.toString(),
                "--token-file", dir.resolve("admin-token").toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    /** Whether {@code out} holds {@code text} yet. */
    static boolean printed(Path out, String text) throws IOException {
        return Files.exists(out) && Files.readString(out, StandardCharsets.UTF_8).contains(text);
    }

    /**
     * Kills every started server (SIGKILL), then whatever its jobs left running: the commands the servers started and
     * every process working in this test's folder {@code dir} (a job's working folder is there). A job runs in a
     * session of its own and outlives its server's SIGKILL by design (its node's next start, or systemd's cgroup, ends
     * it: docs/deploying.md), so a test that killed its server, or failed before it stopped it, left an orphan {@code
     * sleep 600} behind for ten minutes (flake26: FollowServerGoneTest's, and a stop test's that failed).
     */
    @Override
    public void close() throws InterruptedException {
        for (Process p : started) {
            List<ProcessHandle> tree = p.descendants().toList();
            p.destroyForcibly().waitFor();
            tree.forEach(ProcessHandle::destroyForcibly); // a handle that ended is not killed (its start time differs)
        }
        killWorkingIn(dir);
    }

    /**
     * Kills (SIGKILL) every process whose working folder is {@code folder} or inside it, with its descendants, and
     * waits a minute at most for each to end; never this JVM nor one of its ancestors (surefire forks the test JVM
     * through a shell working in the module's folder), and nothing at all when {@code folder} holds this JVM's own
     * working folder (a test's folder never does: StoreRefusalWordsTest once passed {@code "."}, and its teardown
     * SIGKILLed the shell surefire had forked it through, then failed on "destroy of current process not allowed").
     * Reads {@code /proc/<pid>/cwd}: on a system without it, or for a process of another user, it kills nothing.
     */
    static void killWorkingIn(Path folder) throws InterruptedException {
        Path real;
        try {
            real = folder.toRealPath();
            if (Path.of("").toRealPath().startsWith(real)) {
                return;
            }
        } catch (IOException e) {
            return; // gone: nothing can work in it
        }
        java.util.Set<Long> spared = new java.util.HashSet<>();
        for (Optional<ProcessHandle> p = Optional.of(ProcessHandle.current()); p.isPresent(); p = p.get().parent()) {
            spared.add(p.get().pid());
        }
        List<ProcessHandle> left = ProcessHandle.allProcesses()
                .filter(h -> !spared.contains(h.pid()) && workingIn(h, real)).toList();
        for (ProcessHandle h : left) {
            h.descendants().filter(d -> !spared.contains(d.pid())).forEach(ProcessHandle::destroyForcibly);
            h.destroyForcibly();
        }
        for (ProcessHandle h : left) {
            try {
                h.onExit().get(1, java.util.concurrent.TimeUnit.MINUTES);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // Not waited for longer: the kill was sent.
            }
        }
    }

    private static boolean workingIn(ProcessHandle process, Path folder) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(process.pid()), "cwd")).startsWith(folder);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false; // ended meanwhile, another user's, or no /proc
        }
    }
}
