package org.buildhook.servlet;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The values of the gauges read from the store (queued jobs, jobs in a retry's backoff, awaiting an approval, waiting
 * for resources, resource units in use, the cluster's nodes): read together, one round every {@link #EVERY}, on a
 * thread of its own ({@value #THREAD}), and served from memory, so that a scrape never waits on the store. Read at
 * each scrape, five of them waited {@code store.connect-timeout} each while PostgreSQL was down (25 s), and longer
 * while it hung: longer than Prometheus's 10 s scrape timeout, so every series went stale in the outage (tryout32 F3).
 *
 * <p>The store counts as answering ({@link #up}) when its last round read every value and the round under way, if
 * any, has not lasted longer than {@link #ANSWER_BOUND} (a database that hangs never ends it). A value is unknown
 * ({@code null}, {@code NaN} in a scrape) when its last read failed, before its first read, and while a round outlasts
 * that bound: a last value kept through an outage would read as current. A round stops at the first read that finds
 * the store unavailable (the others would wait as long): the values not read are unknown too. One WARN when the
 * store stops answering these reads, one INFO when it answers again, never one per round.
 */
final class StoreSnapshot implements AutoCloseable {

    /** How often the values are read, from the end of one round to the start of the next. */
    static final Duration EVERY = Duration.ofSeconds(5);
    /**
     * How long a round may last before the store counts as not answering: Prometheus's default scrape timeout, which
     * the reads at scrape time outlasted.
     */
    static final Duration ANSWER_BOUND = Duration.ofSeconds(10);
    /**
     * How long one read may wait for an answer from the store before it fails (PostgreSQL: {@link Bounds}), so that a
     * database that stops answering with its connection open cannot hold {@link #THREAD} for good; the same as {@link
     * #ANSWER_BOUND}, after which the store counts as not answering anyway.
     */
    static final Duration READ_BOUND = ANSWER_BOUND;

    /**
     * What bounds each read: {@code within} runs {@code read} on the caller's thread, its waits for the store bounded
     * by {@code bound} ({@code Store::readWithin}), or throws {@code StoreUnavailableException} when it is over.
     */
    interface Bounds {
        <T> T within(Duration bound, Supplier<T> read);
    }

    /** Reads unbounded (tests whose sources are not the store's). */
    static final Bounds UNBOUNDED = new Bounds() {
        @Override
        public <T> T within(Duration bound, Supplier<T> read) {
            return read.get();
        }
    };

    /** The name of the thread that reads. */
    static final String THREAD = "buildhook-metrics-store";

    private static final Logger LOG = LoggerFactory.getLogger(StoreSnapshot.class);
    private static final long NONE = Long.MIN_VALUE;

    /** One value read from the store each round; {@link #value} is what the gauges show. */
    final class Read<T> {
        private final String what;
        private final Supplier<T> source;
        private volatile T last;

        private Read(String what, Supplier<T> source) {
            this.what = what;
            this.source = source;
        }

        /** The value of the last round, or null when unknown (see the class). */
        T value() {
            return roundOverdue() ? null : last;
        }
    }

    private final List<Read<?>> reads = new CopyOnWriteArrayList<>();
    private final LongSupplier nanos;
    private final long createdAt;
    /** When the last round that read every value began (nanos), or {@link #NONE}. */
    private volatile long answeredAt = NONE;
    /** When the round under way began (nanos), or {@link #NONE}. */
    private volatile long roundSince = NONE;
    private volatile boolean lastRoundAnswered;
    /** Whether the WARN of an outage was said and the INFO of its end is due. */
    private boolean saidAway;
    private volatile boolean closed;
    private final Object turn = new Object();
    private volatile Bounds bounds = UNBOUNDED;
    private ScheduledExecutorService thread;

    /** @param nanos a monotonic clock in nanoseconds ({@code System::nanoTime}) */
    StoreSnapshot(LongSupplier nanos) {
        this.nanos = Objects.requireNonNull(nanos, "nanos");
        this.createdAt = nanos.getAsLong();
    }

    /** Adds a value to read each round; {@code what} completes "cannot read …" in the log. */
    <T> Read<T> add(String what, Supplier<T> source) {
        Read<T> read = new Read<>(what, source);
        reads.add(read);
        return read;
    }

    /** Whether any value is read from the store (the store's gauges are there only then). */
    boolean reads() {
        return !reads.isEmpty();
    }

    /** Whether the store answers: see the class. */
    boolean up() {
        return lastRoundAnswered && !roundOverdue();
    }

    /**
     * Seconds since the start of the last round that read every value, or since this snapshot was made when none has;
     * 0 or more.
     */
    double ageSeconds() {
        long since = answeredAt == NONE ? createdAt : answeredAt;
        return Math.max(0, nanos.getAsLong() - since) / 1e9;
    }

    private boolean roundOverdue() {
        long since = roundSince;
        return since != NONE && nanos.getAsLong() - since > ANSWER_BOUND.toNanos();
    }

    /**
     * Makes the first round on the caller's thread (the start's: the store has just answered it, and the first scrape
     * has values), then the others on {@link #THREAD}, {@link #EVERY} after each.
     */
    void start() {
        start(UNBOUNDED);
    }

    /** As {@link #start()}, every read bounded by {@link #READ_BOUND} through {@code bounds}. */
    void start(Bounds bounds) {
        this.bounds = Objects.requireNonNull(bounds, "bounds");
        round();
        startThread();
    }

    private synchronized void startThread() {
        if (thread != null || closed) {
            return;
        }
        thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, THREAD);
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::roundQuietly, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void roundQuietly() {
        try {
            round();
        } catch (RuntimeException | Error e) {
            // A failure here would end the rounds for good, and the gauges would say "unknown" from then on.
            LOG.warn("metrics: a round of reads from the store failed: {}", e.toString());
        }
    }

    /**
     * One round: every value, in the order added (on {@link #THREAD}, or a test's thread); one round at a time. Not
     * under this object's lock, which {@link #close} takes: a round may hang with the store.
     */
    void round() {
        synchronized (turn) {
            roundOnce();
        }
    }

    private void roundOnce() {
        roundSince = nanos.getAsLong();
        boolean all = true;
        String away = null;
        try {
            for (Read<?> read : reads) {
                if (away != null) {
                    read.last = null;
                    continue;
                }
                try {
                    readInto(read);
                } catch (StoreUnavailableException e) {
                    read.last = null;
                    all = false;
                    away = "cannot read " + read.what + ": " + e.getMessage();
                } catch (RuntimeException e) {
                    read.last = null;
                    all = false;
                    LOG.warn("metrics: cannot read {}: {}", read.what, e.toString());
                }
            }
        } finally {
            if (all) {
                answeredAt = roundSince;
            }
            lastRoundAnswered = all;
            roundSince = NONE;
        }
        if (closed) {
            return;
        }
        if (away != null && !saidAway) {
            saidAway = true;
            LOG.warn("metrics: the store does not answer; buildhook_store_up is 0 and the gauges read from the store"
                    + " are NaN until it does ({}); read again every {} s", away, EVERY.toSeconds());
        } else if (all && saidAway) {
            saidAway = false;
            LOG.info("metrics: the store answers again; the gauges read from it have values again");
        }
    }

    private <T> void readInto(Read<T> read) {
        read.last = bounds.within(READ_BOUND, read.source);
    }

    /** Ends the rounds; a round under way is interrupted (and ends when its read does). */
    @Override
    public synchronized void close() {
        closed = true;
        if (thread != null) {
            thread.shutdownNow();
        }
    }
}
