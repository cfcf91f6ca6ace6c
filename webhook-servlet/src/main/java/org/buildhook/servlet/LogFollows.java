package org.buildhook.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log follows in progress ({@code GET /api/jobs/{id}/log?follow=1}), served asynchronously:
 * a follow holds no request thread while it waits for output. Each one is written to on this
 * class's one thread, without blocking (a {@link WriteListener}), so a slow reader holds up nobody
 * else; and each asks the store whether its attempt ended (a {@link Source#look()}) every {@link
 * JobLogSender#POLL}, on a small pool of its own ({@link #LOOKS} threads), so a store that makes a
 * look wait holds up no write and no other follow's output (review M2).
 *
 * <p>Why: a follow waiting for a job that prints nothing (a quiet command, a job awaiting an
 * approval) has nothing to write, and a servlet container tells a request that its client went
 * away only when it writes. A follow whose client was stopped (Ctrl-C) therefore held one of the
 * request threads deliveries need for up to {@link JobLogSender#MAX_FOLLOW}, and a graceful stop
 * waited for it (tryout8, F14). It still lasts until it has output to write, the attempt ends or
 * {@link JobLogSender#MAX_FOLLOW} passes, but costs only a look every {@link JobLogSender#POLL};
 * {@link #endAll()} ends every follow when the application stops.
 *
 * <p>A look that fails (the store is unavailable: PostgreSQL away past its connection wait, a
 * SQLite file that cannot be read) stops the follow with a last line that says so ({@link
 * #STOPPED}), logged once here: a follow that just ends would look like an attempt that ended.
 */
final class LogFollows implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LogFollows.class);

    /**
     * The threads that look at the store for the follows. A look is one short read (a job and its
     * attempts); a few at once keep one look that waits for the store (its connection wait,
     * {@code store.connect-timeout}, 5 s by default) from holding up the others, and bound what the follows take from the store's pool
     * (10 connections by default), which deliveries and the engine need. Each follow has at most one
     * look asked for at a time, so the queue holds at most one look per follow.
     */
    static final int LOOKS = 4;

    /** How the last line of a follow stopped by an error begins. */
    static final String STOPPED = "[buildhook] the log follow stopped: ";

    /** One follow's source of output. */
    interface Source extends AutoCloseable {
        /**
         * The next bytes to send (a new array each time: the container may keep it until written),
         * or {@code null} when there is nothing new; {@code null} with {@link #ended()} true ends it.
         * Called again after {@link JobLogSender#POLL} once it returned {@code null}. On this class's
         * thread; an {@link IOException} stops the follow (the log file could not be read).
         */
        byte[] next() throws IOException;

        /** Whether everything has been sent (an earlier look saw the attempt end, or the follow's time ran out). */
        boolean ended();

        /**
         * A new look: what the store says now. Called after the first {@link #next()} returned
         * {@code null}, then once after each wait; on one of the looks' threads, never at the same
         * time as another call on this source but {@link #close()}. An exception (the store cannot be
         * read) stops the follow with a line that says so.
         */
        void look();

        /**
         * The last line of a follow that the server's graceful stop ends ({@link #endAll()}), after a last look
         * and everything the log holds: the job's state at that look (tryout36 F7). It begins with {@link #STOPPED}.
         */
        default String stopping() {
            return STOPPED + "the server is stopping (graceful stop); follow again once it runs\n";
        }

        /**
         * The very last line of a follow that ended with everything sent (its attempt ended, its time ran out, the
         * server's stop), after {@link #stopping()} if it came; null for none. Not after a failure ({@link
         * #stoppedLine}). {@code buildhook logs -f} asks for the job's state there ({@code state=1}), so that it
         * needs no request after the follow, which a server stopped meanwhile refuses (tryout38 F2, fixes38 F1).
         */
        default String ending() {
            return null;
        }

        /** Idempotent: may be called while a look runs (an end, a stop), and then again once it returned. */
        @Override
        void close() throws IOException;
    }

    private final ScheduledExecutorService thread;
    private final ThreadPoolExecutor looks;
    private final Set<Follow> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** The server's graceful stop began: a follow whose attempt ends from now on says how the job stands. */
    private volatile boolean serverStopping;

    private LogFollows(ScheduledExecutorService thread, ThreadPoolExecutor looks) {
        this.thread = thread;
        this.looks = looks;
    }

    static LogFollows start() {
        AtomicInteger lookers = new AtomicInteger();
        ThreadPoolExecutor looks = new ThreadPoolExecutor(LOOKS, LOOKS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "buildhook-log-follow-looks-" + lookers.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        looks.allowCoreThreadTimeOut(true);
        return start(looks);
    }

    /** As {@link #start()}, the looks run on {@code looks} (a test watches when a look is done). */
    static LogFollows start(ThreadPoolExecutor looks) {
        return new LogFollows(Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "buildhook-log-follows");
            t.setDaemon(true);
            return t;
        }), looks);
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
        follow(async, source, what, null);
    }

    /**
     * As {@link #follow(AsyncContext, Source, String)}; the lines written here (the stop's, a failure's, the source's
     * {@link Source#ending()}) begin with {@code mark} and a space ({@link FollowMarks}), unless it is null.
     */
    void follow(AsyncContext async, Source source, String what, String mark) throws IOException {
        // The follow ends itself by MAX_FOLLOW; the container's timeout only backs that up.
        async.setTimeout(JobLogSender.maxFollow().plusMinutes(1).toMillis());
        Follow follow = new Follow(async, source, what, mark == null ? new byte[0] : FollowMarks.prefix(mark));
        open.add(follow);
        async.addListener(follow);
        if (closed) {
            run(follow::end);
            return;
        }
        ServletOutputStream out = async.getResponse().getOutputStream();
        out.setWriteListener(follow); // calls onWritePossible once the container is ready: the first step
    }

    /**
     * The server's graceful stop begins: a follow whose attempt ends from now on ends with {@link Source#stopping()}
     * too, as its client may find the port closed when it asks how the job stands (tryout36 F7).
     */
    void serverStopping() {
        serverStopping = true;
    }

    /**
     * Ends every follow in progress, each after a last look at the store and what its log holds then, with a line
     * that says the server stops and how the job stands ({@link Source#stopping()}): called once the engine stopped,
     * so an attempt that ended during the stop is followed to its end (tryout36 F7: the follow was cut at once, its
     * last output lost, and the command, asking the closed port how the job stood, blamed the address). Those that
     * start from now on end at once.
     */
    void endAll() {
        closed = true;
        for (Follow follow : open) {
            run(follow::finish);
        }
    }

    /** How long {@link #close()} lets the follows it ends finish (a last look, the rest of the log, the stop's line). */
    static final java.time.Duration FINISH = java.time.Duration.ofSeconds(5);

    @Override
    public void close() {
        endAll();
        // Each follow finishes on this class's thread after a look on the looks' threads: while a look is out, the
        // thread has nothing queued, and shutting it down then ended the follow below without its last line (a WAR
        // undeployed, whose stop is this close, not drain's endAll: follow40).
        awaitFinished(FINISH);
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
        // The ends still queued (shutdownNow drops them): here, so that no request stays open until the
        // container's timeout with its log file open (review10).
        for (Follow follow : open) {
            follow.end();
        }
        // A look still waiting for the store: interrupted (HikariCP's connection wait gives up on it); what it
        // opened is closed when it returns, its follow being over.
        looks.shutdownNow();
        try {
            looks.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until every follow has ended, or {@code most} passed. */
    private void awaitFinished(java.time.Duration most) {
        long deadline = System.nanoTime() + most.toNanos();
        synchronized (open) {
            long left;
            while (!open.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                try {
                    open.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void run(Runnable task) {
        try {
            thread.execute(task);
        } catch (RejectedExecutionException e) {
            task.run(); // stopped: end it here
        }
    }

    /** The last line of a follow stopped by {@code e}: what went wrong and what to do, nothing of the exception. */
    static String stoppedLine(Throwable e) {
        String why;
        if (e instanceof StoreUnavailableException) {
            why = "the store could not be read (it is unavailable; the server's log says why); fetch the log again"
                    + " once the store answers (GET /healthz says 200)";
        } else if (e instanceof IOException || e instanceof UncheckedIOException) {
            why = "the log file could not be read (the server's log says why); fetch the log again";
        } else {
            why = "the store could not be read (an error; the server's log says which); fetch the log again";
        }
        return STOPPED + why + "\n";
    }

    private final class Follow implements WriteListener, AsyncListener {
        private final AsyncContext async;
        private final Source source;
        private final String what;
        /** What begins each line written here: the follow's mark and a space, or nothing. */
        private final byte[] marked;
        // On this class's thread only:
        private boolean looked; // since the last wait
        private boolean looking; // a look was asked for and has not come back
        private boolean flushed; // false at first: the first step sends the headers, so the client knows it follows
        private boolean lineEnded = true; // the last byte written was a newline (or none was written)
        private byte[] last; // the line saying why the follow stopped, until written
        private boolean stopped;
        private boolean failed; // stopped by an error: no ending line
        private boolean endingAsked; // the source's ending line was asked for (and is in last if it has one)
        private boolean finishing; // ended by the server's stop: a last look, the rest of the log, the line
        private boolean finalLooked;
        /** Set once, by the one {@link #end()} that does it; read by {@link #step()}. */
        private final AtomicBoolean done = new AtomicBoolean();
        private volatile ScheduledFuture<?> waiting;

        Follow(AsyncContext async, Source source, String what, byte[] marked) {
            this.async = async;
            this.source = source;
            this.what = what;
            this.marked = marked;
        }

        /**
         * Writes what there is while the client takes it, then asks for a look or waits; on this
         * class's thread only. What is already in the log file is sent before the store is asked.
         */
        private void step() {
            if (done.get() || looking) {
                return; // a look is out: the step after it goes on
            }
            try {
                ServletOutputStream out = async.getResponse().getOutputStream();
                while (out.isReady()) {
                    if (closed && !finishing) {
                        // endAll has closed the follows, and this follow's finish is queued behind this step (an
                        // afterLook, an afterWait or onWritePossible came first), or this step was under way: it
                        // finishes here, as finish would. It ended at once, without the rest of the log nor the
                        // stop's line (review39: the step's own end, before its queued finish).
                        beginFinishing();
                    }
                    byte[] next = following();
                    if (next != null) {
                        out.write(next);
                        lineEnded = next.length == 0 ? lineEnded : next[next.length - 1] == '\n';
                        flushed = false;
                    } else if (!flushed) {
                        out.flush();
                        flushed = true;
                    } else if (finishing && !stopped && !finalLooked) {
                        finalLooked = true;
                        look();
                        return;
                    } else if ((finishing || (serverStopping && source.ended())) && !stopped) {
                        stopped = true;
                        last = source.stopping().getBytes(StandardCharsets.UTF_8);
                    } else if ((closed || stopped || source.ended()) && !endingAsked && !failed) {
                        endingAsked = true;
                        String ending = source.ending();
                        if (ending != null) {
                            stopped = true; // following() gives it, then nothing
                            last = ending.getBytes(StandardCharsets.UTF_8);
                        }
                    } else if (closed || stopped || source.ended()) {
                        end();
                        return;
                    } else if (!looked) {
                        look();
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

        /** The source's next bytes; once stopped, the line that says why, then nothing. */
        private byte[] following() {
            if (stopped) {
                byte[] line = last;
                last = null;
                if (line == null) {
                    return null;
                }
                // On a line of its own, after the mark if the follow has one.
                int newline = lineEnded ? 0 : 1;
                byte[] after = new byte[newline + marked.length + line.length];
                if (newline == 1) {
                    after[0] = '\n';
                }
                System.arraycopy(marked, 0, after, newline, marked.length);
                System.arraycopy(line, 0, after, newline + marked.length, line.length);
                return after;
            }
            if (closed && !finishing) {
                return null;
            }
            try {
                return source.next();
            } catch (IOException | RuntimeException e) {
                stop(e);
                return following();
            }
        }

        /** Asks for a look on the looks' threads; the step goes on once it came back. */
        private void look() {
            looking = true;
            try {
                looks.execute(() -> {
                    Throwable failed = null;
                    try {
                        source.look();
                    } catch (RuntimeException | Error e) {
                        failed = e; // whatever it is, the step after it must come, or the follow would hang
                    }
                    Throwable outcome = failed;
                    run(() -> afterLook(outcome));
                });
            } catch (RejectedExecutionException e) {
                looking = false; // the follows are closing
                end();
            }
        }

        private void afterLook(Throwable failed) {
            looking = false;
            if (done.get()) {
                closeSource(); // it ended while the look ran: close what the look may have opened
                return;
            }
            if (failed != null) {
                stop(failed);
            } else {
                looked = true;
            }
            step();
        }

        /** Stops the follow because its source failed: a last line for the client, one line in the server's log. */
        private void stop(Throwable e) {
            if (stopped) {
                return;
            }
            stopped = true;
            failed = true;
            last = stoppedLine(e).getBytes(StandardCharsets.UTF_8);
            if (e instanceof StoreUnavailableException || e instanceof IOException || e instanceof UncheckedIOException) {
                LOG.warn("following the log of {} stopped: {}", what, e.getMessage());
            } else {
                LOG.warn("following the log of {} stopped", what, e);
            }
        }

        /** The server's graceful stop ends this follow: after a last look and the rest of the log ({@link #endAll()}). */
        private void finish() {
            if (done.get() || finishing) {
                return;
            }
            beginFinishing();
            step();
        }

        /** From now on the follow goes to its end as the server's stop ends it: a last look, the rest, the line. */
        private void beginFinishing() {
            finishing = true;
            ScheduledFuture<?> w = waiting;
            if (w != null) {
                w.cancel(false);
                waiting = null;
            }
        }

        private void afterWait() {
            waiting = null;
            step();
        }

        /**
         * Idempotent; on this class's thread, or any once it has stopped ({@link #close()} may end a follow
         * whose look is still running: its source is then closed under it, which ends that look, and
         * closed again once the look returned).
         */
        void end() {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            synchronized (open) {
                open.remove(this);
                open.notifyAll(); // close() may wait for the last one
            }
            ScheduledFuture<?> w = waiting;
            if (w != null) {
                w.cancel(false);
            }
            closeSource();
            try {
                async.complete();
            } catch (IllegalStateException e) {
                // already completed by the container (the client's error, a timeout)
            }
        }

        private void closeSource() {
            try {
                source.close();
            } catch (IOException e) {
                LOG.debug("closing the log of {}: {}", what, e.toString());
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
