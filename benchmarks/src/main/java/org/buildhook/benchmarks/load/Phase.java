package org.buildhook.benchmarks.load;

import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * Sends a range of build ids to one URL from a fixed number of sender threads, each sending its
 * next body as soon as its previous answer arrived (closed loop), and records what came back.
 */
final class Phase {

    private final ExecutorService senders;
    private final int concurrency;
    private final Clock clock;

    Phase(ExecutorService senders, int concurrency, Clock clock) {
        this.senders = Objects.requireNonNull(senders, "senders");
        this.concurrency = concurrency;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Sends build ids {@code first} to {@code first + count - 1}; returns when every answer is in. */
    Result run(URI url, SignedBodies bodies, long first, int count) throws InterruptedException {
        return run(url, bodies, first, count, 0, 0);
    }

    /**
     * As {@link #run(URI, SignedBodies, long, int)}, but when {@code perSecond} is positive body
     * {@code i} is not sent before {@code i / perSecond} seconds after the start (paced, not
     * saturating: to see latencies of an idle receiver). An answer counts as accepted when its
     * status is {@code expect}, or any 2xx when {@code expect} is 0.
     */
    Result run(URI url, SignedBodies bodies, long first, int count, double perSecond, int expect)
            throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        AtomicLong accepted = new AtomicLong();
        AtomicLongArray sentMicros = new AtomicLongArray(count);
        AtomicLongArray answerNanos = new AtomicLongArray(count);
        Map<String, AtomicLong> errors = new ConcurrentHashMap<>();
        LatencyRecorder latencies = new LatencyRecorder(count);
        // Each sender makes itself ready (ready(...)) before the clock starts; the clock's start reaches them through go.
        CountDownLatch ready = new CountDownLatch(concurrency);
        CountDownLatch go = new CountDownLatch(1);
        long[] clockStart = new long[1];
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            workers.add(senders.submit(() -> {
                try (HttpConnection connection = new HttpConnection(url)) {
                    try {
                        ready(connection, bodies, first);
                    } finally {
                        ready.countDown();
                    }
                    go.await();
                    long start = clockStart[0];
                    for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                        SignedBodies.SignedBody body = bodies.body(first + i);
                        if (perSecond > 0) {
                            long due = start + (long) (i * 1e9 / perSecond);
                            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                                LockSupport.parkNanos(wait);
                            }
                        }
                        sentMicros.set(i, micros(clock.instant()));
                        long sent = System.nanoTime();
                        try {
                            int status = connection.post(body.header(), body.signature(), body.bytes());
                            long took = System.nanoTime() - sent;
                            latencies.record(took);
                            answerNanos.set(i, took);
                            if (expect == 0 ? status / 100 == 2 : status == expect) {
                                accepted.incrementAndGet();
                            } else {
                                errors.computeIfAbsent("HTTP " + status, k -> new AtomicLong()).incrementAndGet();
                            }
                        } catch (IOException e) {
                            errors.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet();
                        }
                        if (Thread.currentThread().isInterrupted()) {
                            return null;
                        }
                    }
                }
                return null;
            }));
        }
        ready.await();
        long startMicros = micros(clock.instant());
        long start = System.nanoTime();
        clockStart[0] = start;
        go.countDown();
        for (Future<?> worker : workers) {
            try {
                worker.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("a sender failed", e.getCause());
            }
        }
        long elapsed = System.nanoTime() - start;
        long[] sent = new long[count];
        long[] answers = new long[count];
        for (int i = 0; i < count; i++) {
            sent[i] = sentMicros.get(i);
            answers[i] = answerNanos.get(i);
        }
        Map<String, Long> errorCounts = new java.util.TreeMap<>();
        errors.forEach((k, v) -> errorCounts.put(k, v.get()));
        return new Result(first, count, accepted.get(), errorCounts, latencies.percentiles(), elapsed, startMicros,
                sent, answers);
    }

    /**
     * What a sender does before the phase's clock starts: signs one body that is never sent, builds its header lines,
     * and opens its connection. So neither the load generator's own start (a fresh JVM: the HMAC's provider, the
     * string building, the socket classes) nor a TCP connection's set-up is inside a measured answer, and a paced
     * run's first bodies go out on time, one by one, instead of late and together (docs/BENCHMARKS.md, thirty-second
     * pass). A connection that cannot be opened is left to the first send, which tries again and counts the error.
     */
    private static void ready(HttpConnection connection, SignedBodies bodies, long first) {
        SignedBodies.SignedBody body = bodies.body(first);
        HttpConnection.fields(body.header(), body.signature(), body.bytes().length);
        try {
            connection.open();
        } catch (IOException e) {
            // counted by the first send, which connects again
        }
    }

    static long micros(Instant instant) {
        return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
    }

    /**
     * What one phase measured; {@code sentMicros[i]} is when build id {@code first + i} was sent (microseconds since
     * the epoch), {@code answerNanos[i]} how long its answer took (0 when it failed).
     */
    record Result(long first, int count, long accepted, Map<String, Long> errors, Percentiles latency,
            long elapsedNanos, long startMicros, long[] sentMicros, long[] answerNanos) {

        double acceptedPerSecond() {
            return accepted / (elapsedNanos / 1e9);
        }

        long errorCount() {
            return errors.values().stream().mapToLong(Long::longValue).sum();
        }
    }
}
