package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
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
 * review18 R4: {@link ClusterRules#close()} waited up to 5 s for a look that could not end (stuck in a
 * call the database leaves unanswered), at the start of a stop, outside the stop's stated bound (grace +
 * 3 x store.connect-timeout). It now stops the looks without waiting for one: that look's call ends with
 * the store's other unanswered calls after the grace. A look that cannot end is stood for, as in {@link
 * ClusterRulesReloadTest}, by a thread holding the comparison's monitor, which an interrupt does not
 * end either. The bound asserted (3 s) is the old wait's 5 s less a margin: close now does not wait at all.
 */
class ClusterRulesCloseTest {

    @TempDir
    Path dir;

    @Test
    void closeDoesNotWaitForALookThatCannotEnd() throws Exception {
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
                cluster.reloaded(); // a look on the comparison's thread, which now waits for the monitor
                await().atMost(Duration.ofMinutes(1)).until(() -> lookThread().filter(t -> t.getState()
                        == Thread.State.BLOCKED).isPresent());

                CompletableFuture<Void> close = CompletableFuture.runAsync(cluster::close);

                await().atMost(Duration.ofSeconds(3)).until(close::isDone);
                assertThat(release.getCount()).as("while the look still could not end").isEqualTo(1);
            } finally {
                release.countDown();
                stuck.join();
            }
        }
    }

    private static java.util.Optional<Thread> lookThread() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("buildhook-cluster-rules")).findFirst();
    }
}
