package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Test fixtures: executable scripts written by the tests (the launcher itself never uses a
 * shell), a launcher on real threads, and a liveness check independent of the code under test.
 */
final class Fixtures implements AutoCloseable {

    static final Map<String, String> BASE_ENV = Map.of("PATH", "/usr/local/bin:/usr/bin:/bin",
            "BASE_ONLY", "from the base", "OVERRIDDEN", "base value", "LC_ALL", "C");
    /**
     * What this test JVM adds to its job names. Another test JVM on the machine (the other surefire
     * execution, another checkout) runs jobs of the same names at the same time; every process of a
     * job carries {@code BUILDHOOK_ATTEMPT=<job id>/<attempt>}, and a kill or the leftover sweep also
     * ends every process with the attempt's marker: with the names alone, one JVM's kill would end the
     * other's processes.
     */
    static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    final Path dir;
    final ExecutorService jobThreads = Executors.newCachedThreadPool(new JobThreadFactory("buildhook-job", true));
    final ScheduledExecutorService scheduler =
            Executors.newScheduledThreadPool(1, new JobThreadFactory("buildhook-job-timer", true));

    Fixtures(Path dir) {
        this.dir = dir;
    }

    LauncherConfig config() {
        return LauncherConfig.defaults(dir.resolve("logs"))
                .withBaseEnvironment(BASE_ENV)
                .withDefaultWorkdir(dir)
                .withKillGrace(Duration.ofSeconds(1));
    }

    CommonsExecLauncher launcher(LauncherConfig config) {
        return new CommonsExecLauncher(config, Clock.systemUTC(), jobThreads, scheduler);
    }

    /** A {@code /bin/sh} script file, made executable. */
    Path script(String name, String body) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** The job id for {@code name} in this test JVM: {@code <name>-<RUN>}, see {@link #RUN}. */
    static String jobId(String name) {
        return name + "-" + RUN;
    }

    /** A job {@link #jobId named} {@code name} running {@code argv}, attempt 1, one minute at most. */
    static JobRequest request(String name, List<String> argv) {
        return new JobRequest(jobId(name), 1, argv, Map.of(), null, null, Duration.ofMinutes(1));
    }

    static JobRequest request(String name, Path script, String... args) {
        List<String> argv = new java.util.ArrayList<>();
        argv.add(script.toString());
        argv.addAll(List.of(args));
        return request(name, argv);
    }

    /**
     * Live processes whose {@code /proc/<pid>/<file>} ({@code environ}, {@code cmdline}, {@code comm}) matches,
     * read by the test itself rather than by the code under test.
     */
    static List<Long> liveWhere(String file, java.util.function.Predicate<byte[]> matches) throws IOException {
        List<Long> found = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    long pid = Long.parseLong(name);
                    if (matches.test(Files.readAllBytes(entry.resolve(file))) && !isGone(pid)) {
                        found.add(pid);
                    }
                } catch (IOException e) {
                    // Gone meanwhile, or not ours.
                }
            }
        }
        return found;
    }

    /** Exited, or a zombie waiting for an init that may never reap it (as in some containers). */
    static boolean isGone(long pid) {
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
            } catch (IOException e) {
                return true;
            }
        }
        return true;
    }

    static List<Long> pids(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).map(l -> Long.parseLong(l.trim())).toList();
    }

    @Override
    public void close() {
        jobThreads.shutdownNow();
        scheduler.shutdownNow();
        try {
            jobThreads.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
