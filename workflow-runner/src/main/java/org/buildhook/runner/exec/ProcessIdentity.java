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

    /** Whether this very process still runs (not a later one with the same pid, not a zombie). */
    public boolean isAlive() {
        ProcStat stat = ProcStat.of(pid);
        return stat != null && !stat.gone() && (startTicks < 0 || ProcStat.startTime(pid) == startTicks);
    }
}
