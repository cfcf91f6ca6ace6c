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
        return markLost(now == null ? "it no longer exists" : "the path now names another file");
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
