package org.buildhook.distribution.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 5,000 deliveries at once on a node that runs 2 jobs at a time: all complete, none twice, and
 * {@code /healthz}, polled every 100 ms throughout, is answered 200 every time.
 *
 * <p>How fast it answers depends on the machine (CI's may be fully loaded by other work), so the
 * test asserts that every poll was answered (none starved past its 10 s timeout) and reports p50,
 * p99 and max; the 100 ms p99 goal is a benchmark figure, checked only when
 * {@code -Dreliability.health.p99.ms=100} is given (docs/RELIABILITY.md, docs/BENCHMARKS.md).
 */
class BurstReliabilityIT {

    static final int DELIVERIES = 5_000;
    /**
     * p99 bound of /healthz in ms, checked only when given ({@code -Dreliability.health.p99.ms=100}
     * is the goal on an idle 2-core machine: measured 16–24 ms there, p50 2 ms). Unset, no bound
     * on speed: a loaded machine must not fail the test, only a starved answer does.
     */
    static final Long HEALTH_P99_MS = Long.getLong("reliability.health.p99.ms");

    @TempDir
    Path dir;

    @Test
    void fiveThousandDeliveriesAllCompleteOnceWhileHealthStaysFast() throws Exception {
        Installation installation = Installation.unpack(dir, Installation.traceScript(""));
        installation.config("runner:\n  threads: 2");
        List<Long> healthMillis = Collections.synchronizedList(new ArrayList<>());
        List<Integer> healthStatuses = Collections.synchronizedList(new ArrayList<>());
        List<String> healthFailures = Collections.synchronizedList(new ArrayList<>());
        Set<String> accepted = ConcurrentHashMap.newKeySet();
        long started = System.nanoTime();
        long drained;
        try (ServerProcess server = installation.start()) {
            ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor();
            HttpRequest health = HttpRequest.newBuilder(URI.create(server.base + "healthz")).timeout(Duration.ofSeconds(10)).build();
            poller.scheduleAtFixedRate(() -> {
                long t0 = System.nanoTime();
                try {
                    HttpResponse<String> answer = installation.http.send(health, HttpResponse.BodyHandlers.ofString());
                    healthMillis.add((System.nanoTime() - t0) / 1_000_000);
                    healthStatuses.add(answer.statusCode());
                    if (answer.statusCode() != 200) {
                        healthFailures.add(answer.statusCode() + " " + answer.body());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // the poller's end, not an answer
                } catch (Exception e) {
                    healthStatuses.add(-1);
                    healthFailures.add(e.toString());
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            ExecutorService senders = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> sends = new ArrayList<>();
                for (int i = 0; i < DELIVERIES; i++) {
                    int n = 100_000 + i;
                    sends.add(senders.submit(() -> {
                        HttpResponse<String> answer = installation.postSigned(server.base, Installation.build(n));
                        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
                        accepted.add(Installation.deliveryId(answer.body()));
                        return null;
                    }));
                }
                for (Future<?> send : sends) {
                    send.get(5, TimeUnit.MINUTES);
                }
                await().atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(2))
                        .until(() -> Trace.read(installation.trace).completed().size() >= DELIVERIES);
                drained = (System.nanoTime() - started) / 1_000_000;
            } finally {
                senders.shutdownNow();
                // Not shutdownNow: it interrupted a poll in flight, which was then counted as a /healthz answer other
                // than 200 (ci-al). shutdown() runs no further poll and lets the one in flight end.
                poller.shutdown();
                poller.awaitTermination(30, TimeUnit.SECONDS);
            }
            assertThat(server.alive()).isTrue();
        }
        Trace trace = Trace.read(installation.trace);
        List<Long> sorted;
        synchronized (healthMillis) {
            sorted = new ArrayList<>(healthMillis);
        }
        Collections.sort(sorted);
        long max = sorted.get(sorted.size() - 1);
        long p99 = sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
        long p50 = sorted.get(sorted.size() / 2);
        long notOk = healthStatuses.stream().filter(s -> s != 200).count();
        Summary.report("burst: " + DELIVERIES + " deliveries, runner.threads 2, " + accepted.size() + " accepted, "
                + trace.completed().size() + " completed, " + trace.reruns() + " run twice, all done in " + drained
                + " ms; /healthz " + sorted.size() + " polls, p50 " + p50 + " ms, p99 " + p99 + " ms, max " + max
                + " ms, " + notOk + " not 200");
        assertThat(accepted).hasSize(DELIVERIES);
        assertThat(trace.completed()).containsExactlyInAnyOrderElementsOf(accepted);
        assertThat(trace.reruns()).as("jobs run more than once").isZero();
        assertThat(notOk).as("/healthz answers other than 200: %s", healthFailures).isZero();
        assertThat(sorted).as("/healthz polls answered during the burst").isNotEmpty();
        if (HEALTH_P99_MS != null) {
            assertThat(p99).as("/healthz p99 in ms").isLessThanOrEqualTo(HEALTH_P99_MS);
        }
    }
}
