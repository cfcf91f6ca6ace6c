package org.buildhook.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * A cgroup (v1) of a test's own under root's {@code /sys/fs/cgroup/cpu}, to starve a server process of CPU with a
 * quota (the kernel's Documentation/scheduler/sched-bwc.rst): deterministic where a loaded host is not. The test is
 * skipped where that controller cannot be written (not root, cgroup v2 only).
 */
final class CpuQuotaCgroup implements AutoCloseable {

    private static final Path CPU_CGROUPS = Path.of("/sys/fs/cgroup/cpu");
    private final Path cgroup;

    private CpuQuotaCgroup(Path cgroup) {
        this.cgroup = cgroup;
    }

    /** A new cgroup without a quota yet (periods of 100 ms); skips the test where none can be made. */
    static CpuQuotaCgroup create() throws IOException {
        Assumptions.assumeTrue(Files.isWritable(CPU_CGROUPS.resolve("cgroup.procs")),
                "needs a writable cgroup v1 cpu controller at " + CPU_CGROUPS);
        Path cgroup = Files.createDirectory(CPU_CGROUPS.resolve("buildhook-test-" + java.util.UUID.randomUUID()));
        Files.writeString(cgroup.resolve("cpu.cfs_period_us"), "100000");
        return new CpuQuotaCgroup(cgroup);
    }

    /** Moves process {@code pid} (all its threads) into this cgroup. */
    void add(long pid) throws IOException {
        Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(pid));
    }

    /** The processes in it may use {@code micros} µs of CPU in each 100 ms; -1: no quota. */
    void quota(long micros) {
        try {
            Files.writeString(cgroup.resolve("cpu.cfs_quota_us"), Long.toString(micros));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Lifts the quota, moves what still runs in it back to the root cgroup, and removes it: again until it can be, for
     * a process that was ending as it was moved (a zombie not yet reaped cannot be moved, and keeps the cgroup busy:
     * "Device or resource busy" on a loaded machine, ci-a of c901ce92).
     */
    @Override
    public void close() throws IOException {
        quota(-1);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(2))
                .ignoreExceptionsInstanceOf(java.nio.file.FileSystemException.class).until(() -> {
                    for (String pid : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
                        try {
                            Files.writeString(CPU_CGROUPS.resolve("cgroup.procs"), pid);
                        } catch (IOException gone) {
                            // ended meanwhile
                        }
                    }
                    Files.delete(cgroup);
                    return true;
                });
    }
}
