package org.buildhook.runner.exec;

/**
 * One process, named so that a pid used again is never taken for it: its pid, its session and
 * its start time in clock ticks since boot ({@code /proc/<pid>/stat}, field 22). Only meaningful
 * on the host and boot it was read on.
 *
 * @param pid        the process id
 * @param session    its session id (for a job started through setsid, its own pid)
 * @param startTicks when it started, in clock ticks since boot; -1 when unknown
 */
public record ProcessIdentity(long pid, long session, long startTicks) {

    /** The identity of process {@code pid} now, or null when it is gone or there is no {@code /proc}. */
    public static ProcessIdentity of(long pid) {
        return ProcStat.identity(pid);
    }

    /** This JVM. */
    public static ProcessIdentity current() {
        ProcessIdentity self = of(ProcessHandle.current().pid());
        return self != null ? self : new ProcessIdentity(ProcessHandle.current().pid(), -1, -1);
    }

    /**
     * Whether {@code other} names the same process: the same pid started at the same time (the
     * session is not compared: a record may lack it).
     */
    public boolean sameProcess(ProcessIdentity other) {
        return other != null && pid == other.pid && startTicks == other.startTicks;
    }

    /**
     * When it started, by this host's clock, to the second: the host's boot ({@code btime} of {@code /proc/stat}) plus
     * its start ticks at 100 a second (USER_HZ, the unit of {@code /proc} on the machines buildhook runs on: x86-64,
     * aarch64). Only meaningful for a process of this host's current boot; empty when its start time or the boot's is
     * not known (no {@code /proc}).
     */
    public java.util.Optional<java.time.Instant> startedAt() {
        if (startTicks < 0) {
            return java.util.Optional.empty();
        }
        return ProcStat.bootTime().map(boot -> boot.plusSeconds(startTicks / USER_HZ));
    }

    /** Clock ticks a second in {@code /proc/<pid>/stat}'s start time (USER_HZ). */
    private static final long USER_HZ = 100;

    /**
     * Whether this very process is stopped now, state {@code T} or {@code t} of {@code /proc/<pid>/stat} (SIGSTOP,
     * SIGTSTP, a debugger): alive, and running again on SIGCONT. False when it is gone, not this process (the pid used
     * again), or there is no {@code /proc}.
     */
    public boolean isStopped() {
        ProcStat stat = ProcStat.of(pid);
        return stat != null && stat.stopped() && (startTicks < 0 || ProcStat.startTime(pid) == startTicks);
    }

    /**
     * The state letter of this very process now, as {@code /proc/<pid>/stat} gives it ({@code R} running, {@code S}
     * sleeping, {@code D} in uninterruptible sleep, {@code T} stopped, {@code t} stopped by a debugger, {@code Z} a
     * zombie …); empty when it is gone, the pid names a later process, or there is no {@code /proc}.
     */
    public java.util.Optional<Character> state() {
        ProcStat stat = ProcStat.of(pid);
        return stat != null && (startTicks < 0 || ProcStat.startTime(pid) == startTicks)
                ? java.util.Optional.of(stat.state()) : java.util.Optional.empty();
    }

    /**
     * The words for a process of this host that is stopped ({@link #isStopped()}): {@code its process (pid P on this
     * host) is stopped (SIGSTOP or a debugger; kill -CONT P lets it run again)}. Said of a node by {@code buildhook
     * nodes} (tryout46 F10), and by an admin command whose server on this host gives no answer (tryout49 F7).
     *
     * @param pid the process's id
     */
    public static String stoppedWords(long pid) {
        return "its process (pid " + pid + " on this host) is stopped (SIGSTOP or a debugger; kill -CONT " + pid
                + " lets it run again)";
    }

    /** Whether this very process still runs (not a later one with the same pid, not a zombie). */
    public boolean isAlive() {
        ProcStat stat = ProcStat.of(pid);
        return stat != null && !stat.gone() && (startTicks < 0 || ProcStat.startTime(pid) == startTicks);
    }
}
