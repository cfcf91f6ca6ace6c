package org.buildhook.runner.exec;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The glibc functions {@link NativeSpawn} calls, bound through JNA's direct mapping (one native
 * method per function, the fastest JNA call). Loading this class binds them all: it fails with an
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
    static final int SIGTERM = 15;
    static final int EINTR = 4;
    static final int ECHILD = 10;
    static final int ENOEXEC = 8;

    static final long SPAWNATTR_BYTES = 512;
    static final long FILE_ACTIONS_BYTES = 256;
    static final long SIGSET_BYTES = 128;
    static final long SIGINFO_BYTES = 128;

    /** What {@link NativeSpawn} needs, each looked up by name before this class is loaded. */
    static final String[] FUNCTIONS = {"gnu_get_libc_version", "pipe2", "close", "posix_spawn",
        "posix_spawn_file_actions_init", "posix_spawn_file_actions_destroy", "posix_spawn_file_actions_adddup2",
        "posix_spawn_file_actions_addchdir_np", "posix_spawn_file_actions_addclosefrom_np", "posix_spawnattr_init",
        "posix_spawnattr_destroy", "posix_spawnattr_setflags", "posix_spawnattr_setsigmask",
        "posix_spawnattr_setsigdefault", "sigemptyset", "waitid", "waitpid", "kill", "strerror"};

    static final String LIBRARY = "c";

    static {
        Native.register(LibC.class, NativeLibrary.getInstance(LIBRARY));
    }

    private LibC() {
    }

    static native String gnu_get_libc_version();

    static native int pipe2(int[] fds, int flags) throws LastErrorException;

    static native int close(int fd);

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
