package org.buildhook.runner.store;

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
 * @param <I> one caller's work
 */
final class GroupCommit<I extends GroupCommit.Item> {

    /** One caller's work: its key (never two equal in a batch) and its weight (bounded per batch). */
    interface Item {
        String key();

        int weight();
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
     */
    GroupCommit(Runner<I> runner, int lanes, int maxItems, int maxWeight) {
        if (lanes < 1 || maxItems < 1 || maxWeight < 1) {
            throw new IllegalArgumentException("a batch holds at least one item, and at least one batch runs");
        }
        this.runner = runner;
        this.lanes = lanes;
        this.maxItems = maxItems;
        this.maxWeight = maxWeight;
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

        private Entry(I item) {
            this.item = item;
        }

        I item() {
            return item;
        }

        /** Ends this item with {@code result}; the caller is woken when its batch ended. */
        void succeed(boolean result) {
            this.result = result;
        }

        /** Ends this item with {@code failure}, thrown to its caller when its batch ended. */
        void fail(RuntimeException failure) {
            this.failure = failure;
        }
    }

    /**
     * Runs {@code item} in the next batch and waits until that batch ended; an interrupt while
     * waiting is kept for the caller, not acted on (the batch may already be committing it).
     *
     * @return what the runner gave it
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
        while (true) {
            int state = me.state;
            if (state == DONE) {
                break;
            }
            if (state == LEAD) {
                lead(me);
                continue;
            }
            LockSupport.park(this);
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
            // The runner ends every item; should it fail itself, no caller may go on as if stored.
            for (Entry<I> entry : batch) {
                entry.failure = e instanceof RuntimeException r ? r : new IllegalStateException("the batch failed: " + e, e);
            }
        } finally {
            batches.incrementAndGet();
            items.addAndGet(batch.size());
            Entry<I> next;
            lock.lock();
            try {
                next = queue.peekFirst();
                if (next == null) {
                    leading--;
                } else {
                    next.batch = take();
                    next.state = LEAD;
                }
            } finally {
                lock.unlock();
            }
            if (next != null) {
                LockSupport.unpark(next.caller);
            }
            for (Entry<I> entry : batch) {
                entry.state = DONE;
                LockSupport.unpark(entry.caller);
            }
        }
    }

    /** The next batch from the queue's head; under {@link #lock}. */
    private List<Entry<I>> take() {
        List<Entry<I>> batch = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        int weight = 0;
        for (Iterator<Entry<I>> it = queue.iterator(); it.hasNext() && batch.size() < maxItems;) {
            Entry<I> entry = it.next();
            int w = entry.item.weight();
            if (!batch.isEmpty() && weight + w > maxWeight) {
                break;
            }
            if (keys.add(entry.item.key())) {
                it.remove();
                batch.add(entry);
                weight += w;
            }
        }
        return batch;
    }
}
