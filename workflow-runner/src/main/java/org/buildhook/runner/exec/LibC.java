package org.buildhook.runner.exec;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The glibc functions {@link NativeSpawn} calls, bound through JNA's direct mapping (one native
 * method per function, the fastest JNA call). {@link #bind()} binds them all: it fails with an
 * {@link UnsatisfiedLinkError} when one is missing, so {@link NativeSpawn} first looks each up by
 * name to say which.
 *
 * <p>The constants and sizes are glibc's on Linux x86-64 and aarch64 ({@code <spawn.h>},
 * {@code <fcntl.h>}, {@code <sys/wait.h>}), the only machines {@link NativeSpawn} uses this on.
 * The opaque types ({@code posix_spawnattr_t} 336 bytes, {@code posix_spawn_file_actions_t} 80,
 * {@code sigset_t} and {@code siginfo_t} 128) get blocks larger than they are.
 */
final class LibC {

    static final int O_CLOEXEC = 0x80000;
    static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    static final short POSIX_SPAWN_SETSID = 0x80;
    static final int P_PID = 1;
    static final int WNOHANG = 1;
    static final int WEXITED = 4;
    static final int WNOWAIT = 0x01000000;
    static final int SIGKILL = 9;
    /** Linux x86-64 and arm64 numbers (asm-generic), as SIGKILL and SIGTERM above. */
    static final int SIGCONT = 18;
    static final int SIGSTOP = 19;
    static final int SIGTERM = 15;
    static final int EINTR = 4;
    static final int ECHILD = 10;
    static final int ENOEXEC = 8;
    static final int EWOULDBLOCK = 11;
    /** {@code ioctl} request: the bytes waiting in a pipe ({@code <asm-generic/ioctls.h>}). */
    static final long FIONREAD = 0x541B;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;

    static final long SPAWNATTR_BYTES = 512;
    static final long FILE_ACTIONS_BYTES = 256;
    static final long SIGSET_BYTES = 128;
    static final long SIGINFO_BYTES = 128;

    /** What {@link NativeSpawn} needs, each looked up by name before this class is loaded. */
    static final String[] FUNCTIONS = {"gnu_get_libc_version", "malloc", "free", "pipe2", "close", "posix_spawn",
        "posix_spawn_file_actions_init", "posix_spawn_file_actions_destroy", "posix_spawn_file_actions_adddup2",
        "posix_spawn_file_actions_addchdir_np", "posix_spawn_file_actions_addclosefrom_np", "posix_spawnattr_init",
        "posix_spawnattr_destroy", "posix_spawnattr_setflags", "posix_spawnattr_setsigmask",
        "posix_spawnattr_setsigdefault", "sigemptyset", "waitid", "waitpid", "kill", "strerror"};

    static final String LIBRARY = "c";

    private static volatile NativeLibrary bound;

    private LibC() {
    }

    /** Binds the native methods, unless they are bound; before any call. */
    static void bind() {
        if (bound == null) {
            synchronized (LibC.class) {
                if (bound == null) {
                    NativeLibrary c = NativeLibrary.getInstance(LIBRARY);
                    Native.register(LibC.class, c);
                    bound = c;
                }
            }
        }
    }

    /** Whether the native methods are bound now: a call is made only then by those that never bind them. */
    static boolean isBound() {
        return bound != null;
    }

    /**
     * Unbinds them and lets JNA's cleaner thread go, so that an undeployed WAR leaves no thread
     * behind: JNA starts that thread ({@code JNA Cleaner}) for the library handle and keeps it while
     * the handle is open, then lingers 30 s, which Tomcat reports as a leak. A later {@link #bind()}
     * binds again.
     */
    static void unbind() {
        synchronized (LibC.class) {
            NativeLibrary c = bound;
            if (c == null) {
                return;
            }
            bound = null;
            Native.unregister(LibC.class);
            c.close();
        }
        // Its loop ends when interrupted ("raised on shutdown", JNA's comment); nothing else of
        // this class loader registers with it (no JNA Memory is used here). Only when JNA is this
        // application's own (WEB-INF/lib, the tarball's lib/): a JNA that a container shares among
        // its applications (Tomcat's lib/) keeps its cleaner, which the others may need, and JNA
        // never restarts an interrupted one.
        if (Native.class.getClassLoader() != LibC.class.getClassLoader()) {
            return;
        }
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().equals("JNA Cleaner")
                    && thread.getClass().getClassLoader() == Native.class.getClassLoader()) {
                thread.interrupt();
                awaitEnd(thread);
            }
        }
    }

    /**
     * Waits for the interrupted cleaner to end, at most {@link #CLEANER_END_WAIT}: an interrupt only
     * asks, and Tomcat looks for an undeployed application's threads right after its listeners'
     * {@code contextDestroyed}. On a busy machine the cleaner had not run yet by then, and Tomcat
     * reported it as a leak (WarWatchdogIT in a CI run at load average 25 on 2 cores). Bounded, so
     * that an undeploy never hangs on a thread that does not end; the caller's interrupt is kept.
     */
    private static void awaitEnd(Thread thread) {
        try {
            thread.join(CLEANER_END_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long {@link #unbind()} waits for JNA's interrupted cleaner thread to end. */
    static final java.time.Duration CLEANER_END_WAIT = java.time.Duration.ofSeconds(10);

    /**
     * Native memory from {@code malloc}, freed by {@link #close()}. Not JNA's {@code Memory}: each of
     * those registers with JNA's cleaner thread.
     */
    static final class Block implements AutoCloseable {
        final Pointer pointer;

        Block(long bytes) {
            pointer = malloc(bytes);
            if (pointer == null) {
                throw new OutOfMemoryError("malloc(" + bytes + ") failed");
            }
        }

        @Override
        public void close() {
            free(pointer);
        }
    }

    static native Pointer malloc(long bytes);

    static native void free(Pointer block);

    static native String gnu_get_libc_version();

    static native int pipe2(int[] fds, int flags) throws LastErrorException;

    static native int close(int fd);

    /** BSD {@code flock(2)}; not in {@link #FUNCTIONS}: every C library has it ({@link FileFlock}). */
    static native int flock(int fd, int operation) throws LastErrorException;

    /**
     * {@code ioctl(2)} with an {@code int} to fill; not in {@link #FUNCTIONS}: every C library has it. Asked by
     * {@link Watchdog} alone, for {@link #FIONREAD}.
     */
    static native int ioctl(int fd, long request, int[] value) throws LastErrorException;

    /**
     * {@code prctl(2)}; not in {@link #FUNCTIONS}: Linux only, asked by {@link Orphans} alone. Five arguments, as the
     * kernel reads them whatever the option.
     */
    static native int prctl(int option, long arg2, long arg3, long arg4, long arg5) throws LastErrorException;

    /**
     * {@code getxattr(2)} of a NUL-terminated path and attribute name; not in {@link #FUNCTIONS}: every C library has
     * it. Asked by {@link TrustedAttribute} alone, for systemd's {@code trusted.delegate}, which Java cannot read.
     */
    static native long getxattr(byte[] path, byte[] name, byte[] value, long size) throws LastErrorException;

    // The posix_spawn functions return the error number instead of setting errno.
    static native int posix_spawn(int[] pid, byte[] path, Pointer fileActions, Pointer attributes, Pointer argv,
            Pointer envp);

    static native int posix_spawn_file_actions_init(Pointer actions);

    static native int posix_spawn_file_actions_destroy(Pointer actions);

    static native int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int to);

    static native int posix_spawn_file_actions_addchdir_np(Pointer actions, byte[] path);

    static native int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

    static native int posix_spawnattr_init(Pointer attributes);

    static native int posix_spawnattr_destroy(Pointer attributes);

    static native int posix_spawnattr_setflags(Pointer attributes, short flags);

    static native int posix_spawnattr_setsigmask(Pointer attributes, Pointer mask);

    static native int posix_spawnattr_setsigdefault(Pointer attributes, Pointer signals);

    static native int sigemptyset(Pointer set);

    static native int waitid(int idType, int id, Pointer info, int options) throws LastErrorException;

    static native int waitpid(int pid, int[] status, int options) throws LastErrorException;

    static native int kill(int pid, int signal) throws LastErrorException;

    static native String strerror(int error);
}
