package org.buildhook.runner.exec;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's side of its watchdog process ({@link NodeWatchdog}): starts it, beats it from a
 * daemon thread of its own, tells it which attempts run (and their first process) and when they
 * end, and learns from it which attempts it killed.
 *
 * <p>The watchdog is the same {@code java} as this JVM, with a tiny heap, on the classpath of this
 * class's own jar (its {@code CodeSource}: {@code WEB-INF/lib} of an unpacked WAR, the
 * distribution's {@code lib/}), with an empty environment, no shell, in a session of its own through
 * {@code /usr/bin/setsid} when there is one (so a Ctrl-Z or Ctrl-C in the node's terminal does not
 * reach it). Its standard error is the node's. When it dies it is started again
 * (at once, then at most once per {@value #RESTART_EVERY_SECONDS} s) and told the running attempts
 * again; when it cannot be started, a {@code WARN} says so and the node runs without it.
 *
 * <p>Nothing here waits on the watchdog but for a bound: lines to it are written by a thread of their own
 * from a bounded queue, so a watchdog that stops reading (stopped by a signal, hung) never blocks a job
 * thread, and the node's own lock is never held across a write that can wait or the start of a watchdog
 * process. One line is written by its job thread itself: an attempt's start ({@link #running}), when no line is
 * queued or being written before it and the watchdog has read every byte written so far, so that its pipe, empty,
 * takes the line whole at once (perf37 F3: the hand-off to the writer thread and back was a scheduling wait before
 * every {@code exec}); otherwise it is queued as any other. Its
 * lines are read by a thread of their own as they come; only the end of an attempt killed by SIGKILL
 * waits for the watchdog's word on it, at most {@link #answerWait()}. A watchdog that has not read a line
 * for {@link #silence()} or is stopped ({@code T} in {@code /proc/<pid>/stat}) that long guards nothing;
 * it is killed, said at {@code WARN}, and started again.
 *
 * <p>Thread-safe.
 */
public final class Watchdog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);
    static final long RESTART_EVERY_SECONDS = 10;
    /** Lines queued for the watchdog at most; more means it has long stopped reading. */
    static final int QUEUED_LINES = 4096;
    /** How long a start waits for its line to be in the watchdog's pipe before it goes on without. */
    static final Duration WRITE_WAIT = Duration.ofSeconds(1);
    /** The watchdog's own JVM: small and quick to start (about 35 MB resident; docs/storage.md). */
    static final List<String> JVM_OPTIONS = List.of("-Xms4m", "-Xmx16m", "-Xss256k", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:ReservedCodeCacheSize=8m",
            "-XX:MaxMetaspaceSize=32m", "-XX:-UsePerfData", "-Xshare:auto");

    /** Why the watchdog killed an attempt, and when, as the node records it. */
    public record Kill(String why, Instant at) {
    }

    /**
     * What the watchdog knows of an attempt that has ended ({@link #endOf}).
     *
     * @param kill         its kill of the attempt, or null when it did not kill it (or did not say so in time)
     * @param endedBefore  when it came to kill the attempt's processes and found none left (they had all ended by
     *                     themselves before this time, taken after its look), or null when it did not
     * @param pausedMillis how long this node's JVM did not run (its beats stopped: paused or stalled) in a pause that
     *                     ended within the dead-node limit before the attempt's end was seen, or goes on as it is
     *                     seen; 0 when none over a quarter of the watchdog's silence
     * @param pausedUntil  when that pause ended (this node's clock; the time the end was seen for one still going on),
     *                     so that only an attempt started before it is said to have run through it (review49 F7);
     *                     null when {@code pausedMillis} is 0
     */
    public record End(Kill kill, Instant endedBefore, long pausedMillis, Instant pausedUntil) {
    }

    private final String node;
    private final Duration silence;
    private final Duration limit;
    private final Duration beatEvery;
    private final Duration answerWait;
    private final Object lock = new Object();
    /** Running attempts (marker value) and their first process, null until known; guarded by lock. */
    private final Map<String, ProcessIdentity> attempts = new LinkedHashMap<>();
    /** When each running attempt was told ({@link #running}), nanoTime; guarded by lock. */
    private final Map<String, Long> runningSince = new HashMap<>();
    /** Attempts the watchdog said it killed, not yet asked about; guarded by lock. */
    private final Map<String, Kill> killed = new HashMap<>();
    /**
     * Attempts whose processes the watchdog found all ended by themselves when it came to kill them ({@code X}), with
     * the time after that look; not yet asked about; guarded by lock.
     */
    private final Map<String, Instant> goneBefore = new HashMap<>();
    /** When the beats last beat ({@link System#nanoTime()}), 0 before the first; guarded by lock. */
    private long lastBeat;
    /** The last gap between two beats over a quarter of {@link #silence} (this JVM did not run): its end and length. */
    private long pauseEnd;          // guarded by lock, nanoTime; 0 before any
    private long pauseNanos;        // guarded by lock
    private Instant pauseEndedAt;   // guarded by lock: the wall-clock time of pauseEnd
    /** Attempts the watchdog answered a question about ({@code A}), not yet asked about; guarded by lock. */
    private final java.util.Set<String> answered = new java.util.HashSet<>();
    /** The questions of {@link #ask} not answered yet; guarded by lock. */
    private final List<Question> questions = new ArrayList<>();
    private Process process;        // guarded by lock
    private Pipe toIt;              // guarded by lock
    /** The watchdog process whose output is being read, null once its output ended; guarded by lock. */
    private Process readFrom;
    private boolean up;             // guarded by lock: it said H
    private long startedAt;         // guarded by lock, nanoTime
    private int starts;             // guarded by lock
    private int failedStarts;       // guarded by lock: watchdogs in a row that ended before they said H
    private boolean closed;         // guarded by lock
    private boolean beating = true; // guarded by lock; false only in tests
    private long stoppedSince;      // guarded by lock, nanoTime; 0 while the watchdog is not stopped
    private String replaced;        // guarded by lock: why the running watchdog was killed to be replaced
    private Thread beater;
    private final Starter starter;

    /** How a watchdog's process is started: {@link ProcessBuilder#start()}; tests hold a start back. */
    @FunctionalInterface
    interface Starter {
        Process start(ProcessBuilder builder) throws IOException;
    }

    private Watchdog(String node, Duration silence, Duration limit, Duration beatEvery, Starter starter) {
        this.node = node;
        this.silence = silence;
        this.limit = limit;
        this.beatEvery = beatEvery;
        this.answerWait = Duration.ofMillis(NodeWatchdog.reportWaitMillis(limit.toMillis()));
        this.starter = starter;
    }

    /**
     * Starts the watchdog of node {@code node} and its beats.
     *
     * @param node      this node's id, for its messages
     * @param limit     the dead-node limit (heartbeat interval × missed heartbeats), positive
     * @return the running watchdog; when its process could not be started, one that says so
     *         ({@link #isUp()} false) and tries again as after a death
     */
    public static Watchdog start(String node, Duration limit) {
        return start(node, limit, ProcessBuilder::start);
    }

    /** {@link #start(String, Duration)} with the watchdog's processes started by {@code starter}. */
    static Watchdog start(String node, Duration limit, Starter starter) {
        // Half the limit, as the node's own self-fencing; beats a quarter heartbeat apart at most 1 s.
        Duration silence = limit.dividedBy(2);
        Duration beat = silence.dividedBy(8);
        beat = beat.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1)
                : beat.compareTo(Duration.ofMillis(10)) < 0 ? Duration.ofMillis(10) : beat;
        Watchdog watchdog = new Watchdog(node, silence, limit, beat, starter);
        watchdog.launch();
        watchdog.beater = new Thread(watchdog::beat, "buildhook-watchdog-beat");
        watchdog.beater.setDaemon(true);
        watchdog.beater.start();
        return watchdog;
    }

    /** How long without a beat before the watchdog kills this node's attempts: half the dead-node limit. */
    public Duration silence() {
        return silence;
    }

    /** Whether the watchdog process runs and has said so. */
    public boolean isUp() {
        synchronized (lock) {
            return up && process != null && process.isAlive();
        }
    }

    /** The watchdog process's pid, or -1 when none runs. */
    public long pid() {
        synchronized (lock) {
            return process != null && process.isAlive() ? process.pid() : -1;
        }
    }

    /** Attempt {@code marker} is about to start: from now on the watchdog kills what carries it. */
    public void running(AttemptMarker marker) {
        Pipe pipe;
        long line;
        synchronized (lock) {
            attempts.put(marker.value(), null);
            runningSince.put(marker.value(), System.nanoTime());
            pipe = toIt;
            line = toIt == null ? 0 : toIt.writeNowOrOffer("R " + marker.value());
        }
        // In the pipe before the attempt's first process exists, as far as a watchdog that reads allows: written by this
        // thread already (line 0), or by the writer thread.
        if (pipe != null) {
            pipe.awaitWritten(line);
        }
    }

    /** The attempt's first process, as recorded: the watchdog then also kills its session. */
    public void process(AttemptMarker marker, ProcessIdentity process) {
        if (process == null) {
            return;
        }
        synchronized (lock) {
            if (attempts.containsKey(marker.value())) {
                attempts.put(marker.value(), process);
                send(line(marker.value(), process));
            }
        }
    }

    /**
     * The attempt has ended (its outcome is known) by anything but a SIGKILL: the watchdog forgets it.
     * As {@link #ended(AttemptMarker, boolean)} with {@code sigkilled} false.
     */
    public Kill ended(AttemptMarker marker) {
        return ended(marker, false);
    }

    /**
     * The attempt has ended (its outcome is known): the watchdog forgets it. Returns why the watchdog
     * killed it, or null when it did not.
     *
     * <p>The watchdog writes its report ({@code K}) before its signal, but the node may read it only after
     * it has seen the attempt end (the report's write outlasted the watchdog's wait for it, or this node read
     * late): recorded then as the job's own failure, a kill that was buildhook's own used a retry and
     * started its on-failure. So for an attempt whose process ended by SIGKILL ({@code sigkilled}: exit
     * status 137, or this node's own self-fencing ended it), the node asks the watchdog ({@code Q}) and waits
     * for its answer ({@code A}), which it writes after any report of that attempt: woken by the answer, the
     * report, or the end of the watchdog's output, at most {@link #answerWait()}. A SIGKILL by anyone else
     * (the OOM killer, an operator) thus costs a round trip to a watchdog that listens, the bound only to
     * one that does not (stopped, hung, of an older version that does not answer), and is then the job's
     * own failure as before.
     *
     * @param marker    the attempt
     * @param sigkilled whether its process ended by SIGKILL (or was ended by this node's self-fencing)
     * @return the watchdog's kill, or null when it did not kill the attempt (or did not say so in time)
     */
    public Kill ended(AttemptMarker marker, boolean sigkilled) {
        return endOf(marker, sigkilled).kill();
    }

    /**
     * As {@link #ended(AttemptMarker, boolean)}, with what else the watchdog knows of the attempt's end: when this
     * node's JVM did not run for a while (a pause of its beats that ended within the dead-node limit, or goes on as
     * this is asked) and the attempt was told before that pause ended, the watchdog is asked too, whatever the exit,
     * since it may have come to kill the attempt and
     * found it already ended ({@code X}): the attempt then ended before that time, while this JVM, paused, saw its
     * exit only on waking (tryout49 F1: recorded as ending at the wake, after another node's later attempt began).
     *
     * @param marker    the attempt
     * @param sigkilled whether its process ended by SIGKILL (or was ended by this node's self-fencing)
     * @return the watchdog's kill, when it found it ended, and this JVM's pause
     */
    public End endOf(AttemptMarker marker, boolean sigkilled) {
        String value = marker.value();
        List<Runnable> settled;
        Kill kill;
        Instant before;
        long paused;
        Instant pausedUntil;
        synchronized (lock) {
            Process asked = process;
            long now = System.nanoTime();
            long quarter = silence.toNanos() / 4;
            long beatGap = lastBeat == 0 ? 0 : now - lastBeat;
            paused = beatGap > quarter ? beatGap
                    : pauseEnd != 0 && now - pauseEnd < limit.toNanos() ? pauseNanos : 0;
            pausedUntil = paused == 0 ? null : beatGap > quarter ? Instant.now() : pauseEndedAt;
            // A pause that ended before the attempt was told cannot have hidden its end from this JVM: no question.
            Long since = runningSince.get(value);
            boolean duringThePause = paused > 0 && (beatGap > quarter || since == null || since - pauseEnd < 0);
            if ((sigkilled || duringThePause) && !killed.containsKey(value) && !goneBefore.containsKey(value)
                    && attempts.containsKey(value) && asked != null && up
                    && readFrom == asked && send("Q " + value) != 0) {
                long deadline = System.nanoTime() + answerWait.toNanos();
                while (!killed.containsKey(value) && !goneBefore.containsKey(value) && !answered.contains(value)
                        && readFrom == asked && !closed) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        LOG.debug("the watchdog of node {} (pid {}) did not answer within {} whether it killed"
                                + " attempt {}", node, asked.pid(), describe(answerWait), value);
                        break;
                    }
                    try {
                        java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(lock, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            answered.remove(value);
            attempts.remove(value);
            runningSince.remove(value);
            send("E " + value);
            settled = settle();
            kill = killed.remove(value);
            before = goneBefore.remove(value);
        }
        settled.forEach(Runnable::run);
        return new End(kill, before, paused / 1_000_000, pausedUntil);
    }

    /**
     * The watchdog's kills of these attempts, as it has reported them once asked: for each running attempt whose kill
     * this node has not read yet, it is asked ({@code Q}) and its answer ({@code A}, written after any report of that
     * attempt) awaited, so that a kill it made while this JVM was paused, whose report waits in the pipe (read some
     * 70 ms after the wake, tryout30 F5), is known before the node says what became of the attempt. Unlike {@link
     * #ended(AttemptMarker, boolean)} the attempts stay running and their reports stay kept for it.
     *
     * <p>Never waits: the questions are queued and the answer comes as a future, completed by the thread that reads the
     * watchdog's answers, or once {@link #answerWait()} (1 s to 10 s) is over for a watchdog that does not answer
     * (stopped, hung, of an older version), or at once when no watchdog is up, its output ends or it is closed.
     * Self-fencing asks this after its kills; a check that waited for the answer held back the next one, and with it
     * the fence of every other job (review31 L2).
     *
     * @param markers the attempts; those not running (never told, or ended) are left out
     * @return the reported kills of those the watchdog killed, by attempt, in {@code markers}' order: empty when it
     *         killed none of them (or did not answer in time); never completed exceptionally. Its dependent actions
     *         run on the watchdog's reader thread or a timer's: they must not wait
     */
    public java.util.concurrent.CompletableFuture<Map<AttemptMarker, Kill>> ask(
            java.util.Collection<AttemptMarker> markers) {
        Question question = new Question(List.copyOf(markers));
        List<Runnable> settled;
        synchronized (lock) {
            question.to = process;
            for (AttemptMarker marker : question.markers) {
                String value = marker.value();
                if (killed.containsKey(value)) {
                    question.kills.put(value, killed.get(value));
                } else if (process != null && up && readFrom == process && attempts.containsKey(value)
                        && send("Q " + value) != 0) {
                    question.waiting.add(value);
                }
            }
            questions.add(question);
            settled = settle();
        }
        settled.forEach(Runnable::run);
        if (!question.answer.isDone()) {
            java.util.concurrent.CompletableFuture.delayedExecutor(answerWait.toNanos(),
                    java.util.concurrent.TimeUnit.NANOSECONDS).execute(() -> giveUp(question));
        }
        return question.answer;
    }

    /** A question of {@link #ask}: its attempts, those whose answer is awaited, and the kills read meanwhile. */
    private static final class Question {
        final List<AttemptMarker> markers;
        /** The watchdog process asked (null: none); guarded by lock. */
        Process to;
        /** The attempts (marker value) whose answer or report is awaited; guarded by lock. */
        final java.util.Set<String> waiting = new java.util.HashSet<>();
        /** The kills of these attempts read so far, by marker value; guarded by lock. */
        final Map<String, Kill> kills = new HashMap<>();
        final java.util.concurrent.CompletableFuture<Map<AttemptMarker, Kill>> answer =
                new java.util.concurrent.CompletableFuture<>();

        Question(List<AttemptMarker> markers) {
            this.markers = markers;
        }

        /** Under the lock: the answer, in the markers' order. */
        Map<AttemptMarker, Kill> found() {
            Map<AttemptMarker, Kill> found = new LinkedHashMap<>();
            for (AttemptMarker marker : markers) {
                Kill kill = kills.get(marker.value());
                if (kill != null) {
                    found.put(marker, kill);
                }
            }
            return found;
        }
    }

    /**
     * Under the lock: takes the kills read into the open questions, and ends those answered (or that can no longer be:
     * their watchdog's output ended, it was replaced, or this node's side is closed). Returns their completions, to be
     * run once the lock is released.
     */
    private List<Runnable> settle() {
        if (questions.isEmpty()) {
            return List.of();
        }
        List<Runnable> settled = new ArrayList<>();
        for (java.util.Iterator<Question> i = questions.iterator(); i.hasNext(); ) {
            Question question = i.next();
            question.waiting.removeIf(value -> {
                Kill kill = killed.get(value);
                if (kill != null) {
                    question.kills.put(value, kill);
                }
                return kill != null || !attempts.containsKey(value);
            });
            if (question.waiting.isEmpty() || question.to == null || readFrom != question.to || closed) {
                i.remove();
                Map<AttemptMarker, Kill> found = question.found();
                settled.add(() -> question.answer.complete(found));
            }
        }
        return settled;
    }

    /** The watchdog did not answer {@code question} within {@link #answerWait()}: answered with the kills read. */
    private void giveUp(Question question) {
        Map<AttemptMarker, Kill> found;
        synchronized (lock) {
            if (!questions.remove(question)) {
                return;
            }
            LOG.debug("the watchdog of node {} did not answer within {} whether it killed {}", node,
                    describe(answerWait), question.waiting);
            found = question.found();
        }
        question.answer.complete(found);
    }

    /**
     * How long {@link #ended(AttemptMarker, boolean)} waits at most for the watchdog's answer: as long as
     * the watchdog itself waits for a report to be written ({@link NodeWatchdog#reportWaitMillis}, an eighth of
     * the dead-node limit, 1 s to 10 s).
     */
    Duration answerWait() {
        return answerWait;
    }

    /** Stops the beats and the watchdog; it exits without killing anything no longer running. */
    @Override
    public void close() {
        Process p;
        List<Runnable> settled;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            for (String marker : attempts.keySet()) {
                send("E " + marker);
            }
            attempts.clear();
            runningSince.clear();
            p = process;
            closeStreams();
            lock.notifyAll();
            settled = settle();
        }
        settled.forEach(Runnable::run);
        // A watchdog that reads has its E lines and its end of input at once; one that does not is killed.
        if (beater != null) {
            beater.interrupt();
        }
        if (p != null) {
            try {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Tests: stops (false) or resumes the beats, as a paused JVM would. */
    void beating(boolean value) {
        synchronized (lock) {
            beating = value;
        }
    }

    /** Tests: ends the watchdog's input without a word, as the death of this JVM does. */
    void abandon() {
        List<Runnable> settled;
        synchronized (lock) {
            closed = true;
            closeStreams();
            lock.notifyAll();
            settled = settle();
        }
        settled.forEach(Runnable::run);
    }

    private void beat() {
        while (true) {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                boolean relaunch = false;
                if (beating) {
                    if (process != null && !process.isAlive()) {
                        died();
                    }
                    if (process != null && replaced == null) {
                        replaceIfDeaf();
                    }
                    relaunch = process == null
                            && System.nanoTime() - startedAt >= RESTART_EVERY_SECONDS * 1_000_000_000L;
                    if (!relaunch) {
                        long now = System.nanoTime();
                        if (lastBeat != 0 && now - lastBeat > silence.toNanos() / 4) {
                            // This JVM did not run (paused, stalled): an attempt's end seen now asks the watchdog.
                            pauseEnd = now;
                            pauseNanos = now - lastBeat;
                            pauseEndedAt = Instant.now();
                            // Its watchdog, stopped too (both JVMs: kill -STOP, a debugger), learns that the node
                            // was silent through its own gap: commands that ran on meanwhile are killed at once.
                            send("S " + pauseNanos / 1_000_000);
                        }
                        lastBeat = now;
                        send("B");
                    }
                }
                if (!relaunch) {
                    try {
                        lock.wait(beatEvery.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                    continue;
                }
            }
            // Outside the lock: a fork and exec of a JVM (long under memory pressure) holds no job thread back
            // (review17 R8); the next turn beats the new watchdog at once.
            launch();
        }
    }

    /**
     * Under the lock: a watchdog that has not read a line for {@link #silence} (its pipe full, or a
     * line pending that long) or has been stopped that long is killed, to be started again by the next
     * beat. It protected nothing meanwhile, and its pipe, once full, would hold every later line back.
     */
    private void replaceIfDeaf() {
        long now = System.nanoTime();
        ProcStat stat = ProcStat.of(process.pid());
        boolean stopped = stat != null && stat.stopped();
        if (!stopped) {
            stoppedSince = 0;
        } else if (stoppedSince == 0) {
            stoppedSince = now;
        }
        long pending = toIt == null ? 0 : toIt.unreadFor(now);
        String why = toIt != null && toIt.overflowed() ? "left " + QUEUED_LINES + " lines unread"
                : pending >= silence.toNanos() ? "read nothing for " + describe(Duration.ofNanos(pending))
                : stoppedSince != 0 && now - stoppedSince >= silence.toNanos()
                        ? "has been stopped (SIGSTOP or a debugger) for " + describe(Duration.ofNanos(now - stoppedSince))
                : null;
        if (why == null) {
            return;
        }
        replaced = why;
        LOG.warn("the watchdog of node {} (pid {}) {}: it guards nothing so, and a watchdog that does not read would"
                + " in the end hold this node's jobs back; it is killed and started again", node, process.pid(), why);
        process.destroyForcibly();
    }

    /** Under the lock: the watchdog process ended while this node runs. */
    private void died() {
        int status = process.exitValue();
        String again = System.nanoTime() - startedAt >= RESTART_EVERY_SECONDS * 1_000_000_000L ? "now"
                : "within " + RESTART_EVERY_SECONDS + " s";
        if (replaced != null) {
            LOG.info("the watchdog of node {} (pid {}) that {} ended (exit status {}); its successor starts {}", node,
                    process.pid(), replaced, status, again);
        } else if (!up && ++failedStarts != 1 && failedStarts % 30 != 0) {
            // One that cannot run at all is said at its first failure and then every 30th (every 5 min).
            LOG.debug("the watchdog of node {} (pid {}) could not start again (exit status {})", node, process.pid(),
                    status);
        } else {
            LOG.warn("the watchdog of node {} (pid {}) {} (exit status {}{}): while it is away, a pause of this JVM"
                    + " longer than the dead-node limit ({}) lets another node run this node's jobs beside their"
                    + " commands; it is started again {}", node, process.pid(), up ? "ended" : "could not start",
                    status, up ? "" : "; its own message is on the server's standard error", describe(limit), again);
        }
        // What was known of this process goes with it; its successor starts afresh.
        closeStreams();
        process = null;
        up = false;
        replaced = null;
        stoppedSince = 0;
    }

    /**
     * Not under the lock (the beats' thread, or before the beats start): starts the watchdog process, then
     * under the lock tells it what runs. A watchdog started while {@link #close()} ran is ended at once.
     */
    private void launch() {
        int start;
        synchronized (lock) {
            startedAt = System.nanoTime();
            start = ++starts;
        }
        List<String> command;
        try {
            command = command();
        } catch (IllegalStateException e) {
            cannotStart(start, e.getMessage());
            return;
        }
        if (java.nio.file.Files.isExecutable(Path.of(LauncherConfig.SETSID))) {
            // setsid execs the JVM in place (a child of this JVM is no group leader): same pid, own session.
            command.addAll(0, List.of(LauncherConfig.SETSID, "--"));
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        // Nothing of this server's environment (its secrets, JAVA_TOOL_OPTIONS): java needs none of it.
        builder.environment().clear();
        String store = AttemptMarker.servedStore();
        if (store != null) {
            // Its kills take only this store's processes, never a restored copy's of the same attempt (tryout33 F3).
            builder.environment().put(AttemptMarker.STORE_VARIABLE, store);
        }
        Process started;
        try {
            started = Orphans.spawn(null, () -> starter.start(builder));
        } catch (IOException | RuntimeException e) {
            cannotStart(start, e.getMessage());
            return;
        }
        // Outside the lock: a look at each of this JVM's descriptors.
        int writeEnd = Pipe.writeEndOf(started.pid());
        synchronized (lock) {
            if (closed) {
                // Nothing runs any more and nobody will write to it: it ends without a word.
                started.destroyForcibly();
                return;
            }
            process = started;
            toIt = new Pipe(started, writeEnd);
            readFrom = started;
            Thread reader = new Thread(() -> read(started), "buildhook-watchdog-read-" + started.pid());
            reader.setDaemon(true);
            reader.start();
            for (Map.Entry<String, ProcessIdentity> e : attempts.entrySet()) {
                send("R " + e.getKey());
                if (e.getValue() != null) {
                    send(line(e.getKey(), e.getValue()));
                }
            }
        }
        // Said as started once it says so (H): a watchdog that cannot run ends at once (war17 F2).
        LOG.debug("watchdog of node {} launched (pid {})", node, started.pid());
    }

    private void cannotStart(int start, String why) {
        if (start == 1 || start % 30 == 0) {
            LOG.warn("the watchdog of node {} cannot be started: {}. Without it, a pause of this JVM alone longer"
                    + " than the dead-node limit ({}) lets another node run this node's jobs while their commands still"
                    + " run here; keep runner.heartbeat-interval × runner.missed-heartbeats above any such pause, or"
                    + " fix the cause (it is tried again every {} s)", node, why, describe(limit), RESTART_EVERY_SECONDS);
        }
    }

    /**
     * {@code java <options> -cp <this class's jar> NodeWatchdog <silence> <limit> <node> <pid>}, then {@code debug}
     * when this class's logger is at DEBUG.
     */
    List<String> command() {
        List<String> command = new ArrayList<>();
        command.add(java(System.getProperty("java.home"), ProcessHandle.current().info().command()));
        command.addAll(JVM_OPTIONS);
        command.add("-cp");
        command.add(classpath());
        command.add(NodeWatchdog.class.getName());
        command.add(Long.toString(Math.max(1, silence.toMillis())));
        command.add(Long.toString(limit.toMillis()));
        command.add(node);
        command.add(Long.toString(ProcessHandle.current().pid()));
        if (LOG.isDebugEnabled()) {
            command.add("debug");
        }
        return command;
    }

    /**
     * The {@code java} to run the watchdog with: {@code bin/java} of this JVM's {@code java.home} when it
     * is executable, else this process's own program. Not the program first: a JVM hosted by a launcher
     * (Tomcat's jsvc, a jpackage or procrun launcher) has that launcher as its program, which cannot run
     * a class (war17 F2: jsvc answered "Cannot locate Java Home" every 10 s).
     *
     * @param javaHome this JVM's {@code java.home}
     * @param program  this process's program ({@link ProcessHandle.Info#command()})
     * @return the path of the java to start
     */
    static String java(String javaHome, java.util.Optional<String> program) {
        Path own = Path.of(javaHome, "bin", "java");
        return java.nio.file.Files.isExecutable(own) ? own.toString() : program.orElse(own.toString());
    }

    /** Where this class was loaded from, as a file: the jar or classes folder holding the watchdog. */
    static String classpath() {
        java.security.CodeSource source = NodeWatchdog.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            throw new IllegalStateException("the class loader does not say where " + NodeWatchdog.class.getName()
                    + " comes from");
        }
        try {
            File file = new File(source.getLocation().toURI());
            if (!file.exists()) {
                throw new IllegalStateException(file + " does not exist");
            }
            return file.getPath();
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            // A jar inside a packed WAR (jar:file:…!/WEB-INF/lib/…) is no file a JVM can load from.
            throw new IllegalStateException(NodeWatchdog.class.getSimpleName() + " comes from " + source.getLocation()
                    + ", not a file (a WAR that is not unpacked? Tomcat unpacks it with unpackWARs=\"true\" on its"
                    + " Host, the default; Jetty with extractWAR, its default)");
        }
    }

    private static String line(String marker, ProcessIdentity p) {
        return "P " + marker + " " + p.pid() + " " + p.session() + " " + p.startTicks();
    }

    /**
     * Under the lock: one line to the watchdog, queued, never waited for; a watchdog gone is noticed
     * by the beats, one that does not read by {@link #replaceIfDeaf}. Returns the line's number in its
     * pipe (0 when there is none).
     */
    private long send(String line) {
        return toIt == null ? 0 : toIt.offer(line);
    }

    /**
     * The reader thread of one watchdog process: each line it writes is heard as soon as it is written
     * (a report, an answer that a job thread waits for), until its output ends.
     */
    private void read(Process source) {
        InputStream in = source.getInputStream();
        StringBuilder partial = new StringBuilder();
        byte[] bytes = new byte[512];
        try {
            int read;
            while ((read = in.read(bytes)) > 0) {
                partial.append(new String(bytes, 0, read, StandardCharsets.US_ASCII));
                int end;
                while ((end = partial.indexOf("\n")) >= 0) {
                    String line = partial.substring(0, end);
                    partial.delete(0, end + 1);
                    List<Runnable> settled;
                    synchronized (lock) {
                        heard(source, line);
                        lock.notifyAll();
                        settled = settle();
                    }
                    settled.forEach(Runnable::run);
                }
            }
        } catch (IOException e) {
            // Gone: the beats see it ended.
        } finally {
            List<Runnable> settled;
            synchronized (lock) {
                if (readFrom == source) {
                    readFrom = null;
                }
                lock.notifyAll();
                settled = settle();
            }
            settled.forEach(Runnable::run);
        }
    }

    /** Under the lock: one line from watchdog process {@code source} (the running one, or one that ended). */
    private void heard(Process source, String line) {
        if (line.equals("H")) {
            if (source != process) {
                return; // One that has already been replaced.
            }
            up = true;
            failedStarts = 0;
            LOG.info("watchdog of node {} started (pid {}): it kills this node's running jobs if the node gives no"
                    + " sign of life for {} (half the dead-node limit, {}), or dies", node, source.pid(),
                    describe(silence), describe(limit));
            return;
        }
        String[] f = line.split(" ");
        if (f.length == 2 && f[0].equals("A")) {
            // Its answer to a question about an attempt, written after any report of it.
            for (Question question : questions) {
                if (question.to == source) {
                    question.waiting.remove(f[1]);
                }
            }
            if (attempts.containsKey(f[1])) {
                answered.add(f[1]);
            }
            return;
        }
        int slash = f.length == 4 ? f[1].lastIndexOf('/') : -1;
        if (f[0].equals("X") && slash > 0) {
            // Its processes had all ended by themselves when the watchdog came to kill them.
            try {
                Instant before = Instant.ofEpochMilli(Long.parseLong(f[3]));
                if (attempts.containsKey(f[1])) {
                    goneBefore.put(f[1], before);
                }
                LOG.info("job {} attempt {}: the watchdog of node {} found nothing left to kill at {}: it had ended by"
                        + " itself before then", f[1].substring(0, slash), f[1].substring(slash + 1), node, before);
            } catch (NumberFormatException e) {
                LOG.info("the watchdog of node {} says: {}", node, line);
            }
            return;
        }
        if (!(f[0].equals("K") || f[0].equals("Z")) || slash < 1) {
            // Not the protocol: its JVM's own words (a VM warning); passed on, never fatal.
            LOG.info("the watchdog of node {} says: {}", node, line);
            return;
        }
        long silent;
        Instant at;
        try {
            silent = Long.parseLong(f[2]);
            at = Instant.ofEpochMilli(Long.parseLong(f[3]));
        } catch (NumberFormatException e) {
            LOG.info("the watchdog of node {} says: {}", node, line);
            return;
        }
        boolean asleep = f[0].equals("Z");
        String why = asleep ? String.format(Locale.ROOT, "killed by the watchdog of node %s on waking: it had been"
                        + " stopped with its node for %.1f s (both JVMs stopped: kill -STOP, a debugger) while the"
                        + " attempt's commands ran on unguarded, and past the dead-node limit (%s) another node may have"
                        + " run the job at the same time meanwhile", node, silent / 1000.0, describe(limit))
                : silent < 0 ? "killed by the watchdog of node " + node + ": its node's JVM was gone"
                : String.format(Locale.ROOT, "killed by the watchdog of node %s: its node gave no sign of life for"
                        + " %.1f s (its JVM was paused or stalled, not the store), and after %s another node may run"
                        + " the job", node, silent / 1000.0, describe(limit));
        // The kill's own time: read after a pause of this JVM, the line's own time is the wake's, after another node
        // may have taken the job over, and read as two copies at once (cluster27 F6).
        String when = killedAt(at, Instant.now());
        if (asleep) {
            // Nothing guarded the commands through that gap: an overlap with another node's attempt may have happened.
            if (attempts.containsKey(f[1])) {
                killed.put(f[1], new Kill(why, at));
            }
            LOG.error("job {} attempt {}: {} ({}); docs/storage.md, \"The watchdog\": stop the whole container or host"
                    + " (which stops the commands too), or stop the node gracefully, never its JVMs alone",
                    f[1].substring(0, slash), f[1].substring(slash + 1), why, when);
        } else if (attempts.containsKey(f[1])) {
            killed.put(f[1], new Kill(why, at));
            LOG.warn("job {} attempt {}: {} ({})", f[1].substring(0, slash), f[1].substring(slash + 1), why, when);
        } else {
            // Its end is recorded already (the node read this after it): kept, it would never be asked about.
            LOG.warn("job {} attempt {}: {} ({}); this report came after the node had recorded the attempt's end,"
                    + " which therefore does not say so", f[1].substring(0, slash), f[1].substring(slash + 1), why,
                    when);
        }
    }

    /**
     * When the watchdog killed an attempt, for its log line: {@code killed at 2026-12-02T22:48:49.935Z}, and when
     * this node reads the report a second or more after the kill, {@code read 33.0 s later: this node's JVM was paused or stalled
     * until then}.
     *
     * @param at  the kill's time, as the watchdog reported it
     * @param now the time this node read the report
     */
    static String killedAt(Instant at, Instant now) {
        long late = java.time.Duration.between(at, now).toMillis();
        return "killed at " + at + (late < 1000 ? "" : String.format(Locale.ROOT,
                ", read %.1f s later: this node's JVM was paused or stalled until then", late / 1000.0));
    }

    /**
     * The watchdog's kill of the attempt, if it has reported one that {@link #ended(AttemptMarker, boolean)} has not
     * taken yet; the report is kept for that.
     *
     * @param marker the attempt
     * @return the kill, or null when none was reported
     */
    public Kill killed(AttemptMarker marker) {
        synchronized (lock) {
            return killed.get(marker.value());
        }
    }

    /** Under the lock: the queued lines are still written, then the watchdog's input ends. */
    private void closeStreams() {
        if (toIt != null) {
            toIt.end();
        }
        toIt = null;
    }

    /**
     * The lines to one watchdog process, written in order by a daemon thread of their own, so that
     * no caller blocks on a pipe the watchdog does not empty. Thread-safe.
     */
    static final class Pipe {
        /** Ends the watchdog's input; compared by identity, never written. */
        private static final String END = new String("end of input");
        private final OutputStream out;
        /** The watchdog process, for {@link #writeNowOrOffer}; null when lines go through the writer thread only. */
        private final Process process;
        /**
         * This JVM's descriptor of the pipe's write end (the JDK's, behind {@link #out}), through which {@link
         * #writeNowOrOffer} counts the bytes the watchdog has not read; -1 when not known.
         */
        private final int writeEnd;
        private final java.util.concurrent.BlockingQueue<String> queue =
                new java.util.concurrent.ArrayBlockingQueue<>(QUEUED_LINES + 1);
        private final Object written = new Object();
        private long offered;               // guarded by written
        private long done;                  // guarded by written: lines in the pipe, or given up on
        private boolean slow;               // guarded by written: a wait timed out; no start waits until caught up
        private volatile boolean overflowed;
        private boolean ended;              // guarded by written: end() was called
        private boolean broken;             // guarded by written: a line written by its caller failed (the watchdog is gone)
        /** When the write in progress began (nanoTime), 0 when none is. */
        private volatile long writingSince;

        /** Lines through the writer thread only (tests). */
        Pipe(OutputStream out, long pid) {
            this(out, null, -1, pid);
        }

        /**
         * The lines to watchdog {@code process}.
         *
         * @param writeEnd this JVM's descriptor of the write end of its input ({@link #writeEndOf}), -1 when not known
         */
        Pipe(Process process, int writeEnd) {
            this(process.getOutputStream(), process, writeEnd, process.pid());
        }

        private Pipe(OutputStream out, Process process, int writeEnd, long pid) {
            this.out = out;
            this.process = process;
            this.writeEnd = writeEnd;
            Thread writer = new Thread(this::write, "buildhook-watchdog-write-" + pid);
            writer.setDaemon(true);
            writer.start();
        }

        /** Queues one line; returns its number, or 0 when the queue is full (the watchdog is deaf). */
        long offer(String line) {
            synchronized (written) {
                if (overflowed || queue.size() >= QUEUED_LINES || !queue.offer(line)) {
                    overflowed = true;
                    return 0;
                }
                return ++offered;
            }
        }

        /**
         * Writes {@code line} on the calling thread, when no line is queued or being written before it and the
         * watchdog has read every byte written to it so far; else queues it as {@link #offer}. A pipe that is empty
         * takes a line of up to {@code PIPE_BUF} (4096) bytes whole at once, so this never waits for the watchdog:
         * one that stopped reading leaves bytes in its pipe, and the line goes to the writer thread, whose wait
         * {@link #awaitWritten} bounds. Only where the count can be read (the C library bound by the launcher, this
         * JVM's descriptor of the pipe found): elsewhere every line goes through the writer thread.
         *
         * @return 0 when written (or given up: the watchdog is gone), nothing to wait for; else the line's number
         */
        long writeNowOrOffer(String line) {
            synchronized (written) {
                // The process first: once it has exited the JDK closes the descriptor, whose number may be reused (a
                // count read from that one says nothing, and writes nothing: the stream then discards).
                // The look does not close the window (review38): the watchdog may exit, the JDK's reaper close the
                // descriptor and another open take its number between isAlive and the ioctl. Harmless: FIONREAD only
                // reads a count into an int, whatever the descriptor now is (a file: the bytes left to its end; a
                // socket or another pipe: the bytes queued; a terminal: TIOCINQ, the same request), and changes
                // nothing; a device that does not know it answers ENOTTY, taken as -1 (unread). A 0 read there lets
                // this thread write, but only through the JDK's stream of the old pipe, never to the number: closed
                // by the reaper (under the stream's lock, as this write), the stream fails ("Stream closed") and the
                // pipe is taken as broken; written before that close, the line goes to the old pipe, whose reader
                // is gone (EPIPE, the JVM ignores SIGPIPE) or, held by a child of the watchdog, is empty: neither
                // waits.
                if (writeEnd >= 0 && !ended && !broken && !overflowed && queue.isEmpty() && done == offered
                        && process.isAlive() && unread(writeEnd) == 0) {
                    offered++;
                    done++;
                    try {
                        out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    } catch (IOException e) {
                        broken = true; // Gone: the beats see it ended and say so.
                    }
                    return 0;
                }
            }
            return offer(line);
        }

        /** The bytes written to the pipe that its reader has not read, or -1 when they cannot be counted. */
        private static int unread(int fd) {
            if (!LibC.isBound()) {
                return -1; // Not bound by this class: binding it would leave JNA's thread to an undeployed WAR.
            }
            try {
                int[] count = new int[1];
                LibC.ioctl(fd, LibC.FIONREAD, count);
                return count[0];
            } catch (RuntimeException | LinkageError e) {
                return -1; // Unbound meanwhile, or not a pipe: the writer thread writes it.
            }
        }

        /**
         * This JVM's descriptor of the write end of the pipe that is process {@code pid}'s standard input (the JDK's,
         * behind its {@link Process#getOutputStream()}), from {@code /proc}; -1 when there is not exactly one, or it
         * cannot be read.
         */
        static int writeEndOf(long pid) {
            try {
                String pipe = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "fd", "0")).toString();
                if (!pipe.startsWith("pipe:")) {
                    return -1;
                }
                int found = -1;
                try (java.nio.file.DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
                    for (Path fd : fds) {
                        String target;
                        try {
                            target = Files.readSymbolicLink(fd).toString();
                        } catch (IOException e) {
                            continue; // closed meanwhile
                        }
                        if (target.equals(pipe)) {
                            if (found >= 0) {
                                return -1;
                            }
                            found = Integer.parseInt(fd.getFileName().toString());
                        }
                    }
                }
                return found;
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        /**
         * After the queued lines, the watchdog's input ends. Called once per pipe (the node then forgets
         * it); always taken: {@link #offer} keeps the queue at {@link #QUEUED_LINES} at most, and its
         * capacity is one more, for this.
         */
        void end() {
            synchronized (written) {
                ended = true;
            }
            if (!queue.offer(END)) {
                // Not expected (see above); were it full, its lines are dropped so that the writer ends.
                queue.clear();
                queue.offer(END);
            }
        }

        /** Whether lines were dropped: the watchdog stopped reading long ago. */
        boolean overflowed() {
            return overflowed;
        }

        /** How long the write in progress has waited for the watchdog to read (ns), 0 when none waits. */
        long unreadFor(long now) {
            long since = writingSince;
            return since == 0 ? 0 : now - since;
        }

        /**
         * Waits until line {@code n} is in the pipe, at most {@link #WRITE_WAIT}; after a wait that timed out,
         * not at all until the writer has caught up with every line queued.
         */
        void awaitWritten(long n) {
            awaitWritten(n, WRITE_WAIT);
        }

        /** {@link #awaitWritten(long)} with another bound than {@link #WRITE_WAIT} (tests). */
        void awaitWritten(long n, Duration wait) {
            if (n == 0) {
                return;
            }
            long deadline = System.nanoTime() + wait.toNanos();
            synchronized (written) {
                while (done < n && !slow) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        slow = true;
                        return;
                    }
                    try {
                        java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(written, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        private void write() {
            boolean open = true;
            try {
                while (true) {
                    String line = queue.take();
                    if (line == END) {
                        break;
                    }
                    if (open) {
                        writingSince = System.nanoTime();
                        try {
                            out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        } catch (IOException e) {
                            open = false; // Gone: the beats see it ended and say so.
                        } finally {
                            writingSince = 0;
                        }
                    }
                    synchronized (written) {
                        done++;
                        if (done >= offered) {
                            // Caught up: a stall is over, so starts wait for their line again (review17 R1).
                            slow = false;
                        }
                        written.notifyAll();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                synchronized (written) {
                    done = Long.MAX_VALUE;
                    written.notifyAll();
                }
                try {
                    out.close();
                } catch (IOException e) {
                    // Nothing to tell it any more.
                }
            }
        }
    }

    private static String describe(Duration d) {
        return org.buildhook.runner.rules.Durations.describe(d);
    }
}
