package org.buildhook.runner.exec;

/**
 * Holds a command's process group just created, while its node asks whether it may run at all (RELIABILITY bug 10:
 * a node paused between its last look at its lease and the {@code exec}). {@code SIGSTOP} to the group right after
 * the creation, so the command runs for the microseconds between its {@code exec} and this signal rather than for the
 * node's question to the store; then {@code SIGCONT} if it may run, or it stays stopped until it is killed
 * ({@code SIGKILL} ends a stopped process). A process that leads its own session (a job started through setsid, as
 * buildhook's launcher does) has its whole group stopped. Any other is stopped alone, never its group, which would be
 * its parent's, this JVM's own: a job started through {@code /usr/bin/setsid} (the launch where {@code posix_spawn}
 * cannot start a session: glibc older than 2.34) whose setsid has not called {@code setsid()} yet, as is almost always
 * the case at this moment (97 holds of 100 found it so, chaos35: the hold did nothing and the command ran for the
 * store's round trip), or a job started without a session of its own. Stopped, it cannot go on to lead its session
 * or start a child; if it did just before, its group is stopped too.
 */
public final class CreatedProcessHold {

    private CreatedProcessHold() {
    }

    /**
     * Stops {@code process}'s process group if it leads its own session, else the process alone, if it is still there.
     *
     * @param process a process this JVM created, any type; other objects are not held
     * @return the group's id (the leader's pid) when its group was stopped; minus its pid when it was stopped alone
     *         (not leading its session); 0 when nothing was (not a {@link Process}, gone, or signals not available
     *         here); never throws
     */
    public static long hold(Object process) {
        if (!(process instanceof Process p)) {
            return 0;
        }
        try {
            long pid = p.pid();
            ProcessIdentity identity = ProcessIdentity.of(pid);
            if (identity == null || pid > Integer.MAX_VALUE || pid <= 1) {
                return 0;
            }
            LibC.bind();
            if (identity.session() == pid) {
                LibC.kill(-(int) pid, LibC.SIGSTOP);
                return pid;
            }
            LibC.kill((int) pid, LibC.SIGSTOP);
            // Stopped, it changes no more: if setsid ran between the look and the signal, it may have a child now.
            ProcessIdentity now = ProcessIdentity.of(pid);
            if (now != null && now.session() == pid) {
                LibC.kill(-(int) pid, LibC.SIGSTOP);
                return pid;
            }
            return -pid;
        } catch (RuntimeException | LinkageError e) {
            return 0; // not held: the node's question is asked all the same, as without the hold
        }
    }

    /**
     * Lets what {@link #hold} stopped go on: the group, or the process alone.
     *
     * @param held what {@link #hold} returned; 0 does nothing
     */
    public static void release(long held) {
        if (held == 0 || held < -Integer.MAX_VALUE || held > Integer.MAX_VALUE) {
            return;
        }
        try {
            LibC.bind();
            // A process held alone is let go alone: the group of its pid, if it leads one since, has nothing stopped
            // but it (it was stopped before it could start a child).
            LibC.kill(held > 0 ? -(int) held : (int) -held, LibC.SIGCONT);
        } catch (RuntimeException | LinkageError e) {
            // Gone meanwhile: nothing to let go on.
        }
    }
}
