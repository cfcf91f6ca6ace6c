package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** tryout12 F1: a log cap the heap cannot hold for every running job is said at start. */
class LogTailsWarningTest {

    private static final long MIB = 1L << 20;

    @Test
    void aLogCapThatTheRunningJobsTailsWouldNotFitInHalfTheHeapIsSaidWithWhatToDo() {
        assertThat(BuildhookApplication.logTailsWarning(400 * MIB, 4, 256 * MIB)).hasValueSatisfying(w -> assertThat(w)
                .startsWith("runner.log-max-bytes (400 MiB) × runner.threads (4) is 1600 MiB, more than half of this"
                        + " JVM's heap (256 MiB)")
                .contains("lower runner.log-max-bytes or give the JVM more heap (JAVA_OPTS=-Xmx…)"));
    }

    @Test
    void theDefaultCapWithTheDefaultThreadsSaysNothingOnASmallHeap() {
        assertThat(BuildhookApplication.logTailsWarning(10 * MIB, 4, 256 * MIB)).isEmpty();
        assertThat(BuildhookApplication.logTailsWarning(1024 * MIB, 64, Long.MAX_VALUE)).isEmpty();
    }
}
