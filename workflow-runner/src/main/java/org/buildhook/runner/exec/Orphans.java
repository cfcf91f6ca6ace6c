package org.buildhook.runner.exec;

import com.sun.jna.LastErrorException;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
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
 * another running job started is never ended under it by the end of an unrelated job.
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

    private static volatile boolean active;
    private static boolean decided; // guarded by Orphans.class

    /**
     * The processes this runner started, pid to start time (ticks since boot): a pid counts as one of them only
     * while the process with that pid has that start time (a pid freed and used again by an orphan is the
     * orphan's). Entries of processes gone are dropped by {@link #reapAll}. No callback on the process's end:
     * {@link NativeProcess#onExit()} would start a thread per job to wait for it.
     */
    private static final Map<Long, Long> LAUNCHED = new ConcurrentHashMap<>();
    /** Starts under way, each with the time it began, in ticks since boot. */
    private static final Map<Object, Long> IN_FLIGHT = new ConcurrentHashMap<>();
    /** The running attempts, each with the start time of its program, in ticks since boot. */
    private static final Map<Object, Long> OWNERS = new ConcurrentHashMap<>();
    /**
     * Those of {@link #OWNERS} whose processes are being ended ({@link #ending}): each looks for its orphans for the
     * last times, and no longer counts as one that will end an orphan later.
     */
    private static final Set<Object> ENDING = ConcurrentHashMap.newKeySet();

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
        IN_FLIGHT.put(token, now());
        try {
            T started = start.start();
            long pid = started.pid();
            long ticks = ProcStat.startTime(pid);
            if (ticks >= 0) {
                // Else already gone and reaped (the JDK reaps at once): nothing to tell apart from an orphan.
                LAUNCHED.put(pid, ticks);
            }
            if (owner != null) {
                OWNERS.put(owner, ticks >= 0 ? ticks : IN_FLIGHT.get(token));
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

    /** The attempt has ended: orphans that only it could own are no one's now (they were ended with it). */
    static void ended(Object owner) {
        ENDING.remove(owner);
        OWNERS.remove(owner);
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
        Long launched = LAUNCHED.get(pid);
        return launched != null && launched == started;
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
    private static boolean isGone(long pid, long ticks) {
        long now = ProcStat.startTime(pid);
        return now >= 0 ? now != ticks : !Files.exists(Path.of("/proc/" + pid));
    }

    /**
     * {@link #reapAll()} for a periodic task: what goes wrong is logged once, at WARN, and does not end the task.
     */
    static void reapAllNow() {
        try {
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
    private static long now() {
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
