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
    /** Whether {@link #process} is a wrapper (e.g. {@code unshare}) whose child is the node's JVM. */
    private final boolean wrapped;

    private NodeProcess(String name, Process process, Path out, boolean wrapped) {
        this.name = name;
        this.process = process;
        this.out = out;
        this.wrapped = wrapped;
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
        return new NodeProcess(name, p, out, !prefix.isEmpty());
    }

    boolean printed(String line) throws IOException {
        return Files.exists(out) && Files.readAllLines(out).contains(line);
    }

    /**
     * SIGKILL: no shutdown hook, no graceful stop. Its job processes are left orphaned. A wrapped node's JVM (the
     * wrapper's child) is killed first, then the wrapper. Its input is closed only once the kill has reached the node:
     * {@link Process#destroyForcibly()} closes it right after sending the signal, and a node that read that end of its
     * input before the signal took effect began a graceful stop (ci-ag: unshare's {@code --kill-child} kills the JVM
     * only when unshare has ended, which a loaded machine can delay; the next start then said the node "was killed
     * during its stop").
     */
    void kill() throws InterruptedException {
        if (wrapped) {
            // Its children: the node's JVM, not the node's job processes (its grandchildren).
            process.children().forEach(ProcessHandle::destroyForcibly);
        }
        process.toHandle().destroyForcibly();
        process.waitFor();
        // Exited: now only closes our ends of its streams (a wrapped node's JVM has its SIGKILL pending by now).
        process.destroyForcibly();
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
