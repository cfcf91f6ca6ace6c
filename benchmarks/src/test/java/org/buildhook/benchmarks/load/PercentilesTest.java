package org.buildhook.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PercentilesTest {

    @Test
    void nearestRankOfOneToAThousandMilliseconds() {
        long[] nanos = new long[1000];
        for (int i = 0; i < nanos.length; i++) {
            nanos[nanos.length - 1 - i] = (i + 1) * 1_000_000L; // unsorted on purpose
        }

        Percentiles percentiles = Percentiles.of(nanos);

        assertThat(percentiles.millis(0.50)).isEqualTo(500.0);
        assertThat(percentiles.millis(0.99)).isEqualTo(990.0);
        assertThat(percentiles.millis(0.999)).isEqualTo(999.0);
        assertThat(percentiles.maxMillis()).isEqualTo(1000.0);
    }

    @Test
    void noValuesGiveNaN() {
        assertThat(Percentiles.of(new long[0]).millis(0.5)).isNaN();
    }
}
