package org.buildhook.benchmarks.load;

import java.util.Arrays;

/** Latencies in nanoseconds, recorded from many threads, read as percentiles once recording is over. */
public final class LatencyRecorder {

    private final long[] nanos;
    private int count;

    /** Room for {@code capacity} latencies. */
    public LatencyRecorder(int capacity) {
        this.nanos = new long[capacity];
    }

    /** Records one latency. */
    public synchronized void record(long latencyNanos) {
        nanos[count++] = latencyNanos;
    }

    /** The latencies recorded so far, sorted, as percentiles. */
    public synchronized Percentiles percentiles() {
        return Percentiles.of(Arrays.copyOf(nanos, count));
    }
}
