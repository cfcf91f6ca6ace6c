package org.buildhook.runner.store;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Gathers concurrent callers' work into batches, each run by one of the callers (leader and
 * followers, no thread of its own). Up to {@code lanes} batches run at once: a caller that arrives
 * while fewer run leads a batch of its own at once (so a quiet store adds no wait); otherwise it
 * waits parked in the queue, and when a batch ends, the first caller still queued leads the next,
 * which takes every caller queued by then (up to the limits). A caller returns only after the batch
 * it was in ended, with its own result or failure.
 *
 * <p>Two items with the same key never go in the same batch: the later one waits for the next.
 *
 * <p>A caller waits in the queue at most {@code maxWait} (the store's connection wait): should every
 * lane be stuck (a connection whose answer never comes, a wait on another node's uncommitted claim),
 * it then leaves the queue and gets {@link StoreUnavailableException}, as it would have waiting for a
 * pooled connection; nothing was sent for it. Once a batch took it, it waits for that batch's end.
 *
 * @param <I> one caller's work
 */
final class GroupCommit<I extends GroupCommit.Item> {

    /**
     * One caller's work: its key (never two equal in a batch), its weight and its size in bytes (each
     * bounded per batch).
     */
    interface Item {
        String key();

        int weight();

        /** About how many bytes it adds to the batch's statement, at least 0. */
        long bytes();
    }

    /** Runs a batch: ends every item of it with {@link Entry#succeed} or {@link Entry#fail}. */
    @FunctionalInterface
    interface Runner<I extends Item> {
        void run(List<Entry<I>> batch);
    }

    private static final int WAITING = 0;
    private static final int LEAD = 1;
    private static final int DONE = 2;

    private final Runner<I> runner;
    private final int lanes;
    private final int maxItems;
    private final int maxWeight;
    private final long maxBytes;
    private final long maxWaitNanos;
    /** What the callers do, for the message of {@link StoreUnavailableException}: "accept a delivery". */
    private final String what;
    private final ReentrantLock lock = new ReentrantLock();
    /** Callers not yet in a batch, in their order of arrival; guarded by {@link #lock}. */
    private final ArrayDeque<Entry<I>> queue = new ArrayDeque<>();
    /** How many callers lead a batch now; below {@link #lanes}, {@link #queue} is empty. Guarded by {@link #lock}. */
    private int leading;
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong items = new AtomicLong();

    /**
     * @param lanes     most batches running at once, at least 1
     * @param maxItems  most items in a batch, at least 1
     * @param maxWeight most weight of a batch's items together (a heavier item goes alone), at least 1
     * @param maxBytes  most bytes of a batch's items together (a heavier item goes alone), at least 1
     * @param maxWait   longest a caller waits in the queue before {@link StoreUnavailableException}, positive
     * @param what      what the callers do ("accept a delivery"), for that exception's message
     */
    GroupCommit(Runner<I> runner, int lanes, int maxItems, int maxWeight, long maxBytes, Duration maxWait,
            String what) {
        if (lanes < 1 || maxItems < 1 || maxWeight < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("a batch holds at least one item, and at least one batch runs");
        }
        if (maxWait.isNegative() || maxWait.isZero()) {
            throw new IllegalArgumentException("maxWait must be positive, got " + maxWait);
        }
        this.runner = runner;
        this.lanes = lanes;
        this.maxItems = maxItems;
        this.maxWeight = maxWeight;
        this.maxBytes = maxBytes;
        this.maxWaitNanos = maxWait.toNanos();
        this.what = what;
    }

    /** A caller's item in the queue, with its outcome once its batch ended. */
    static final class Entry<I> {
        private final I item;
        private final Thread caller = Thread.currentThread();
        private volatile int state = WAITING;
        /** The batch this caller leads, once it leads one; guarded by the lock until {@link #state} is LEAD. */
        private List<Entry<I>> batch;
        private boolean result;
        private RuntimeException failure;
        /** Whether the runner ended it (then a failure of the runner itself does not overwrite it). */
        private boolean ended;

        private Entry(I item) {
            this.item = item;
        }

        I item() {
            return item;
        }

        /** Ends this item with {@code result}; the caller is woken when its batch ended. */
        void succeed(boolean result) {
            this.result = result;
            this.failure = null;
            this.ended = true;
        }

        /** Ends this item with {@code failure}, thrown to its caller when its batch ended. */
        void fail(RuntimeException failure) {
            this.failure = failure;
            this.ended = true;
        }
    }

    /**
     * Runs {@code item} in the next batch and waits until that batch ended; an interrupt while
     * waiting is kept for the caller, not acted on (the batch may already be committing it), and a
     * batch this caller leads runs with its interrupt flag cleared (set again afterwards): a pending
     * interrupt would otherwise fail the connection wait of every caller in the batch.
     *
     * @return what the runner gave it
     * @throws StoreUnavailableException when no batch took it within {@code maxWait} (nothing of it was run)
     * @throws RuntimeException what the runner failed it with
     */
    boolean run(I item) {
        Entry<I> me = new Entry<>(item);
        lock.lock();
        try {
            queue.addLast(me);
            if (leading < lanes) {
                leading++;
                me.batch = take();
                me.state = LEAD;
            }
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + maxWaitNanos;
        boolean inQueue = true;
        while (true) {
            int state = me.state;
            if (state == DONE) {
                break;
            }
            if (state == LEAD) {
                interrupted |= Thread.interrupted();
                lead(me);
                continue;
            }
            long left = deadline - System.nanoTime();
            if (inQueue && left <= 0) {
                inQueue = leaveIfQueued(me);
                if (inQueue) {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                    throw new StoreUnavailableException("store unavailable while trying to " + what
                            + ": waited " + maxWaitNanos / 1_000_000 + " ms behind " + lanes
                            + " statement(s) still waiting for the database; nothing of it was sent", null);
                }
                continue;
            }
            if (inQueue) {
                LockSupport.parkNanos(this, left);
            } else {
                LockSupport.park(this);
            }
            interrupted |= Thread.interrupted();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (me.failure != null) {
            throw me.failure;
        }
        return me.result;
    }

    /**
     * Removes {@code me} from the queue when no batch took it yet; whether it was still there. A
     * caller taken into a batch (or made a leader) stays: its work may already be sent.
     */
    private boolean leaveIfQueued(Entry<I> me) {
        lock.lock();
        try {
            return me.state == WAITING && queue.remove(me);
        } finally {
            lock.unlock();
        }
    }

    /** Batches run so far (for tests and measurements). */
    long batches() {
        return batches.get();
    }

    /** Items that went through a batch so far. */
    long items() {
        return items.get();
    }

    /** Callers waiting for a batch to take them now (for tests). */
    int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs the batch {@code me} leads, taken from the queue's head when it became the leader (so
     * it is in it), then hands the lane to the queue's new head with the batch it is to lead.
     */
    private void lead(Entry<I> me) {
        List<Entry<I>> batch = me.batch;
        me.batch = null;
        try {
            runner.run(batch);
        } catch (RuntimeException | Error e) {
            // The runner ends every item; should it fail itself, no caller it had not ended yet may go
            // on as if stored. One it ended (stored alone before the failure) keeps its outcome.
            RuntimeException failure = e instanceof RuntimeException r ? r
                    : new IllegalStateException("the batch failed: " + e, e);
            for (Entry<I> entry : batch) {
                if (!entry.ended) {
                    entry.failure = failure;
                }
            }
        } finally {
            try {
                batches.incrementAndGet();
                items.addAndGet(batch.size());
                handOver();
            } finally {
                // Even when the hand-over failed (an Error): the batch's callers must not wait for ever.
                for (Entry<I> entry : batch) {
                    entry.state = DONE;
                    LockSupport.unpark(entry.caller);
                }
            }
        }
    }

    /** Gives the lane to the queue's head with the batch it is to lead, or frees it when none waits. */
    private void handOver() {
        Entry<I> next = null;
        boolean handed = false;
        lock.lock();
        try {
            next = queue.peekFirst();
            if (next != null) {
                next.batch = take();
                next.state = LEAD;
                handed = true;
            }
        } finally {
            if (!handed) {
                // None waits, or take() failed: the lane is free again (a new caller leads, and takes
                // the queue's head with it; one left waiting gives up after maxWait).
                leading--;
            }
            lock.unlock();
        }
        if (next != null) {
            LockSupport.unpark(next.caller);
        }
    }

    /** The next batch from the queue's head; under {@link #lock}. */
    private List<Entry<I>> take() {
        List<Entry<I>> batch = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        long weight = 0;
        long bytes = 0;
        for (Iterator<Entry<I>> it = queue.iterator(); it.hasNext() && batch.size() < maxItems;) {
            Entry<I> entry = it.next();
            int w = entry.item.weight();
            long b = entry.item.bytes();
            if (!batch.isEmpty() && (weight + w > maxWeight || bytes + b > maxBytes)) {
                break;
            }
            if (keys.add(entry.item.key())) {
                batch.add(entry);
                it.remove();
                weight += w;
                bytes += b;
            }
        }
        return batch;
    }
}
