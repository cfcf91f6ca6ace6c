package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.kagkarlsson.scheduler.CurrentlyExecuting;
import com.github.kagkarlsson.scheduler.HeartbeatConfig;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.RunningJob;
import org.junit.jupiter.api.Test;

/**
 * review57b F1 (L part, its test kept): self-fencing measures a job's silence with db-scheduler's HeartbeatState, whose clock is the
 * wall clock (db-scheduler's SystemClock in JobEngine), not the monotonic one. A node that runs and heart-beats every
 * interval, whose wall clock is stepped forward by 16 s (80 % of its 20 s dead-node limit: chrony's makestep, a VM
 * resumed), kills its running command at its next check, before its next heartbeat, though no heartbeat failed and no
 * time passed. The same as FencingWordingTest's set-up: the clock is db-scheduler's ({@code now}), the JVM's running
 * the nanosecond counter.
 */
class FencingClockStepTest {

    private static final EngineConfig CONFIG = new EngineConfig("node-a", 1, Duration.ofSeconds(1),
            Duration.ofSeconds(1), 20, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100));

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T10:00:00Z"));
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AtomicReference<String> killedFor = new AtomicReference<>();

    @Test
    void aForwardStepOfTheWallClockAloneKillsNoRunningCommand() {
        CurrentlyExecuting current = new CurrentlyExecuting(new Execution(now.get(), new TaskInstance<Void>("job",
                "J1")), now::get, new HeartbeatConfig(CONFIG.heartbeatInterval(), CONFIG.missedHeartbeats(),
                CONFIG.deadNodeLimit()));
        CompletableFuture<JobOutcome> outcome = new CompletableFuture<>();
        RunningJobs running = new RunningJobs();
        running.add("J1", new RunningJob() {
            @Override
            public CompletableFuture<JobOutcome> outcome() {
                return outcome;
            }

            @Override
            public void cancel() {
            }

            @Override
            public void kill(String why) {
                killedFor.set(why);
                outcome.complete(new JobOutcome(JobOutcome.Result.CANCELLED, null, now.get(), now.get(), why, null,
                        false));
            }
        });
        Fencing fencing = new Fencing(() -> List.of(current), running, CONFIG, now::get, nanos::get);
        // Ten seconds of a healthy node: a check every quarter second, a heartbeat written every second.
        for (int i = 1; i <= 40; i++) {
            nanos.addAndGet(Duration.ofMillis(250).toNanos());
            now.set(now.get().plusMillis(250));
            if (i % 4 == 0) {
                current.heartbeat(true, now.get());
            }
            fencing.check();
        }
        assertThat(killedFor.get()).isNull();

        // The wall clock is stepped 16 s forward; a quarter second passes.
        now.set(now.get().plusSeconds(16));
        nanos.addAndGet(Duration.ofMillis(250).toNanos());
        now.set(now.get().plusMillis(250));
        fencing.check();

        assertThat(killedFor.get()).as("killed by a clock step alone").isNull();
    }

    /**
     * The other way: heartbeats that fail while the wall clock is stepped back by 16 s fence the job at half the limit of
     * silence all the same, not 16 s later (another node may take it over after the limit).
     */
    @Test
    void aBackwardStepOfTheWallClockDoesNotDelayTheFence() {
        CurrentlyExecuting current = new CurrentlyExecuting(new Execution(now.get(), new TaskInstance<Void>("job",
                "J1")), now::get, new HeartbeatConfig(CONFIG.heartbeatInterval(), CONFIG.missedHeartbeats(),
                CONFIG.deadNodeLimit()));
        CompletableFuture<JobOutcome> outcome = new CompletableFuture<>();
        RunningJobs running = new RunningJobs();
        running.add("J1", killedInto(outcome));
        Fencing fencing = new Fencing(() -> List.of(current), running, CONFIG, now::get, nanos::get);
        for (int i = 1; i <= 8; i++) {
            nanos.addAndGet(Duration.ofMillis(250).toNanos());
            now.set(now.get().plusMillis(250));
            if (i % 4 == 0) {
                current.heartbeat(true, now.get());
            }
            fencing.check();
        }
        // The store stops answering; the wall clock is stepped 16 s back.
        now.set(now.get().minusSeconds(16));
        for (int i = 1; i <= 44 && killedFor.get() == null; i++) {
            nanos.addAndGet(Duration.ofMillis(250).toNanos());
            now.set(now.get().plusMillis(250));
            if (i % 4 == 0) {
                current.heartbeat(false, now.get());
            }
            fencing.check();
        }

        // Half the 20 s limit and a check: 10.25 s after the last heartbeat, by the monotonic clock.
        assertThat(killedFor.get()).as("fenced at half the limit").isNotNull()
                .contains("no heartbeat could be written for 10000 ms");
        assertThat(nanos.get()).isLessThanOrEqualTo(1_000_000_000L + Duration.ofMillis(2_000 + 10_500).toNanos());
    }

    private RunningJob killedInto(CompletableFuture<JobOutcome> outcome) {
        return new RunningJob() {
            @Override
            public CompletableFuture<JobOutcome> outcome() {
                return outcome;
            }

            @Override
            public void cancel() {
            }

            @Override
            public void kill(String why) {
                killedFor.set(why);
                outcome.complete(new JobOutcome(JobOutcome.Result.CANCELLED, null, now.get(), now.get(), why, null,
                        false));
            }
        };
    }
}
