package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.buildhook.runner.exec.ProcCgroups;

/**
 * How much CPU this process got over a stretch of wall time, and whether the host held it back: the load average
 * against the CPUs, and the time the process's cgroup was throttled by its CPU quota (Linux: {@code
 * /proc/self/cgroup} and the {@code cpu.stat} of that cgroup and its parents, v1's {@code throttled_time} in ns or
 * v2's {@code throttled_usec}; see the kernel's Documentation/scheduler/sched-bwc.rst), and how long the driver's
 * login thread waited for a CPU (the kernel's Documentation/scheduler/sched-stats.rst). Said when the start's first
 * PostgreSQL login ran out of {@code store.connect-timeout}: a new JVM's first login costs 0.3-0.5 s of its own CPU
 * (loading and interpreting the driver's classes, SCRAM), which an overloaded host or a small CPU quota stretches
 * past the key while PostgreSQL answered each step in milliseconds (pglogin27). Said too while the start's first
 * SQLite connection has not been made within the key ({@link SqliteFirstConnection}): it loads the SQLite driver and
 * its native library, which the CPU a loaded host gives stretches the same way (store41).
 */
final class CpuShare {

    /** The name pgjdbc's login threads have as Linux shows it (cut to 15 bytes). */
    private static final String LOGIN_THREADS = "PostgreSQL JDBC";

    private final long wallStart;
    private final long cpuStart;
    private final long throttledStart;
    /** The name, cut to 15 bytes, of the threads whose waits are looked at. */
    private final String threads;
    /** What those threads do, for {@link Window#describe}: "login", "connection". */
    private final String work;
    /** Those threads alive at the start, with their counts then; {@code null}: only threads started since count. */
    private final Map<String, long[]> before;
    private final java.util.Set<String> threadsBefore;
    /** Every thread of this process alive at the start, with its counts then; {@code null} for {@link #start()}. */
    private final Map<String, long[]> processBefore;

    private CpuShare(String threads, String work, boolean newOnly) {
        this.wallStart = System.nanoTime();
        this.cpuStart = processCpuNanos();
        this.throttledStart = throttledNanos();
        this.threads = linuxName(threads);
        this.work = work;
        Map<String, long[]> now = threads(this.threads);
        this.threadsBefore = now.keySet();
        this.before = newOnly ? null : now;
        this.processBefore = newOnly ? null : threads(null);
    }

    /** Starts counting now; the threads looked at are the PostgreSQL driver's login threads started from now on. */
    static CpuShare start() {
        return new CpuShare(LOGIN_THREADS, "login", true);
    }

    /**
     * Starts counting now; the threads looked at are those named {@code thread} (those alive now with what they get
     * from now on, and those started from now on), doing {@code work} (a noun: "connection").
     */
    static CpuShare of(String thread, String work) {
        return new CpuShare(thread, work, false);
    }

    /** {@code name} as Linux keeps a thread's name ({@code /proc/…/comm}): its first 15 bytes. */
    static String linuxName(String name) {
        return name.length() <= 15 ? name : name.substring(0, 15);
    }

    /** What this process got since it started counting ({@link #start()}, {@link #of}). */
    Window end() {
        long cpu = processCpuNanos();
        long throttled = throttledNanos();
        long queued = -1;
        long ran = -1;
        for (Map.Entry<String, long[]> thread : threads(threads).entrySet()) {
            long[] then = before == null ? null : before.get(thread.getKey());
            if (before == null && threadsBefore.contains(thread.getKey())) {
                continue;
            }
            long threadRan = thread.getValue()[0] - (then == null ? 0 : then[0]);
            long threadQueued = thread.getValue()[1] - (then == null ? 0 : then[1]);
            if (threadQueued > queued) {
                ran = threadRan;
                queued = threadQueued;
            }
        }
        long processQueued = -1;
        if (processBefore != null && !processBefore.isEmpty()) {
            processQueued = 0;
            for (Map.Entry<String, long[]> thread : threads(null).entrySet()) {
                long[] then = processBefore.get(thread.getKey());
                processQueued += thread.getValue()[1] - (then == null ? 0 : then[1]);
            }
        }
        return new Window(System.nanoTime() - wallStart, cpu < 0 || cpuStart < 0 ? -1 : cpu - cpuStart,
                throttled < 0 || throttledStart < 0 ? -1 : throttled - throttledStart, ran, queued, processQueued,
                loadAverage(), Runtime.getRuntime().availableProcessors(), work);
    }

    /**
     * A stretch of wall time and what this process got in it.
     *
     * @param wallNanos      its length, in ns
     * @param cpuNanos       the CPU time all of this process's threads used in it, in ns; -1 when not known
     * @param throttledNanos how long its cgroup's CPU quota held it back in it, in ns; -1 when not known
     * @param ranNanos       how long the thread looked at (the driver's login thread started in it, the SQLite
     *                       store's first connection's) ran on a CPU in it (the first field of its {@code schedstat}),
     *                       in ns; -1 when not known
     * @param queuedNanos    how long that thread waited for a CPU in it while it was ready to run (Linux's {@code
     *                       /proc/self/task/<tid>/schedstat}, its second field), in ns; -1 when not known
     * @param processQueued  how long all threads of this process together waited for a CPU in it while ready to run,
     *                       in ns; -1 when not known (and for {@link #start()})
     * @param loadAverage    the host's load average over the last minute at its end; negative when not known
     * @param cpus           the CPUs this JVM may use
     * @param work           what the thread looked at does, for {@link #describe}: "login", "connection"
     */
    record Window(long wallNanos, long cpuNanos, long throttledNanos, long ranNanos, long queuedNanos,
            long processQueued, double loadAverage, int cpus, String work) {

        /**
         * Whether the host, rather than PostgreSQL or the network, took the time: the login's thread waited for an
         * answer (neither running nor waiting for a CPU, nor held back by this process's CPU quota) less than a
         * quarter of it. Not the load average: a login that waits for a server that does not answer waits off the
         * CPU, however busy the host (at load 28 on 2 CPUs such a login waited 0.4 s of 1.3 s for a CPU to send its
         * first message, and 0.8 s for the answer). The SQLite store's first connection waits off the CPU for the
         * disk or for a lock another program holds on its file. Where the thread cannot be seen (not Linux), a CPU
         * quota that held this process back for three quarters of the time or more.
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
         * Whether the host held back the SQLite store's first connection ({@link SqliteFirstConnection}): its thread
         * waited for a CPU while ready to run for a quarter of the time or more, or this process's threads together for
         * half of it or more (the connection's thread then waits off the CPU for them: a class another thread loads, the
         * JVM's safepoints; measured at 1 % of a CPU: it waited for a CPU for 27-51 % of each turn, and off it for most
         * of the rest). Not {@link #starved}: a local file's connection waits off the CPU only for the disk or for a
         * lock another program holds on the file, which the host's load does not explain. Where the thread cannot be
         * seen (not Linux), a CPU quota that held this process back for three quarters of the time or more.
         */
        boolean heldBack() {
            if (queuedNanos < 0 || ranNanos < 0) {
                return Math.max(0, throttledNanos) * 4 >= wallNanos * 3;
            }
            return queuedNanos * 4 >= wallNanos || processQueued * 2 >= wallNanos;
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
                facts.add("its " + work + " waited " + seconds(queuedNanos) + " s for a CPU");
            }
            if (throttledNanos > 0) {
                facts.add("its CPU quota held it back for " + seconds(throttledNanos) + " s");
            }
            if (loadAverage >= 0) {
                facts.add(load(loadAverage, cpus));
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
     * The threads of this process named {@code name} ({@code null}: all) alive now (Linux's name, cut to 15 bytes: pgjdbc runs each login
     * bounded by {@code loginTimeout} on a thread named "PostgreSQL JDBC driver connection thread", shown as
     * "PostgreSQL JDBC"), by thread id, each with how long it has run on a CPU and how long it has waited for one
     * while ready to run, in ns. Empty where that cannot be read.
     */
    private static Map<String, long[]> threads(String name) {
        Map<String, long[]> threads = new java.util.HashMap<>();
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (name == null || Files.readString(task.resolve("comm")).strip().equals(name)) {
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

    /** The host's load now, "load average 31.0 on 2 CPUs"; empty where the JVM does not know it. */
    static String hostLoad() {
        double load = loadAverage();
        return load < 0 ? "" : load(load, Runtime.getRuntime().availableProcessors());
    }

    private static String load(double loadAverage, int cpus) {
        return String.format(Locale.ROOT, "load average %.1f on %d CPU%s", loadAverage, cpus, cpus == 1 ? "" : "s");
    }

    private static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /**
     * How long this process's cgroup, or the most throttled of its parents, has been held back by a CPU quota so
     * far, in ns; -1 where that cannot be read (not Linux, no cpu controller, no {@code cpu.stat} there).
     */
    static long throttledNanos() {
        java.util.Optional<List<ProcCgroups.Membership>> read = ProcCgroups.ofSelf();
        if (read.isEmpty()) {
            return -1;
        }
        long most = -1;
        for (ProcCgroups.Membership cgroup : read.get()) {
            boolean v2 = cgroup.unified();
            boolean v1 = cgroup.controls("cpu");
            if (!v1 && !v2) {
                continue;
            }
            List<Path> mounts = v2 ? List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))
                    : List.of(Path.of("/sys/fs/cgroup", cgroup.controllers()), Path.of("/sys/fs/cgroup/cpu"),
                            Path.of("/sys/fs/cgroup/cpu,cpuacct"));
            String key = v2 ? "throttled_usec " : "throttled_time ";
            long scale = v2 ? 1000 : 1;
            for (Path mount : mounts) {
                // The cgroup and its parents up to the mount: a quota on a parent (a container's, a pod's) holds back
                // its children without showing in their own cpu.stat.
                for (Path group = mount.resolve(cgroup.path().replaceFirst("^/+", "")).normalize(); group != null
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
