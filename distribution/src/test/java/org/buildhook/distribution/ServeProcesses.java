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
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config", config.toString()));
        command.addAll(List.of(flags));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        started.add(p);
        return p;
    }

    /**
     * The base URL {@code server} listens on, once it wrote it to {@code dataDir}'s {@code server-url}
     * (within 2 minutes; fails at once if the process ends first).
     */
    static URI awaitUrl(Process server, Path dataDir) throws IOException {
        Path urlFile = dataDir.resolve("server-url");
        await().atMost(Duration.ofMinutes(2)).failFast(() -> !server.isAlive())
                .until(() -> Files.exists(urlFile) && !Files.readString(urlFile).isBlank());
        return URI.create(Files.readString(urlFile).strip());
    }

    /** Whether {@code out} holds {@code text} yet. */
    static boolean printed(Path out, String text) throws IOException {
        return Files.exists(out) && Files.readString(out, StandardCharsets.UTF_8).contains(text);
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : started) {
            p.destroyForcibly().waitFor();
        }
    }
}
