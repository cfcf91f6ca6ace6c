package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * review57b F1: two nodes on one PostgreSQL whose hosts' clocks differ by more than the dead-node limit less one
 * heartbeat interval. db-scheduler stamps a job's heartbeats with the running host's clock and finds it dead by the
 * looking host's: node-b, whose clock is 30 s ahead (limit 200 ms × 50 = 10 s), saw node-a's running job as dead at once,
 * took it over and ran its command beside node-a's. Now node-a's claim, renewed by the database's clock, keeps it
 * with node-a, and node-b says that its clock is off the database's. Each node's clock is db-scheduler's {@code Clock}
 * (the host's: {@link JobEngine#onHostClock}); the database's is the one clock both share.
 */
class PostgresClockSkewTakeoverTest {

    private static final Duration SKEW = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aNodeWhoseClockIsAheadDoesNotTakeOverALiveNodesRunningJob() throws Exception {
        ListAppender<ILoggingEvent> kept = listen(OwnExecutionsKept.class);
        ListAppender<ILoggingEvent> skew = listen(ClockSkew.class);
        String url = TestStores.postgresUrl();
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path script = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\necho start >> " + events
                + "\nwhile [ ! -f " + go + " ]; do sleep 0.05; done\n");
        try (Store storeA = Store.open(StoreConfig.of(url, dir.resolve("a")));
                Store storeB = Store.open(StoreConfig.of(url, dir.resolve("b")));
                CommonsExecLauncher launcherA = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("la")));
                CommonsExecLauncher launcherB = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("lb")))) {
            JobEngine a = JobEngine.create(storeA, launcherA, config("node-a"));
            JobEngine b = JobEngine.onHostClock(storeB, launcherB, config("node-b"),
                    Clock.offset(Clock.systemUTC(), SKEW));
            try {
                a.start();
                String job = storeA.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy",
                        List.of("/bin/sh", script.toString())))).jobIds().get(0);
                await().atMost(Duration.ofMinutes(1)).until(() -> lines(events) == 1);

                b.start();
                assertThat(skew.list).extracting(ILoggingEvent::getFormattedMessage)
                        .anyMatch(m -> m.contains("node node-b: this host's clock is ") && m.contains(" ahead of the"
                                + " database's") && m.contains("chronyd"));

                // node-b's dead-execution look finds the job (its heartbeat looks 30 s old there): it either keeps it
                // with node-a, saying so, or takes it over and runs it (a second start).
                await().atMost(Duration.ofMinutes(1)).until(() -> lines(events) > 1
                        || kept.list.stream().anyMatch(e -> e.getLevel() == Level.WARN));
                assertThat(lines(events)).as("the command started again on node-b beside node-a's").isEqualTo(1);
                assertThat(kept.list).filteredOn(e -> e.getLevel() == Level.WARN)
                        .extracting(ILoggingEvent::getFormattedMessage).singleElement().satisfies(m -> assertThat(m)
                                .contains("job " + job + ": its last heartbeat, written by its node node-a")
                                .contains("node-a renewed its claim ").contains("it is alive, and the job is left with"
                                        + " it, not run here")
                                .containsPattern("this host's is (29|30)s ahead of the database's"));

                Files.createFile(go);
                await().atMost(Duration.ofMinutes(1)).until(() -> storeA.job(job).orElseThrow().job().state()
                        == JobState.SUCCEEDED);
                JobDetail done = storeA.job(job).orElseThrow();
                assertThat(done.attempts()).singleElement().satisfies(at -> assertThat(at.node()).isEqualTo("node-a"));
                assertThat(lines(events)).isEqualTo(1);
            } finally {
                b.stop();
                a.stop();
            }
        }
    }

    /** Heartbeats every 200 ms, dead after 50 missed (a 10 s dead-node limit, as a loaded machine needs). One thread. */
    private static EngineConfig config(String node) {
        return new EngineConfig(node, 1, Duration.ofMillis(200), Duration.ofMillis(200), 50, Duration.ofSeconds(5),
                Duration.ofMillis(100), Duration.ofMillis(100));
    }

    private static ListAppender<ILoggingEvent> listen(Class<?> of) {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ((Logger) LoggerFactory.getLogger(of)).addAppender(log);
        return log;
    }

    private static int lines(Path file) throws java.io.IOException {
        return Files.exists(file) ? Files.readAllLines(file).size() : 0;
    }
}
