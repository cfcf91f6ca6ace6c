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
 * watchdog do of it?). On standard output, to the
 * node: {@code H} once it runs, {@code K <job>/<attempt> <ms without a beat, or -1 when the node is
 * gone> <epoch ms>} for each attempt it kills, queued before the signal, {@code X <job>/<attempt> <ms without a
 * beat, or -1> <epoch ms>} for each attempt named by a {@code P} whose processes had all ended by themselves when it
 * came to kill them (they ended before that time, taken after its look), and {@code A <job>/<attempt>}
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
     * @param args silence in ms (at least 1), dead-node limit in ms, node id, node pid
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 4) {
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
     */
    void watch() throws InterruptedException {
        long step = Math.max(10, Math.min(250, silenceMillis / 8));
        long stepNanos = step * 1_000_000L;
        long lastLook = System.nanoTime();
        while (true) {
            Map<String, ProcessIdentity> toKill;
            long silent;
            synchronized (this) {
                if (!gone) {
                    wait(step);
                }
                long now = System.nanoTime();
                long overslept = now - lastLook - stepNanos;
                if (overslept > stepNanos) {
                    lastBeat = now - (lastBeat + overslept) < 0 ? now : lastBeat + overslept;
                }
                lastLook = now;
                silent = (now - lastBeat) / 1_000_000;
                // Lines still in the pipe (this process was paused too, a frozen VM): read them first.
                if (!gone && (silent < silenceMillis || attempts.isEmpty() || unread.getAsInt() > 0)) {
                    continue;
                }
                toKill = new LinkedHashMap<>(attempts);
                attempts.clear();
            }
            if (gone) {
                if (!toKill.isEmpty()) {
                    say("node " + node + " (pid " + nodePid + ") is gone; killing what its running jobs left");
                }
                kill(toKill, -1);
                return;
            }
            say(String.format(Locale.ROOT, "node %s (pid %d) gave no sign of life for %.1f s: its JVM is paused or"
                    + " stalled (SIGSTOP, a debugger, a long pause); after %.1f s without heartbeats another node may"
                    + " run its jobs again, so its %d running attempt(s) are killed now", node, nodePid, silent / 1000.0,
                    limitMillis / 1000.0, toKill.size()));
            kill(toKill, silent);
        }
    }

    /** Tells the node, then SIGKILLs every process of each attempt, and says what was killed. */
    private void kill(Map<String, ProcessIdentity> toKill, long silent) throws InterruptedException {
        long at = Instant.now().toEpochMilli();
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, ProcessIdentity> e : toKill.entrySet()) {
            AttemptMarker marker = markerOf(e.getKey());
            // Not one whose processes have all ended by themselves: its own outcome stands.
            if (marker != null && !Leftovers.find(marker, e.getValue()).isEmpty()) {
                lines.add("K " + e.getKey() + " " + silent + " " + at);
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

    private void say(String what) {
        err.println(Instant.now() + " WARN buildhook watchdog: " + what);
        err.flush();
    }
}
