package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How much CPU this process got over a stretch of wall time, and whether the host held it back: the load average
 * against the CPUs, and the time the process's cgroup was throttled by its CPU quota (Linux: {@code
 * /proc/self/cgroup} and the {@code cpu.stat} of that cgroup and its parents, v1's {@code throttled_time} in ns or
 * v2's {@code throttled_usec}; see the kernel's Documentation/scheduler/sched-bwc.rst), and how long the driver's
 * login thread waited for a CPU (the kernel's Documentation/scheduler/sched-stats.rst). Said when the start's first
 * PostgreSQL login ran out of {@code store.connect-timeout}: a new JVM's first login costs 0.3-0.5 s of its own CPU
 * (loading and interpreting the driver's classes, SCRAM), which an overloaded host or a small CPU quota stretches
 * past the key while PostgreSQL answered each step in milliseconds (pglogin27).
 */
final class CpuShare {

    private final long wallStart;
    private final long cpuStart;
    private final long throttledStart;
    private final java.util.Set<String> loginThreadsBefore;

    private CpuShare() {
        this.wallStart = System.nanoTime();
        this.cpuStart = processCpuNanos();
        this.throttledStart = throttledNanos();
        this.loginThreadsBefore = loginThreads().keySet();
    }

    /** Starts counting now. */
    static CpuShare start() {
        return new CpuShare();
    }

    /** What this process got since {@link #start()}. */
    Window end() {
        long cpu = processCpuNanos();
        long throttled = throttledNanos();
        long queued = -1;
        long ran = -1;
        for (Map.Entry<String, long[]> thread : loginThreads().entrySet()) {
            if (!loginThreadsBefore.contains(thread.getKey()) && thread.getValue()[1] > queued) {
                ran = thread.getValue()[0];
                queued = thread.getValue()[1];
            }
        }
        return new Window(System.nanoTime() - wallStart, cpu < 0 || cpuStart < 0 ? -1 : cpu - cpuStart,
                throttled < 0 || throttledStart < 0 ? -1 : throttled - throttledStart, ran, queued, loadAverage(),
                Runtime.getRuntime().availableProcessors());
    }

    /**
     * A stretch of wall time and what this process got in it.
     *
     * @param wallNanos      its length, in ns
     * @param cpuNanos       the CPU time all of this process's threads used in it, in ns; -1 when not known
     * @param throttledNanos how long its cgroup's CPU quota held it back in it, in ns; -1 when not known
     * @param ranNanos       how long the driver's login thread started in it ran on a CPU (the first field of its
     *                       {@code schedstat}), in ns; -1 when not known
     * @param queuedNanos    how long the driver's login thread started in it waited for a CPU while it was ready to
     *                       run (Linux's {@code /proc/self/task/<tid>/schedstat}, its second field), in ns; -1 when
     *                       not known
     * @param loadAverage    the host's load average over the last minute at its end; negative when not known
     * @param cpus           the CPUs this JVM may use
     */
    record Window(long wallNanos, long cpuNanos, long throttledNanos, long ranNanos, long queuedNanos,
            double loadAverage, int cpus) {

        /**
         * Whether the host, rather than PostgreSQL or the network, took the time: the login's thread waited for an
         * answer (neither running nor waiting for a CPU, nor held back by this process's CPU quota) less than a
         * quarter of it. Not the load average: a login that waits for a server that does not answer waits off the
         * CPU, however busy the host (at load 28 on 2 CPUs such a login waited 0.4 s of 1.3 s for a CPU to send its
         * first message, and 0.8 s for the answer). Where the login's thread cannot be seen (not Linux), a CPU quota
         * that held this process back for three quarters of the time or more.
         */
        boolean starved() {
            long held = Math.max(0, throttledNanos);
            if (queuedNanos < 0 || ranNanos < 0) {
                return held * 4 >= wallNanos * 3;
            }
            long waitedForAnswer = wallNanos - ranNanos - queuedNanos - Math.max(0, held - queuedNanos);
            return waitedForAnswer * 4 < wallNanos;
        }

        /**
         * The facts, for a sentence: "this process got 0.4 s of CPU in those 10.2 s; its login waited 8.0 s for a CPU;
         * its CPU quota held it back for 8.1 s; load average 31.0 on 2 CPUs"; the parts not known are left out.
         */
        String describe() {
            List<String> facts = new ArrayList<>(4);
            facts.add(cpuNanos < 0 ? "this process waited " + seconds(wallNanos) + " s"
                    : "this process got " + seconds(cpuNanos) + " s of CPU in those " + seconds(wallNanos) + " s");
            if (queuedNanos > 0) {
                facts.add("its login waited " + seconds(queuedNanos) + " s for a CPU");
            }
            if (throttledNanos > 0) {
                facts.add("its CPU quota held it back for " + seconds(throttledNanos) + " s");
            }
            if (loadAverage >= 0) {
                facts.add(String.format(Locale.ROOT, "load average %.1f on %d CPU%s", loadAverage, cpus, cpus == 1 ? "" : "s"));
            }
            return String.join("; ", facts);
        }

        private static String seconds(long nanos) {
            return String.format(Locale.ROOT, "%.1f", nanos / 1e9);
        }
    }

    /** The CPU time of all of this process's threads, in ns, or -1 where the JVM does not say. */
    private static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /**
     * The PostgreSQL driver's login threads alive now (pgjdbc runs each login bounded by {@code loginTimeout} on a
     * thread named "PostgreSQL JDBC driver connection thread", which Linux shows cut to 15 bytes), by thread id,
     * each with how long it has run on a CPU and how long it has waited for one while ready to run, in ns. Empty where
     * that cannot be read.
     */
    private static Map<String, long[]> loginThreads() {
        Map<String, long[]> threads = new java.util.HashMap<>();
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(task.resolve("comm")).strip().equals("PostgreSQL JDBC")) {
                        String[] stat = Files.readString(task.resolve("schedstat")).strip().split("\\s+");
                        threads.put(task.getFileName().toString(), new long[] {Long.parseLong(stat[0]), Long.parseLong(stat[1])});
                    }
                } catch (IOException | RuntimeException e) {
                    // ended meanwhile, or no schedstat: left out
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return threads;
    }

    private static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /**
     * How long this process's cgroup, or the most throttled of its parents, has been held back by a CPU quota so
     * far, in ns; -1 where that cannot be read (not Linux, no cpu controller, no {@code cpu.stat} there).
     */
    static long throttledNanos() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/cgroup"));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        long most = -1;
        for (String line : lines) {
            String[] parts = line.split(":", 3);
            if (parts.length < 3) {
                continue;
            }
            boolean v2 = parts[0].equals("0") && parts[1].isEmpty();
            boolean v1 = List.of(parts[1].split(",")).contains("cpu");
            if (!v1 && !v2) {
                continue;
            }
            List<Path> mounts = v2 ? List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))
                    : List.of(Path.of("/sys/fs/cgroup", parts[1]), Path.of("/sys/fs/cgroup/cpu"),
                            Path.of("/sys/fs/cgroup/cpu,cpuacct"));
            String key = v2 ? "throttled_usec " : "throttled_time ";
            long scale = v2 ? 1000 : 1;
            for (Path mount : mounts) {
                // The cgroup and its parents up to the mount: a quota on a parent (a container's, a pod's) holds back
                // its children without showing in their own cpu.stat.
                for (Path group = mount.resolve(parts[2].replaceFirst("^/+", "")).normalize(); group != null
                        && group.startsWith(mount); group = group.getParent()) {
                    most = Math.max(most, throttled(group.resolve("cpu.stat"), key, scale));
                }
            }
        }
        return most;
    }

    private static long throttled(Path stat, String key, long scale) {
        try {
            for (String line : Files.readAllLines(stat)) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim()) * scale;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not there, or not readable: not known
        }
        return -1;
    }
}
