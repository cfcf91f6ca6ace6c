package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.LongSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code /proc} files every job's look reads ({@code /proc/<pid>/environ} for the attempt's marker,
 * {@code /proc/uptime} twice per start): read whole and right, into buffers of their size, not the 8 KiB and more
 * that {@code readAllBytes} allocated for each, whose size {@code stat} reads as 0 (docs/BENCHMARKS.md,
 * "Twenty-sixth pass"). The allocation is counted by the thread's own allocated bytes, which do not depend on the
 * machine's speed.
 */
class ProcReadsTest {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Process child;

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.destroyForcibly().waitFor();
        }
    }

    /** Bytes this thread allocated per call of {@code read}, over many calls after a warm-up. */
    private static long allocatedPerCall(LongSupplier read) {
        for (int i = 0; i < 200; i++) {
            read.getAsLong();
        }
        int calls = 500;
        long before = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < calls; i++) {
            read.getAsLong();
        }
        return (THREADS.getCurrentThreadAllocatedBytes() - before) / calls;
    }

    private Process sleeper(Map<String, String> environment) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("sleep", "60");
        builder.environment().clear();
        builder.environment().putAll(environment);
        builder.environment().put("PATH", "/usr/bin:/bin");
        child = builder.start();
        return child;
    }

    @Test
    void uptimeIsReadAsTheKernelSaysItWithoutAnEightKibBuffer() throws Exception {
        assumeTrue(ProcStat.available(), "needs /proc");
        assumeTrue(THREADS.isThreadAllocatedMemorySupported(), "needs the JVM's allocation count");
        THREADS.setThreadAllocatedMemoryEnabled(true);
        long before = Long.parseLong(Files.readString(Path.of("/proc/uptime")).split("[ .]")[0]) * 100;
        long now = Orphans.now();
        long after = (Long.parseLong(Files.readString(Path.of("/proc/uptime")).split("[ .]")[0]) + 1) * 100;

        assertThat(now).isBetween(before, after);
        // readAllBytes allocated at least 8,192 bytes per call here.
        assertThat(allocatedPerCall(Orphans::now)).isLessThan(2048);
    }

    @Test
    void aMarkerIsFoundInASmallEnvironmentWithoutAnEightKibBuffer() throws Exception {
        assumeTrue(ProcStat.available(), "needs /proc");
        assumeTrue(THREADS.isThreadAllocatedMemorySupported(), "needs the JVM's allocation count");
        THREADS.setThreadAllocatedMemoryEnabled(true);
        AttemptMarker marker = AttemptMarker.of("job-reads", 1);
        long pid = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value())).pid();

        assertThat(marker.isCarriedBy(pid)).isTrue();
        assertThat(AttemptMarker.of("job-reads", 2).isCarriedBy(pid)).isFalse();
        // readAllBytes allocated at least 8,192 bytes and the copy of the environment per call here.
        assertThat(allocatedPerCall(() -> marker.isCarriedBy(pid) ? 1 : 0)).isLessThan(4096);
    }

    @Test
    void aMarkerAfterAnEnvironmentLargerThanTheFirstBufferIsFound() throws Exception {
        assumeTrue(ProcStat.available(), "needs /proc");
        AttemptMarker marker = AttemptMarker.of("job-large", 1);
        // Several times the first buffer: read through its doublings.
        long pid = sleeper(Map.of("AAA_LARGE", "x".repeat(5 * AttemptMarker.ENVIRON_BUFFER + 7),
                AttemptMarker.VARIABLE, marker.value())).pid();
        String environ = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")), StandardCharsets.UTF_8);
        assertThat(environ.length()).isGreaterThan(5 * AttemptMarker.ENVIRON_BUFFER);

        assertThat(marker.isCarriedBy(pid)).isTrue();
        assertThat(AttemptMarker.of("job-large", 2).isCarriedBy(pid)).isFalse();
        ProcStat.Whole whole = ProcStat.readWhole("/proc/" + pid + "/environ", 1);
        assertThat(new String(whole.bytes(), 0, whole.length(), StandardCharsets.UTF_8)).isEqualTo(environ);
    }

    @Test
    void aFileThatCannotBeReadIsNoMarkerAndNoUptime() {
        assertThat(ProcStat.readWhole("/proc/0/environ", 16)).isNull();
        assertThat(ProcStat.readInto("/nonexistent/uptime", new byte[16])).isEqualTo(-1);
        assertThat(AttemptMarker.of("job-gone", 1).isCarriedBy(Integer.MAX_VALUE)).isFalse();
    }
}
