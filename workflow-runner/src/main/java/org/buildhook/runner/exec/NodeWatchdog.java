package org.buildhook.runner.exec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The watchdog process of a node: a small JVM of its own, outside the node's, that kills the node's
 * running attempts when the node gives no sign of life for too long or is gone. Started and fed by
 * {@link Watchdog}; this is its {@code main}.
 *
 * <p>Why outside: a node whose JVM alone is paused (SIGSTOP, a debugger, a stall) cannot fence
 * itself, while its commands, separate processes, go on; after the dead-node limit another node
 * runs its jobs again. The watchdog is not paused with it, so it kills those commands while the
 * node is still silent, well before the limit.
 *
 * <p>Protocol, one ASCII line each. On standard input, from the node: {@code B} (a beat),
 * {@code R <job>/<attempt>} (an attempt is about to start), {@code P <job>/<attempt> <pid> <session>
 * <start ticks>} (its first process, {@link ProcessIdentity}), {@code E <job>/<attempt>} (it ended),
 * {@code Q <job>/<attempt>} (it ended by SIGKILL, or was seen ended after a pause of the node: what did this
 * watchdog do of it?), {@code S <ms>} (the node's JVM did not run for that long and has just woken). On standard
 * output, to the
 * node: {@code H} once it runs, {@code K <job>/<attempt> <ms without a beat, or -1 when the node is
 * gone> <epoch ms>} for each attempt it kills, queued before the signal, {@code X <job>/<attempt> <ms without a
 * beat, or -1> <epoch ms>} for each attempt named by a {@code P} whose processes had all ended by themselves when it
 * came to kill them (they ended before that time, taken after its look), {@code Z <job>/<attempt> <ms it was itself
 * stopped with the node> <epoch ms>} for each attempt it kills on waking because its commands ran on while it and the
 * node were both stopped ({@link #watch}), queued before the signal as a {@code K}, and {@code A <job>/<attempt>}
 * for each {@code Q}, after any {@code K} or {@code X} of that attempt (one writer thread writes them in order), so
 * that a node that saw its attempt end by SIGKILL and asked has read the report when the answer comes
 * (the report's write may outlast the kill's wait for it, or the node may read late). On standard
 * error: what it did, in an operator's words (it goes where the node's own standard error goes).
 *
 * <p>Arguments: the silence after which it kills (milliseconds), the dead-node limit it stays below
 * (milliseconds, for the message), the node's id, the node's pid.
 */
public final class NodeWatchdog {

    private final long silenceMillis;
    private final long limitMillis;
    private final String node;
    private final long nodePid;
    private final PrintStream out;
    private final PrintStream err;
    /** Bytes the node sent that are not read yet (a beat still in the pipe is no silence). */
    private final java.util.function.IntSupplier unread;
    /** Attempt marker value to its first process (null until known); guarded by this. */
    private final Map<String, ProcessIdentity> attempts = new LinkedHashMap<>();
    private long lastBeat = System.nanoTime(); // guarded by this
    private boolean gone;                      // guarded by this
    /**
     * Each attempt's first process's CPU time at the last look and its recent use per step, by marker value; guarded
     * by this.
     */
    private final Map<String, CpuLook> cpuAtLook = new java.util.HashMap<>();
    /**
     * The attempts whose first process used CPU time while this watchdog itself did not run for {@link #silenceMillis}
     * or more (its last such gap: {@link #asleepFrom} to {@link #asleepUntil}, nanoTime), with their CPU time then;
     * empty when none. Kept until the node says whether it was stopped too ({@code S}), or for a silence bound.
     */
    private final Map<String, Long> ranWhileAsleep = new LinkedHashMap<>(); // guarded by this
    private long asleepFrom;                   // guarded by this
    private long asleepUntil;                  // guarded by this
    /** The node's last word that its JVM had not run ({@code S}): for how long (ns), and when it was read (nanoTime). */
    private long nodePausedNanos;              // guarded by this
    private long nodePauseReadAt;              // guarded by this
    private final byte[] statBuffer = new byte[512]; // the watch thread's only
    /**
     * Whether each attempt's first process it is told ({@code P}) is written to its standard error: its node's
     * {@code org.buildhook.runner.exec.Watchdog} logger is at DEBUG (fifth argument {@code debug}). A test that stops
     * the node awaits that line: the watchdog knows the process then.
     */
    private volatile boolean debug;
    /** The K lines are written here, so that a full pipe (a node paused long) never holds a kill back. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "watchdog-out");
        t.setDaemon(true);
        return t;
    });

    NodeWatchdog(long silenceMillis, long limitMillis, String node, long nodePid, PrintStream out, PrintStream err,
            java.util.function.IntSupplier unread) {
        this.unread = unread;
        this.silenceMillis = silenceMillis;
        this.limitMillis = limitMillis;
        this.node = node;
        this.nodePid = nodePid;
        this.out = out;
        this.err = err;
    }

    /**
     * Runs the watchdog until the node closes its standard input.
     *
     * @param args silence in ms (at least 1), dead-node limit in ms, node id, node pid; then {@code debug} when the
     *             node's {@code Watchdog} logger is at DEBUG (each attempt's first process told is written to stderr)
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 4 && !(args.length == 5 && "debug".equals(args[4]))) {
            System.err.println("buildhook watchdog: started without its arguments (silence ms, limit ms, node id,"
                    + " node pid); it is started by a buildhook node, not by hand");
            System.exit(2);
        }
        AttemptMarker.serveStore(System.getenv(AttemptMarker.STORE_VARIABLE)); // set by its node, Watchdog
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.US_ASCII);
        // Not System.in: its available() waits for the monitor its blocked read holds.
        java.io.FileInputStream in = new java.io.FileInputStream(java.io.FileDescriptor.in);
        NodeWatchdog watchdog = new NodeWatchdog(Long.parseLong(args[0]), Long.parseLong(args[1]), args[2],
                Long.parseLong(args[3]), out, System.err, () -> {
                    try {
                        return in.available();
                    } catch (IOException e) {
                        return 0;
                    }
                });
        watchdog.debug = args.length == 5;
        Thread reader = new Thread(() -> watchdog.read(new BufferedReader(new InputStreamReader(in,
                StandardCharsets.US_ASCII))), "watchdog-in");
        reader.setDaemon(true);
        reader.start();
        ignoreStopSignals();
        watchdog.hello();
        watchdog.watch();
        System.exit(0);
    }

    /**
     * SIGTERM, SIGINT and SIGHUP are ignored: the watchdog ends with its node (the end of its input),
     * never before it. systemd's {@code KillMode=control-group} sends SIGTERM to every process of the
     * unit at a stop, and a terminal's Ctrl-C or hang-up reaches it where there is no {@code setsid}:
     * killed by them, the watchdog left the node unguarded through the stop's grace period, and the
     * node logged a death and started another (review16). A signal the JVM does not let us handle
     * ({@code -Xrs}) keeps its default.
     */
    static void ignoreStopSignals() {
        for (String name : List.of("TERM", "INT", "HUP")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sun.misc.SignalHandler.SIG_IGN);
            } catch (IllegalArgumentException e) {
                // Reserved by this JVM: its default stays.
            }
        }
    }

    /** Reads the node's lines until end of input, then marks the node gone. */
    void read(BufferedReader in) {
        try {
            String line;
            while ((line = in.readLine()) != null) {
                take(line);
            }
        } catch (IOException e) {
            // The same as an end of input: the node can no longer tell us anything.
        }
        synchronized (this) {
            gone = true;
            notifyAll();
        }
    }

    private synchronized void take(String line) {
        lastBeat = System.nanoTime();
        if (line.startsWith("R ")) {
            attempts.putIfAbsent(line.substring(2), null);
        } else if (line.startsWith("E ")) {
            attempts.remove(line.substring(2));
            cpuAtLook.remove(line.substring(2));
            ranWhileAsleep.remove(line.substring(2));
        } else if (line.startsWith("S ")) {
            try {
                nodePausedNanos = Long.parseLong(line.substring(2)) * 1_000_000L;
                nodePauseReadAt = System.nanoTime();
                notifyAll();
            } catch (NumberFormatException e) {
                // Not this protocol's: a beat like any other line.
            }
        } else if (line.startsWith("Q ")) {
            // Whether it killed that attempt: the answer follows any report of it on the one writer thread, and
            // a kill reports before it signals, so a node that saw the attempt end by SIGKILL reads the report
            // first if it was this watchdog's.
            tell(List.of("A " + line.substring(2)));
        } else if (line.startsWith("P ")) {
            String[] f = line.substring(2).split(" ");
            if (f.length == 4) {
                try {
                    attempts.put(f[0], new ProcessIdentity(Long.parseLong(f[1]), Long.parseLong(f[2]),
                            Long.parseLong(f[3])));
                    if (debug) {
                        err.println("buildhook watchdog of node " + node + ": knows attempt " + f[0]
                                + "'s first process " + f[1]);
                    }
                } catch (NumberFormatException e) {
                    attempts.putIfAbsent(f[0], null);
                }
            }
        }
    }

    /**
     * Checks a few times per silence bound until the node is gone; then kills what is left and returns.
     *
     * <p>Only the time this watchdog was awake to hear counts as the node's silence. A pause of the
     * watchdog itself — its container or VM frozen with the node and the commands ({@code podman pause},
     * a stalled VM), or it alone stopped or starved of CPU — is no sign that the node is paused: the
     * node may have beaten all along (its lines unread, in the pipe or already in the reader's
     * buffers), or been frozen with its commands, which then ran nowhere twice. Counted, a freeze
     * between half the dead-node limit and the limit killed every running job of a node that beat again
     * at once and that no other node would have taken over (review16). So a wait that lasts more than
     * twice as long as asked moves the last beat on by the excess.
     *
     * <p>Not when both JVMs were stopped and the commands were not (asleep50: {@code kill -STOP} of the node's and
     * the watchdog's {@code java}, a debugger stopping every JVM): then nothing guarded the commands, and after the
     * dead-node limit a node on another host may have run the job beside them. So after a gap of its own of its
     * silence bound or more, the watchdog looks whether each attempt's first process used CPU time meanwhile that the
     * awake time around the gap does not explain (its {@code utime} and {@code stime} in {@code /proc/<pid>/stat}
     * moved by 20 ms more than {@link #AWAKE_STEPS} steps at the most it used in one of its last steps, and than
     * {@link #BUSY_STEPS} steps of all its threads busy on every CPU, {@link CpuLook#explains}: a command frozen
     * with the watchdog — a frozen container or VM — used CPU time only in the rest of the step before the freeze
     * and from the thaw to the look, one that ran through a gap of at least {@code silence} ≥ 8 steps used it all
     * along), and once the node says it was stopped
     * through that gap too ({@code S}, its first line on waking), kills those attempts at once, reports each
     * ({@code Z}) and says it at {@code ERROR}. A node that beat on through the gap (only the watchdog was stopped)
     * sends no {@code S}; the suspicion lapses after a silence bound.
     */
    void watch() throws InterruptedException {
        long step = Math.max(10, Math.min(250, silenceMillis / 8));
        long stepNanos = step * 1_000_000L;
        long silenceNanos = silenceMillis * 1_000_000L;
        long stepTicks = Math.max(1, (step * TICKS_PER_SECOND + 999) / 1000);
        long lastLook = System.nanoTime();
        while (true) {
            Map<String, ProcessIdentity> toKill;
            long silent;
            long asleep = 0;
            synchronized (this) {
                if (!gone) {
                    wait(step);
                }
                long now = System.nanoTime();
                long overslept = now - lastLook - stepNanos;
                if (overslept > stepNanos) {
                    lastBeat = now - (lastBeat + overslept) < 0 ? now : lastBeat + overslept;
                }
                if (now - lastLook >= silenceNanos && !gone) {
                    // A gap of this watchdog's own of its bound or more: which attempts ran on meanwhile.
                    asleepFrom = lastLook;
                    asleepUntil = now;
                    ranWhileAsleep.clear();
                    StringBuilder seen = debug ? new StringBuilder() : null;
                    for (Map.Entry<String, ProcessIdentity> e : attempts.entrySet()) {
                        CpuLook before = cpuAtLook.get(e.getKey());
                        long cpu = e.getValue() == null ? -1 : cpuTicks(e.getValue());
                        if (before != null && before.cpu >= 0 && cpu >= 0) {
                            long explained = before.explains(stepTicks, threads);
                            if (cpu - before.cpu - explained >= RAN_TICKS) {
                                ranWhileAsleep.put(e.getKey(), cpu - before.cpu);
                            }
                            if (seen != null) {
                                seen.append(seen.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
                                        .append(cpu - before.cpu).append(" tick(s), ").append(explained)
                                        .append(" explained by the awake time around it");
                            }
                        }
                    }
                    if (seen != null) {
                        err.println(String.format(Locale.ROOT, "buildhook watchdog of node %s: did not run for %.1f s;"
                                + " CPU time of the attempts' first processes meanwhile: %s; ran on: %s", node,
                                (now - lastLook) / 1e9, seen.length() == 0 ? "none measured" : seen,
                                ranWhileAsleep.isEmpty() ? "none" : String.join(", ", ranWhileAsleep.keySet())));
                    }
                }
                boolean gap = now - lastLook >= silenceNanos;
                lastLook = now;
                for (Map.Entry<String, ProcessIdentity> e : attempts.entrySet()) {
                    if (e.getValue() != null) {
                        CpuLook look = cpuAtLook.get(e.getKey());
                        if (look == null) {
                            look = new CpuLook();
                            cpuAtLook.put(e.getKey(), look);
                        }
                        if (look.next(cpuTicks(e.getValue()), now, gap, stepNanos) && debug) {
                            err.println("buildhook watchdog of node " + node + ": measures attempt " + e.getKey()
                                    + "'s first process's CPU time (" + look.peakPerStep() + " tick(s) in a step)");
                        }
                    }
                }
                toKill = null;
                silent = (now - lastBeat) / 1_000_000;
                if (!ranWhileAsleep.isEmpty()) {
                    // The node's own pause (S), read after this watchdog's gap began and covering its bound of it:
                    // both were stopped while these attempts' commands ran.
                    long overlap = Math.min(nodePauseReadAt, asleepUntil)
                            - Math.max(nodePauseReadAt - nodePausedNanos, asleepFrom);
                    if (nodePausedNanos > 0 && nodePauseReadAt - asleepFrom > 0 && overlap >= silenceNanos) {
                        toKill = new LinkedHashMap<>();
                        for (String attempt : ranWhileAsleep.keySet()) {
                            if (attempts.containsKey(attempt)) {
                                toKill.put(attempt, attempts.remove(attempt));
                                cpuAtLook.remove(attempt);
                            }
                        }
                        asleep = (asleepUntil - asleepFrom) / 1_000_000;
                        ranWhileAsleep.clear();
                    } else if (now - asleepUntil > silenceNanos) {
                        ranWhileAsleep.clear(); // No word of a pause: the node beat on, only this watchdog was stopped.
                    }
                }
                if (toKill == null || toKill.isEmpty()) {
                    toKill = null;
                    // Lines still in the pipe (this process was paused too, a frozen VM): read them first.
                    if (!gone && (silent < silenceMillis || attempts.isEmpty() || unread.getAsInt() > 0)) {
                        continue;
                    }
                    toKill = new LinkedHashMap<>(attempts);
                    attempts.clear();
                    cpuAtLook.clear();
                    ranWhileAsleep.clear();
                }
            }
            if (asleep > 0) {
                sayAtError(String.format(Locale.ROOT, "node %s (pid %d) and this watchdog were both stopped for %.1f s"
                        + " (kill -STOP of both JVMs, a debugger; not a frozen VM or container, which stops the commands"
                        + " too) while the commands of attempt(s) %s ran on unguarded; after %.1f s without heartbeats"
                        + " another node may have run these jobs at the same time meanwhile; they are killed now", node,
                        nodePid, asleep / 1000.0, String.join(", ", toKill.keySet()), limitMillis / 1000.0));
                kill(toKill, asleep, true);
                continue;
            }
            if (gone) {
                if (!toKill.isEmpty()) {
                    say("node " + node + " (pid " + nodePid + ") is gone; killing what its running jobs left");
                }
                kill(toKill, -1, false);
                return;
            }
            say(String.format(Locale.ROOT, "node %s (pid %d) gave no sign of life for %.1f s: its JVM is paused or"
                    + " stalled (SIGSTOP, a debugger, a long pause); after %.1f s without heartbeats another node may"
                    + " run its jobs again, so its %d running attempt(s) are killed now", node, nodePid, silent / 1000.0,
                    limitMillis / 1000.0, toKill.size()));
            kill(toKill, silent, false);
        }
    }

    /**
     * CPU time beyond what the awake time around a gap explains that shows an attempt ran while the watchdog was
     * stopped: 2 clock ticks (20 ms).
     */
    static final long RAN_TICKS = 2;

    /** Clock ticks per second of {@code /proc/<pid>/stat}'s CPU times (Linux's {@code USER_HZ}, 100 on every arch). */
    static final long TICKS_PER_SECOND = 100;

    /**
     * The steps of awake time around a gap whose CPU use is not counted as "ran while asleep": the rest of the step
     * before the freeze, the time from the thaw to the first look, and two for a look late on a loaded machine.
     */
    static final int AWAKE_STEPS = 4;

    /**
     * The steps of awake time around a gap in which any process may have used all its threads on every CPU, whatever
     * it used before: the rest of the step before the freeze and the time from the thaw to the first look.
     */
    static final int BUSY_STEPS = 2;

    /** The threads of the process {@link #cpuTicks} read last (its {@code num_threads}); the watch thread's only. */
    private long threads = 1;

    /**
     * The CPU time process {@code p} has used itself ({@code utime + stime} of {@code /proc/<pid>/stat}, clock
     * ticks, all its threads), or -1 when it is gone, is another process now, or cannot be read. Not its children's
     * ({@code cutime}, {@code cstime}): a child's whole CPU time is added there when it ends, whenever it was used,
     * so a child of a frozen command that ended just after the thaw would look like a command that ran through it.
     * Sets {@link #threads}.
     */
    private long cpuTicks(ProcessIdentity p) {
        int length = ProcStat.readInto("/proc/" + p.pid() + "/stat", statBuffer);
        if (length <= 0 || ProcStat.field(statBuffer, length, 22) != p.startTicks()) {
            return -1;
        }
        threads = Math.max(1, ProcStat.field(statBuffer, length, 20));
        long sum = 0;
        for (int field = 14; field <= 15; field++) {
            long ticks = ProcStat.field(statBuffer, length, field);
            if (ticks < 0) {
                return -1;
            }
            sum += ticks;
        }
        return sum;
    }

    /**
     * One attempt's first process as the watch saw it: its CPU time at the last look (clock ticks, -1 when unread)
     * and when (nanoTime), and the CPU time it used in each of its last {@link #KEPT} steps between looks, scaled
     * to one step (a look late on a loaded machine counts its longer interval as one step's share), gaps of the
     * watchdog's own of its silence bound or more left out.
     */
    static final class CpuLook {
        static final int KEPT = 8;
        /** The steps measured before its use per step is trusted (one step at a loaded moment may show little). */
        static final int MEASURED = 4;
        long cpu = -1;
        private long at;
        private final long[] perStep = new long[KEPT];
        private int steps;

        /**
         * Takes the look at {@code now}: {@code cpu} ticks, after a gap of the watchdog's own ({@code gap}) or not.
         *
         * @return whether this look measured the {@link #MEASURED}th step of this process (its use per step is known
         *         since)
         */
        boolean next(long cpuNow, long now, boolean gap, long stepNanos) {
            boolean first = false;
            if (!gap && cpu >= 0 && cpuNow >= cpu && now - at > 0) {
                perStep[steps % KEPT] = ((cpuNow - cpu) * stepNanos + (now - at) - 1) / (now - at);
                first = steps == MEASURED - 1;
                steps++;
            }
            cpu = cpuNow;
            at = now;
            return first;
        }

        /**
         * The most CPU time (ticks) it used in one step among its last {@link #KEPT}; -1 before {@link #MEASURED}
         * steps are measured.
         */
        long peakPerStep() {
            if (steps < MEASURED) {
                return -1;
            }
            long peak = -1;
            for (int i = 0; i < Math.min(steps, KEPT); i++) {
                peak = Math.max(peak, perStep[i]);
            }
            return peak;
        }

        /**
         * The CPU time (ticks) the awake time around a gap explains: {@link #AWAKE_STEPS} steps at the most it used
         * per step lately; for a process not yet measured over {@link #MEASURED} steps, all its threads busy on
         * every CPU. Never less than {@link #BUSY_STEPS} steps of all its threads busy on every CPU: a first process
         * idle lately (a shell script or {@code make} waiting for its children) may begin a burst right before the
         * freeze or at the thaw, which its history does not foretell (review52 F2).
         *
         * @param stepTicks the ticks of one step of the watch (at least 1)
         * @param threads   the process's threads now (at least 1)
         */
        long explains(long stepTicks, long threads) {
            long allBusy = Math.min(threads, Runtime.getRuntime().availableProcessors()) * stepTicks;
            long peak = peakPerStep();
            return Math.max(AWAKE_STEPS * (peak >= 0 ? peak : allBusy), BUSY_STEPS * allBusy);
        }
    }

    /** Tells the node, then SIGKILLs every process of each attempt, and says what was killed. */
    private void kill(Map<String, ProcessIdentity> toKill, long silent, boolean asleep) throws InterruptedException {
        long at = Instant.now().toEpochMilli();
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, ProcessIdentity> e : toKill.entrySet()) {
            AttemptMarker marker = markerOf(e.getKey());
            // Not one whose processes have all ended by themselves: its own outcome stands.
            if (marker != null && !Leftovers.find(marker, e.getValue()).isEmpty()) {
                lines.add((asleep ? "Z " : "K ") + e.getKey() + " " + silent + " " + at);
            } else if (marker != null && e.getValue() != null) {
                // All ended by themselves before this look (taken after it): the node, paused, sees the exit only on
                // waking, and records that it ended before this time rather than at its wake (tryout49 F1). Only for
                // an attempt whose first process the node named (P): one announced (R) but not yet forked, or forked
                // but not yet named, may start after this look, and would be said to have ended before it began
                // (review49 F6).
                lines.add("X " + e.getKey() + " " + silent + " " + Instant.now().toEpochMilli());
            }
        }
        // The report goes before the kill: the node, on waking, finds it when it sees the attempt end, and
        // records the attempt interrupted (run again) rather than failed by a SIGKILL. The writer thread is
        // already running (hello) and the task is a class, not a lambda, so nothing is linked at this moment;
        // the wait is bounded for a node that does not read (paused with a full pipe), well inside the time
        // left before another node may take the jobs over.
        Future<?> told = tell(lines);
        try {
            told.get(reportWaitMillis(limitMillis), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // The node does not read (paused with a full pipe): it learns it from the outcome instead.
        }
        for (Map.Entry<String, ProcessIdentity> e : toKill.entrySet()) {
            AttemptMarker marker = markerOf(e.getKey());
            if (marker == null) {
                continue;
            }
            List<String> killed = Leftovers.kill(marker, e.getValue(), 0);
            say("job " + e.getKey().replace("/", " attempt ") + ": " + (killed.isEmpty() ? "nothing was left to kill"
                    : "killed (SIGKILL) " + Leftovers.describe(killed)));
        }
    }

    /** Says "H" (up) to the node, on the thread that writes every report, which is thereby started. */
    void hello() throws InterruptedException {
        try {
            tell(List.of("H")).get();
        } catch (java.util.concurrent.ExecutionException e) {
            // println does not throw; a broken pipe is noticed as the end of the node's input.
        }
    }

    /** Writes {@code lines} to the node on the writer thread; a class, not a lambda, so nothing is linked then. */
    private Future<?> tell(List<String> lines) {
        return writer.submit(new Runnable() {
            @Override
            public void run() {
                for (String line : lines) {
                    out.println(line);
                }
            }
        });
    }

    /**
     * How long a kill waits for its report to be written: 1 s to 10 s, an eighth of the dead-node limit,
     * so the kill (at half the limit) still comes long before another node may take the jobs over.
     */
    static long reportWaitMillis(long limitMillis) {
        return Math.max(1_000, Math.min(limitMillis / 8, 10_000));
    }

    private static AttemptMarker markerOf(String value) {
        int slash = value.lastIndexOf('/');
        try {
            return AttemptMarker.of(value.substring(0, slash), Integer.parseInt(value.substring(slash + 1)));
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void sayAtError(String what) {
        err.println(Instant.now() + " ERROR buildhook watchdog: " + what);
        err.flush();
    }

    private void say(String what) {
        err.println(Instant.now() + " WARN buildhook watchdog: " + what);
        err.flush();
    }
}
