package org.buildhook.runner.exec;

import com.sun.jna.LastErrorException;
import com.sun.jna.Platform;

/**
 * An exclusive BSD {@code flock(2)} on an open file, for the SQLite store's lock on its database file
 * itself ({@code org.buildhook.runner.store.StoreLock}). Unlike the {@code fcntl} locks of
 * {@link java.nio.channels.FileChannel#tryLock()}, it belongs to the open file, not to the process: SQLite
 * closing a descriptor of the same file does not release it, and a second process that opens the file by
 * another name (a hard link) meets it. Released when the descriptor is closed, or the process ends in any
 * way. Linux only, through JNA.
 */
public final class FileFlock {

    /** What {@link #tryExclusive} came to. */
    public enum Result {
        /** Taken: held until the descriptor is closed. */
        TAKEN,
        /** Another open file (another process, or another descriptor of this one) holds it. */
        HELD,
        /** Not available here (not Linux, or JNA or the C library could not be bound): nothing was done. */
        UNAVAILABLE
    }

    private FileFlock() {
    }

    /**
     * Takes an exclusive lock on descriptor {@code fd} without waiting.
     *
     * @param fd an open descriptor of the file, from {@code /proc/self/fd}
     * @return {@link Result#TAKEN}, {@link Result#HELD}, or {@link Result#UNAVAILABLE} (also for any other
     *         error of {@code flock}, such as a file system that does not support it)
     */
    public static Result tryExclusive(int fd) {
        if (!Platform.isLinux()) {
            return Result.UNAVAILABLE;
        }
        // On a thread of its own that ends here: JNA leaves thread-local values (its Structure bookkeeping) on
        // the thread that calls it, and the caller is the container's thread that deploys the WAR, which
        // Tomcat then reports at undeploy as a leak (SEVERE, "created a ThreadLocal with key of type
        // [com.sun.jna.Structure$2]"). A thread of ours takes them with it.
        java.util.concurrent.FutureTask<Result> call = new java.util.concurrent.FutureTask<>(() -> flock(fd));
        Thread thread = new Thread(call, "buildhook-flock");
        thread.setDaemon(true);
        thread.start();
        try {
            return call.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.UNAVAILABLE;
        } catch (java.util.concurrent.ExecutionException e) {
            return Result.UNAVAILABLE;
        } finally {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Result flock(int fd) {
        try {
            return NativeSpawn.bound(() -> {
                try {
                    LibC.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB);
                    return Result.TAKEN;
                } catch (LastErrorException e) {
                    return e.getErrorCode() == LibC.EWOULDBLOCK ? Result.HELD : Result.UNAVAILABLE;
                }
            });
        } catch (LinkageError | RuntimeException e) {
            return Result.UNAVAILABLE;
        }
    }
}
