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
 * review18 R2: {@link ClusterRules#reloaded()} ran a look (store I/O, under the comparison's monitor) on
 * the rules watcher's thread, whose listeners must not block: a store that hangs, or a periodic look
 * waiting for it, held the reload (and an admin replay's request) back. The look now runs on the
 * comparison's own thread. Here a look in progress is stood for by a thread holding the monitor.
 */
class ClusterRulesReloadTest {

    @TempDir
    Path dir;

    @Test
    void aReloadNeverWaitsForALookInProgress() throws Exception {
        RuleSet rules = new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"),
                "rules:\n  - name: deploy\n    run: {command: [/bin/true]}\n");
        try (Store store = Store.open(StoreConfig.of(TestStores.postgresUrl(), dir))) {
            ClusterRules cluster = ClusterRules.start(store, "node-a", () -> rules, Duration.ofHours(1),
                    Duration.ofMinutes(3));
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread look = new Thread(() -> {
                synchronized (cluster) {
                    holding.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            look.start();
            try {
                holding.await();
                CompletableFuture<Void> reload = CompletableFuture.runAsync(cluster::reloaded);
                await().atMost(Duration.ofMinutes(1)).until(reload::isDone);
                assertThat(release.getCount()).as("while the look still held on").isEqualTo(1);
            } finally {
                release.countDown();
                look.join();
                cluster.close();
            }
        }
    }
}
