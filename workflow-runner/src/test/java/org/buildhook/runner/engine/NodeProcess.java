package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.store.StoreConfig;

/** A child JVM running {@link EngineNode}, with its output in files. */
final class NodeProcess {

    final String name;
    final Process process;
    final Path out;
    /** Started through a prefix ({@code unshare --fork}): the node's JVM is the started process's child. */
    private final boolean prefixed;

    private NodeProcess(String name, Process process, Path out, boolean prefixed) {
        this.name = name;
        this.process = process;
        this.out = out;
        this.prefixed = prefixed;
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
     * SIGKILL: no shutdown hook, no graceful stop. Its job processes are left orphaned. The node's JVM (the started
     * process, or the process a prefix such as {@code unshare --fork} started) is killed and gone before its standard
     * input is closed: {@link Process#destroyForcibly} closes it right after its signal, and so does the JDK's reaper
     * once the started process has exited, and a node whose input ends begins a graceful stop ({@link #stop}). Killed
     * through {@code unshare}, the JVM outlived unshare's SIGKILL for a moment (until its parent-death signal), saw its
     * input end and began that stop, so its attempt was said "killed during its stop" rather than gone (ci-ag's EarlierRunInAnotherPidNamespaceTest; flake26: 17 of 30 such kills let
     * a namespaced {@code sh} read its input's end).
     */
    void kill() throws InterruptedException {
        // Under a prefix, the node's JVM (without one, the process's children are its jobs, left orphaned), killed and
        // gone first: the JDK's reaper closes a process's standard input as soon as that process has exited, so the
        // prefix killed first let the JVM, alive for a moment more, read its input's end and begin a graceful stop
        // (NodeProcessKillTest, "no stop began", once at load 28 in session 46).
        List<ProcessHandle> jvm = prefixed ? process.toHandle().children().toList() : List.of();
        jvm.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : jvm) {
            h.onExit().join();
        }
        process.toHandle().destroyForcibly(); // a handle's SIGKILL closes no stream
        process.waitFor();
        process.destroyForcibly(); // only now closes its streams (the reaper may have closed them already)
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

    /** Sends the signal {@code name} ({@code STOP}, {@code CONT}, {@code KILL} …) to {@code pid} with kill(1). */
    static void signal(String name, long pid) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }

    /** Ends each node at a test's end: woken first (a test may have left it stopped), then killed. */
    static void continueAndKill(List<NodeProcess> nodes) throws IOException, InterruptedException {
        for (NodeProcess n : nodes) {
            signal("CONT", n.process.pid());
            n.kill();
        }
    }

    /**
     * Writes {@code dir/slow.sh}, the slow command of the nodes' jobs ({@code slowScript=}): it appends
     * {@code start <its argument, the job's label> <its pid>} to {@code events}, waits until {@code go} exists (ending
     * with 1 once that file's folder is gone: a failed test leaves no script looping for ever), then appends
     * {@code end <label>}.
     *
     * @return the script's path
     */
    static Path slowScript(Path dir, Path events, Path go) throws IOException {
        return Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\necho \"start $1 $$\" >> " + events + "\n"
                + "while [ ! -f " + go + " ]; do [ -d " + go.getParent() + " ] || exit 1; sleep 0.05; done\n"
                + "echo \"end $1\" >> " + events + "\n");
    }

    /**
     * The arguments of a node on {@code config}'s store with the data folder {@code data} whose dead-node limit (5 s ×
     * 1000 missed heartbeats, over an hour) no test reaches: another node runs its jobs again on proof that it is gone
     * (its JVM, its PID namespace), never on its silence.
     *
     * @param threads its job threads (1 or more)
     */
    static String[] hourLimit(StoreConfig config, Path data, int threads) {
        return new String[] {"url=" + config.url(), "data=" + data, "heartbeat=5000", "missed=1000",
            "threads=" + threads};
    }
}
