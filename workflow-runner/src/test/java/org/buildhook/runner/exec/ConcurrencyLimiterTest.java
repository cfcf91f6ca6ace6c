package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

class ConcurrencyLimiterTest {

    @Test
    void grantsNoMoreThanTheGlobalMaximumUnderManyConcurrentAcquisitions() throws Exception {
        ConcurrencyLimiter limiter = new ConcurrencyLimiter(5);

        List<ConcurrencyLimiter.Permit> granted = acquireConcurrently(limiter, 200, i -> "rule-" + (i % 50), 0);

        assertThat(granted).hasSize(5);
        assertThat(limiter.running()).isEqualTo(5);
    }

    @Test
    void grantsNoMoreThanEachRulesLimitUnderManyConcurrentAcquisitions() throws Exception {
        ConcurrencyLimiter limiter = new ConcurrencyLimiter(100);

        List<ConcurrencyLimiter.Permit> granted = acquireConcurrently(limiter, 400, i -> "rule-" + (i % 4), 2);

        assertThat(granted).hasSize(8);
        for (int rule = 0; rule < 4; rule++) {
            String name = "rule-" + rule;
            assertThat(granted).filteredOn(p -> p.ruleName().equals(name)).hasSize(2);
            assertThat(limiter.running(name)).isEqualTo(2);
        }
    }

    @Test
    void givesTheSlotBackOnceWhenAPermitIsClosedTwice() {
        ConcurrencyLimiter limiter = new ConcurrencyLimiter(2);
        ConcurrencyLimiter.Permit first = limiter.tryAcquire("deploy", 1).orElseThrow();
        assertThat(limiter.tryAcquire("deploy", 1)).isEmpty();

        first.close();
        first.close();

        assertThat(limiter.running()).isZero();
        assertThat(limiter.running("deploy")).isZero();
        Optional<ConcurrencyLimiter.Permit> again = limiter.tryAcquire("deploy", 1);
        assertThat(again).isPresent();
        assertThat(limiter.tryAcquire("other", 0)).isPresent();
        assertThat(limiter.tryAcquire("third", 0)).as("global maximum of 2 reached").isEmpty();
    }

    @Test
    void appliesAChangedRuleLimitToTheNextAcquisition() {
        ConcurrencyLimiter limiter = new ConcurrencyLimiter(10);
        limiter.tryAcquire("deploy", 3).orElseThrow();
        limiter.tryAcquire("deploy", 3).orElseThrow();

        assertThat(limiter.tryAcquire("deploy", 1)).isEmpty();
        assertThat(limiter.tryAcquire("deploy", 0)).isPresent();
    }

    @Test
    void refusesNonsenseLimits() {
        assertThatThrownBy(() -> new ConcurrencyLimiter(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ConcurrencyLimiter(1).tryAcquire("r", -1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static List<ConcurrencyLimiter.Permit> acquireConcurrently(ConcurrencyLimiter limiter, int callers,
            java.util.function.IntFunction<String> ruleOf, int ruleLimit) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(16);
        ConcurrentLinkedQueue<ConcurrencyLimiter.Permit> granted = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int i = 0; i < callers; i++) {
                String rule = ruleOf.apply(i);
                done.add(threads.submit(() -> {
                    go.await();
                    limiter.tryAcquire(rule, ruleLimit).ifPresent(granted::add);
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            threads.shutdownNow();
        }
        return List.copyOf(granted);
    }
}
