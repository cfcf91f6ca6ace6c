package org.buildhook.servlet;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * The log lines of refused deliveries (unknown endpoint, signature, body too large, body not complete
 * in time, not stored because the store is unavailable), folded under a flood. The first refusal of a <em>kind</em> (its endpoint and reason, whoever
 * sent it) is logged at once, in full, as always; further ones of the same kind within {@link #WINDOW}
 * are counted, and one line when that window ends says how many there were and from which addresses:
 *
 * <pre>
 * delivery from 192.0.2.7 to unknown endpoint 'nope' refused (configured: [default])
 * ... and 4312 more like it in 10.0 s since 2026-11-30T04:31:02.120Z: deliveries to unknown endpoint 'nope' refused, from 192.0.2.7
 * </pre>
 *
 * The next refusal of that kind after the summary is logged in full again. Nothing is dropped: every
 * window with refusals after its first ends with its summary, also when the application stops
 * ({@link #close}); while more than {@value #MAX_KINDS} kinds are in their window at once, the others
 * are logged one line each. Every refusal is still counted in the metrics, one by one. A flood of
 * identical refusals thus costs the log two lines per 10 s instead of one per request, and the
 * request threads no longer queue on the log appender's lock (docs/BENCHMARKS.md, "Fourth pass:
 * refusals"). Thread-safe.
 */
final class RefusalLog implements AutoCloseable {

    /** How long refusals of one kind are counted after the first one logged in full. */
    static final Duration WINDOW = Duration.ofSeconds(10);
    /** Kinds in their window at once; beyond, refusals are logged one line each. */
    static final int MAX_KINDS = 1024;
    /** Client addresses named in a summary; more are said as "and others". */
    static final int MAX_REMOTES = 4;

    /** Runs a task once after a delay: the timer thread in production, a hand-driven list in tests. */
    interface Timer {
        /** Runs {@code task} once, {@code after} from now; may refuse with {@link RejectedExecutionException}. */
        void schedule(Runnable task, Duration after);
    }

    private final Clock clock;
    private final Duration window;
    private final Timer timer;
    private final Runnable stopTimer;
    private final ConcurrentHashMap<String, Window> open = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Windows opened from now on end only at {@link #close}: see {@link #holdWindows}. */
    private volatile boolean held;

    RefusalLog(Clock clock, Duration window, Timer timer, Runnable stopTimer) {
        this.clock = clock;
        this.window = window;
        this.timer = timer;
        this.stopTimer = stopTimer;
    }

    /** Folding refusals over {@link #WINDOW}, with a daemon timer thread of its own until {@link #close}. */
    static RefusalLog start(Clock clock) {
        List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, "buildhook-refusal-log");
            t.setDaemon(true);
            threads.add(t);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return new RefusalLog(clock, WINDOW, (task, after) -> executor.schedule(task, after.toNanos(),
                TimeUnit.NANOSECONDS), () -> {
                    executor.shutdownNow();
                    // Gone, not only idle, when the application has stopped (a container checks for
                    // threads a web application left behind).
                    try {
                        for (Thread t : threads) {
                            t.join(TimeUnit.SECONDS.toMillis(5));
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
    }

    /** Logs every refusal in full, one line each, as before folding existed (no thread). */
    static RefusalLog unfolded() {
        RefusalLog log = new RefusalLog(Clock.systemUTC(), WINDOW, (task, after) -> {
            throw new RejectedExecutionException("not folding");
        }, () -> { });
        log.closed = true;
        return log;
    }

    /**
     * One refused delivery.
     *
     * @param logger   the logger of the full line, and of the summary
     * @param kind     what was refused, the same for every refusal of this kind and nothing that
     *                 varies per request (no address, no size): the summary's text, e.g.
     *                 {@code deliveries to unknown endpoint 'nope' refused}; made of configured names,
     *                 fixed reasons and names that passed the endpoint pattern, and, for a delivery
     *                 not stored (503), its build's id, status, project and trigger from the payload
     *                 whose signature held (through {@code LogSafe}); the kinds are capped and each
     *                 window ends after its period
     * @param remote   the client's address, for the summary
     * @param fullLine logs this refusal in full on {@code logger}; run at once if it is the first of its
     *                 kind in a window, else not at all (the refusal is counted for the summary)
     */
    void refused(Logger logger, String kind, String remote, Runnable fullLine) {
        refused(logger, Level.WARN, kind, remote, fullLine);
    }

    /**
     * As {@link #refused(Logger, String, String, Runnable)}, the summary at {@code level}: that of the
     * full line, so a refusal logged at {@code ERROR} is summed up at {@code ERROR} too.
     */
    void refused(Logger logger, Level level, String kind, String remote, Runnable fullLine) {
        while (!closed) {
            Window w = open.get(kind);
            if (w == null) {
                if (open.size() >= MAX_KINDS) {
                    break;
                }
                Window fresh = new Window(logger, level, kind, clock.instant());
                if (open.putIfAbsent(kind, fresh) != null) {
                    continue;
                }
                fullLine.run();
                try {
                    if (!held) {
                        timer.schedule(() -> end(fresh), window);
                    }
                } catch (RejectedExecutionException e) {
                    end(fresh); // stopping: nothing may wait for a timer that will not run
                }
                if (closed) {
                    end(fresh); // close() may have looked at the windows before this one was added
                }
                return;
            }
            synchronized (w) {
                if (!w.ended) {
                    w.count(remote);
                    return;
                }
            }
            // That window ended while we looked: this refusal opens the next one.
        }
        fullLine.run();
    }

    /** Ends every open window now, each with its summary; refusals after this are logged one line each. */
    @Override
    public void close() {
        closed = true;
        stopTimer.run();
        for (Window w : List.copyOf(open.values())) {
            end(w);
        }
    }

    /**
     * Windows opened from now on last until {@link #close}, whatever the time: for tests whose
     * refusals must fold however slowly a loaded machine brings them about.
     */
    void holdWindows() {
        held = true;
    }

    /** Kinds in their window now (for tests). */
    int openKinds() {
        return open.size();
    }

    private void end(Window w) {
        open.remove(w.kind, w); // from here on a refusal of this kind opens a new window
        long more;
        List<String> remotes;
        boolean others;
        synchronized (w) {
            if (w.ended) {
                return;
            }
            w.ended = true;
            more = w.more;
            remotes = w.remotes;
            others = w.otherRemotes;
        }
        if (more == 0) {
            return;
        }
        long millis = Math.max(0, Duration.between(w.first, clock.instant()).toMillis());
        w.logger.atLevel(w.level).log("... and {} more like it in {} s since {}: {}, from {}{}", more,
                String.format(Locale.ROOT, "%.1f", millis / 1000.0),
                w.first.truncatedTo(java.time.temporal.ChronoUnit.MILLIS), w.kind, String.join(", ", remotes),
                others ? " and others" : "");
    }

    /** One kind's refusals after its first, until its window ends. Guarded by itself. */
    private static final class Window {
        final Logger logger;
        final Level level;
        final String kind;
        final Instant first;
        final List<String> remotes = new ArrayList<>(MAX_REMOTES);
        boolean otherRemotes;
        long more;
        boolean ended;

        Window(Logger logger, Level level, String kind, Instant first) {
            this.logger = logger;
            this.level = level;
            this.kind = kind;
            this.first = first;
        }

        void count(String remote) {
            more++;
            if (otherRemotes || remotes.contains(remote)) {
                return;
            }
            if (remotes.size() < MAX_REMOTES) {
                remotes.add(remote);
            } else {
                otherRemotes = true;
            }
        }
    }
}
