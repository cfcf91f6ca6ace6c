package org.buildhook.runner.exec;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a job's process as the leader of a new session with one {@code exec}: glibc's
 * {@code posix_spawn} with {@code POSIX_SPAWN_SETSID}, called through JNA, in place of
 * {@link ProcessBuilder} running {@code /usr/bin/setsid --wait -- <program> <args…>} (one exec
 * more, about a third of the start time and 0.7 ms of CPU per job: docs/BENCHMARKS.md).
 *
 * <p>What the child gets, as the JDK would give it and in one respect more carefully:
 * <ul>
 * <li>a new session whose id is its pid ({@code ProcessTree} and {@code Leftovers} rely on it), its
 *     parent the JVM;
 * <li>the argv and environment as the exact bytes of the strings in the JVM's process encoding
 *     ({@link ProcessEncoding}; {@link StartCheck} has refused what it cannot encode exactly), the
 *     program by the path {@link StartCheck} resolved, the working directory by
 *     {@code posix_spawn_file_actions_addchdir_np};
 * <li>stdin from one pipe, stdout and stderr into the other one, no other descriptor
 *     ({@code posix_spawn_file_actions_addclosefrom_np(3)}, besides {@code O_CLOEXEC} on the pipes);
 * <li>an empty signal mask and every signal at its default action ({@code POSIX_SPAWN_SETSIGMASK},
 *     {@code POSIX_SPAWN_SETSIGDEF}). The JDK leaves the mask of the starting thread, in which Java
 *     17 blocks SIGQUIT, and signals the JVM was started with ignored (under {@code nohup}: SIGHUP).
 * </ul>
 * A file the kernel cannot execute as it is ({@code ENOEXEC}: a script without a {@code #!} line) is
 * run by {@code /bin/sh}, as the JDK and {@code execvp} (which {@code setsid} uses) do.
 *
 * <p>Used when {@link #available()}: on Linux x86-64 or aarch64, when JNA loads its native library
 * and the C library is glibc 2.34 or newer (the first with {@code addclosefrom_np}; it has
 * {@code addchdir_np} since 2.29 and {@code POSIX_SPAWN_SETSID} since 2.26), unless the system
 * property {@value #PROPERTY} is {@code setsid}. Decided once, and said once in the log.
 */
final class NativeSpawn {

    /** The system property that chooses the launch: {@code native} (the default) or {@code setsid}. */
    static final String PROPERTY = "buildhook.launch";

    private static final Logger LOG = LoggerFactory.getLogger(NativeSpawn.class);
    private static final String SHELL = "/bin/sh";

    /** Children started here and not reaped yet: the binding stays while there are any. */
    private static final AtomicInteger UNREAPED = new AtomicInteger();
    private static int launchers; // guarded by NativeSpawn.class

    private NativeSpawn() {
    }

    /** A launcher was made: the binding, once made, stays at least until it is closed. */
    static synchronized void launcherOpened() {
        launchers++;
    }

    /**
     * A launcher was closed: when it was the last one and none of the children is left unreaped,
     * the native binding is let go ({@link LibC#unbind()}), so that a WAR being undeployed leaves
     * no JNA thread behind. The next start binds again.
     */
    static synchronized void launcherClosed() {
        launchers--;
        if (launchers == 0 && UNREAPED.get() == 0) {
            LibC.unbind();
        }
    }

    /**
     * Runs {@code call} with the native binding made, then lets it go again when no launcher holds it
     * ({@link #launcherClosed()}), so that a call made outside a launcher's life leaves no JNA thread.
     */
    static synchronized <T> T bound(java.util.function.Supplier<T> call) {
        LibC.bind();
        try {
            return call.get();
        } finally {
            if (launchers == 0 && UNREAPED.get() == 0) {
                LibC.unbind();
            }
        }
    }

    static void started() {
        UNREAPED.incrementAndGet();
    }

    static void reaped() {
        UNREAPED.decrementAndGet();
    }

    /** Children started here and not reaped yet; for tests. */
    static int unreaped() {
        return UNREAPED.get();
    }

    /** Whether jobs that get their own session are started here; the first call decides and logs. */
    static boolean available() {
        return Decision.NATIVE;
    }

    /** Why not, when not {@link #available()}; else what is used. */
    static String description() {
        return Decision.DESCRIPTION;
    }

    /** Decided on first use, once per class loader (a WAR decides for itself). */
    private static final class Decision {
        static final boolean NATIVE;
        static final String DESCRIPTION;

        static {
            String why = whyNot();
            NATIVE = why == null;
            if (NATIVE) {
                DESCRIPTION = "posix_spawn with POSIX_SPAWN_SETSID (glibc " + LibC.gnu_get_libc_version() + ", JNA "
                        + Native.VERSION + ")";
                LOG.info("jobs start in their own session through {}; -D{}=setsid starts them through {} instead",
                        DESCRIPTION, PROPERTY, LauncherConfig.SETSID);
            } else {
                DESCRIPTION = why;
                LOG.info("jobs start in their own session through {}: {}", LauncherConfig.SETSID, why);
            }
        }

        private static String whyNot() {
            String chosen = System.getProperty(PROPERTY, "native").trim().toLowerCase(Locale.ROOT);
            if (chosen.equals("setsid")) {
                return "-D" + PROPERTY + "=setsid asks for it";
            }
            if (!chosen.equals("native") && !chosen.isEmpty()) {
                LOG.warn("-D{}={} is not a launch buildhook knows (native or setsid); using native where it can",
                        PROPERTY, chosen);
            }
            try {
                if (!Platform.isLinux()) {
                    return "posix_spawn with a new session is used on Linux only, this is " + System.getProperty("os.name");
                }
                if (!Platform.ARCH.equals("x86-64") && !Platform.ARCH.equals("aarch64")) {
                    return "posix_spawn with a new session is used on x86-64 and aarch64 only, this is " + Platform.ARCH;
                }
                NativeLibrary c = NativeLibrary.getInstance(LibC.LIBRARY);
                for (String function : LibC.FUNCTIONS) {
                    try {
                        c.getFunction(function);
                    } catch (UnsatisfiedLinkError e) {
                        return function.equals("gnu_get_libc_version") ? "the C library is not glibc"
                                : "the C library has no " + function + " (glibc 2.34 or newer has)";
                    }
                }
                LibC.bind();
                return null;
            } catch (LinkageError e) {
                // Typically JNA could not unpack or load its own native library.
                return "JNA cannot load its native library (" + e.getMessage() + "); it unpacks it into"
                        + " ~/.cache/JNA/temp or -Djna.tmpdir, which must be writable and allow executing files";
            } catch (RuntimeException e) {
                return "JNA failed: " + e;
            }
        }
    }

    /**
     * Starts the program; only when {@link #available()}.
     *
     * @param argv        the program's path as {@link StartCheck} resolved it (absolute), then its
     *                    arguments
     * @param environment the whole environment of the program
     * @param workdir     its working directory (absolute)
     * @return the running process: stdout and stderr merged in {@link Process#getInputStream()}
     * @throws IOException if it could not be started, with the JDK's message: {@code Cannot run
     *                     program "<path>" (in directory "<dir>"): error=<n>, <reason>}
     */
    static Process start(List<String> argv, Map<String, String> environment, Path workdir, ProcessEncoding encoding)
            throws IOException {
        Charset arguments = encoding.arguments();
        Charset paths = encoding.paths();
        List<byte[]> args = new ArrayList<>(argv.size());
        args.add(argv.get(0).getBytes(paths));
        for (String argument : argv.subList(1, argv.size())) {
            args.add(argument.getBytes(arguments));
        }
        List<byte[]> env = new ArrayList<>(environment.size());
        for (Map.Entry<String, String> variable : environment.entrySet()) {
            env.add((variable.getKey() + "=" + variable.getValue()).getBytes(arguments));
        }
        LibC.bind(); // again, after the last launcher closed
        int[] toChild = pipe();
        int[] fromChild;
        try {
            fromChild = pipe();
        } catch (IOException e) {
            closeAll(toChild);
            throw e;
        }
        try (LibC.Block actionsBlock = new LibC.Block(LibC.FILE_ACTIONS_BYTES);
                LibC.Block attributesBlock = new LibC.Block(LibC.SPAWNATTR_BYTES);
                LibC.Block signalsBlock = new LibC.Block(LibC.SIGSET_BYTES);
                LibC.Block argvBlock = strings(args);
                LibC.Block envBlock = strings(env)) {
            Pointer actions = actionsBlock.pointer;
            Pointer attributes = attributesBlock.pointer;
            Pointer signals = signalsBlock.pointer;
            check(LibC.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            try {
                check(LibC.posix_spawnattr_init(attributes), "posix_spawnattr_init");
                try {
                    check(LibC.posix_spawn_file_actions_adddup2(actions, toChild[0], 0), "adddup2");
                    check(LibC.posix_spawn_file_actions_adddup2(actions, fromChild[1], 1), "adddup2");
                    check(LibC.posix_spawn_file_actions_adddup2(actions, fromChild[1], 2), "adddup2");
                    check(LibC.posix_spawn_file_actions_addchdir_np(actions, cString(workdir.toString().getBytes(paths))),
                            "addchdir_np");
                    check(LibC.posix_spawn_file_actions_addclosefrom_np(actions, 3), "addclosefrom_np");
                    check(LibC.posix_spawnattr_setflags(attributes, (short) (LibC.POSIX_SPAWN_SETSID
                            | LibC.POSIX_SPAWN_SETSIGMASK | LibC.POSIX_SPAWN_SETSIGDEF)), "setflags");
                    LibC.sigemptyset(signals);
                    check(LibC.posix_spawnattr_setsigmask(attributes, signals), "setsigmask");
                    // Every bit, not sigfillset: that leaves out glibc's two internal signals (32, 33),
                    // which posix_spawn would then hand to the child ignored.
                    signals.setMemory(0, LibC.SIGSET_BYTES, (byte) 0xff);
                    check(LibC.posix_spawnattr_setsigdefault(attributes, signals), "setsigdefault");
                    int[] pid = new int[1];
                    int error = LibC.posix_spawn(pid, cString(args.get(0)), actions, attributes, argvBlock.pointer,
                            envBlock.pointer);
                    if (error == LibC.ENOEXEC) {
                        error = shellFallback(pid, args, actions, attributes, envBlock.pointer, paths);
                    }
                    if (error != 0) {
                        throw new IOException("Cannot run program \"" + argv.get(0) + "\" (in directory \"" + workdir
                                + "\"): error=" + error + ", " + LibC.strerror(error));
                    }
                    // Reopened while this process still holds the child's ends: neither open waits.
                    return NativeProcess.of(pid[0], toChild[1], fromChild[0]);
                } finally {
                    LibC.posix_spawnattr_destroy(attributes);
                }
            } finally {
                LibC.posix_spawn_file_actions_destroy(actions);
            }
        } finally {
            // The child's ends are the child's: the output ends (EOF) when the child and whatever
            // it started are done with it. The others were reopened by NativeProcess, or are unused.
            LibC.close(toChild[0]);
            LibC.close(fromChild[1]);
            LibC.close(toChild[1]);
            LibC.close(fromChild[0]);
        }
    }

    /** What execvp and the JDK do when the kernel refuses the file's format: run it with the shell. */
    private static int shellFallback(int[] pid, List<byte[]> args, Pointer actions, Pointer attributes,
            Pointer envBlock, Charset paths) {
        List<byte[]> shellArgs = new ArrayList<>(args.size() + 1);
        shellArgs.add(SHELL.getBytes(paths));
        shellArgs.addAll(args);
        try (LibC.Block shellArgv = strings(shellArgs)) {
            return LibC.posix_spawn(pid, cString(SHELL.getBytes(paths)), actions, attributes, shellArgv.pointer,
                    envBlock);
        }
    }

    private static int[] pipe() throws IOException {
        int[] fds = new int[2];
        try {
            LibC.pipe2(fds, LibC.O_CLOEXEC);
        } catch (com.sun.jna.LastErrorException e) {
            throw new IOException("cannot make a pipe for the job: " + LibC.strerror(e.getErrorCode()), e);
        }
        return fds;
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) {
            LibC.close(fd);
        }
    }

    private static void check(int error, String what) throws IOException {
        if (error != 0) {
            throw new IOException(what + " failed: error=" + error + ", " + LibC.strerror(error));
        }
    }

    private static byte[] cString(byte[] bytes) {
        byte[] terminated = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, terminated, 0, bytes.length);
        return terminated;
    }

    /** A NULL-terminated array of pointers to NUL-terminated strings, and the strings, in one block. */
    private static LibC.Block strings(List<byte[]> values) {
        long table = (values.size() + 1L) * Native.POINTER_SIZE;
        long size = table;
        for (byte[] value : values) {
            size += value.length + 1;
        }
        LibC.Block allocated = new LibC.Block(size);
        Pointer block = allocated.pointer;
        long at = table;
        for (int i = 0; i < values.size(); i++) {
            byte[] value = values.get(i);
            block.write(at, value, 0, value.length);
            block.setByte(at + value.length, (byte) 0);
            block.setPointer((long) i * Native.POINTER_SIZE, block.share(at));
            at += value.length + 1;
        }
        block.setPointer((long) values.size() * Native.POINTER_SIZE, null);
        return allocated;
    }
}
