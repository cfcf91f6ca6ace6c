package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GroupCommitTest {

    private record Work(String key, int weight, boolean fails) implements GroupCommit.Item {
    }

    private final ExecutorService callers = Executors.newCachedThreadPool();
    private final List<List<String>> batches = new CopyOnWriteArrayList<>();
    private final CountDownLatch firstBatchMayEnd = new CountDownLatch(1);

    private final GroupCommit<Work> group = new GroupCommit<>(batch -> {
        List<String> keys = new ArrayList<>();
        batch.forEach(e -> keys.add(e.item().key()));
        batches.add(keys);
        if (batches.size() == 1) {
            try {
                firstBatchMayEnd.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (GroupCommit.Entry<Work> e : batch) {
            if (e.item().fails()) {
                e.fail(new IllegalStateException("failed " + e.item().key()));
            } else {
                e.succeed(e.item().key().startsWith("claimed"));
            }
        }
    }, 1, 3, 10);

    @AfterEach
    void stop() {
        callers.shutdownNow();
    }

    private CompletableFuture<Boolean> run(String key, int weight, boolean fails) {
        return CompletableFuture.supplyAsync(() -> group.run(new Work(key, weight, fails)), callers);
    }

    @Test
    void callersArrivingWhileABatchRunsAreTakenTogetherByTheNextWithinItsLimitsAndNeverTwoOfOneKey() throws Exception {
        CompletableFuture<Boolean> first = run("claimed-a", 1, false);
        await().atMost(Duration.ofSeconds(30)).until(() -> batches.size() == 1);
        List<CompletableFuture<Boolean>> queued = new ArrayList<>();
        for (String key : List.of("claimed-b", "b2", "claimed-b", "c", "d", "heavy")) {
            int before = group.queued();
            queued.add(run(key, key.equals("heavy") ? 10 : 1, key.equals("c")));
            await().atMost(Duration.ofSeconds(30)).until(() -> group.queued() == before + 1);
        }
        assertThat(first).isNotDone();
        assertThat(queued).noneMatch(CompletableFuture::isDone);

        firstBatchMayEnd.countDown();

        assertThat(first.get()).isTrue();
        assertThat(queued.get(0).get()).isTrue();
        assertThat(queued.get(1).get()).isFalse();
        assertThat(queued.get(2).get()).isTrue();
        assertThatThrownBy(queued.get(3)::join).hasRootCauseMessage("failed c");
        assertThat(queued.get(4).get()).isFalse();
        assertThat(queued.get(5).get()).isFalse();
        // At most 3 a batch, weight 10 at most (a heavier one alone), the second claimed-b in a later batch.
        assertThat(batches).containsExactly(List.of("claimed-a"), List.of("claimed-b", "b2", "c"),
                List.of("claimed-b", "d"), List.of("heavy"));
        assertThat(group.batches()).isEqualTo(4);
        assertThat(group.items()).isEqualTo(7);
    }
}
