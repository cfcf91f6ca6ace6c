package org.buildhook.runner.exec;

import com.sun.jna.LastErrorException;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This JVM as a child subreaper (Linux {@code prctl(PR_SET_CHILD_SUBREAPER)}): a process a job leaves behind whose
 * parent exits is re-parented to this JVM instead of to PID 1 or systemd, so it is found however it detached, also
 * after leaving the job's session, clearing its environment and closing every descriptor of the job
 * ({@code setsid env -i daemon </dev/null >/dev/null 2>&1 &}), which neither the session, the
 * {@link AttemptMarker} nor the {@link JobPipes} find.
 *
 * <p>A child of this JVM that is not a process this runner started ({@link #spawn}) and not one being started right
 * now is such an <em>orphan</em>. Its ancestry is gone, so it is given to attempts by time: it may belong to any
 * attempt that was running when it started (its start time, {@code /proc/<pid>/stat} field 22, at or after the
 * start of the attempt's program). The attempt that ends last of those ends it ({@link #isOrphanOf}): a daemon that
 * another running job started is never ended under it by the end of an unrelated job. Its outcome names the other
 * jobs that ran when it started ({@link #othersRunningWhenStarted}): which of them made it cannot be told.
 *
 * <p>One handed to this JVM only after the last of those attempts ended (its parent was still exiting then, or
 * was held by a start under way, {@link #mayBeBeingSpawned}) is ended by the periodic look ({@link #reapAllNow}):
 * a child of this JVM that no running attempt could own and that started while an attempt that ended less than
 * {@link #LATE_KEPT_TICKS} ago ran (orphan31).
 *
 * <p>Orphans that exit stay zombies until this JVM reaps them: {@link #reap} waits for each such pid on its own
 * ({@code waitpid(pid, WNOHANG)}), only for children this runner did not start, never {@code waitpid(-1)}, which
 * would take the exit status of a process the JDK or {@link NativeProcess} waits for.
 *
 * <p>Off unless the system property {@value #PROPERTY} is {@code on}: {@code bin/buildhook serve} and the container
 * set it; the WAR leaves it off, as every other application of its servlet container would have its orphans
 * re-parented to the JVM, taken for jobs' and ended, its children's exit statuses taken. Where it cannot be
 * turned on (not Linux, no {@code /proc}, JNA cannot load) the log says so once, and the look is as without it.
 * Decided once per class loader, by the first launcher.
 */
final class Orphans {

    /** The system property that asks for the subreaper: {@code on}; anything else (the default) leaves it off. */
    static final String PROPERTY = "buildhook.subreaper";

    private static final Logger LOG = LoggerFactory.getLogger(Orphans.class);
    private static final int PR_SET_CHILD_SUBREAPER = 36;
    private static final long SELF = ProcessHandle.current().pid();
    /**
     * How much earlier than the moment its spawn began a child may seem to have started, in clock ticks (1 s at
     * Linux's {@code USER_HZ} of 100): {@code /proc/uptime} and the start times are both in hundredths of seconds
     * since boot, each rounded down. Generous on purpose: a child taken for one being spawned is only left for a
     * later look.
     */
    private static final long SPAWN_MARGIN_TICKS = 100;
    /**
     * How long an ended attempt still claims the orphans that started while it ran and are handed to this JVM only
     * now, in clock ticks: 5 minutes, counted from its end, or from the last time one of those was seen gone (whose
     * own children, re-parented then, may have started after the attempt's end). Kept longer while a start that
     * began before then is still under way (it holds those orphans back, {@link #mayBeBeingSpawned}).
     */
    static final long LATE_KEPT_TICKS = 5 * 60 * 100;

    private static volatile boolean active;
    private static boolean decided; // guarded by Orphans.class

    /**
     * The processes this runner started, pid to start time (ticks since boot): a pid counts as one of them only
     * while the process with that pid has that start time (a pid freed and used again by an orphan is the
     * orphan's). When the start time could not be read right after the start, the range of the start's own time
     * stands for it until a later read narrows it (review30 L1). Entries of processes gone are dropped by
     * {@link #reapAll}. No callback on the process's end: {@link NativeProcess#onExit()} would start a thread per
     * job to wait for it.
     */
    private static final Map<Long, Range> LAUNCHED = new ConcurrentHashMap<>();
    /** Starts under way, each with the time it began, in ticks since boot. */
    private static final Map<Object, Long> IN_FLIGHT = new ConcurrentHashMap<>();
    /** The running attempts, each with the start time of its program, in ticks since boot. */
    private static final Map<Object, Long> OWNERS = new ConcurrentHashMap<>();
    /**
     * Those of {@link #OWNERS} whose processes are being ended ({@link #ending}): each looks for its orphans for the
     * last times, and no longer counts as one that will end an orphan later.
     */
    private static final Set<Object> ENDING = ConcurrentHashMap.newKeySet();
    /** Attempts that ended less than {@link #LATE_KEPT_TICKS} ago, oldest first; guarded by itself. */
    private static final List<Window> ENDED = new ArrayList<>();
    /**
     * The late orphans signalled by {@link #endLate}, {@code pid:start}, with the ended attempts they were
     * claimed for: SIGTERM first, SIGKILL at the next look if still there; once gone, those attempts' windows
     * reach to that look. Touched by the periodic look only, under its own lock.
     */
    private static final Map<String, List<Window>> LATE = new HashMap<>();

    /** Ticks from {@code from} to {@code to}, both included. */
    private record Range(long from, long to) {
        boolean holds(long ticks) {
            return from <= ticks && ticks <= to;
        }
    }

    /** An ended attempt's name and the time it ran, in ticks; {@code end} moves on while its late orphans go. */
    private static final class Window {
        final String name;
        final long start;
        volatile long end;

        Window(String name, long start, long end) {
            this.name = name;
            this.start = start;
            this.end = end;
        }

        /**
         * Whether a process started at {@code ticks} started while the attempt ran: at or after its program, before
         * its end (one started in the very tick of the end may be no job's: not claimed).
         */
        boolean holds(long ticks) {
            return start <= ticks && ticks < end;
        }
    }

    private Orphans() {
    }

    /** Turns the subreaper on if {@value #PROPERTY} asks for it; the first call decides, and says so once. */
    static synchronized void decide() {
        if (decided) {
            return;
        }
        decided = true;
        if (!"on".equals(System.getProperty(PROPERTY, ""))) {
            return;
        }
        String why = turnOn();
        if (why == null) {
            active = true;
            LOG.info("processes a job leaves behind are re-parented to this server (child subreaper): they are"
                    + " ended with the last job that could have started them, however they detached");
        } else {
            LOG.info("this server is not a child subreaper ({}): a process that leaves a job's session, clears its"
                    + " environment and closes the job's descriptors is not ended with it (docs/running-jobs.md,"
                    + " \"What is contained, and what is not\")", why);
        }
    }

    /** prctl(PR_SET_CHILD_SUBREAPER, 1); null when done, else why not. */
    private static String turnOn() {
        try {
            if (!Platform.isLinux() || !ProcStat.available()) {
                return "only on Linux with /proc, this is " + System.getProperty("os.name");
            }
            return NativeSpawn.bound(() -> {
                try {
                    LibC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
                    return null;
                } catch (LastErrorException e) {
                    return "prctl failed: " + LibC.strerror(e.getErrorCode());
                }
            });
        } catch (LinkageError | RuntimeException e) {
            return "JNA could not call prctl: " + e;
        }
    }

    /** Whether this JVM is the subreaper and orphans are looked for. */
    static boolean active() {
        return active;
    }

    /** Tests only: turns the subreaper off again and forgets what it knew; the next {@link #decide()} decides. */
    static synchronized void reset() {
        if (active) {
            NativeSpawn.bound(() -> {
                LibC.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
                return null;
            });
        }
        active = false;
        decided = false;
        OWNERS.clear();
        ENDING.clear();
        LAUNCHED.clear();
        synchronized (ENDED) {
            ENDED.clear();
        }
        synchronized (LATE) {
            LATE.clear();
        }
    }

    /** Starts a process. */
    @FunctionalInterface
    interface Start<T extends Process> {
        /**
         * @return the process started
         * @throws IOException when it could not be
         */
        T start() throws IOException;
    }

    /**
     * Runs {@code start}, the only way this runner starts a process while the subreaper is on (a child this JVM
     * starts otherwise, after a job started, is taken for that job's orphan and ended with it): until it returns
     * (the command has been exec'd by then: the JDK and {@code posix_spawn} both wait for that), a new child of
     * this JVM is taken for the one being started, which holds copies of every descriptor of the JVM; then its pid
     * is remembered as this runner's while that process lives, and {@code owner}, when not null, is a running
     * attempt from the start of that process until {@link #ended}. Costs one read of {@code /proc/uptime} and one
     * of {@code /proc/<pid>/stat} per start, and only while {@link #active()}.
     *
     * @param owner the attempt the process is the program of, or null (not a job: the watchdog)
     * @return what {@code start} returned
     * @throws IOException what {@code start} threw
     */
    static <T extends Process> T spawn(Object owner, Start<T> start) throws IOException {
        if (!active) {
            return start.start();
        }
        Object token = new Object();
        long began = now();
        IN_FLIGHT.put(token, began);
        try {
            T started = start.start();
            long pid = started.pid();
            long ticks = ProcStat.startTime(pid);
            if (ticks >= 0) {
                LAUNCHED.put(pid, new Range(ticks, ticks));
            } else if (Files.exists(Path.of("/proc/" + pid))) {
                // Its stat could not be read (the JVM out of descriptors for a moment): it started during this
                // start, which a later read narrows (reapAll). Left out, it was taken for an orphan (review30 L1).
                long returned = now();
                LAUNCHED.put(pid, new Range(began - SPAWN_MARGIN_TICKS, returned > 0 ? returned : Long.MAX_VALUE));
            }
            // Else already gone and reaped (the JDK reaps at once): nothing to tell apart from an orphan.
            if (owner != null) {
                OWNERS.put(owner, ticks >= 0 ? ticks : began);
            }
            return started;
        } finally {
            // After the pid is remembered: a look that finds the start gone finds the pid.
            IN_FLIGHT.remove(token);
        }
    }

    /**
     * The processes of {@code owner} are being ended (its program exited, or it is stopped): its looks from now on are
     * its last ones, so it no longer counts, for another attempt's look, as one that will end a shared orphan later.
     * Called before its first such look ({@link ProcessTree#terminate}). Without it, two attempts ending at the same
     * moment (a superseding push cancelling several jobs, a node's stop) each left an orphan both could own to the
     * other, and neither ended it (review30).
     */
    static void ending(Object owner) {
        if (OWNERS.containsKey(owner)) {
            ENDING.add(owner);
        }
    }

    /**
     * The attempt has ended: orphans that only it could own were ended with it; one handed to this JVM only from
     * now on is ended by the periodic look ({@link #reapAllNow}), as one that started while it ran.
     */
    static void ended(Object owner) {
        Long start = OWNERS.remove(owner);
        ENDING.remove(owner);
        if (start != null && active) {
            synchronized (ENDED) {
                ENDED.add(new Window(String.valueOf(owner), start, now()));
            }
        }
    }

    /**
     * The names ({@code String.valueOf}, an attempt's job id) of the attempts other than {@code owner} that were
     * running when the orphan {@code pid} started: those still running that started at or before it, and those
     * ended since whose time holds its start. Empty when only {@code owner} could have made it, or its start time
     * cannot be read. In the order they started.
     */
    static List<String> othersRunningWhenStarted(Object owner, long pid) {
        long started = ProcStat.startTime(pid);
        if (started < 0) {
            return List.of();
        }
        Map<Long, List<String>> byStart = new java.util.TreeMap<>();
        for (Map.Entry<Object, Long> other : OWNERS.entrySet()) {
            if (other.getKey() != owner && other.getValue() <= started) {
                byStart.computeIfAbsent(other.getValue(), k -> new ArrayList<>()).add(String.valueOf(other.getKey()));
            }
        }
        synchronized (ENDED) {
            for (Window window : ENDED) {
                if (window.holds(started)) {
                    byStart.computeIfAbsent(window.start, k -> new ArrayList<>()).add(window.name);
                }
            }
        }
        Set<String> names = new LinkedHashSet<>();
        byStart.values().forEach(names::addAll);
        names.remove(String.valueOf(owner));
        return List.copyOf(names);
    }

    /**
     * Whether {@code process} is an orphan that {@code owner} must end as it ends: a child of this JVM that this
     * runner did not start and that is not being started, which started at or after {@code owner}'s program and
     * before any other attempt still running, and not being ended ({@link #ending}), that could own it. Reads its
     * start time.
     */
    static boolean isOrphanOf(Object owner, ProcStat process) {
        if (!active || process.parent() != SELF || process.pid() == SELF || process.gone()) {
            return false;
        }
        Long mine = OWNERS.get(owner);
        if (mine == null) {
            return false;
        }
        long started = ProcStat.startTime(process.pid());
        if (started < 0 || started < mine || mayBeBeingSpawnedAt(started, process.pid())) {
            return false;
        }
        for (Map.Entry<Object, Long> other : OWNERS.entrySet()) {
            if (other.getKey() != owner && other.getValue() <= started && !ENDING.contains(other.getKey())) {
                return false; // it may be that attempt's: it ends it, at its own end
            }
        }
        return true;
    }

    /**
     * Whether the child of this JVM {@code pid} may be one a start under way is creating (between its fork and its
     * exec it runs this JVM's program and holds every descriptor of the JVM); true when it cannot be told. Only
     * meaningful while {@link #active()}: only then does every start go through {@link #spawn}.
     */
    static boolean mayBeBeingSpawned(long pid) {
        long started = ProcStat.startTime(pid);
        return started < 0 || mayBeBeingSpawnedAt(started);
    }

    private static boolean mayBeBeingSpawnedAt(long startTicks) {
        for (long began : IN_FLIGHT.values()) {
            if (startTicks >= began - SPAWN_MARGIN_TICKS) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the child {@code pid}, started at {@code started}, is being started or was started by this runner.
     * Asked in this order: a start leaves {@link #IN_FLIGHT} only after its pid is in {@link #LAUNCHED}.
     */
    private static boolean mayBeBeingSpawnedAt(long started, long pid) {
        if (mayBeBeingSpawnedAt(started)) {
            return true;
        }
        Range launched = LAUNCHED.get(pid);
        return launched != null && launched.holds(started);
    }

    /**
     * Reaps those of {@code pids} that are exited orphans: zombie children of this JVM that this runner did not
     * start, one {@code waitpid(pid, WNOHANG)} each. Cheap: one read of {@code /proc/<pid>/stat} per pid.
     *
     * @return how many were reaped
     */
    static int reap(Collection<Long> pids) {
        if (!active) {
            return 0;
        }
        int reaped = 0;
        for (long pid : pids) {
            ProcStat stat = ProcStat.of(pid);
            if (stat != null && stat.state() == 'Z' && stat.parent() == SELF && reapOne(pid)) {
                reaped++;
            }
        }
        return reaped;
    }

    /** As {@link #reap(Collection)}, for every child of this JVM: one pass over {@code /proc}. */
    static int reapAll() {
        if (!active) {
            return 0;
        }
        LAUNCHED.replaceAll((pid, range) -> narrowed(pid, range));
        LAUNCHED.entrySet().removeIf(launched -> isGone(launched.getKey(), launched.getValue()));
        int reaped = 0;
        for (ProcStat stat : ProcStat.all()) {
            if (stat.state() == 'Z' && stat.parent() == SELF && reapOne(stat.pid())) {
                reaped++;
            }
        }
        return reaped;
    }

    /**
     * Whether the process this runner started as {@code pid} at {@code ticks} is gone: its pid has another start
     * time now, or no process at all. A {@code /proc/<pid>/stat} that cannot be read for a moment (the JVM out of
     * descriptors) is not taken for that: the entry dropped, the process still running was taken for an orphan,
     * ended with an unrelated attempt, and its exit status reaped from under the JDK (review30).
     */
    private static boolean isGone(long pid, Range ticks) {
        long now = ProcStat.startTime(pid);
        return now >= 0 ? !ticks.holds(now) : !Files.exists(Path.of("/proc/" + pid));
    }

    /** A range from a start whose stat was unreadable, made exact once the process there started within it. */
    private static Range narrowed(long pid, Range range) {
        if (range.from() == range.to()) {
            return range;
        }
        long now = ProcStat.startTime(pid);
        return now >= 0 && range.holds(now) ? new Range(now, now) : range;
    }

    /**
     * Ends the late orphans: children of this JVM, alive, that this runner did not start and no start under way
     * may be creating, that no running attempt could own (none started at or before them), and that started
     * while an attempt ran that has ended (less than {@link #LATE_KEPT_TICKS} ago). Such a process was handed to
     * this JVM after its attempt's last look (its parent was still exiting, or a start under way held it back
     * then). SIGTERM at the first look, SIGKILL at the next if still there; one WARN line each. A process that
     * started while no attempt ran is left alone: nothing says it is a job's.
     *
     * @return {@code "<pid> <name>"} of those signalled by this look
     */
    static List<String> endLate() {
        if (!active) {
            return List.of();
        }
        synchronized (LATE) { // one look at a time (each launcher runs one every REAP_EVERY)
            return endLate(now());
        }
    }

    private static List<String> endLate(long now) {
        List<Window> windows;
        synchronized (ENDED) {
            long oldestInFlight = IN_FLIGHT.values().stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE);
            Iterator<Window> old = ENDED.iterator();
            while (old.hasNext()) {
                Window window = old.next();
                boolean stillClaiming = LATE.values().stream().anyMatch(claimed -> claimed.contains(window));
                if (now - window.end > LATE_KEPT_TICKS && oldestInFlight > window.end + SPAWN_MARGIN_TICKS
                        && !stillClaiming) {
                    old.remove();
                }
            }
            windows = List.copyOf(ENDED);
        }
        // Those signalled before that are gone now: their children were handed over at their end, after the
        // attempt's own end perhaps; the attempt's time reaches to now for them.
        LATE.entrySet().removeIf(late -> {
            String[] key = late.getKey().split(":");
            long pid = Long.parseLong(key[0]);
            ProcStat stat = ProcStat.of(pid);
            boolean gone = stat == null || stat.gone() || ProcStat.startTime(pid) != Long.parseLong(key[1]);
            if (gone) {
                late.getValue().forEach(window -> window.end = Math.max(window.end, now));
            }
            return gone;
        });
        if (windows.isEmpty()) {
            return List.of();
        }
        List<String> signalled = new ArrayList<>();
        for (ProcStat process : ProcStat.all()) {
            if (process.parent() != SELF || process.pid() == SELF || process.gone()) {
                continue;
            }
            long started = ProcStat.startTime(process.pid());
            if (started < 0 || mayBeBeingSpawnedAt(started, process.pid())
                    || OWNERS.values().stream().anyMatch(start -> start <= started)) {
                continue; // not an orphan, or a running attempt could own it: that one ends it at its end
            }
            List<Window> claimants = windows.stream().filter(window -> window.holds(started)).toList();
            if (claimants.isEmpty()) {
                continue;
            }
            String key = process.pid() + ":" + started;
            String named = process.pid() + " " + ProcStat.name(process.pid());
            Optional<ProcessHandle> handle = ProcessHandle.of(process.pid());
            if (handle.isEmpty()) {
                continue;
            }
            if (LATE.containsKey(key)) {
                handle.get().destroyForcibly();
            } else {
                LATE.put(key, claimants);
                LOG.warn("ended {}, left behind by {}: it was handed to this server only after that job's last look"
                        + " for what it left (its parent ended later, or a process start under way held it back"
                        + " then), so the job's outcome does not name it", named,
                        describeJobs(claimants.stream().map(w -> w.name).toList()));
                handle.get().destroy();
            }
            signalled.add(named);
        }
        return signalled;
    }

    /** {@code "job A"}, {@code "job A or job B"}: the jobs that may have left a process behind. */
    private static String describeJobs(List<String> names) {
        List<String> jobs = names.stream().distinct().map(name -> "job " + name).toList();
        return jobs.size() == 1 ? jobs.get(0)
                : "one of " + String.join(", ", jobs) + " (it started while they all ran)";
    }

    /**
     * {@link #reapAll()} for a periodic task: what goes wrong is logged once, at WARN, and does not end the task.
     */
    static void reapAllNow() {
        try {
            endLate();
            reapAll();
        } catch (RuntimeException | LinkageError e) {
            if (!reapFailureSaid) {
                reapFailureSaid = true;
                LOG.warn("could not reap the exited processes handed to this server; they stay zombies", e);
            }
        }
    }

    private static volatile boolean reapFailureSaid;

    private static boolean reapOne(long pid) {
        long started = ProcStat.startTime(pid);
        if (started < 0 || mayBeBeingSpawnedAt(started, pid)) {
            return false;
        }
        return NativeSpawn.bound(() -> {
            try {
                return LibC.waitpid((int) pid, new int[1], LibC.WNOHANG) == pid;
            } catch (LastErrorException e) {
                return false; // ECHILD: reaped meanwhile
            }
        });
    }

    /** Now, in clock ticks since boot, as {@code /proc/uptime} says (hundredths of a second); 0 when unreadable. */
    static long now() {
        try {
            String uptime = new String(Files.readAllBytes(Path.of("/proc/uptime")), StandardCharsets.US_ASCII);
            String seconds = uptime.substring(0, uptime.indexOf(' '));
            int dot = seconds.indexOf('.');
            return Long.parseLong(seconds.substring(0, dot)) * 100 + Long.parseLong(seconds.substring(dot + 1));
        } catch (IOException | RuntimeException e) {
            return 0; // every child counts as one being spawned while this start is under way: never one too many ended
        }
    }
}
