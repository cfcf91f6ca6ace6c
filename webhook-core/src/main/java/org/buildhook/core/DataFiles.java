package org.buildhook.core;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * Creates buildhook's own folders and files (the data folder, the SQLite database, stored
 * payloads, job logs) closed to other users: folders {@code 0750}, files {@code 0640} — what the
 * systemd unit's {@code UMask=0027} gives — whatever the process's umask, so that a server started
 * from a shell (umask 022) does not leave them world-readable. Generated secrets are {@code 0600}
 * (their own code). The umask may only take more away. Only what buildhook creates gets these modes:
 * a folder or file that already exists (the operator made it) is never changed. On a file system
 * without POSIX permissions the platform's defaults apply.
 */
public final class DataFiles {

    /** {@code rwxr-x---}: a folder buildhook creates. */
    public static final Set<PosixFilePermission> FOLDER = PosixFilePermissions.fromString("rwxr-x---");
    /** {@code rw-r-----}: a file buildhook creates. */
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-r-----");

    private DataFiles() {
    }

    /**
     * Creates {@code dir} and every missing parent as {@code 0750}; folders that exist are left as
     * they are. Returns {@code dir}.
     *
     * @throws IOException when a folder cannot be created; a {@link NotDirectoryException} naming it
     *         when {@code dir} or one of its parents exists and is not a folder
     */
    public static Path createDirectories(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        Deque<Path> missing = new ArrayDeque<>();
        Path p = absolute;
        while (p != null && !exists(p)) {
            missing.push(p);
            p = p.getParent();
        }
        if (p != null && !Files.isDirectory(p)) {
            // Not "already exists" (what creating it would say) nor mkdir's bare "Not a directory".
            throw new NotDirectoryException(p.toString());
        }
        while (!missing.isEmpty()) {
            Path next = missing.pop();
            try {
                if (posix(next)) {
                    Files.createDirectory(next, PosixFilePermissions.asFileAttribute(FOLDER));
                } else {
                    Files.createDirectory(next);
                }
            } catch (FileAlreadyExistsException e) {
                // Made meanwhile by another thread or process: theirs, kept as it is.
                if (!Files.isDirectory(next)) {
                    throw e;
                }
            }
        }
        if (!Files.isDirectory(absolute)) {
            throw new NotDirectoryException(absolute.toString());
        }
        return dir;
    }

    /**
     * As {@link #createDirectories}, for a folder made where its parent usually exists (a job's
     * log folder in the log directory): one {@code mkdir} then, without first asking whether the
     * folder or its parents exist (docs/BENCHMARKS.md, "Fifth pass: CPU per delivery"). Returns
     * {@code dir}.
     *
     * @throws IOException when a folder cannot be created; a {@link NotDirectoryException} naming it
     *         when {@code dir} or one of its parents exists and is not a folder
     */
    public static Path createDirectoryInExisting(Path dir) throws IOException {
        madeDirectoryInExisting(dir);
        return dir;
    }

    /**
     * As {@link #createDirectoryInExisting}, and says whether this call's own {@code mkdir} made
     * {@code dir}: true means the folder did not exist a moment ago, so it holds nothing but what the
     * caller puts in it (a job's log folder then needs no look for an earlier attempt's leftovers,
     * docs/BENCHMARKS.md, "Twenty-first pass"). False when it existed already, when a parent had to be
     * made first, or on a file system without POSIX permissions (where it is not told apart).
     *
     * @throws IOException as {@link #createDirectoryInExisting}
     */
    public static boolean madeDirectoryInExisting(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        if (!posix(absolute)) {
            createDirectories(dir);
            return false;
        }
        try {
            Files.createDirectory(absolute, PosixFilePermissions.asFileAttribute(FOLDER));
            return true;
        } catch (FileAlreadyExistsException | NoSuchFileException e) {
            // It exists (kept as it is, if it is a folder) or a parent is missing: the long way.
            createDirectories(dir);
            return false;
        } catch (FileSystemException e) {
            // mkdir's ENOTDIR (a parent is a file): the long way names that file.
            if (absolute.getParent() != null && !Files.isDirectory(absolute.getParent())) {
                createDirectories(dir);
                return false;
            }
            throw e;
        }
    }

    /**
     * Opens {@code file} with {@code options}; if they create it, it is created {@code 0640}. An
     * existing file keeps its mode.
     */
    public static FileChannel open(Path file, OpenOption... options) throws IOException {
        Set<OpenOption> set = Set.of(options);
        return posix(file) ? FileChannel.open(file, set, PosixFilePermissions.asFileAttribute(FILE))
                : FileChannel.open(file, set);
    }

    /** Writes {@code bytes} into {@code file}, replacing its content; a new file is {@code 0640}. */
    public static void write(Path file, byte[] bytes) throws IOException {
        try (FileChannel channel = open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }

    /** Creates {@code file} empty and {@code 0640} unless it exists; returns whether it created it. */
    public static boolean createIfMissing(Path file) throws IOException {
        try {
            if (posix(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(FILE));
            } else {
                Files.createFile(file);
            }
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    /**
     * {@link Files#exists}, without its cost for a missing file on the default file system: on Java
     * 17 that builds and throws an exception, and every job's new log folder is missing
     * (docs/BENCHMARKS.md, "Third pass: the job's own bookkeeping"). Follows links, as it does.
     */
    static boolean exists(Path p) {
        return p.getFileSystem() == FileSystems.getDefault() ? p.toFile().exists() : Files.exists(p);
    }

    private static boolean posix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
