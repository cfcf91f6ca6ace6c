package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What must not wait for a look of {@link ClusterRules} (store I/O, under the comparison's monitor) that is
 * stuck, for example in a call the database leaves unanswered. A stuck look is stood for by a thread holding
 * the comparison's monitor, which an interrupt does not end either.
 */
class ClusterRulesStuckLookTest {

    @TempDir
    Path dir;

    /**
     * review18 R2: {@link ClusterRules#reloaded()} ran a look on the rules watcher's thread, whose listeners
     * must not block: a store that hangs, or a periodic look waiting for it, held the reload (and an admin
     * replay's request) back. The look now runs on the comparison's own thread.
     */
    @Test
    void aReloadNeverWaitsForALookInProgress() throws Exception {
        withAStuckLook((cluster, release) -> {
            CompletableFuture<Void> reload = CompletableFuture.runAsync(cluster::reloaded);
            await().atMost(Duration.ofMinutes(1)).until(reload::isDone);
            assertThat(release.getCount()).as("while the look still held on").isEqualTo(1);
        });
    }

    /**
     * review18 R4: {@link ClusterRules#close()} waited up to 5 s for a look that could not end, at the start
     * of a stop, outside the stop's stated bound (grace + 3 x store.connect-timeout). It now stops the looks
     * without waiting for one: that look's call ends with the store's other unanswered calls after the grace.
     * Not timed (a bound under the old wait's 5 s is one a busy machine can break, review20 R2): the thread
     * that closes is watched until close returns, and is never seen waiting in it (the old close sat in
     * {@code awaitTermination} for 5 s), while the look still cannot end.
     */
    @Test
    void closeDoesNotWaitForALookThatCannotEnd() throws Exception {
        withAStuckLook((cluster, release) -> {
            cluster.reloaded(); // a look on the comparison's thread, which now waits for the monitor
            await().atMost(Duration.ofMinutes(1)).until(() -> lookThread().filter(t -> t.getState()
                    == Thread.State.BLOCKED).isPresent());

            Thread closer = new Thread(cluster::close, "closer");
            List<String> waits = new ArrayList<>();
            closer.start();
            long giveUp = System.nanoTime() + Duration.ofMinutes(1).toNanos(); // a close that hangs fails, not hangs
            while (closer.isAlive() && System.nanoTime() < giveUp) {
                StackTraceElement[] stack = closer.getStackTrace();
                Arrays.stream(stack).map(f -> f.getClassName() + "." + f.getMethodName())
                        .filter(f -> WAITS.stream().anyMatch(f::endsWith)).findFirst().ifPresent(waits::add);
                Thread.yield();
            }
            closer.join(Duration.ofMinutes(1).toMillis());

            assertThat(closer.isAlive()).as("close returned").isFalse();
            assertThat(waits).as("close waited (for the look in progress)").isEmpty();
            assertThat(release.getCount()).as("while the look still could not end").isEqualTo(1);
        });
    }

    /** What a thread that waits for another runs in: an executor's termination, a join, a future, a latch. */
    private static final Set<String> WAITS = Set.of(".awaitTermination", "Thread.join", "Thread.sleep",
            "FutureTask.get", "CompletableFuture.get", "CountDownLatch.await");

    private interface WithStuckLook {
        void run(ClusterRules cluster, CountDownLatch release) throws Exception;
    }

    /** Runs {@code test} while a thread holds the comparison's monitor until {@code release}; closes after. */
    private void withAStuckLook(WithStuckLook test) throws Exception {
        RuleSet rules = new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"),
                "rules:\n  - name: deploy\n    run: {command: [/bin/true]}\n");
        try (Store store = Store.open(StoreConfig.of(TestStores.postgresUrl(), dir))) {
            ClusterRules cluster = ClusterRules.start(store, "node-a", () -> rules, Duration.ofHours(1),
                    Duration.ofMinutes(3));
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread stuck = new Thread(() -> {
                synchronized (cluster) {
                    holding.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            stuck.start();
            try {
                holding.await();
                test.run(cluster, release);
            } finally {
                release.countDown();
                stuck.join();
                cluster.close();
            }
        }
    }

    private static Optional<Thread> lookThread() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("buildhook-cluster-rules")).findFirst();
    }
}
