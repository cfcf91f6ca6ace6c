package org.buildhook.runner.exec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The processes one job started, and how to end them all.
 *
 * <p>Members are the root, its descendants, and (on Linux) every process in a session that the
 * job started: when the launcher runs the command through {@code setsid}, a child that double
 * forks or is re-parented to init still carries the job's session id and is found through
 * {@code /proc}. The snapshot is always taken before any signal, since a dead parent's children
 * are no longer its descendants.
 *
 * <p>A look costs one pass over {@code /proc} ({@link ProcStat#all()}), which yields parents and
 * sessions at once. Once the root is gone — the usual look, for leftovers after a job ended by
 * itself — only the pids handed out since the root are read ({@link ProcStat#since}), so a
 * finished job costs about as much as it forked, not as many processes as the host runs; and none
 * at all when the job has no session of its own (nothing else could be found then: the root's
 * children were re-parented when it exited).
 *
 * <p>A process that left the session is still found by the attempt's marker in its environment, or, when it
 * cleared that too ({@code setsid env -i …}), by holding one of the attempt's pipes ({@link JobPipes}): the same
 * candidates are looked at for both (those forked after the root, in sessions made after it), so the look stays
 * one pass over {@code /proc}, plus the descriptors of those few candidates; not those of a candidate in the session
 * of another attempt's program that runs in this JVM, which is that attempt's ({@link #running}).
 *
 * <p>A zombie counts as gone: it has exited and only waits for its parent (or init) to reap it.
 * {@link ProcessHandle#isAlive()} reports zombies as alive, and under an init that never reaps
 * (some containers) they stay, so liveness is read from {@code /proc/<pid>/stat} when it exists.
 */
final class ProcessTree {

    private static final Duration POLL = Duration.ofMillis(50);
    private static final Duration AFTER_KILL = Duration.ofSeconds(10);
    /** Beyond this many pids handed out since the root, a full pass is cheaper than trying each. */
    private static final int SINCE_LIMIT = 20_000;
    private static final boolean PROC = ProcStat.available();
    private static final long SELF = ProcessHandle.current().pid();
    private static final long OWN_SESSION = sessionOf(SELF);

    /**
     * The programs of the attempts running in this JVM, pid to start time in clock ticks since boot
     * ({@link #running}): the sessions they lead are theirs, and a look for another attempt's leftovers reads no
     * descriptors of their members ({@link #inAnotherAttemptsSession}).
     */
    private static final Map<Long, Long> PROGRAMS = new ConcurrentHashMap<>();

    /**
     * Tests only: run with the root between the first look for members and the first signals, where the
     * program may exit by itself; null otherwise.
     */
    static volatile Consumer<ProcessHandle> afterFirstLook;

    /**
     * Tests only: run with the processes the SIGKILL rounds of a stop killed, before their names are put into its
     * outcome; null otherwise.
     */
    static volatile Consumer<Set<ProcessHandle>> afterKillRounds;

    private final ProcessHandle root;
    private final AttemptMarker marker;
    /** Whether the root leads a session of its own: then every process of the attempt is in a session made after it. */
    private final boolean ownSession;
    private final Set<Long> sessions = new HashSet<>();
    /**
     * Of {@link #sessions} other than the root's, the start time of its leader when it was remembered (clock ticks,
     * -1 when the leader was gone then): a leader there now with another start time is another process that got the
     * pid after the counter went round and made a session of that id, which Linux allows only once every process of
     * the attempt's session has gone (review50b R5).
     */
    private final Map<Long, Long> sessionLeaders = new HashMap<>();
    /** Pids found only through the marker or the pipes: they had left the tree and its sessions. */
    private final Set<Long> escaped = new LinkedHashSet<>();
    /** Of those, the ones found only by holding one of the attempt's pipes (they had cleared the marker too). */
    private final Set<Long> byPipe = new HashSet<>();
    /** The attempt's pipes, {@code pipe:[<inode>]}; empty when unknown. */
    private final Set<String> pipes;
    /** The attempt, for {@link Orphans}; null for none. */
    private final Object owner;
    /** The attempt's cgroup ({@link AttemptCgroups}): every process in it is the attempt's; null for none. */
    private final java.nio.file.Path cgroup;
    /**
     * Of the escaped, the orphans: re-parented to this JVM, found by {@link Orphans#isOrphanOf}; each with the other
     * attempts that ran when it started ({@link Orphans#othersRunningWhenStarted}), any of which may have made it.
     */
    private final Map<Long, List<String>> orphans = new HashMap<>();
    /**
     * The orphans this attempt's looks left to other running attempts that could own them too ({@link Orphans#keepersOf}),
     * {@code "<pid> <name>"} to those attempts' names: the last of them to end ends each; this attempt's outcome names
     * them ({@link Termination#describeLeft}).
     */
    private final Map<Long, Map.Entry<String, List<String>>> leftToOthers = new java.util.LinkedHashMap<>();
    /**
     * {@link ProcStat#pidWraps} when the tree was made: a later value means the pid counter went round since the root
     * started, so a process of the attempt may have a lower pid than the root's (escape50 F2).
     */
    private final long wrapsAtStart = PROC ? ProcStat.pidWraps() : 0;
    /** Whether the pid counter was already below the root's pid when the tree was made: it went round since. */
    private final boolean wrappedAtStart;
    /** The root's start time (clock ticks since boot, {@link ProcStat#startTime}); -1 until told, or unknown. */
    private long rootStartTicks = -1; // guarded by this

    /**
     * @param root       the process the launcher started
     * @param ownSession whether root was started through setsid: its pid is then the id of the
     *                   job's session, known before setsid has even run (reading it from /proc
     *                   now could still show the server's session)
     * @param marker     the variable every process of the attempt inherits, or null to look by
     *                   tree and session only
     */
    ProcessTree(ProcessHandle root, boolean ownSession, AttemptMarker marker) {
        this(root, ownSession, marker, Set.of());
    }

    /**
     * As {@link #ProcessTree(ProcessHandle, boolean, AttemptMarker)}, also finding a process that left the session
     * and cleared its environment but holds one of {@code pipes}.
     *
     * @param pipes the attempt's stdin and output pipes as {@code /proc/<pid>/fd} names them
     *              ({@code pipe:[<inode>]}, {@link JobPipes}); empty to not look at descriptors
     */
    ProcessTree(ProcessHandle root, boolean ownSession, AttemptMarker marker, Set<String> pipes) {
        this(root, ownSession, marker, pipes, null);
    }

    /**
     * As {@link #ProcessTree(ProcessHandle, boolean, AttemptMarker, Set)}, also finding, while this JVM is a child
     * subreaper ({@link Orphans}), the orphans that {@code owner} is the last running attempt that could own.
     *
     * @param owner the attempt whose program {@code root} is, as {@link Orphans#spawn} was told; null for none
     */
    ProcessTree(ProcessHandle root, boolean ownSession, AttemptMarker marker, Set<String> pipes, Object owner) {
        this(root, ownSession, marker, pipes, owner, null);
    }

    /**
     * As {@link #ProcessTree(ProcessHandle, boolean, AttemptMarker, Set, Object)}, also finding every process in the
     * attempt's cgroup, however it detached ({@link AttemptCgroups}).
     *
     * @param cgroup the attempt's cgroup, into which root was moved right after its creation; null for none
     */
    ProcessTree(ProcessHandle root, boolean ownSession, AttemptMarker marker, Set<String> pipes, Object owner,
            java.nio.file.Path cgroup) {
        this.cgroup = cgroup;
        this.owner = owner;
        this.pipes = Set.copyOf(pipes);
        this.root = root;
        this.marker = marker;
        this.ownSession = ownSession;
        this.wrappedAtStart = PROC && ProcStat.lastPid() < root.pid();
        if (ownSession) {
            // Its session is its pid; the session read now could only be that, or the server's own
            // (setsid not run yet), which is never remembered: one /proc read per job saved.
            sessions.add(root.pid());
        } else {
            remember(sessionOf(root.pid()));
        }
    }

    /**
     * How a termination went.
     *
     * @param signalled how many processes got the first signal
     * @param killed    whether some needed SIGKILL
     * @param escaped   {@code "<pid> <name>"} of those found only by the attempt's marker, or by one of its
     *                  pipes ({@code "<pid> <name> (holding the job's pipe)"}): they had left the job's tree
     *                  and session (a daemon that called setsid)
     * @param rootSignalled whether the root itself got the first signal: false when it had exited by itself
     *                  before (its exit status is then its own, whatever the signals did to what it left)
     * @param leftToOthers {@code "<pid> <name> (job A)"} ({@code "(job A or job B)"}) of the detached processes this
     *                  job's end left running because a job still running could have started them as well
     *                  ({@link Orphans#keepersOf}): the last of those jobs to end ends each
     */
    record Termination(int signalled, boolean killed, List<String> escaped, boolean rootSignalled,
            List<String> leftToOthers) {
        Termination {
            escaped = List.copyOf(escaped);
            leftToOthers = List.copyOf(leftToOthers);
        }

        /** As the canonical constructor, with nothing left to other running jobs. */
        Termination(int signalled, boolean killed, List<String> escaped, boolean rootSignalled) {
            this(signalled, killed, escaped, rootSignalled, List.of());
        }

        /** Nothing was left to signal. */
        static Termination none() {
            return new Termination(0, false, List.of(), false);
        }

        /** This termination with {@code left} as {@link #leftToOthers}. */
        Termination leaving(List<String> left) {
            return left.isEmpty() ? this : new Termination(signalled, killed, escaped, rootSignalled, left);
        }

        /**
         * {@code "; 1 detached process(es) left running for other jobs that may have started them (the last of those
         * jobs to end ends each): 4242 sleep (job A)"}, or empty when none was: what this job's end did not end because
         * a job still running could have started it as well.
         */
        String describeLeft() {
            return leftToOthers.isEmpty() ? "" : "; " + leftToOthers.size() + " detached process(es) left running for"
                    + " other jobs that may have started them (the last of those jobs to end ends each): "
                    + String.join(", ", leftToOthers);
        }

        /** {@code " (1 had left the job's session: 4242 sleep)"}, or empty when none had. */
        String describeEscaped() {
            return escaped.isEmpty() ? "" : " (" + escaped.size() + " had left the job's session: "
                    + Leftovers.describe(escaped) + ")";
        }
    }

    /**
     * The root's start time, read by the launcher right after its start ({@link ProcessIdentity#startTicks}): a
     * process of the attempt started at it or later. With it, a process in one of the attempt's sessions that started
     * before the root is not taken for the attempt's (a pid reused as a session's id after the pid counter went round:
     * review50b R5), and after a wrap only processes started since the root are read for the marker and the pipes.
     *
     * @param ticks clock ticks since boot; negative when unknown (nothing is then checked)
     */
    synchronized void rootStarted(long ticks) {
        rootStartTicks = ticks;
    }

    /**
     * The remembered sessions whose leader now is another process than when remembered (its start time differs): the
     * pid was handed out again after the counter went round, and that session is not the attempt's.
     */
    private Set<Long> reusedSessions(boolean rootAlive) {
        Set<Long> reused = new HashSet<>(2);
        for (long session : sessions) {
            long then = session != root.pid() ? sessionLeaders.getOrDefault(session, -1L)
                    : rootAlive ? -1 : rootStartTicks;
            if (then >= 0) {
                long now = ProcStat.startTime(session);
                if (now >= 0 && now != then) {
                    reused.add(session);
                }
            }
        }
        return reused;
    }

    /** Whether {@code pid} started before the root (so cannot be the attempt's); false when either is unknown. */
    private boolean startedBeforeRoot(long pid) {
        if (rootStartTicks < 0) {
            return false;
        }
        long started = ProcStat.startTime(pid);
        return started >= 0 && started < rootStartTicks;
    }

    /**
     * The live members now: the root, its descendants, the members of the job's sessions, and
     * every process that carries the attempt's marker.
     */
    synchronized Set<ProcessHandle> members() {
        boolean rootAlive = !isGone(root.pid()) && root.isAlive();
        if (!PROC) {
            return rootAlive ? withoutProc() : Set.of();
        }
        if (!rootAlive && sessions.isEmpty() && marker == null && pipes.isEmpty() && cgroup == null) {
            return Set.of();
        }
        // Once the root is gone only its sessions are looked for, and their members were all forked
        // after the root: the pids handed out since it are enough, and far fewer than all; not after the
        // pid counter went round, when they may have any pid (escape50 F2: they were left running).
        boolean wrapped = wrappedAtStart || ProcStat.pidWraps() != wrapsAtStart || ProcStat.lastPid() < root.pid();
        List<ProcStat> since = rootAlive || wrapped ? null : ProcStat.since(root.pid(), SINCE_LIMIT);
        List<ProcStat> all = since != null ? since : ProcStat.all();
        Set<Long> pids = new LinkedHashSet<>();
        if (rootAlive) {
            pids.add(root.pid());
            descendants(root.pid(), all, pids);
            for (ProcStat process : all) {
                if (pids.contains(process.pid())) {
                    remember(process.session());
                }
            }
        }
        Set<Long> reused = reusedSessions(rootAlive);
        for (ProcStat process : all) {
            if (sessions.contains(process.session()) && !reused.contains(process.session()) && !process.gone()
                    && (since == null || ProcStat.isProcess(process.pid())) && !pids.contains(process.pid())
                    && !startedBeforeRoot(process.pid())) {
                pids.add(process.pid());
            }
        }
        Map<Long, Boolean> checked = new HashMap<>(4);
        if (marker != null || !pipes.isEmpty()) {
            // A process that left the session is still the attempt's if it carries the marker. It
            // was forked after the root: with pids not wrapped since, only those above it are read.
            // When the root led its own session, so was the session such a process is in (made by
            // setsid in a process of the attempt): only those in sessions above the root are read
            // (reading the environment of every other process of the host started since, after
            // every job, cost more than the rest of the look). Without, it may still be in this
            // JVM's own, older session. One that cleared its environment too is the attempt's if it
            // holds one of its pipes (escape27 F1): the same candidates, their descriptors read when
            // the marker is not there. Whether a pid found is a process, not a thread of one (a pid of
            // the range may be a thread's, and carries its process's environment and descriptors), is
            // asked last, of those found only: most candidates are other jobs' processes, and that
            // question reads a whole /proc/<pid>/status (asked of every candidate, it cost the job
            // threads 6 %: docs/BENCHMARKS.md, "Twenty-second pass").
            for (ProcStat process : all) {
                if (!pids.contains(process.pid()) && !process.gone()
                        && (wrapped || process.pid() > root.pid()
                                && (!ownSession || process.session() > root.pid()))
                        && process.pid() != SELF && !(wrapped && startedBeforeRoot(process.pid()))) {
                    // After a wrap every process is a candidate: one started before the root is not read further.
                    boolean marked = marker != null && marker.isCarriedBy(process.pid());
                    if (!marked && inAnotherAttemptsSession(process.session(), checked)) {
                        // Another running attempt's program, or a process born in its session: not this
                        // attempt's, whatever pipe it holds; its descriptors are not read (scan33).
                        continue;
                    }
                    // A child of this JVM still being spawned holds every pipe of the JVM: it is not found by one.
                    if ((marked || !JobPipes.beingSpawnedBy(SELF, process) && JobPipes.heldBy(process.pid(), pipes))
                            && (since == null || ProcStat.isProcess(process.pid()))) {
                        pids.add(process.pid());
                        escaped.add(process.pid());
                        if (!marked) {
                            byPipe.add(process.pid());
                        }
                    }
                }
            }
        }
        if (owner != null && Orphans.active()) {
            // Re-parented to this JVM, the subreaper: found however it detached (Orphans). Its pid is above the
            // root's like every process of the attempt, so the pids handed out since the root hold it as well.
            // Where attempts have cgroups, an orphan's cgroup says whose it is: no longer given to attempts by time.
            Set<Long> mine = cgroup == null ? Set.of() : new HashSet<>(AttemptCgroups.members(cgroup));
            for (ProcStat process : all) {
                if (pids.contains(process.pid()) || process.parent() != SELF
                        || inAnotherAttemptsSession(process.session(), checked)
                        || !mine.contains(process.pid()) && AttemptCgroups.inAnotherAttempts(process.pid(), cgroup)) {
                    // In another running attempt's session or cgroup: that one's (its looks find it there), never
                    // this one's, nor one this one may have started (review48 F4, tryout53 F1: it was named as left
                    // to that job, and as perhaps that job's by this one's outcome).
                    continue;
                }
                if (mine.contains(process.pid())) {
                    // In this attempt's cgroup: this one's, whichever other attempts ran when it started.
                    if (since == null || ProcStat.isProcess(process.pid())) {
                        pids.add(process.pid());
                        escaped.add(process.pid());
                        orphans.put(process.pid(), List.of());
                        leftToOthers.remove(process.pid());
                    }
                    continue;
                }
                List<String> keepers = Orphans.keepersOf(owner, process);
                if (keepers == null || !(since == null || ProcStat.isProcess(process.pid()))) {
                    continue;
                }
                if (keepers.isEmpty()) {
                    pids.add(process.pid());
                    escaped.add(process.pid());
                    orphans.put(process.pid(), Orphans.othersRunningWhenStarted(owner, process.pid()));
                    leftToOthers.remove(process.pid());
                } else if (!orphans.containsKey(process.pid()) && !carriesTheMarkerOfOneOf(keepers, process.pid())) {
                    // Another running attempt could own it as well: that one ends it; this one's outcome says so.
                    leftToOthers.put(process.pid(),
                            Map.entry(process.pid() + " " + ProcStat.name(process.pid()), keepers));
                }
            }
        }
        // In the attempt's cgroup: the attempt's, whatever it left (its session, its environment, its descriptors),
        // and never another's. Read after the other looks, which say more of how a process detached (an orphan's
        // note); one found by them is not named twice. An orphan another running attempt could have started is this
        // one's all the same when it is in this one's cgroup: ended with it, not left to the other.
        Set<Long> inCgroup = new LinkedHashSet<>();
        for (long pid : AttemptCgroups.members(cgroup)) {
            if (pid != SELF && !pids.contains(pid)) {
                pids.add(pid);
                escaped.add(pid);
                inCgroup.add(pid);
                leftToOthers.remove(pid);
            }
        }
        Set<ProcessHandle> found = new LinkedHashSet<>();
        for (ProcStat process : all) {
            if (pids.contains(process.pid()) && !process.gone()) {
                if (process.pid() == root.pid()) {
                    found.add(root);
                } else {
                    ProcessHandle.of(process.pid()).ifPresent(found::add);
                }
                inCgroup.remove(process.pid());
            }
        }
        for (long pid : inCgroup) {
            // Not among those read (the pids since the root): a member all the same.
            if (!isGone(pid)) {
                ProcessHandle.of(pid).ifPresent(found::add);
            }
        }
        return found;
    }

    /**
     * {@code program}, just started by this JVM as an attempt's program, is running until {@link #notRunning}: a
     * process in the session it leads is not looked at by the pipes of another attempt. Call once its identity was
     * read right after its start (while it is this JVM's unreaped child its pid is its own).
     *
     * @param program the program's pid and start time; ignored when null or its start time is unknown
     */
    static void running(ProcessIdentity program) {
        if (program != null && program.startTicks() >= 0) {
            PROGRAMS.put(program.pid(), program.startTicks());
        }
    }

    /** The attempt whose program {@code program} was ({@link #running}) has ended; null is ignored. */
    static void notRunning(ProcessIdentity program) {
        if (program != null) {
            PROGRAMS.remove(program.pid(), program.startTicks());
        }
    }

    /**
     * Whether {@code session}, the session a candidate of this look was in when the pass read it, is led by the
     * program of another attempt running in this JVM ({@link #running}), that program still there now, after that
     * read (pid and start time as registered; one read of its {@code /proc/<pid>/stat} per look, kept in
     * {@code checked}). Then the candidate is that attempt's, never this one's: a session's id is the pid of the
     * process that made it with {@code setsid}, and Linux hands that pid to no other process while the session
     * has a member; that program held the pid from its start to now, so it made the session, and a process joins a
     * session only by being born in it (or made it): the candidate descends from that program, which this JVM
     * started, and not from this attempt's. The candidate's marker is read before this is asked: one carrying this
     * attempt's marker is still this attempt's.
     */
    private boolean inAnotherAttemptsSession(long session, Map<Long, Boolean> checked) {
        if (session == root.pid() || session <= 1) {
            return false;
        }
        Long started = PROGRAMS.get(session);
        if (started == null) {
            return false;
        }
        return checked.computeIfAbsent(session, program -> ProcStat.startTime(program) == started);
    }

    /**
     * Whether process {@code pid} carries the marker of one of the attempts {@code keepers} names (their job ids):
     * then it is that attempt's, which finds it by its marker and ends it, and this attempt's outcome does not name it
     * as one it may have started (review48 F4). One read of its environment.
     */
    private static boolean carriesTheMarkerOfOneOf(List<String> keepers, long pid) {
        String job = AttemptMarker.jobOf(pid);
        return job != null && keepers.contains(job);
    }

    /** Adds the descendants of {@code parent}, as the pass saw them, to {@code into}. */
    private static void descendants(long parent, List<ProcStat> all, Set<Long> into) {
        Map<Long, List<Long>> children = new HashMap<>();
        for (ProcStat process : all) {
            children.computeIfAbsent(process.parent(), p -> new ArrayList<>(2)).add(process.pid());
        }
        List<Long> todo = new ArrayList<>(List.of(parent));
        while (!todo.isEmpty()) {
            for (long child : children.getOrDefault(todo.remove(todo.size() - 1), List.of())) {
                if (into.add(child)) {
                    todo.add(child);
                }
            }
        }
    }

    /** Without /proc there are no sessions to look at: the root and its descendants. */
    private Set<ProcessHandle> withoutProc() {
        Set<ProcessHandle> found = new LinkedHashSet<>();
        found.add(root);
        root.descendants().forEach(found::add);
        found.removeIf(p -> !p.isAlive());
        return found;
    }

    /**
     * SIGTERM to every member; as soon as they are all gone, a fresh look for members (whatever
     * forked meanwhile), which get SIGTERM too and what is left of the grace period, and so on; once
     * the grace period is over, a fresh look and SIGKILL to those, then to what each fresh look finds
     * new, until a look finds none ({@link KillRounds}); completes once all are gone, or gives up ten
     * seconds after the SIGKILL (a process stuck in the kernel). When the first look
     * finds no member there is no second one: a process that is not alive cannot fork.
     */
    CompletableFuture<Termination> terminate(Duration grace, ScheduledExecutorService scheduler) {
        return terminate(grace, scheduler, rootSignalled -> { });
    }

    /**
     * As {@link #terminate(Duration, ScheduledExecutorService)}; {@code beforeSignals} runs only when something
     * is left to signal, told whether the root is among it.
     */
    CompletableFuture<Termination> terminate(Duration grace, ScheduledExecutorService scheduler,
            Consumer<Boolean> beforeSignals) {
        if (owner != null) {
            // Its last looks for orphans: another attempt ending meanwhile no longer leaves them to this one (Orphans).
            Orphans.ending(owner);
        }
        Set<ProcessHandle> first = new LinkedHashSet<>(members());
        if (first.isEmpty()) {
            return CompletableFuture.completedFuture(Termination.none().leaving(leftToOthers()));
        }
        Consumer<ProcessHandle> seam = afterFirstLook;
        if (seam != null) {
            seam.accept(root);
        }
        // The root looked at again just before the signals: the look above (a pass over /proc) takes
        // milliseconds, in which a program may exit by itself. Signalled as a zombie, it was said to be
        // killed although its own exit status, 0, was known and its log showed its last line (tryout22 F6).
        boolean rootSignalled = first.contains(root) && !isGone(root.pid());
        if (!rootSignalled && first.remove(root) && first.isEmpty()) {
            return CompletableFuture.completedFuture(Termination.none().leaving(leftToOthers()));
        }
        beforeSignals.accept(rootSignalled);
        List<String> named = names(first);
        if (grace.isZero()) {
            first.forEach(ProcessHandle::destroyForcibly);
        } else {
            first.forEach(ProcessHandle::destroy);
        }
        long deadline = System.nanoTime() + grace.toNanos();
        Set<Long> signalled = new HashSet<>();
        first.forEach(p -> signalled.add(p.pid()));
        return termUntilGone(first, deadline, signalled, named, scheduler).thenCompose(ignored -> {
            Set<ProcessHandle> left = members();
            if (left.isEmpty()) {
                Orphans.reap(signalled);
                return CompletableFuture.completedFuture(new Termination(signalled.size(), grace.isZero(), named,
                        rootSignalled, leftToOthers()));
            }
            // SIGKILL, then a fresh look and SIGKILL to what is new, until a look finds none: a parent that ignores
            // SIGTERM forks between the look and its SIGKILL, and that child ran on (review55b F3).
            // Each named before its SIGKILL: one reaped at once (by a parent of its own) was named "<pid> ?" after
            // it, a second time as the one SIGTERM named (review56 F4).
            Map<Long, String> called = new HashMap<>();
            KillRounds.Result<ProcessHandle> rounds = KillRounds.kill(left, this::members,
                    round -> round.forEach(p -> called.put(p.pid(), ProcStat.name(p.pid()))));
            Set<ProcessHandle> killed = rounds.killed();
            Consumer<Set<ProcessHandle>> killSeam = afterKillRounds;
            if (killSeam != null) {
                killSeam.accept(killed);
            }
            List<String> more = new ArrayList<>(named);
            Set<String> pids = new HashSet<>();
            named.forEach(name -> pids.add(name.substring(0, name.indexOf(' '))));
            for (String name : names(killed, called::get)) {
                if (pids.add(name.substring(0, name.indexOf(' ')))) { // else named with its SIGTERM
                    more.add(name);
                }
            }
            if (!rounds.stillFound().isEmpty()) {
                warnStillForking(rounds, called);
            }
            return whenGone(killed, AFTER_KILL, scheduler).thenApply(gone -> {
                // What was re-parented to this JVM, the subreaper, is a zombie until reaped here.
                Set<Long> ended = new HashSet<>(signalled);
                killed.forEach(p -> ended.add(p.pid()));
                Orphans.reap(ended);
                return new Termination(signalled.size(), true, more.stream().distinct().toList(), rootSignalled,
                        leftToOthers());
            });
        });
    }

    /**
     * The SIGKILL rounds did not converge (a fork bomb): said at WARN with what the last look still found. The logger
     * is named here only, never in a static field: {@link Leftovers}, which the watchdog's JVM runs without slf4j on
     * its class path, uses this class.
     */
    private void warnStillForking(KillRounds.Result<ProcessHandle> rounds, Map<Long, String> called) {
        List<String> found = new ArrayList<>();
        rounds.stillFound().forEach(p -> found.add(p.pid() + " " + called.get(p.pid())));
        org.slf4j.LoggerFactory.getLogger(ProcessTree.class).warn("the processes of {} kept forking through {} rounds"
                + " of SIGKILL ({} killed); the last look still found new ones [{}], killed as well, but what they"
                + " forked meanwhile may still run. Attempts' cgroups (docs/running-jobs.md) end such a tree at once",
                marker == null ? "the job started as pid " + root.pid() : marker, rounds.rounds(),
                rounds.killed().size(), Leftovers.describe(found));
    }

    /**
     * Waits until {@code current} are gone or the deadline passed; when they went before it, looks
     * again and gives what forked meanwhile SIGTERM and the rest of the grace period. Such a process
     * (a script's next command, started between the look and the signal) got SIGKILL at once, and the
     * attempt was said to be "terminated (SIGKILL after the 10s grace period)" within a second of its
     * timeout (tryout15 F6). Completes when nothing is left, or at the deadline.
     */
    private CompletableFuture<Void> termUntilGone(Set<ProcessHandle> current, long deadline, Set<Long> signalled,
            List<String> named, ScheduledExecutorService scheduler) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return whenGone(current, Duration.ofNanos(left), scheduler).thenCompose(allGone -> {
            if (!allGone || deadline - System.nanoTime() <= 0) {
                return CompletableFuture.completedFuture(null);
            }
            Set<ProcessHandle> forked = new LinkedHashSet<>(members());
            forked.removeIf(p -> signalled.contains(p.pid()));
            if (forked.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            forked.forEach(p -> signalled.add(p.pid()));
            named.addAll(names(forked));
            forked.forEach(ProcessHandle::destroy);
            return termUntilGone(forked, deadline, signalled, named, scheduler);
        });
    }

    /**
     * {@code "<pid> <name> (job A)"} ({@code "(job A or job B)"}) of the orphans the looks so far left to other running
     * attempts and did not end themselves, still there now, in the order found.
     */
    private synchronized List<String> leftToOthers() {
        List<String> left = new ArrayList<>();
        leftToOthers.forEach((pid, named) -> {
            ProcStat now = ProcStat.of(pid);
            if (!orphans.containsKey(pid) && now != null && !now.gone()) {
                left.add(named.getKey() + " (" + named.getValue().stream().map(name -> "job " + name)
                        .collect(java.util.stream.Collectors.joining(" or ")) + ")");
            }
        });
        return left;
    }

    /**
     * {@code "<pid> <name>"} of the given processes that were found only by the marker, with
     * {@code " (holding the job's pipe)"} for those found only by a pipe.
     */
    private List<String> names(Set<ProcessHandle> processes) {
        return names(processes, ProcStat::name);
    }

    /** As {@link #names(Set)}, with each name read by {@code name} (from its pid). */
    private synchronized List<String> names(Set<ProcessHandle> processes, Function<Long, String> name) {
        List<String> named = new ArrayList<>();
        for (ProcessHandle process : processes) {
            if (escaped.contains(process.pid())) {
                named.add(process.pid() + " " + name.apply(process.pid())
                        + (byPipe.contains(process.pid()) ? " (holding the job's pipe)"
                                : orphans.containsKey(process.pid()) ? detached(orphans.get(process.pid())) : ""));
            }
        }
        return named;
    }

    /**
     * {@code " (detached from the job)"} when only this attempt ran when the orphan started; else, as it cannot be
     * told which of them made it, {@code " (detached; started while this job and job A ran)"} ({@code "jobs A, B"}).
     */
    static String detached(List<String> others) {
        if (others.isEmpty()) {
            return " (detached from the job)";
        }
        return " (detached; started while this job and " + (others.size() == 1 ? "job " : "jobs ")
                + String.join(", ", others) + " ran)";
    }

    /**
     * {@code "<pid> <name>"} of every process of the host that still holds one of the attempt's pipes: a full
     * pass, for the message of an attempt whose output stayed open after its end.
     */
    List<String> pipeHolders() {
        return JobPipes.holders(pipes);
    }

    /**
     * Completes with true once all the given processes are gone, or with false when the time is
     * up. Polls the given pids only: scanning every process of the machine is kept for the
     * moments above.
     */
    private static CompletableFuture<Boolean> whenGone(Set<ProcessHandle> processes, Duration within,
            ScheduledExecutorService scheduler) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        long deadline = System.nanoTime() + within.toNanos();
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> {
            try {
                if (processes.stream().allMatch(p -> isGone(p.pid()))) {
                    result.complete(true);
                } else if (System.nanoTime() - deadline >= 0) {
                    result.complete(false);
                } else {
                    scheduler.schedule(poll[0], POLL.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (RuntimeException e) {
                // Typically the scheduler shut down: stop waiting rather than hang the attempt.
                result.complete(false);
            }
        };
        poll[0].run();
        return result;
    }

    private void remember(long session) {
        // Never the server's own session: without setsid the job shares it with the JVM.
        if (session > 0 && session != OWN_SESSION && sessions.add(session) && session != root.pid()) {
            sessionLeaders.put(session, ProcStat.startTime(session));
        }
    }

    private static long sessionOf(long pid) {
        ProcStat stat = ProcStat.of(pid);
        return stat == null ? -1 : stat.session();
    }

    /** Whether the process has exited (absent, or a zombie waiting to be reaped). */
    static boolean isGone(long pid) {
        if (PROC) {
            ProcStat stat = ProcStat.of(pid);
            return stat == null || stat.gone();
        }
        return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }
}
