package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;

/**
 * What a stop waits for its jobs' threads after the grace period, with the defaults and with a kill-grace far above
 * the connection waits: first itself (JobEngine's {@code jobsStopWait}), then db-scheduler (its {@code
 * shutdownMaxWait}, waited up to once before and once after it interrupts the threads). The stop's own wait must
 * outlast the kill-grace, whatever it is: with db-scheduler's bound alone, {@code (kill-grace + 3 ×
 * store.connect-timeout) / 2} (review20), a kill-grace above three connection waits had the thread of a job that
 * ignores SIGTERM interrupted before its SIGKILL (StopKillSequenceTest shows it with a real engine).
 * PostgresSchedulerStopBoundTest reads the bounds the engine and db-scheduler really use.
 */
class SchedulerStopBoundTest {

    @Test
    void theStopsOwnWaitOutlastsTheKillGraceAndBothWaitsStayWithinTheDocumentedBudget() {
        Duration connect = StoreConfig.DEFAULT_CONNECT_TIMEOUT;
        for (Duration killGrace : new Duration[] {LauncherConfig.defaults(Path.of("logs")).killGrace(),
                Duration.ofMinutes(5)}) {
            Duration own = JobEngine.jobsStopWait(killGrace, connect);
            Duration scheduler = JobEngine.schedulerStopBound(connect);

            assertThat(own).as("the stop's own wait, after the grace").isGreaterThan(killGrace);
            // docs/storage.md, "Graceful shutdown": after the grace, the kill-grace and three connection waits.
            assertThat(own.plus(scheduler.multipliedBy(2))).isEqualTo(killGrace.plus(connect.multipliedBy(3)));
        }
    }
}
