package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A node whose own start took longer than two heartbeat intervals (between the claim of its id and its scheduler's
 * start: {@code beforeJobs}, the leftover sweeps) did not lose the store meanwhile: it must not take that for a
 * break in its reach of the store ({@link StoreReach}), say "this node could not reach the store itself", and wait
 * one more dead-node limit before it revives a dead node's job (review28 R4). Real PostgreSQL; the slow start is a
 * {@code beforeJobs} that takes three heartbeat intervals (the fault's length, not a wait for an event).
 */
class SlowStartNotABreakTest {

    @TempDir
    Path dir;

    @Test
    void aDeadNodesJobIsRevivedWithoutSayingThisNodeLostTheStore() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(OwnExecutionsKept.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        Path ran = dir.resolve("ran");
        try (Store store = Store.open(TestStores.postgres(dir.resolve("data")));
                CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")))) {
            String job = store.accept(Plans.delivery(Plans.fixture()),
                    List.of(Plans.job("theirs", List.of("/usr/bin/touch", ran.toString())))).jobIds().get(0);
            // Picked by node-c, which has been silent for an hour: dead by any limit.
            try (var c = store.schedulerDataSource().getConnection(); var p = c.prepareStatement(
                    "UPDATE scheduled_tasks SET picked = ?, picked_by = ?, last_heartbeat = ? WHERE task_instance = ?")) {
                p.setBoolean(1, true);
                p.setString(2, "node-c");
                JobQueue.customization(store.dialect()).setInstant(p, 3, Instant.now().minus(Duration.ofHours(1)));
                p.setString(4, job);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            // Heartbeats every 5 s (a break: answers more than 10 s apart, far beyond a loaded machine's stall);
            // dead-node limit 5 s × 12 = 1 min.
            Duration interval = Duration.ofSeconds(5);
            JobEngine engine = JobEngine.create(store, launcher, new EngineConfig("node-a", 4, Duration.ofMillis(200),
                    interval, 12, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100)));
            try {
                engine.start(() -> {
                    try {
                        Thread.sleep(interval.multipliedBy(3).toMillis()); // the slow start itself
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                // Revived at the first look: well within the dead-node limit (1 min) it would wait on a break.
                await().atMost(Duration.ofMinutes(2)).until(() -> logged(log, "is taken for dead")
                        || logged(log, "could not reach the store itself"));
                assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                        .noneMatch(m -> m.contains("could not reach the store itself"));
                await().atMost(Duration.ofMinutes(2)).until(() -> store.job(job).orElseThrow().job().state()
                        == JobState.SUCCEEDED);
                assertThat(ran).exists();
            } finally {
                engine.stop();
            }
        } finally {
            logger.detachAppender(log);
        }
    }

    private static boolean logged(ListAppender<ILoggingEvent> log, String words) {
        synchronized (log) {
            return log.list.stream().anyMatch(e -> e.getFormattedMessage().contains(words));
        }
    }
}
