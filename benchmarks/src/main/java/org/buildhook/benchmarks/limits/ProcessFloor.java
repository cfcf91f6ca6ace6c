package org.buildhook.benchmarks.limits;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.buildhook.runner.exec.NativeSpawnFloor;

/**
 * The Java process-model floor for running one command per delivery: a bare {@link ProcessBuilder}
 * loop that starts {@code COMMAND TRACE ID} the way buildhook's launcher does — behind
 * {@code setsid --wait --} (unless {@code --no-setsid}; {@code --native} starts it as the launcher
 * does where glibc allows: {@code posix_spawn} with {@code POSIX_SPAWN_SETSID}, no setsid exec), in
 * a cleared environment with only
 * {@code PATH}, stdout and stderr on one pipe copied to a log file, stdin closed at once — from
 * {@code concurrency} threads (buildhook's {@code runner.threads}), and nothing else: no store, no
 * HTTP, no bookkeeping. Prints the time until the last command ended and the CPU per command of
 * this JVM and the commands it reaped ({@code /proc/self/stat}, measured around the loop only).
 *
 * <pre>
 * java -XX:TieredStopAtLevel=1 -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.ProcessFloor \
 *     COMMAND TRACE-FILE [requests=5000] [concurrency=4] [--no-setsid | --native] [--clk-tck 100] [--label NAME]
 * </pre>
 *
 * How Java starts each process is the JVM's {@code jdk.lang.Process.launchMechanism}: the default
 * {@code POSIX_SPAWN} execs {@code jspawnhelper}, which execs the command; {@code VFORK} (what
 * {@code bin/buildhook} sets on Java 17 to 24) execs the command directly. With {@code --native} the
 * JVM's mechanism is not used ({@code launch=posix_spawn-setsid}).
 *
 * The last line is {@code RESULT label=… requests=… all_done_s=… per_s=… cpu_ms_per_command=…
 * launch=…}.
 */
public final class ProcessFloor {

    private ProcessFloor() {
    }

    /** Runs the measurement the class comment describes; arguments as shown there. */
    public static void main(String[] args) throws Exception {
        List<String> positional = new ArrayList<>();
        boolean setsid = true;
        boolean nativeSpawn = false;
        long clockTicks = 100;
        String label = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--no-setsid" -> setsid = false;
                case "--native" -> nativeSpawn = true;
                case "--clk-tck" -> clockTicks = Long.parseLong(args[++i]);
                case "--label" -> label = args[++i];
                default -> positional.add(args[i]);
            }
        }
        if (positional.size() < 2) {
            System.err.println("usage: ProcessFloor COMMAND TRACE-FILE [requests=5000] [concurrency=4] [--no-setsid |"
                    + " --native]"
                    + " [--clk-tck 100] [--label NAME]");
            System.exit(2);
        }
        String command = positional.get(0);
        String trace = positional.get(1);
        int requests = positional.size() > 2 ? Integer.parseInt(positional.get(2)) : 5000;
        int concurrency = positional.size() > 3 ? Integer.parseInt(positional.get(3)) : 4;
        Path logs = Files.createTempDirectory("process-floor");
        if (nativeSpawn) {
            String why = NativeSpawnFloor.unavailableReason();
            if (why != null) {
                System.err.println("--native: the launcher's posix_spawn cannot be used here: " + why);
                System.exit(2);
            }
            setsid = false;
            command = Path.of(command).toAbsolutePath().toString();
        }
        if (label == null) {
            label = nativeSpawn ? "process-floor-native" : setsid ? "process-floor-setsid" : "process-floor-plain";
        }
        String launch = nativeSpawn ? "posix_spawn-setsid"
                : System.getProperty("jdk.lang.Process.launchMechanism", "POSIX_SPAWN");

        // Warm-up: the JVM's process-start path compiled before the timed loop.
        run(command, trace + ".warmup", 0, Math.min(200, requests), concurrency, setsid, nativeSpawn, logs);
        long cpuBefore = cpuTicks();
        long start = System.nanoTime();
        run(command, trace, 9_000_000, requests, concurrency, setsid, nativeSpawn, logs);
        double elapsed = (System.nanoTime() - start) / 1e9;
        double cpuMs = (cpuTicks() - cpuBefore) * 1000.0 / clockTicks / requests;
        System.out.printf(Locale.ROOT, "%s: %d commands by %d threads in %.2f s (%.0f/s); CPU %.3f ms per command"
                + " (this JVM + the commands; launch %s)%n", label, requests, concurrency, elapsed, requests / elapsed, cpuMs,
                launch);
        System.out.printf(Locale.ROOT, "RESULT label=%s requests=%d concurrency=%d all_done_s=%.3f per_s=%.1f"
                + " cpu_ms_per_command=%.3f launch=%s%n", label, requests, concurrency, elapsed, requests / elapsed, cpuMs,
                launch);
        try (var files = Files.list(logs)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(logs);
    }

    private static void run(String command, String trace, long firstId, int requests, int concurrency,
            boolean setsid, boolean nativeSpawn, Path logs) throws Exception {
        AtomicLong next = new AtomicLong();
        ExecutorService threads = Executors.newFixedThreadPool(concurrency);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < concurrency; t++) {
                int slot = t;
                workers.add(threads.submit(() -> {
                    Path log = logs.resolve("job-" + slot + ".log");
                    for (long i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                        List<String> argv = new ArrayList<>();
                        if (setsid) {
                            argv.addAll(List.of("setsid", "--wait", "--"));
                        }
                        argv.addAll(List.of(command, trace, Long.toString(firstId + i)));
                        Map<String, String> path = Map.of("PATH", "/usr/local/bin:/usr/bin:/bin");
                        Process process;
                        if (nativeSpawn) {
                            process = NativeSpawnFloor.start(argv, path, logs);
                        } else {
                            ProcessBuilder builder = new ProcessBuilder(argv).directory(logs.toFile())
                                    .redirectErrorStream(true);
                            Map<String, String> env = builder.environment();
                            env.clear();
                            env.putAll(path);
                            process = builder.start();
                        }
                        process.getOutputStream().close();
                        try (InputStream out = process.getInputStream();
                                OutputStream file = Files.newOutputStream(log)) {
                            out.transferTo(file);
                        }
                        int exit = process.waitFor();
                        if (exit != 0) {
                            throw new IllegalStateException(argv + " exited with " + exit);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /** utime + stime + cutime + cstime of this process, in clock ticks. */
    private static long cpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields[0] is field 3 (state): utime is field 14, so index 11.
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]) + Long.parseLong(fields[13])
                + Long.parseLong(fields[14]);
    }
}
