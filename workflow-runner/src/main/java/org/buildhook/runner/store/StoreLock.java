package org.buildhook.runner.store;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Optional;
import org.buildhook.core.DataFiles;
import org.buildhook.core.IoProblems;
import org.buildhook.runner.RunnerException;

/**
 * One server per SQLite database: an exclusive lock ({@link FileChannel#tryLock()}, an
 * {@code fcntl} lock on Linux) on {@code <database>.lock} beside the database file, held while the
 * server runs. The kernel releases it when the process ends in any way, {@code kill -9} included,
 * so a stale file never blocks a start; the file itself stays. It holds the owner's pid, host and
 * start time, so a second server that finds the lock taken can name the first.
 *
 * <p>Two servers on one SQLite file would each run the same queued jobs (db-scheduler on SQLite
 * has no cross-process picking) and each take the other's running jobs for a dead node's: the
 * second is refused. Several nodes need PostgreSQL. On PostgreSQL nothing is locked.
 */
public final class StoreLock implements AutoCloseable {

    private static final StoreLock NONE = new StoreLock(null, null, null);
    /**
     * The lock files this JVM holds. Checked before a channel is even opened: closing any channel
     * of a file releases every fcntl lock this process holds on it (see {@link FileLock}).
     */
    private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final FileChannel channel;
    private final FileLock lock;
    private final Path file;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private StoreLock(FileChannel channel, FileLock lock, Path file) {
        this.channel = channel;
        this.lock = lock;
        this.file = file;
    }

    /**
     * Takes the lock of the SQLite database of {@code config}; nothing on PostgreSQL.
     *
     * @throws RunnerException when another process (or another application of this JVM) holds it,
     *         naming it when its lock file says who; or when the lock file cannot be created
     */
    public static StoreLock acquire(StoreConfig config) {
        Optional<Path> database = Dialect.sqliteFile(config.url());
        if (database.isEmpty()) {
            return NONE;
        }
        Path file = database.get().resolveSibling(database.get().getFileName() + ".lock").toAbsolutePath().normalize();
        if (!HELD.add(file)) {
            throw taken(database.get(), file, " (in this same process)");
        }
        FileChannel channel = null;
        try {
            DataFiles.createDirectories(file.getParent());
            channel = DataFiles.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String owner = owner(file);
                channel.close();
                HELD.remove(file);
                throw taken(database.get(), file, owner);
            }
            try {
                channel.truncate(0);
                channel.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + " on " + host() + ", started "
                        + Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS) + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            } catch (IOException e) {
                // Only a courtesy to a second server (naming this one): a full disk must not stop the start.
            }
            return new StoreLock(channel, lock, file);
        } catch (IOException e) {
            closeQuietly(channel);
            HELD.remove(file);
            throw new RunnerException("cannot create the lock file " + file + " of the SQLite store: "
                    + IoProblems.describe(e), e);
        }
    }

    private static RunnerException taken(Path database, Path file, String owner) {
        return new RunnerException("another buildhook" + owner + " is already serving the SQLite database " + database
                + " (its lock " + file + " is taken): stop that one first, or give this one another data-dir. Two"
                + " servers on one SQLite file would run the same jobs; several nodes sharing one store need"
                + " PostgreSQL (store.url: jdbc:postgresql://…)");
    }

    /** {@code " (pid 123 on host, started …)"} as the holder wrote it, or empty when unknown. */
    private static String owner(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return text.isEmpty() || text.length() > 300 || !text.startsWith("pid ") ? "" : " (" + text + ")";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "this host";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing to tell: the lock, if any, goes with the channel
            }
        }
    }

    /** Releases the lock (closing its channel); the file stays. */
    @Override
    public void close() {
        if (lock != null && closed.compareAndSet(false, true)) {
            closeQuietly(channel);
            HELD.remove(file);
        }
    }
}
