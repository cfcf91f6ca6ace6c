package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout49 F1 on SQLite: a node's JVM stopped (SIGSTOP) while its job's command exits by itself. There is no watchdog
 * and no other node (one server per SQLite database), so nothing sees the exit before the JVM wakes: the attempt's end
 * is the wake, which is all that is known. Its message says so (it ended before then, seen on waking from a pause of
 * the JVM), rather than passing the wake for the exit's own time. Real node JVM, real command, real SQLite.
 */
class SqlitePausedNodeTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final StartedNodes nodes = new StartedNodes();

    @Test
    void aCommandThatExitedWhileItsNodeWasStoppedSaysItsExitWasSeenOnWaking() throws Exception {
        StoreConfig config = TestStores.sqlite(dir.resolve("data"));
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path slow = NodeProcess.slowScript(dir, events, go);
        try (Store store = Store.open(config)) {
            // 1 s × 20: a pause of half that limit (10 s) or more is said.
            NodeProcess node = nodes.start(dir, "paused", "url=" + config.url(), "data=" + dir.resolve("data"),
                    "threads=1", "slow=1", "slowScript=" + slow, "label=w", "heartbeat=1000", "missed=20");
            await().atMost(Duration.ofMinutes(5)).until(() -> node.printed("ACCEPTED") && Files.exists(events)
                    && Files.readString(events).contains("start w"));
            Job job = store.jobs(JobQuery.latest(10)).items().get(0);

            NodeProcess.signal("STOP", node.process.pid());
            Instant stopped = Instant.now();
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(events).contains("end w"));
            // The pause itself is what is tested: it lasts past the 10 s that are said (not a wait for an event).
            await().pollInterval(Duration.ofMillis(200)).atMost(Duration.ofMinutes(1))
                    .until(() -> Duration.between(stopped, Instant.now()).toMillis() > 12_000);
            NodeProcess.signal("CONT", node.process.pid());

            await().atMost(Duration.ofMinutes(3)).until(() -> store.job(job.id()).orElseThrow().job().state()
                    == JobState.SUCCEEDED);
            JobAttempt first = store.job(job.id()).orElseThrow().attempts().get(0);
            assertThat(first.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
            assertThat(first.message()).startsWith("exited with 0; its exit was seen at " + first.endedAt()
                    + ", when this node ran again after its JVM was paused or stalled for ")
                    .endsWith(" s: it ended before then").doesNotContain("store");
        }
    }
}
