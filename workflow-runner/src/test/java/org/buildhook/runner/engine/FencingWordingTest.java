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
 * What self-fencing says it fenced for (chaos15 F5): a node whose own JVM did not run (SIGSTOP) must
 * not blame the store; a node whose heartbeats are merely late still says the store does not answer.
 * The heartbeat's age and this JVM's running are set through a clock and a nanosecond counter.
 */
class FencingWordingTest {

    private static final EngineConfig CONFIG = new EngineConfig("node-a", 1, Duration.ofSeconds(1),
            Duration.ofSeconds(1), 20, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100));

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T10:00:00Z"));
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AtomicReference<String> killedFor = new AtomicReference<>();

    @Test
    void aNodeWhoseJvmDidNotRunSaysSoAndDoesNotBlameTheStore() {
        Fencing fencing = fencing();
        fencing.check(); // every quarter second, as the node runs
        nanos.addAndGet(Duration.ofSeconds(25).toNanos()); // stopped for 25 s
        now.set(now.get().plusSeconds(25));

        fencing.check();

        assertThat(killedFor.get()).isEqualTo("killed by its own node: no heartbeat could be written for 25000 ms"
                + " (this node's JVM itself did not run for 25000 ms of that (paused or stalled), not necessarily the"
                + " store), and after 20000 ms another node may run the job");
        // What the node's status page names while the store does not answer (cluster27 F3), until it answers.
        assertThat(fencing.fenced()).containsOnlyKeys("J1");
        fencing.storeAnswered();
        assertThat(fencing.fenced()).isEmpty();
    }

    @Test
    void aNodeThatRanButCouldNotHeartbeatStillSaysTheStoreDoesNotAnswer() {
        Fencing fencing = fencing();
        for (int i = 0; i < 70; i++) { // 17.5 s, a check every 250 ms, no heartbeat written
            nanos.addAndGet(Duration.ofMillis(250).toNanos());
            now.set(now.get().plusMillis(250));
            fencing.check();
        }

        assertThat(killedFor.get()).isEqualTo("killed by its own node: no heartbeat could be written for 15000 ms"
                + " (the store does not answer), and after 20000 ms another node may run the job");
    }

    /**
     * A command that exited by itself while its end waits for the store (cluster27 F4): nothing is killed, nor said to
     * be, and the line says it had ended and how; once, not at every check.
     */
    @Test
    void aCommandThatHadAlreadyEndedIsNeitherKilledNorSaidToBe() {
        outcome.complete(new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, now.get(), Instant.parse(
                "2026-12-01T10:00:02Z"), "exited 0", null, false));
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                Fencing.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        Fencing fencing = fencing();
        try {
            for (int i = 0; i < 80; i++) { // 20 s, a check every 250 ms, no heartbeat written
                nanos.addAndGet(Duration.ofMillis(250).toNanos());
                now.set(now.get().plusMillis(250));
                fencing.check();
            }
        } finally {
            logger.detachAppender(log);
        }

        assertThat(killedFor.get()).as("killed").isNull();
        assertThat(fencing.fenced()).as("fenced").isEmpty();
        assertThat(log.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .containsExactly("job J1: no heartbeat could be written for 15000 ms (the store does not answer), and"
                        + " after 20000 ms another node may run the job; its command had already ended (exited with 0"
                        + " at 2026-12-01T10:00:02Z) and its end could not be recorded: nothing is left to kill, and its"
                        + " end is recorded once the store answers");
    }

    private final CompletableFuture<JobOutcome> outcome = new CompletableFuture<>();

    private Fencing fencing() {
        TaskInstance<Void> instance = new TaskInstance<>("job", "J1");
        CurrentlyExecuting current = new CurrentlyExecuting(new Execution(now.get(), instance), now::get,
                new HeartbeatConfig(CONFIG.heartbeatInterval(), CONFIG.missedHeartbeats(), CONFIG.deadNodeLimit()));
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
            }
        });
        return new Fencing(() -> List.of(current), running, CONFIG, nanos::get);
    }
}
