package org.buildhook.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.JobRequest;
import org.buildhook.runner.exec.LauncherConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole per-job cost of the launcher: {@code /bin/true} started through
 * {@link CommonsExecLauncher} (setsid where it exists, a 2 KiB stdin like the event JSON, the
 * capped log, the leftover look after it exits) until its outcome is complete, by 1 and by 4
 * threads at once. {@code bystanders} idle processes are started first, because the leftover look
 * reads {@code /proc} and costs more on a host running other things (a build, a database).
 *
 * <pre>
 * mvn -B -q package -DskipTests -pl benchmarks -am
 * java -jar benchmarks/target/benchmarks.jar LauncherBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(1)
public class LauncherBenchmark {

    /** Idle processes elsewhere on the host while the jobs run. */
    @Param({"0", "300"})
    int bystanders;

    private final AtomicLong serial = new AtomicLong();
    /**
     * What this run adds to its job ids. Every process of a job carries
     * {@code BUILDHOOK_ATTEMPT=<job id>/<attempt>}, and the launcher's leftover look after each exit ends
     * every process with that marker: with fixed ids, a run on the same machine at the same time (another
     * checkout's benchmark, a launcher test) could have its processes ended by this one, or end ours.
     */
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final byte[] stdin = "{\"build\":67}".repeat(170).getBytes(StandardCharsets.UTF_8);
    private final List<Process> idle = new ArrayList<>();
    private Path dir;
    private CommonsExecLauncher launcher;

    @Setup(Level.Trial)
    public void start() throws IOException {
        dir = Files.createTempDirectory("buildhook-launcher-bench");
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs"))
                .withBaseEnvironment(Map.of("PATH", "/usr/bin:/bin")).withDefaultWorkdir(dir));
        for (int i = 0; i < bystanders; i++) {
            idle.add(new ProcessBuilder("sleep", "3600").redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        launcher.close();
        idle.forEach(Process::destroyForcibly);
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    @Benchmark
    @Threads(1)
    public JobOutcome oneThread() throws Exception {
        return runTrue();
    }

    @Benchmark
    @Threads(4)
    public JobOutcome fourThreads() throws Exception {
        return runTrue();
    }

    private JobOutcome runTrue() throws Exception {
        JobOutcome outcome = launcher.start(new JobRequest(nextJobId(), 1, List.of("/bin/true"), Map.of(), null, stdin,
                Duration.ofMinutes(1))).outcome().get(1, TimeUnit.MINUTES);
        if (!outcome.succeeded()) {
            throw new IllegalStateException("/bin/true did not succeed: " + outcome.message());
        }
        return outcome;
    }

    /** The next job's id: this run's own, from a bounded set that keeps the log folder small (4 threads never share one). */
    String nextJobId() {
        return "bench-" + run + "-" + serial.incrementAndGet() % 1024;
    }
}
