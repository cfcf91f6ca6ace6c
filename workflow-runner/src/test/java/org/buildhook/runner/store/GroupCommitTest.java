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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GroupCommitTest {

    private record Work(String key, int weight, boolean fails, long bytes) implements GroupCommit.Item {
        Work(String key, int weight, boolean fails) {
            this(key, weight, fails, 0);
        }

        static Work of(String key) {
            return new Work(key, 1, false);
        }
    }

    private static final Duration LONG = Duration.ofSeconds(60);

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
    }, 1, 3, 10, 1000, LONG, "test");

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

    @Test
    void aCallerNoBatchTakesWithinTheWaitGetsStoreUnavailableAndIsNeverRun() throws Exception {
        // Both lanes stuck (a connection whose answer never comes): a later caller gives up as it would
        // waiting for a pooled connection, instead of parking for ever.
        CountDownLatch stuck = new CountDownLatch(1);
        List<String> ran = new CopyOnWriteArrayList<>();
        GroupCommit<Work> two = new GroupCommit<>(batch -> {
            batch.forEach(e -> ran.add(e.item().key()));
            try {
                stuck.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            batch.forEach(e -> e.succeed(true));
        }, 2, 64, 1000, 1000, Duration.ofMillis(200), "accept a delivery");
        CompletableFuture<Boolean> a = CompletableFuture.supplyAsync(() -> two.run(Work.of("a")), callers);
        CompletableFuture<Boolean> b = CompletableFuture.supplyAsync(() -> two.run(Work.of("b")), callers);
        await().atMost(LONG).until(() -> ran.size() == 2);

        CompletableFuture<Boolean> c = CompletableFuture.supplyAsync(() -> two.run(Work.of("c")), callers);

        assertThatThrownBy(() -> c.get(60, TimeUnit.SECONDS)).hasCauseInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("store unavailable while trying to accept a delivery");
        assertThat(two.queued()).isZero();
        stuck.countDown();
        assertThat(a.get()).isTrue();
        assertThat(b.get()).isTrue();
        assertThat(two.run(Work.of("d"))).isTrue();
        assertThat(ran).containsExactlyInAnyOrder("a", "b", "d");
    }

    @Test
    void aLeaderWithItsInterruptFlagSetRunsItsBatchWithoutItAndHasItSetAgainAfterwards() {
        AtomicBoolean interruptedWhileRunning = new AtomicBoolean(true);
        GroupCommit<Work> one = new GroupCommit<>(batch -> {
            interruptedWhileRunning.set(Thread.currentThread().isInterrupted());
            batch.forEach(e -> e.succeed(true));
        }, 1, 64, 1000, 1000, LONG, "test");

        Thread.currentThread().interrupt();
        boolean result = one.run(Work.of("a"));

        assertThat(Thread.interrupted()).isTrue();
        assertThat(result).isTrue();
        assertThat(interruptedWhileRunning).isFalse();
    }

    @Test
    void anErrorOfTheRunnerKeepsTheOutcomeOfEntriesItEndedAndFailsTheOthers() throws Exception {
        CountDownLatch secondMayRun = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        GroupCommit<Work> one = new GroupCommit<>(batch -> {
            if (runs.incrementAndGet() == 1) {
                awaitQuietly(secondMayRun);
                batch.forEach(e -> e.succeed(true));
                return;
            }
            batch.get(0).succeed(true); // stored alone, then the fallback dies
            throw new OutOfMemoryError("test");
        }, 1, 64, 1000, 1000, LONG, "test");
        CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> one.run(Work.of("first")), callers);
        await().atMost(LONG).until(() -> runs.get() == 1);
        CompletableFuture<Boolean> stored = CompletableFuture.supplyAsync(() -> one.run(Work.of("stored")), callers);
        await().atMost(LONG).until(() -> one.queued() == 1);
        CompletableFuture<Boolean> failed = CompletableFuture.supplyAsync(() -> one.run(Work.of("failed")), callers);
        await().atMost(LONG).until(() -> one.queued() == 2);

        secondMayRun.countDown();

        assertThat(first.get()).isTrue();
        assertThat(stored.get(60, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> failed.get(60, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the batch failed");
    }

    @Test
    void whenTheHandOverFailsTheBatchsCallersAreStillAnsweredAndTheLaneIsNotLost() throws Exception {
        CountDownLatch firstMayEnd = new CountDownLatch(1);
        CountDownLatch secondMayEnd = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        GroupCommit<GroupCommit.Item> one = new GroupCommit<>(batch -> {
            int run = runs.incrementAndGet();
            awaitQuietly(run == 1 ? firstMayEnd : run == 2 ? secondMayEnd : new CountDownLatch(0));
            batch.forEach(e -> e.succeed(true));
        }, 1, 64, 1000, 1000, LONG, "test");
        CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> one.run(Work.of("first")), callers);
        await().atMost(LONG).until(() -> runs.get() == 1);
        CompletableFuture<Boolean> leader = CompletableFuture.supplyAsync(() -> one.run(Work.of("leader")), callers);
        await().atMost(LONG).until(() -> one.queued() == 1);
        CompletableFuture<Boolean> follower = CompletableFuture.supplyAsync(() -> one.run(Work.of("follower")), callers);
        await().atMost(LONG).until(() -> one.queued() == 2);
        firstMayEnd.countDown();
        await().atMost(LONG).until(() -> runs.get() == 2);
        // The batch [leader, follower] hands over to "poison", whose weight fails once, as an
        // OutOfMemoryError in the hand-over would.
        AtomicBoolean failedOnce = new AtomicBoolean();
        GroupCommit.Item poison = new GroupCommit.Item() {
            @Override
            public String key() {
                return "poison";
            }

            @Override
            public int weight() {
                if (failedOnce.compareAndSet(false, true)) {
                    throw new OutOfMemoryError("test");
                }
                return 1;
            }

            @Override
            public long bytes() {
                return 0;
            }
        };
        CompletableFuture<Boolean> poisoned = CompletableFuture.supplyAsync(() -> one.run(poison), callers);
        await().atMost(LONG).until(() -> one.queued() == 1);

        secondMayEnd.countDown();

        assertThat(first.get()).isTrue();
        assertThatThrownBy(() -> leader.get(60, TimeUnit.SECONDS)).hasCauseInstanceOf(OutOfMemoryError.class);
        assertThat(follower.get(60, TimeUnit.SECONDS)).isTrue();
        // The lane is free again: the next caller leads, and takes the one left in the queue with it.
        assertThat(one.run(Work.of("next"))).isTrue();
        assertThat(poisoned.get(60, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aBatchTakesNoMoreBytesThanItsBoundAndAHeavierItemGoesAlone() throws Exception {
        CountDownLatch firstMayEnd = new CountDownLatch(1);
        List<List<String>> ran = new CopyOnWriteArrayList<>();
        GroupCommit<Work> one = new GroupCommit<>(batch -> {
            List<String> keys = new ArrayList<>();
            batch.forEach(e -> keys.add(e.item().key()));
            ran.add(keys);
            if (ran.size() == 1) {
                awaitQuietly(firstMayEnd);
            }
            batch.forEach(e -> e.succeed(true));
        }, 1, 64, 1000, 100, LONG, "test");
        List<CompletableFuture<Boolean>> all = new ArrayList<>();
        all.add(CompletableFuture.supplyAsync(() -> one.run(Work.of("first")), callers));
        await().atMost(LONG).until(() -> ran.size() == 1);
        for (Work w : List.of(new Work("x", 1, false, 60), new Work("y", 1, false, 60), new Work("z", 1, false, 40),
                new Work("huge", 1, false, 500), new Work("after", 1, false, 1))) {
            int before = one.queued();
            all.add(CompletableFuture.supplyAsync(() -> one.run(w), callers));
            await().atMost(LONG).until(() -> one.queued() == before + 1);
        }

        firstMayEnd.countDown();

        for (CompletableFuture<Boolean> f : all) {
            assertThat(f.get()).isTrue();
        }
        assertThat(ran).containsExactly(List.of("first"), List.of("x"), List.of("y", "z"), List.of("huge"),
                List.of("after"));
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
