package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;

/**
 * db-scheduler's stop bound (JobEngine's {@code shutdownMaxWait}), with the defaults. db-scheduler waits up to it once,
 * then interrupts the jobs' threads, then waits up to it once more. Its first wait begins as the grace period ends,
 * when the jobs still running get SIGTERM and, {@code runner.kill-grace} later, SIGKILL. With 1.5 ×
 * {@code store.connect-timeout} alone (7.5 s), a job that ignored SIGTERM had its thread interrupted before its
 * SIGKILL (10 s). Its stop was then not recorded as such: the log said "the store is unavailable … interrupted"
 * and db-scheduler "Unhandled exception", instead of "its process tree was killed; the job runs again", and the job
 * went back to the queue 10 s later rather than in its place (review20, seen with a real engine, SQLite, key 1 s,
 * kill-grace 2.5 s). PostgresSchedulerStopBoundTest reads the bound db-scheduler really uses.
 */
class SchedulerStopBoundTest {

    @Test
    void theSchedulersFirstWaitOutlastsTheKillGraceAndBothStayWithinTheDocumentedBudget() {
        Duration killGrace = LauncherConfig.defaults(Path.of("logs")).killGrace();
        Duration connect = StoreConfig.DEFAULT_CONNECT_TIMEOUT;

        Duration bound = JobEngine.schedulerStopBound(killGrace, connect);

        assertThat(bound).as("the first wait, after the grace").isGreaterThan(killGrace);
        // docs/storage.md, "Graceful shutdown": after the grace, the kill-grace and three connection waits.
        assertThat(bound.multipliedBy(2)).isEqualTo(killGrace.plus(connect.multipliedBy(3)));
    }
}
