package org.buildhook.runner.exec;

/**
 * Holds a command's process group just created, while its node asks whether it may run at all (RELIABILITY bug 10:
 * a node paused between its last look at its lease and the {@code exec}). {@code SIGSTOP} to the group right after
 * the creation, so the command runs for the microseconds between its {@code exec} and this signal rather than for the
 * node's question to the store; then {@code SIGCONT} if it may run, or it stays stopped until it is killed
 * ({@code SIGKILL} ends a stopped process). Only a process that leads its own session (a job started through setsid,
 * as buildhook's launcher does): the group of any other would be its parent's, this JVM's own.
 */
public final class CreatedProcessHold {

    private CreatedProcessHold() {
    }

    /**
     * Stops {@code process}'s process group, if it leads its own session and is still there.
     *
     * @param process a process this JVM created, any type; other objects are not held
     * @return the group's id (the leader's pid) when it was stopped, else 0 (not a {@link Process}, not a session
     *         leader, gone, or signals not available here); never throws
     */
    public static long hold(Object process) {
        if (!(process instanceof Process p)) {
            return 0;
        }
        try {
            long pid = p.pid();
            ProcessIdentity identity = ProcessIdentity.of(pid);
            if (identity == null || identity.session() != pid || pid > Integer.MAX_VALUE) {
                return 0;
            }
            LibC.bind();
            LibC.kill(-(int) pid, LibC.SIGSTOP);
            return pid;
        } catch (RuntimeException | LinkageError e) {
            return 0; // not held: the node's question is asked all the same, as without the hold
        }
    }

    /**
     * Lets a group {@link #hold} stopped go on.
     *
     * @param group what {@link #hold} returned; 0 does nothing
     */
    public static void release(long group) {
        if (group <= 0) {
            return;
        }
        try {
            LibC.bind();
            LibC.kill(-(int) group, LibC.SIGCONT);
        } catch (RuntimeException | LinkageError e) {
            // Gone meanwhile: nothing to let go on.
        }
    }
}
