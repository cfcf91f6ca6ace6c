package org.buildhook.distribution;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.buildhook.core.IoProblems;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The class-data archive this JVM writes when it exits ({@code -XX:ArchiveClassesAtExit}, set by
 * bin/buildhook for {@code serve} with {@code BUILDHOOK_CDS_DIR}). A write that fails ends the JVM with
 * status 1 whatever the stop was, which systemd reports as a failed stop: the launcher sets 128 MB aside
 * at the start against a disk that fills up, but a folder removed or remounted read-only while the server
 * runs still made a clean stop exit 1 (cds17 F2's residual). After the graceful stop, {@link
 * #skipIfUnwritable} asks for the file as the JVM will; when it cannot be written, it says so once and
 * ends the process with the stop's own status without the dump, after deleting the files registered with
 * {@link java.io.File#deleteOnExit} as the JVM's exit would. The next start then runs without an archive
 * (the launcher says why) or writes a new one.
 */
final class ExitArchive {

    private static final Logger LOG = LoggerFactory.getLogger(ExitArchive.class);

    /** libc, loaded at the start by {@link #prepare} while its files can be read; null when not loaded. */
    private static volatile LibC libc;

    /**
     * {@code java.io.DeleteOnExitHook.runHooks()}, the JVM's deletion of the files registered with {@link
     * java.io.File#deleteOnExit} (sqlite-jdbc's native library unpacked into {@code java.io.tmpdir}, its
     * {@code .lck}), made accessible by {@link #prepare}; null when java.io is not opened to buildhook
     * (bin/buildhook opens it for the runs that write an archive).
     */
    private static volatile Method deleteOnExitFiles;

    private ExitArchive() {
    }

    /**
     * At the server's start, when this JVM writes an archive at its exit: loads libc through JNA now, not
     * during the stop, when JNA's own files (its cache may be the archive's folder, as in the container
     * image) may be gone and a shutdown hook may no longer be added. A failure only means the stop keeps
     * the JVM's behaviour (logged at debug level).
     */
    static void prepare() {
        if (target().isEmpty()) {
            return;
        }
        try {
            libc = Native.load("c", LibC.class);
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("cannot load libc to skip the class-data archive at a stop it cannot be written: {}",
                    e.toString());
        }
        try {
            Method runHooks = Class.forName("java.io.DeleteOnExitHook").getDeclaredMethod("runHooks");
            runHooks.setAccessible(true);
            deleteOnExitFiles = runHooks;
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Not opened (--add-opens java.base/java.io), or another JDK's internals: such a stop leaves them.
            LOG.debug("cannot delete the files registered with File.deleteOnExit at a stop without the JVM's exit: {}",
                    e.toString());
        }
    }

    /**
     * Deletes the files registered with {@link java.io.File#deleteOnExit}, newest first, as the JVM's exit
     * would: {@code _exit(2)} skips that, and sqlite-jdbc's unpacked library (about 1 MB) would stay in {@code
     * java.io.tmpdir} at every such stop (its own clean-up at the next start keeps a library whose {@code
     * .lck} is there). Logs at debug level and returns when it cannot.
     */
    private static void deleteFilesMarkedForExit() {
        Method runHooks = deleteOnExitFiles;
        if (runHooks == null) {
            return;
        }
        try {
            runHooks.invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("cannot delete the files registered with File.deleteOnExit: {}", e.toString());
        }
    }

    /** libc's {@code _exit(2)}: ends the process at once, without the JVM's exit (nor its archive dump). */
    interface LibC extends Library {
        void _exit(int status);
    }

    /** The archive the JVM writes at its exit ({@code -XX:ArchiveClassesAtExit}), or empty when none. */
    static Optional<Path> target() {
        try {
            String value = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .getVMOption("ArchiveClassesAtExit").getValue();
            return value == null || value.isEmpty() ? Optional.empty() : Optional.of(Path.of(value));
        } catch (RuntimeException | LinkageError e) {
            // Not HotSpot, or no such option (a JVM without CDS): it writes no archive.
            return Optional.empty();
        }
    }

    /**
     * Why the JVM could not write {@code archive} at its exit, or empty when it can: it opens the file for
     * writing, creating it, as the JVM does (which first deletes it, so a file this user may not write in
     * a folder it may write is fine). Changes nothing in a file that is there; a file it created is left
     * empty for the JVM to write.
     *
     * @param archive the archive's path, absolute
     * @return the file system's error in words ({@link IoProblems#describe}), e.g. {@code "…: Read-only
     *         file system"}
     */
    static Optional<String> whyNotWritable(Path archive) {
        Path folder = archive.toAbsolutePath().getParent();
        if (folder != null && !Files.isDirectory(folder)) {
            return Optional.of("its folder " + folder + " is not there any more");
        }
        try (FileChannel channel = FileChannel.open(archive, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            channel.size();
            return Optional.empty();
        } catch (AccessDeniedException e) {
            return folder != null && Files.isWritable(folder) ? Optional.empty() : Optional.of(IoProblems.describe(e));
        } catch (IOException | RuntimeException e) {
            return Optional.of(e instanceof IOException io ? IoProblems.describe(io) : e.toString());
        }
    }

    /**
     * At the end of a graceful stop by a signal: when this JVM would write a class-data archive at its exit
     * and cannot ({@link #whyNotWritable}), logs one WARN saying why and that the next start runs without
     * it, and ends the process now with {@code status} (the stop's own, 143 for SIGTERM) instead of the
     * JVM's 1. Returns (the JVM then exits as usual, writing its archive) when there is no archive to write
     * or it can be written, or when libc could not be loaded at the start ({@link #prepare}).
     *
     * @param status the exit status of the stop, 0 to 255
     */
    static void skipIfUnwritable(int status) {
        Optional<Path> archive = target();
        if (archive.isEmpty()) {
            return;
        }
        Optional<String> why = whyNotWritable(archive.get());
        if (why.isEmpty()) {
            return;
        }
        LibC loaded = libc;
        if (loaded == null) {
            return;
        }
        LOG.warn("no class-data archive written at this stop: {} cannot be written ({}); the server stopped"
                + " cleanly, and the next start runs without an archive, or writes one where BUILDHOOK_CDS_DIR"
                + " can be written (docs/deploying.md)", archive.get(), why.get());
        deleteFilesMarkedForExit();
        System.out.flush();
        System.err.flush();
        loaded._exit(status);
    }
}
