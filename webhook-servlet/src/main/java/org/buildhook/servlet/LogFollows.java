package org.buildhook.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log follows in progress ({@code GET /api/jobs/{id}/log?follow=1}), served asynchronously:
 * a follow holds no request thread while it waits for output. Each one is looked at every {@link
 * JobLogSender#POLL} on this class's one thread, and written to without blocking (a {@link
 * WriteListener}), so a slow reader holds up nobody else.
 *
 * <p>Why: a follow waiting for a job that prints nothing (a quiet command, a job awaiting an
 * approval) has nothing to write, and a servlet container tells a request that its client went
 * away only when it writes. A follow whose client was stopped (Ctrl-C) therefore held one of the
 * request threads deliveries need for up to {@link JobLogSender#MAX_FOLLOW}, and a graceful stop
 * waited for it (tryout8, F14). It still lasts until it has output to write, the attempt ends or
 * {@link JobLogSender#MAX_FOLLOW} passes, but costs only a look every {@link JobLogSender#POLL};
 * {@link #endAll()} ends every follow when the application stops.
 */
final class LogFollows implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LogFollows.class);

    /** One follow's source of output: called on this class's thread only. */
    interface Source extends AutoCloseable {
        /**
         * The next bytes to send (a new array each time: the container may keep it until written),
         * or {@code null} when there is nothing new; {@code null} with {@link #ended()} true ends it.
         * Called again after {@link JobLogSender#POLL} once it returned {@code null}.
         */
        byte[] next() throws IOException;

        /** Whether everything has been sent (the attempt ended, or the follow's time ran out). */
        boolean ended();

        /** A new look: what the store says now. Called before the first {@link #next()} and after each wait. */
        void look();

        @Override
        void close() throws IOException;
    }

    private final ScheduledExecutorService thread;
    private final Set<Follow> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private LogFollows(ScheduledExecutorService thread) {
        this.thread = thread;
    }

    static LogFollows start() {
        return new LogFollows(Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "buildhook-log-follows");
            t.setDaemon(true);
            return t;
        }));
    }

    /** Follow requests in progress. */
    int open() {
        return open.size();
    }

    /**
     * Serves {@code source} on {@code async} (already started, its response's headers set) until
     * it ends, the client is gone, or {@link #endAll()}.
     */
    void follow(AsyncContext async, Source source, String what) throws IOException {
        // The follow ends itself by MAX_FOLLOW; the container's timeout only backs that up.
        async.setTimeout(JobLogSender.MAX_FOLLOW.plusMinutes(1).toMillis());
        Follow follow = new Follow(async, source, what);
        open.add(follow);
        async.addListener(follow);
        if (closed) {
            run(follow::end);
            return;
        }
        ServletOutputStream out = async.getResponse().getOutputStream();
        out.setWriteListener(follow); // calls onWritePossible once the container is ready: the first look
    }

    /** Ends every follow in progress, and those that start from now on once they sent what is there. */
    void endAll() {
        closed = true;
        for (Follow follow : open) {
            run(follow::end);
        }
    }

    @Override
    public void close() {
        endAll();
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
        // The ends queued behind a look that waited for the store (shutdownNow drops them): here, so that
        // no request stays open until the container's timeout with its log file open (review10).
        for (Follow follow : open) {
            follow.end();
        }
    }

    private void run(Runnable task) {
        try {
            thread.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            task.run(); // stopped: end it here
        }
    }

    private final class Follow implements WriteListener, AsyncListener {
        private final AsyncContext async;
        private final Source source;
        private final String what;
        private boolean looked;
        private boolean flushed; // false at first: the first step sends the headers, so the client knows it follows
        /** Set once, by the one {@link #end()} that does it; read by {@link #step()}. */
        private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile java.util.concurrent.ScheduledFuture<?> waiting;

        Follow(AsyncContext async, Source source, String what) {
            this.async = async;
            this.source = source;
            this.what = what;
        }

        /** Writes what there is while the client takes it; on this class's thread only. */
        private void step() {
            if (done.get()) {
                return;
            }
            try {
                ServletOutputStream out = async.getResponse().getOutputStream();
                while (out.isReady()) {
                    if (!looked) {
                        source.look();
                        looked = true;
                    }
                    byte[] next = closed ? null : source.next();
                    if (next != null) {
                        out.write(next);
                        flushed = false;
                    } else if (!flushed) {
                        out.flush();
                        flushed = true;
                    } else if (closed || source.ended()) {
                        end();
                        return;
                    } else {
                        looked = false;
                        if (waiting == null) {
                            waiting = thread.schedule(this::afterWait, JobLogSender.POLL.toMillis(),
                                    TimeUnit.MILLISECONDS);
                        }
                        return;
                    }
                }
                // Not ready: the container calls onWritePossible once the client has taken more.
            } catch (IOException e) {
                end(); // the client went away
            } catch (RuntimeException e) {
                LOG.warn("following the log of {} ended: {}", what, e.toString());
                end();
            }
        }

        private void afterWait() {
            waiting = null;
            step();
        }

        /**
         * Idempotent; on this class's thread, or any once it has stopped ({@link #close()} may end a follow
         * whose look is still running there: its source is then closed under it, which ends that look).
         */
        void end() {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            open.remove(this);
            if (waiting != null) {
                waiting.cancel(false);
            }
            try {
                source.close();
            } catch (IOException e) {
                LOG.debug("closing the log of {}: {}", what, e.toString());
            }
            try {
                async.complete();
            } catch (IllegalStateException e) {
                // already completed by the container (the client's error, a timeout)
            }
        }

        @Override
        public void onWritePossible() {
            run(this::step);
        }

        @Override
        public void onError(Throwable t) {
            run(this::end);
        }

        @Override
        public void onComplete(AsyncEvent event) {
            run(this::end);
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            run(this::end);
        }

        @Override
        public void onError(AsyncEvent event) {
            run(this::end);
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // not dispatched again
        }
    }
}
