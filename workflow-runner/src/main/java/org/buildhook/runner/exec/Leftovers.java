package org.buildhook.runner.exec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds and kills, on this host, what an attempt left running when its node died: every process
 * that carries the attempt's {@link AttemptMarker}, and every member of the attempt's session
 * when that session is surely the attempt's (its leader still runs with the recorded start time;
 * or it has no leader left — Linux does not hand out a session's id again while a member lives —
 * and the member started no earlier than the attempt), and every process in the attempt's cgroups
 * ({@link AttemptCgroups#cgroupsOf}: found by name anywhere in the cgroup v2 hierarchy, whichever node of this host
 * made them), which are removed once emptied. Never this JVM, nor another process of its session unless it is in the
 * attempt's cgroup.
 *
 * <p>Another store's processes ({@code BUILDHOOK_STORE}, {@link AttemptMarker#ofAnotherStore}) are left alone: a
 * process found by the marker alone that carries another store's identity, and the whole recorded session when its
 * leader, the recorded process, does (a copy of this store's history recorded the original's process) — unless that
 * identity is another copy of this store's installation whose server ({@code BUILDHOOK_SERVER}) is gone
 * ({@link AttemptMarker.Match#COPY_GONE}: a backup restored after its server crashed), whose processes are this
 * attempt's leftovers (tryout58 F1). Those left alone are {@link #held}: the job must not run again while they do.
 * A member of a session that is this store's is taken whatever its own environment says: what a command sets for its
 * children does not take them out of its session's sweep.
 *
 * <p>SIGTERM first, SIGKILL to whatever is left after the grace period (or at once with none), then to what a fresh
 * look finds new, until a look finds none ({@link KillRounds}: a parent that ignores SIGTERM forks between the look
 * and its SIGKILL). Meanwhile this JVM
 * reads, and drops, what they write into pipes nobody else reads any more (their dead node's output): such a write
 * would kill its writer before its SIGTERM handler ends ({@link LeftoverPipes}).
 * Used by a node that starts again, and by any node of the same host before it runs such a job
 * again, so that a job never runs while an earlier copy of it may still live.
 */
public final class Leftovers {

    private static final long SELF = ProcessHandle.current().pid();
    private static final long POLL_MILLIS = 50;
    private static final long AFTER_KILL_MILLIS = 10_000;

    /** The most processes a message names ({@link #describe}); the others are counted. */
    public static final int NAMED = 10;

    private Leftovers() {
    }

    /**
     * {@code "4242 sleep, 4243 sleep"}: the first {@value #NAMED} of {@code named} joined, then {@code ", … and N
     * more"} when there are more. A job that left thousands of processes made a message of tens of KB, stored
     * twice, in every job list and in the server's log (escape27 F4).
     *
     * @param named {@code "<pid> <name>"} of each process, as {@link #kill} returns them
     */
    public static String describe(List<String> named) {
        if (named.size() <= NAMED) {
            return String.join(", ", named);
        }
        return String.join(", ", named.subList(0, NAMED)) + ", … and " + (named.size() - NAMED) + " more";
    }

    /**
     * Kills the leftovers of one attempt and returns {@code "<pid> <name>"} of each, empty when
     * none was found (or there is no {@code /proc}). Blocks for up to {@code graceMillis} plus ten
     * seconds.
     *
     * @param marker      the attempt's marker
     * @param process     the attempt's first process as recorded, or null when it was not
     * @param graceMillis milliseconds between SIGTERM and SIGKILL; 0 for SIGKILL at once
     */
    public static List<String> kill(AttemptMarker marker, ProcessIdentity process, long graceMillis)
            throws InterruptedException {
        Look look = look(marker, process);
        Set<Long> found = look.found();
        if (found.isEmpty()) {
            AttemptCgroups.endAll(marker); // an empty cgroup of the attempt's is removed
            return List.of();
        }
        sayCopyGone(marker, look.copyGone());
        List<String> named = new ArrayList<>();
        for (long pid : found) {
            named.add(pid + " " + ProcStat.name(pid));
        }
        // Their output's reader may be gone with their node: held for them until they are gone, so that a write
        // (a shell's report of a child the SIGTERM ended, a trap's words) does not kill them first (tryout44 F10).
        try (LeftoverPipes pipes = graceMillis > 0 ? LeftoverPipes.open(found) : LeftoverPipes.NONE) {
            signal(found, graceMillis > 0);
            waitGone(found, graceMillis, pipes);
            Set<Long> left = find(marker, process);
            if (!left.isEmpty()) {
                // SIGKILL, then a fresh look and SIGKILL to what is new, until a look finds none: a parent that
                // ignores SIGTERM forks between the look and its SIGKILL, and that child ran on (review55b F3).
                // Each named before its SIGKILL: one reaped at once reads as "?" after it (review56 F4).
                Map<Long, String> called = new HashMap<>();
                KillRounds.Result<ProcessHandle> rounds = KillRounds.kill(handles(left), () -> handles(find(marker, process)),
                        round -> round.forEach(p -> called.put(p.pid(), ProcStat.name(p.pid()))));
                Set<Long> killed = new LinkedHashSet<>();
                rounds.killed().forEach(p -> killed.add(p.pid()));
                Set<Long> stillFound = new HashSet<>();
                rounds.stillFound().forEach(p -> stillFound.add(p.pid()));
                for (long pid : killed) {
                    if (!found.contains(pid) && !stillFound.contains(pid)) {
                        named.add(pid + " " + called.get(pid));
                    }
                }
                for (ProcessHandle p : rounds.stillFound()) {
                    // Said by the caller, with the rest: what those forked meanwhile may still run.
                    named.add(p.pid() + " " + called.get(p.pid()) + " (still forking after "
                            + rounds.rounds() + " rounds of SIGKILL: what it forked may run on)");
                }
                waitGone(killed, AFTER_KILL_MILLIS, pipes);
            }
            // Its cgroups: whatever is still in them (born since the last look) killed, then each removed.
            for (String more : AttemptCgroups.endAll(marker)) {
                if (!named.contains(more)) {
                    named.add(more);
                }
            }
        }
        return named;
    }

    /**
     * Kills again what is left in the cgroups of this node's attempts that their end left behind (a process SIGKILL
     * did not end within its bound: uninterruptible sleep, a v1 freezer), and removes those whose processes are gone
     * (said at INFO). Never waits; call it at every sweep.
     */
    public static void endCgroupsLeftBehind() {
        AttemptCgroups.endLeftBehind();
    }

    /**
     * Reads the host's pid counter, so that its going round while an attempt runs is seen: a process the attempt
     * starts after that has a lower pid than its program, and the look for its leftovers must then read every
     * process, not only the pids handed out since the program (escape50 F2). Call it every few seconds while an
     * attempt runs; a round of the whole pid range between two calls goes unseen. Cheap: one read of
     * {@code /proc/loadavg}; does nothing without it.
     */
    public static void notePidCounter() {
        if (ProcStat.available()) {
            ProcStat.pidWraps();
        }
    }

    /** The live processes of the attempt now. */
    static Set<Long> find(AttemptMarker marker, ProcessIdentity process) {
        Look look = look(marker, process);
        look.held().forEach(pid -> sayLeftAlone(pid, marker));
        return look.found();
    }

    /**
     * What a look finds of an attempt: its processes ({@code found}), among them those of a copy of this store's
     * history whose server is gone ({@code copyGone}, {@link AttemptMarker.Match#COPY_GONE}), and the processes that
     * carry its marker for another server, left alone ({@code held}).
     */
    record Look(Set<Long> found, Set<Long> copyGone, Set<Long> held) {
    }

    /**
     * A process that carries an attempt's marker for another server than this one, left alone ({@link #held}).
     *
     * @param pid    the process
     * @param name   its name, as {@link #describe} names it
     * @param store  the {@code BUILDHOOK_STORE} it carries
     * @param server the {@code BUILDHOOK_SERVER} it carries, or null when none (started by an older buildhook)
     */
    public record Held(long pid, String name, String store, String server) {

        /** {@code 4242 sleep}. */
        @Override
        public String toString() {
            return pid + " " + name;
        }

        /** The pid of the server that started it, or -1 when it names none. */
        public long serverPid() {
            return AttemptMarker.serverPid(server);
        }

        /** What is known of that server, in words: {@code its server (pid 4242) still runs}. */
        public String serverSays() {
            long pid = serverPid();
            if (server == null || pid <= 0) {
                return "its server is not named (no " + AttemptMarker.SERVER_VARIABLE + ": started by a buildhook from"
                        + " before 2026-12-07), so this server cannot tell whether it still runs";
            }
            if (!server.endsWith("/" + NodeIdentity.pidNamespace(NodeIdentity.current().bootId()))) {
                return "its server (pid " + pid + ") runs, or ran, in another PID namespace (a container), where this"
                        + " server cannot look for it";
            }
            if (AttemptMarker.serverGone(server)) {
                return "its server (pid " + pid + ") is gone, but its store is not a copy of this one (another"
                        + " installation id)";
            }
            return "its server (pid " + pid + ") still runs";
        }
    }

    /**
     * The processes that carry the attempt's marker, or lead its recorded session, for another server than this one
     * (another store's identity whose server runs, or cannot be looked for, or is not named): left alone by {@link
     * #kill}, and the job must not run again while any lives. Each is said from now on by its caller alone, not again
     * by {@link #kill}'s look. Empty without {@code /proc}.
     */
    public static List<Held> held(AttemptMarker marker, ProcessIdentity process) {
        List<Held> held = new ArrayList<>();
        for (long pid : look(marker, process).held()) {
            String name = ProcStat.name(pid);
            String store = AttemptMarker.storeOf(pid);
            if (ProcStat.of(pid) == null || store == null) {
                continue; // gone meanwhile
            }
            SAID_LEFT_ALONE.add(pid + "@" + ProcStat.startTime(pid));
            held.add(new Held(pid, name, store, AttemptMarker.serverOf(pid)));
        }
        return held;
    }

    /** As {@link #find}, telling apart what it leaves alone, without saying it. */
    static Look look(AttemptMarker marker, ProcessIdentity process) {
        Set<Long> found = new LinkedHashSet<>();
        Set<Long> copyGone = new LinkedHashSet<>();
        Set<Long> held = new LinkedHashSet<>();
        if (!ProcStat.available()) {
            return new Look(found, copyGone, held);
        }
        long ownSession = ProcStat.of(SELF) == null ? -1 : ProcStat.of(SELF).session();
        long session = sessionToSweep(process, ownSession);
        boolean sessionOfCopyGone = false;
        if (session > 0 && ProcStat.of(session) != null) {
            AttemptMarker.Match leader = AttemptMarker.storeMatch(session);
            if (leader == AttemptMarker.Match.ANOTHER_STORE) {
                // The recorded first process, which leads the session, was started by another store's server: a copy
                // of this store's history (a restored backup, a copied file) has the same job ids and attempts, and
                // recorded the original's first process (tryout33 F3). Its whole session is that server's.
                held.add(session);
                session = -1;
            } else {
                // Or by the server of a copy of this store's history that is gone (tryout58 F1): the attempt's.
                sessionOfCopyGone = leader == AttemptMarker.Match.COPY_GONE;
            }
        }
        for (ProcStat stat : ProcStat.all()) {
            if (stat.gone() || stat.pid() == SELF || stat.session() == ownSession && ownSession > 0) {
                continue;
            }
            boolean member = session > 0 && stat.session() == session
                    && (ProcStat.of(session) != null || ProcStat.startTime(stat.pid()) >= process.startTicks());
            if (member) {
                // The attempt's session, this store's: its process whatever its environment says. A command may set
                // BUILDHOOK_STORE for its children (as it may drop BUILDHOOK_ATTEMPT); taken by what they say, they
                // were left running when its node died (loose34).
                found.add(stat.pid());
                if (sessionOfCopyGone) {
                    copyGone.add(stat.pid());
                }
                continue;
            }
            AttemptMarker.Match match = marker.match(stat.pid());
            if (match == AttemptMarker.Match.ANOTHER_STORE) {
                // Out of the attempt's session, found by its marker alone, with another store's identity whose
                // server may still run it.
                held.add(stat.pid());
            } else if (match == AttemptMarker.Match.COPY_GONE) {
                // A copy of this store's history whose server is gone (a backup restored after a crash) left it:
                // nobody else ends it, and the job's next attempt would run beside it (tryout58 F1).
                found.add(stat.pid());
                copyGone.add(stat.pid());
            } else if (match == AttemptMarker.Match.THIS_STORE) {
                found.add(stat.pid());
            }
        }
        // In one of the attempt's cgroups (AttemptCgroups): the attempt's, however it left its session and whatever it
        // wrote over its environment (escape50 F1); a cgroup of another store's has another name.
        for (long pid : AttemptCgroups.membersOf(marker)) {
            if (pid != SELF && !ProcessTree.isGone(pid)) {
                found.add(pid);
            }
        }
        held.removeAll(found);
        return new Look(found, copyGone, held);
    }

    /**
     * Says, once per attempt's end, that processes it ends carry the attempt's marker for a copy of this store's
     * history whose server is gone (tryout58 F1): the log said "left alone", and then "none of its processes was
     * found", of processes nobody else would end.
     */
    private static void sayCopyGone(AttemptMarker marker, Set<Long> copyGone) {
        if (copyGone.isEmpty()) {
            return;
        }
        long first = copyGone.iterator().next();
        String server = AttemptMarker.serverOf(first);
        List<String> named = new ArrayList<>();
        copyGone.forEach(pid -> named.add(pid + " " + ProcStat.name(pid)));
        org.slf4j.LoggerFactory.getLogger(Leftovers.class).warn("job {} attempt {}: processes {} carry {} but {}={},"
                + " another copy of this store's history (a restored backup, a data folder made again), not this"
                + " store's ({}); the server that started them (pid {}) is gone, so no other buildhook runs them: they"
                + " are this attempt's leftovers, and are ended before the job runs again", jobOf(marker),
                attemptOf(marker), describe(named), marker, AttemptMarker.STORE_VARIABLE, AttemptMarker.storeOf(first),
                AttemptMarker.servedStore(), server == null ? "?" : String.valueOf(AttemptMarker.serverPid(server)));
    }

    private static String jobOf(AttemptMarker marker) {
        return marker.value().substring(0, marker.value().lastIndexOf('/'));
    }

    private static String attemptOf(AttemptMarker marker) {
        return marker.value().substring(marker.value().lastIndexOf('/') + 1);
    }

    /** The processes said left alone as another store's, by pid and start time: each said once. */
    private static final Set<String> SAID_LEFT_ALONE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Says, once per process, that a process of the attempt's marker belongs to another store's server. */
    private static void sayLeftAlone(long pid, AttemptMarker marker) {
        if (SAID_LEFT_ALONE.size() > 10_000) {
            SAID_LEFT_ALONE.clear();
        }
        if (SAID_LEFT_ALONE.add(pid + "@" + ProcStat.startTime(pid))) {
            String server = AttemptMarker.serverOf(pid);
            Held held = new Held(pid, ProcStat.name(pid), AttemptMarker.storeOf(pid), server);
            org.slf4j.LoggerFactory.getLogger(Leftovers.class).warn("process {} ({}) carries {} but {}={}, not this"
                    + " store's ({}): another buildhook may serve a copy of this store's history (a restored backup, a"
                    + " copied database file) on this host, and {}; its processes are left alone. Stop one of the two"
                    + " servers, or end those processes: both run the same jobs (docs/storage.md, \"Backing up and"
                    + " restoring\")", pid, held.name(), marker, AttemptMarker.STORE_VARIABLE, held.store(),
                    AttemptMarker.servedStore(), held.serverSays());
        }
    }

    /** The recorded session, if it is still the attempt's; -1 otherwise. */
    private static long sessionToSweep(ProcessIdentity process, long ownSession) {
        // Only a session the attempt led itself (through setsid): without it, the attempt shared its
        // node's session, which may hold anything that node's starter runs.
        if (process == null || process.session() <= 1 || process.session() != process.pid()
                || process.session() == ownSession || process.startTicks() < 0) {
            return -1;
        }
        ProcStat leader = ProcStat.of(process.session());
        if (leader == null || leader.gone()) {
            return process.session();
        }
        // The leader runs: it must be the recorded process itself, not a later one with its pid.
        return ProcStat.startTime(process.pid()) == process.startTicks() ? process.session() : -1;
    }

    /** The processes of {@code pids} still there, with their start times (a pid used again is another process). */
    private static List<ProcessHandle> handles(Set<Long> pids) {
        List<ProcessHandle> handles = new ArrayList<>(pids.size());
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(handles::add);
        }
        return handles;
    }

    private static void signal(Set<Long> pids, boolean gently) {
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(p -> {
                if (gently) {
                    p.destroy();
                } else {
                    p.destroyForcibly();
                }
            });
        }
    }

    private static void waitGone(Set<Long> pids, long withinMillis, LeftoverPipes pipes) throws InterruptedException {
        long deadline = System.nanoTime() + withinMillis * 1_000_000L;
        while (!pids.stream().allMatch(ProcessTree::isGone) && System.nanoTime() - deadline < 0) {
            pipes.drain();
            Thread.sleep(POLL_MILLIS);
        }
    }
}
