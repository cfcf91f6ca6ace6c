package org.buildhook.benchmarks.load;

import java.util.Arrays;

/** Nearest-rank percentiles of a set of values (nanoseconds here), reported in milliseconds. */
public final class Percentiles {

    private final long[] sorted;

    private Percentiles(long[] sorted) {
        this.sorted = sorted;
    }

    /** The percentiles of {@code values} (copied and sorted). */
    public static Percentiles of(long[] values) {
        long[] copy = values.clone();
        Arrays.sort(copy);
        return new Percentiles(copy);
    }

    /** How many values. */
    public int count() {
        return sorted.length;
    }

    /** The nearest-rank {@code fraction} quantile (0 &lt; fraction ≤ 1) in milliseconds; NaN when empty. */
    public double millis(double fraction) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(fraction * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
    }

    /** The largest value in milliseconds; NaN when empty. */
    public double maxMillis() {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6;
    }
}
