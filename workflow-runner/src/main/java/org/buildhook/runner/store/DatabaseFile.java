package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQLite database file this process opened, and whether its path still names that file.
 *
 * <p>SQLite keeps writing through the descriptors it holds when the file is deleted ({@code rm -rf}
 * of the data directory) or replaced: every commit succeeds, into a file no restart will find.
 * So the writer asks {@link #lost()} after each commit — one {@code stat(2)} of the path, compared by
 * device and inode ({@link BasicFileAttributes#fileKey()}) with the file pinned at open: a few
 * microseconds against the milliseconds of the commit's {@code fsync}, once per group of commits.
 *
 * <p>Once lost, always lost in this process: its connections write to the old file, and a new empty
 * file at the path would have no schema. The operator restores the file or restarts.
 */
final class DatabaseFile {

    private static final Logger LOG = LoggerFactory.getLogger(DatabaseFile.class);

    private final Path path;
    private volatile Object key;
    private volatile String lost;

    private DatabaseFile(Path path) {
        this.path = path;
    }

    /** The file of a {@code jdbc:sqlite:<path>[?…]} URL; empty for in-memory and {@code file:} URLs. */
    static Optional<DatabaseFile> of(String url) {
        return Dialect.sqliteFile(url).map(DatabaseFile::new);
    }

    Path path() {
        return path;
    }

    /**
     * Remembers which file the path names now: call once the store opened it. Where the file system
     * gives no file identity, nothing is checked.
     */
    void pin() {
        key = keyNow();
    }

    /**
     * Why writes no longer reach the file opened at start, or {@code null} while the path still names
     * it (or it cannot tell). Logs an error the first time it finds the file gone.
     */
    String lost() {
        String known = lost;
        Object pinned = key;
        if (known != null || pinned == null) {
            return known;
        }
        Object now;
        try {
            now = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            now = null;
        } catch (IOException e) {
            return null; // not proof that the file is gone: an error of the moment
        }
        if (pinned.equals(now)) {
            return null;
        }
        Optional<Path> movedTo = whereNow(pinned);
        if (movedTo.isPresent()) {
            return markMoved(movedTo.get(), now == null ? "" : "; the path now names another file");
        }
        return markLost(now == null ? "it no longer exists" : "the path now names another file");
    }

    /**
     * Where the file opened at start is now, when it still has a name: a descriptor of this process on it
     * ({@code /proc/self/fd}) is read as the kernel names it after a rename (of the file or a folder above it),
     * its link count not 0. Empty when it was deleted, or where {@code /proc} cannot tell.
     */
    static Optional<Path> whereNow(Object pinned) {
        Path fds = Path.of("/proc/self/fd");
        try (java.util.stream.Stream<Path> all = Files.list(fds)) {
            for (Path fd : (Iterable<Path>) all::iterator) {
                try {
                    BasicFileAttributes attributes = Files.readAttributes(fd, BasicFileAttributes.class);
                    if (!pinned.equals(attributes.fileKey())
                            || ((Number) Files.getAttribute(fd, "unix:nlink")).intValue() < 1) {
                        continue;
                    }
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.endsWith(" (deleted)") || !target.startsWith("/")) {
                        continue;
                    }
                    Path at = Path.of(target);
                    Object key = Files.readAttributes(at, BasicFileAttributes.class).fileKey();
                    if (pinned.equals(key)) {
                        return Optional.of(at);
                    }
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile, or not a file: the next
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private synchronized String markMoved(Path to, String andPath) {
        if (lost == null) {
            lost = "the SQLite database file " + path + " was moved while buildhook was running: it is now " + to
                    + andPath + ", intact, but this server stores nothing more (it finds the file by its path)";
            LOG.error("{}. Every delivery is answered 503 and /healthz says 503 until buildhook is restarted. Nothing"
                    + " is lost: every delivery answered 202 and every job's record so far are in {}. What to do: stop"
                    + " buildhook, then either move it back to {} (the data folder it is in, or the file with its -wal"
                    + " and -shm files beside it), or point data-dir (or store.url) at its new place; then"
                    + " start buildhook. Do not restore a backup: it would lose everything since. A delivery"
                    + " answered 503 around this moment may have been stored before it was noticed; JobServ's retry"
                    + " of it is then a duplicate, which does no harm", lost, to, path);
        }
        return lost;
    }

    private synchronized String markLost(String what) {
        if (lost == null) {
            lost = "the SQLite database file " + path + " was deleted or replaced while buildhook was running ("
                    + what + "): nothing can be stored any more";
            LOG.error("{}. Every delivery is answered 503 and /healthz says 503 until buildhook is restarted. What "
                    + "to do: if the data directory was removed by mistake, restore it (or its buildhook.db) from a "
                    + "backup, then restart buildhook; a restart without it starts an empty store. Deliveries "
                    + "answered 202 before this moment are in the deleted file only.", lost);
        }
        return lost;
    }

    private Object keyNow() {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            LOG.warn("cannot read the identity of the SQLite database file {} ({}); a deleted data directory "
                    + "will not be noticed", path, e.toString());
            return null;
        }
    }
}
