package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A child JVM running {@link EngineNode}, with its output in files. */
final class NodeProcess {

    final String name;
    final Process process;
    final Path out;

    private NodeProcess(String name, Process process, Path out) {
        this.name = name;
        this.process = process;
        this.out = out;
    }

    static NodeProcess start(Path dir, String name, String... args) throws IOException {
        return start(dir, List.of(), name, args);
    }

    /** The node started through {@code prefix} (e.g. {@code unshare ...}), which must exec or fork it. */
    static NodeProcess start(Path dir, List<String> prefix, String name, String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("-Xmx256m");
        command.add("-XX:TieredStopAtLevel=1");
        // The JobServ fixture that workflow nodes deliver (rules=, builds=).
        command.add("-Dbuildhook.fixtures=" + System.getProperty("buildhook.fixtures", "fixtures"));
        command.add(EngineNode.class.getName());
        command.add("node=" + name);
        command.addAll(List.of(args));
        Path out = dir.resolve(name + ".out");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile())
                .redirectError(dir.resolve(name + ".err").toFile()).start();
        return new NodeProcess(name, p, out);
    }

    boolean printed(String line) throws IOException {
        return Files.exists(out) && Files.readAllLines(out).contains(line);
    }

    /** SIGKILL: no shutdown hook, no graceful stop. Its job processes are left orphaned. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** Graceful: closing stdin makes the node stop its engine. */
    void stop() throws InterruptedException, IOException {
        if (process.isAlive()) {
            process.getOutputStream().close();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
