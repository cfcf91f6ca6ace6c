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
 * {@link #LATE_KEPT_TICKS} ago ran (orphan31). What such a late orphan leaves as it goes (handed to this JVM then,
 * and perhaps started after the job's end) is ended as that job's too, found by the looks' parent links, never by
 * its start time alone (orphan32).
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
     * now, in clock ticks: 5 minutes, counted from its end. Kept longer while a start that began before then is still
     * under way (it holds those orphans back, {@link #mayBeBeingSpawned}). What a late orphan leaves as it goes is
     * followed by its own pid and start, not by this time ({@link #endLate}).
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
    /** The running attempts, each with the pid of its program. */
    private static final Map<Object, Long> PROGRAMS = new ConcurrentHashMap<>();
    /**
     * Programs of ended attempts still there at their end (stuck in the kernel past their SIGKILL), {@code pid:start}:
     * for the next look to follow ({@link #FOLLOWED}), for as long as they are there.
     */
    private static final Map<String, Followed> STILL_THERE = new ConcurrentHashMap<>();
    /**
     * Those of {@link #OWNERS} whose processes are being ended ({@link #ending}): each looks for its orphans for the
     * last times, and no longer counts as one that will end an orphan later.
     */
    private static final Set<Object> ENDING = ConcurrentHashMap.newKeySet();
    /** Attempts that ended less than {@link #LATE_KEPT_TICKS} ago, oldest first; guarded by itself. */
    private static final List<Window> ENDED = new ArrayList<>();
    /**
     * The processes the late look follows, {@code pid:start}: the late orphans it claimed ({@link #endLate}) and
     * every descendant of one that a look saw (they are handed to this JVM as it goes, and are that job's whenever
     * they started). Touched by the periodic look only, under its own lock.
     */
    private static final Map<String, Followed> FOLLOWED = new HashMap<>();

    /** Ticks from {@code from} to {@code to}, both included. */
    private record Range(long from, long to) {
        boolean holds(long ticks) {
            return from <= ticks && ticks <= to;
        }
    }

    /**
     * An ended attempt's name and the time it ran, in ticks; or, named so too, the time in which a process the late
     * look followed for it may have started children no look saw (from the last look that found it alive until the
     * look that found it gone).
     */
    private static final class Window {
        final String name;
        final long start;
        final long end;

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

    /** A process the late look follows: the attempts it is claimed for, and when a look last found it alive. */
    private static final class Followed {
        final List<Window> claimants;
        final long started;
        /** Ticks just before the last look after which it was still alive; its own start until one did. */
        long alive;
        /** Whether the late look sent it SIGTERM already (a child of this JVM). */
        boolean signalled;

        Followed(List<Window> claimants, long started) {
            this.claimants = claimants;
            this.started = started;
            this.alive = started;
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
        PROGRAMS.clear();
        STILL_THERE.clear();
        ENDING.clear();
        LAUNCHED.clear();
        synchronized (ENDED) {
            ENDED.clear();
        }
        synchronized (FOLLOWED) {
            FOLLOWED.clear();
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
                PROGRAMS.put(owner, pid);
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
     * now on is ended by the periodic look ({@link #reapAllNow}), as one that started while it ran. When its program
     * is still there (stuck in the kernel past its SIGKILL: a hung NFS share), the look follows it and what it has
     * for as long as it is there: what it leaves when it goes at last, maybe long after, is the attempt's.
     */
    static void ended(Object owner) {
        Long start = OWNERS.remove(owner);
        Long program = PROGRAMS.remove(owner);
        ENDING.remove(owner);
        if (start != null && active) {
            Window window = new Window(String.valueOf(owner), start, now());
            synchronized (ENDED) {
                ENDED.add(window);
            }
            ProcStat stat = program == null ? null : ProcStat.of(program);
            if (stat != null && !stat.gone() && ProcStat.startTime(program) == start) {
                // What it made before the end started in the window; from here on, the looks follow it.
                Followed stuck = new Followed(List.of(window), start);
                stuck.alive = window.end;
                STILL_THERE.put(program + ":" + start, stuck);
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
        List<String> keepers = keepersOf(owner, process);
        return keepers != null && keepers.isEmpty();
    }

    /**
     * Who ends {@code process} when {@code owner} ends: null when it is no orphan {@code owner} could own (not a
     * child of this JVM, one this runner started or is starting, one that started before {@code owner}'s program);
     * empty when {@code owner} ends it ({@link #isOrphanOf}); else the other running attempts, not being ended
     * ({@link #ending}), that could own it as well, as {@code String.valueOf} names them (an attempt's job id), in
     * the order they started: the last of them to end ends it, and {@code owner}'s outcome names it as left to them
     * (tryout48 F5: it said nothing, and the process ran on with nothing naming it until those ended). One read of
     * its start time.
     */
    static List<String> keepersOf(Object owner, ProcStat process) {
        if (!active || process.parent() != SELF || process.pid() == SELF || process.gone()) {
            return null;
        }
        Long mine = OWNERS.get(owner);
        if (mine == null) {
            return null;
        }
        long started = ProcStat.startTime(process.pid());
        if (started < 0 || started < mine || mayBeBeingSpawnedAt(started, process.pid())) {
            return null;
        }
        Map<Long, List<String>> byStart = null;
        for (Map.Entry<Object, Long> other : OWNERS.entrySet()) {
            if (other.getKey() != owner && other.getValue() <= started && !ENDING.contains(other.getKey())) {
                // It may be that attempt's: that one ends it, at its own end.
                if (byStart == null) {
                    byStart = new java.util.TreeMap<>();
                }
                byStart.computeIfAbsent(other.getValue(), k -> new ArrayList<>()).add(String.valueOf(other.getKey()));
            }
        }
        if (byStart == null) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        byStart.values().forEach(names::addAll);
        return List.copyOf(names);
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
        return active ? reapAll(ProcStat.all()) : 0;
    }

    /** As {@link #reapAll()}, with the pass over {@code /proc} already made: {@code all}. */
    private static int reapAll(List<ProcStat> all) {
        LAUNCHED.replaceAll((pid, range) -> narrowed(pid, range));
        LAUNCHED.entrySet().removeIf(launched -> isGone(launched.getKey(), launched.getValue()));
        int reaped = 0;
        for (ProcStat stat : all) {
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
     * <p>What such a process leaves as it goes is handed to this JVM then, and may have started after the job's
     * end: it is ended too, as that job's, and nothing else that started after the job's end (review31 L1). Each look
     * follows the descendants of the processes it follows (they are that job's whenever they started), and a
     * process it followed that is gone leaves to its job only the time from the last look that found it alive until
     * this look, in which it may have started a child no look saw (a child its SIGTERM's handler starts).
     *
     * @param all   the pass over {@code /proc} of this look
     * @param since ticks since boot just before that pass began
     * @return {@code "<pid> <name>"} of those signalled by this look
     */
    private static List<String> endLate(List<ProcStat> all, long since) {
        long now = now();
        Map<Long, ProcStat> byPid = new HashMap<>();
        all.forEach(process -> byPid.put(process.pid(), process));
        for (String key : STILL_THERE.keySet()) {
            Followed program = STILL_THERE.remove(key);
            if (program != null) {
                FOLLOWED.putIfAbsent(key, program);
            }
        }
        List<Window> windows;
        synchronized (ENDED) {
            // Those followed that are gone now: what they left was handed to this JVM at their end; what they
            // started since the last look that found them alive, no look saw: that time is their attempts' too.
            Iterator<Map.Entry<String, Followed>> followed = FOLLOWED.entrySet().iterator();
            while (followed.hasNext()) {
                Map.Entry<String, Followed> entry = followed.next();
                Followed process = entry.getValue();
                if (isGone(entry.getKey(), byPid)) {
                    long goneBy = Math.max(now, now()); // its end came before this (read after the pass)
                    for (Window claimant : process.claimants) {
                        ENDED.add(new Window(claimant.name, process.alive, goneBy + 1));
                    }
                    followed.remove();
                }
            }
            long oldestInFlight = IN_FLIGHT.values().stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE);
            ENDED.removeIf(window -> now - window.end > LATE_KEPT_TICKS
                    && oldestInFlight > window.end + SPAWN_MARGIN_TICKS);
            windows = List.copyOf(ENDED);
        }
        if (windows.isEmpty() && FOLLOWED.isEmpty()) {
            return List.of();
        }
        Map<String, ProcStat> claimed = new java.util.LinkedHashMap<>();
        for (ProcStat process : all) {
            if (process.parent() != SELF || process.pid() == SELF || process.gone()) {
                continue;
            }
            long started = ProcStat.startTime(process.pid());
            if (started < 0 || mayBeBeingSpawnedAt(started, process.pid())) {
                continue; // not an orphan
            }
            String key = process.pid() + ":" + started;
            if (!FOLLOWED.containsKey(key)) {
                if (OWNERS.values().stream().anyMatch(start -> start <= started)) {
                    continue; // a running attempt could own it: that one ends it at its end
                }
                List<Window> claimants = windows.stream().filter(window -> window.holds(started)).toList();
                if (claimants.isEmpty()) {
                    continue;
                }
                FOLLOWED.put(key, new Followed(claimants, started));
            }
            claimed.put(key, process);
        }
        followDescendants(all, byPid);
        if (followSessionMembers(all, byPid, claimed)) {
            followDescendants(all, byPid);
        }
        // Which of them were still alive after the pass: a child one of them had was seen as its then (one read
        // after its parent's end shows this JVM as its parent, and started any time).
        FOLLOWED.forEach((key, process) -> {
            long pid = Long.parseLong(key.substring(0, key.indexOf(':')));
            ProcStat stat = ProcStat.of(pid);
            if (stat != null && !stat.gone() && ProcStat.startTime(pid) == process.started) {
                process.alive = Math.max(process.alive, since);
            }
        });
        List<String> signalled = new ArrayList<>();
        for (Map.Entry<String, ProcStat> each : claimed.entrySet()) {
            ProcStat process = each.getValue();
            Followed late = FOLLOWED.get(each.getKey());
            // The signal goes to the process of that start only (ProcessHandle checks it): a pid used again is not.
            Optional<ProcessHandle> handle = ProcessHandle.of(process.pid());
            if (handle.isEmpty()) {
                continue; // gone meanwhile: the next look says what it left
            }
            String named = process.pid() + " " + ProcStat.name(process.pid());
            if (late.signalled) {
                handle.get().destroyForcibly();
            } else {
                late.signalled = true;
                LOG.warn("ended {}, left behind by {}: it was handed to this server only after that job's last look"
                        + " for what it left (its parent ended later, or a process start under way held it back"
                        + " then), so the job's outcome does not name it", named,
                        describeJobs(late.claimants.stream().map(w -> w.name).toList()));
                handle.get().destroy();
            }
            signalled.add(named);
        }
        return signalled;
    }

    /** Whether the followed process {@code key} ({@code pid:start}) has ended: not alive in the pass {@code byPid}. */
    private static boolean isGone(String key, Map<Long, ProcStat> byPid) {
        int colon = key.indexOf(':');
        long pid = Long.parseLong(key.substring(0, colon));
        long start = Long.parseLong(key.substring(colon + 1));
        ProcStat process = byPid.get(pid);
        if (process != null) {
            return process.gone() || ProcStat.startTime(pid) != start;
        }
        // Not in the pass: gone, unless its stat could not be read for a moment (the JVM out of descriptors).
        long now = ProcStat.startTime(pid);
        return now >= 0 ? now != start : !Files.exists(Path.of("/proc/" + pid));
    }

    /**
     * Follows, for the same attempts, every child of this JVM in the pass {@code all} that is a member of the session of
     * a process followed and there in that pass, and adds it to {@code claimed}: one a followed process put in the
     * background through a parent that exited at once ({@code (cmd &)}, a double fork) was handed to this JVM then,
     * never seen as its descendant, and may have started after the job's end and before the last look that found that
     * process alive (review32 F1). A session is joined only by birth and its id is not handed out again while a member
     * lives, so a member is a descendant of the session's leader, a process of the job (this JVM's own session, and
     * session 0 or 1, are never taken). Returns whether any was added.
     */
    private static boolean followSessionMembers(List<ProcStat> all, Map<Long, ProcStat> byPid,
            Map<String, ProcStat> claimed) {
        ProcStat self = byPid.get(SELF);
        if (self == null) {
            return false; // this JVM's own session unknown: none is taken
        }
        long ownSession = self.session();
        Map<Long, List<Window>> sessions = new HashMap<>();
        FOLLOWED.forEach((key, process) -> {
            int colon = key.indexOf(':');
            long pid = Long.parseLong(key.substring(0, colon));
            ProcStat stat = byPid.get(pid);
            if (stat != null && !stat.gone() && stat.session() > 1 && stat.session() != ownSession
                    && ProcStat.startTime(pid) == process.started) {
                sessions.putIfAbsent(stat.session(), process.claimants);
            }
        });
        if (sessions.isEmpty()) {
            return false;
        }
        boolean added = false;
        for (ProcStat process : all) {
            List<Window> claimants = sessions.get(process.session());
            if (claimants == null || process.parent() != SELF || process.pid() == SELF || process.gone()) {
                continue;
            }
            long started = ProcStat.startTime(process.pid());
            if (started < 0 || mayBeBeingSpawnedAt(started, process.pid())) {
                continue;
            }
            String key = process.pid() + ":" + started;
            if (!FOLLOWED.containsKey(key)) {
                FOLLOWED.put(key, new Followed(claimants, started));
                added = true;
            }
            claimed.putIfAbsent(key, process);
        }
        return added;
    }

    /**
     * Follows every descendant, in the pass {@code all}, of a process followed, for the same attempts: once its
     * parent goes it is handed to this JVM, and it is that job's whenever it started.
     */
    private static void followDescendants(List<ProcStat> all, Map<Long, ProcStat> byPid) {
        Map<Long, List<Long>> children = new HashMap<>();
        for (ProcStat process : all) {
            children.computeIfAbsent(process.parent(), p -> new ArrayList<>(2)).add(process.pid());
        }
        List<Map.Entry<Long, Followed>> todo = new ArrayList<>();
        FOLLOWED.forEach((key, process) -> {
            long pid = Long.parseLong(key.substring(0, key.indexOf(':')));
            if (byPid.containsKey(pid) && children.containsKey(pid)) {
                todo.add(Map.entry(pid, process));
            }
        });
        while (!todo.isEmpty()) {
            Map.Entry<Long, Followed> parent = todo.remove(todo.size() - 1);
            for (long child : children.getOrDefault(parent.getKey(), List.of())) {
                long started = ProcStat.startTime(child);
                if (child == SELF || started < 0) {
                    continue;
                }
                String key = child + ":" + started;
                if (!FOLLOWED.containsKey(key)) {
                    Followed descendant = new Followed(parent.getValue().claimants, started);
                    FOLLOWED.put(key, descendant);
                    todo.add(Map.entry(child, descendant));
                }
            }
        }
    }

    /** {@code "job A"}, {@code "job A or job B"}: the jobs that may have left a process behind. */
    private static String describeJobs(List<String> names) {
        List<String> jobs = names.stream().distinct().map(name -> "job " + name).toList();
        return jobs.size() == 1 ? jobs.get(0)
                : "one of " + String.join(", ", jobs) + " (it started while they all ran)";
    }

    /**
     * The periodic look: {@link #endLate} then {@link #reapAll()}, on one pass over {@code /proc}, for a periodic
     * task; what goes wrong is logged once, at WARN, and does not end the task. One look at a time.
     */
    static void reapAllNow() {
        if (!active) {
            return;
        }
        try {
            synchronized (FOLLOWED) { // one look at a time (each launcher runs one every REAP_EVERY)
                long since = now();
                List<ProcStat> all = ProcStat.all(); // one pass for both
                endLate(all, since);
                reapAll(all);
            }
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

    /** What {@link #now()} reads of {@code /proc/uptime}: {@code "<seconds>.<hundredths> <idle seconds>"}. */
    private static final int UPTIME_BUFFER = 128;

    /** Now, in clock ticks since boot, as {@code /proc/uptime} says (hundredths of a second); 0 when unreadable. */
    static long now() {
        try {
            // Into a buffer of its own size: readAllBytes allocated 8 KiB, twice per job (docs/BENCHMARKS.md,
            // "Twenty-sixth pass"). The line is two numbers of seconds, each far below 64 characters.
            byte[] line = new byte[UPTIME_BUFFER];
            int length = ProcStat.readInto("/proc/uptime", line);
            if (length < 0) {
                return 0;
            }
            String uptime = new String(line, 0, length, StandardCharsets.US_ASCII);
            String seconds = uptime.substring(0, uptime.indexOf(' '));
            int dot = seconds.indexOf('.');
            return Long.parseLong(seconds.substring(0, dot)) * 100 + Long.parseLong(seconds.substring(dot + 1));
        } catch (RuntimeException e) {
            return 0; // every child counts as one being spawned while this start is under way: never one too many ended
        }
    }
}
