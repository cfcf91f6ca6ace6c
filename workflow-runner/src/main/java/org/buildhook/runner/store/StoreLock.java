package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.buildhook.core.DataFiles;
import org.buildhook.core.IoProblems;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.FileFlock;

/**
 * One server per SQLite database: an exclusive lock ({@link FileChannel#tryLock()}, an
 * {@code fcntl} lock on Linux) on {@code <database>.lock} beside the database file, held while the
 * server runs. The kernel releases it when the process ends in any way, {@code kill -9} included,
 * so a stale file never blocks a start; the file itself stays. It holds the owner's pid, host and
 * start time, so a second server that finds the lock taken can name the first, and its data folder
 * ({@code data-dir}), so that one database given to two data folders by mistake (an explicit
 * {@code store.url} copied into two configurations) is said as such: at once, the second is refused
 * with both folders named; one after the other, the next start warns (a data folder moved on
 * purpose looks the same, so it is not refused), since the secrets it generated and the job logs
 * stay in the other folder.
 *
 * <p>Two servers on one SQLite file would each run the same queued jobs (db-scheduler on SQLite
 * has no cross-process picking) and each take the other's running jobs for a dead node's: the
 * second is refused. Several nodes need PostgreSQL. On PostgreSQL nothing is locked.
 *
 * <p>The lock file is named after the database's path, so a second server given another name of the same
 * file (a hard link) did not meet it (chaos15 F4), and would have written through a write-ahead log of its
 * own ({@code <name>-wal}, also named after the path): a corrupt database. So the database file itself is
 * locked too, on Linux: an exclusive {@code flock} ({@link FileFlock}), which SQLite's own {@code fcntl}
 * locks neither take nor release, held on a descriptor of its own until the store is closed. An empty
 * database file is created for it when there is none (SQLite takes an empty file for an empty database).
 */
public final class StoreLock implements AutoCloseable {

    private static final StoreLock NONE = new StoreLock(null, null, null, null);
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StoreLock.class);
    /** How the lock file's line naming its server's data folder begins. */
    private static final String DATA_DIR = "data-dir ";
    /** At most this much of a lock file is read: a pid line and a path. */
    private static final int MAX_READ = 16 * 1024;
    /**
     * The lock files this JVM holds. Checked before a channel is even opened: closing any channel
     * of a file releases every fcntl lock this process holds on it (see {@link FileLock}).
     */
    private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The database files this JVM holds a {@code flock} on, by device and inode ({@link BasicFileAttributes#fileKey()}). */
    private static final java.util.Set<Object> HELD_FILES = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final FileChannel channel;
    private final FileLock lock;
    private final Path file;
    /** The database file's own lock, or null where none could be taken ({@link #lockDatabaseFile}). */
    private final FileHold database;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private StoreLock(FileChannel channel, FileLock lock, Path file, FileHold database) {
        this.channel = channel;
        this.lock = lock;
        this.file = file;
        this.database = database;
    }

    /** A descriptor of the database file holding its {@code flock}, and the file's identity. */
    private record FileHold(FileChannel channel, Object key) {
    }

    /** Thrown by {@link #lockDatabaseFile} when another process holds the database file's lock. */
    private static final class HeldElsewhere extends Exception {
        private static final long serialVersionUID = 1L;
        final String pid;

        HeldElsewhere(String pid) {
            super(null, null, false, false);
            this.pid = pid;
        }
    }

    /**
     * Takes the lock of the SQLite database of {@code config}; nothing on PostgreSQL.
     *
     * @throws RunnerException when another process (or another application of this JVM) holds it,
     *         naming it when its lock file says who; or when the lock file cannot be created
     */
    public static StoreLock acquire(StoreConfig config) {
        Attempt attempt = attempt(config);
        if (attempt.pending() != null) {
            throw attempt.pending().refuse();
        }
        return attempt.lock();
    }

    /**
     * What {@link #attempt} found: the lock taken ({@link #lock()}), or held by another application of
     * this same JVM ({@link #pending()}): a previous copy of this web application that the container has
     * not stopped yet (Jetty 12's deployer starts the new copy of a redeployed WAR before it stops the old
     * one). Exactly one of the two is not null.
     */
    public record Attempt(StoreLock lock, Pending pending) {
    }

    /**
     * As {@link #acquire}, except that a lock held by another application of this same JVM (another class
     * loader: a web application's previous copy) is not refused but handed back as {@link Attempt#pending()},
     * to be {@linkplain Pending#await awaited}.
     *
     * @throws RunnerException when another process holds it, or the lock file cannot be created
     */
    public static Attempt attempt(StoreConfig config) {
        Optional<Path> database = Dialect.sqliteFile(config.url());
        if (database.isEmpty()) {
            return new Attempt(NONE, null);
        }
        Path file = database.get().resolveSibling(database.get().getFileName() + ".lock").toAbsolutePath().normalize();
        Path dataDir = config.dataDir().toAbsolutePath().normalize();
        if (!HELD.add(file)) {
            throw taken(database.get(), file, new String[] {"in this same process", null}, dataDir);
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
                // Held by this JVM through another class loader (HELD is per class loader). This channel stays
                // open until then: closing it would release that holder's fcntl lock too (see HELD).
                return new Attempt(null, new Pending(channel, file, database.get(), dataDir));
            }
            return new Attempt(locked(channel, lock, file, database.get(), dataDir), null);
        } catch (IOException e) {
            closeQuietly(channel);
            HELD.remove(file);
            throw new RunnerException("cannot create the lock file " + file + " of the SQLite store: "
                    + IoProblems.describe(e), e);
        }
    }

    /**
     * A lock file held by another application of this JVM, with this application's channel open on it
     * (never closed while that one may hold the lock: closing it would release that one's lock too).
     */
    public static final class Pending implements AutoCloseable {
        /**
         * Who holds a lock of this JVM through another class loader: not "another buildhook (pid …)", which would
         * send the operator looking for another process with this JVM's own pid (tryout32 F1(b)).
         */
        static final String PREVIOUS_COPY = "a previous copy of this web application in this JVM";
        private static final Duration POLL = Duration.ofMillis(100);
        private final FileChannel channel;
        private final Path file;
        private final Path database;
        private final Path dataDir;
        private final String[] holder;
        private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();

        private Pending(FileChannel channel, Path file, Path database, Path dataDir) {
            this.channel = channel;
            this.file = file;
            this.database = database;
            this.dataDir = dataDir;
            this.holder = holder(read(channel));
        }

        /** Whether this wait is over: the lock taken by {@link #await}, or this closed. */
        public boolean over() {
            return done.get();
        }

        /** The SQLite database whose lock is held. */
        public Path database() {
            return database;
        }

        /** What the lock file says of its holder ({@code "pid 123 on host, started …"}), or null when it does not. */
        public String holderLine() {
            return holder[0];
        }

        /**
         * Waits until the other application of this JVM lets the lock go, then takes it, checking every
         * 100 ms (the lock offers no event to wait on).
         *
         * @param atMost how long to wait at most
         * @return the lock, taken
         * @throws RunnerException when it is still held after {@code atMost} (saying so, this channel kept
         *         open so as not to release that holder's lock), when another process took it first, or
         *         when the lock file cannot be read
         * @throws InterruptedException when interrupted while waiting
         */
        public StoreLock await(Duration atMost) throws InterruptedException {
            long deadline = System.nanoTime() + atMost.toNanos();
            while (true) {
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException e) {
                    if (System.nanoTime() - deadline >= 0) {
                        throw new RunnerException(PREVIOUS_COPY + (holder[0] == null ? "" : " (" + holder[0] + ")")
                                + " still serves the SQLite database " + database + " (its lock " + file + " is taken) after "
                                + atMost.toSeconds() + " s: it did not stop. Stop it (undeploy it, or restart the"
                                + " container), then deploy this one again");
                    }
                    Thread.sleep(POLL.toMillis());
                    continue;
                } catch (IOException e) {
                    close();
                    throw new RunnerException("cannot lock the lock file " + file + " of the SQLite store: "
                            + IoProblems.describe(e), e);
                }
                done.set(true);
                try {
                    return locked(channel, lock, file, database, dataDir);
                } catch (IOException e) {
                    closeQuietly(channel);
                    HELD.remove(file);
                    throw new RunnerException("cannot create the lock file " + file + " of the SQLite store: "
                            + IoProblems.describe(e), e);
                }
            }
        }

        /**
         * The refusal of {@link #acquire}: closes the channel and names the holder, which is this JVM (another
         * class loader of it), not another process.
         */
        private RunnerException refuse() {
            close();
            return new RunnerException(PREVIOUS_COPY + (holder[0] == null ? "" : " (" + holder[0] + ")") + ", or another"
                    + " web application of this JVM with the same store, is still serving the SQLite database " + database
                    + " (its lock " + file + " is taken): undeploy it (or restart the container) first, or give this one"
                    + " a database of its own (store.url). Two servers on one SQLite file would run the same jobs");
        }

        /**
         * Gives up waiting: closes this channel. While the other application still holds the lock, that
         * releases the kernel's lock of the file for the whole process (that application's own lock in this
         * JVM stays): another process could then take it.
         */
        @Override
        public void close() {
            if (done.compareAndSet(false, true)) {
                closeQuietly(channel);
                HELD.remove(file);
            }
        }
    }

    /**
     * The rest of a start once {@code channel} tried its lock: refused when another process holds it, else
     * the database file locked too and this server written into the lock file.
     *
     * <p>With the calling thread's interrupt flag cleared, and set again after: a {@link FileChannel} closes itself
     * when an interrupted thread reads or writes through it, and closing the lock file's channel releases the lock.
     * A start on a thread interrupted (a container that stops while it deploys the web application, the wait for a
     * previous copy given up as it took the lock) went on believing it held a lock the kernel had released, read
     * nothing of the last server and wrote nothing of itself (interrupt45).
     */
    private static StoreLock locked(FileChannel channel, FileLock lock, Path file, Path database, Path dataDir)
            throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            return lockedNow(channel, lock, file, database, dataDir);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static StoreLock lockedNow(FileChannel channel, FileLock lock, Path file, Path database, Path dataDir)
            throws IOException {
        if (lock == null) {
            String[] holder = holder(read(channel));
            channel.close();
            HELD.remove(file);
            throw taken(database, file, holder, dataDir);
        }
        FileHold held;
        try {
            held = lockDatabaseFile(database);
        } catch (HeldElsewhere e) {
            channel.close();
            HELD.remove(file);
            throw takenThroughAnotherName(database, file, e.pid, dataDir);
        } catch (RunnerException | IOException e) {
            channel.close();
            HELD.remove(file);
            throw e;
        }
        // Read through the channel that holds the lock: closing any other one of this file would release it.
        String[] last = holder(read(channel));
        warnIfLastServedWithAnotherDataDir(database, last, dataDir);
        String came = null;
        if (last[0] == null && last[1] == null && Files.size(database) > 0) {
            came = "its data folder has no lock file of a server that served it (" + file.getFileName() + " was new):"
                    + " a restored backup, a copied database file, or a lock file removed";
        } else if (last[1] != null && !sameFolder(Path.of(last[1]), dataDir)) {
            came = "it was last served with data-dir " + last[1] + " (a data folder moved or copied)";
        }
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + " on " + host() + ", started "
                    + Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS) + "\n" + DATA_DIR + dataDir
                    + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        } catch (IOException e) {
            // Only a courtesy to a second server (naming this one): a full disk must not stop the start.
        }
        StoreLock taken = new StoreLock(channel, lock, file, held);
        taken.cameFrom = came;
        return taken;
    }

    /** {@link #cameFrom()}: set once, before the lock is handed out. */
    private String cameFrom;

    /**
     * Why this database looks restored, copied or moved, as its lock file said when it was taken: it had none of a
     * server that served the non-empty database (a {@code .backup} restored, a file copied: the lock file stays
     * with the original), or named another data folder. Null when the lock file named this data folder, on
     * PostgreSQL, or for a new database.
     */
    public String cameFrom() {
        return cameFrom;
    }

    private static RunnerException taken(Path database, Path file, String[] holder, Path dataDir) {
        String owner = holder[0] == null ? "" : " (" + holder[0] + ")";
        String first = "another buildhook" + owner;
        String advice;
        if (holder[1] != null && !sameFolder(Path.of(holder[1]), dataDir)) {
            // It has a data folder of its own already: "another data-dir" would not help.
            first += ", with data-dir " + holder[1] + ",";
            advice = ", and this one's data-dir is " + dataDir + ": two data folders on one database. Stop that one"
                    + " first, or give this one a database of its own (store.url; without it, <data-dir>/buildhook.db)";
        } else {
            advice = ": stop that one first, or give this one " + (isDefault(database, dataDir) ? "another data-dir"
                    : "a database of its own (store.url)");
        }
        return new RunnerException(first + " is already serving the SQLite database " + database + " (its lock "
                + file + " is taken)" + advice + ". Two servers on one SQLite file would run the same jobs; several"
                + " nodes sharing one store need PostgreSQL (store.url: jdbc:postgresql://…)");
    }

    /** As {@link #taken}, when the database file is locked by a server that named it otherwise (a hard link). */
    private static RunnerException takenThroughAnotherName(Path database, Path file, String pid, Path dataDir) {
        String owner = pid == null ? "" : " (pid " + pid + " on this host)";
        return new RunnerException("another buildhook" + owner + " is already serving the SQLite database " + database
                + " under another name of the same file (a hard link: the database file itself is locked, though its"
                + " lock " + file + " is free): stop that one first, or give this one a database of its own"
                + " (store.url" + (isDefault(database, dataDir) ? "; or another data-dir" : "") + "). Two servers on"
                + " one SQLite file would run the same jobs and corrupt it; several nodes sharing one store need"
                + " PostgreSQL (store.url: jdbc:postgresql://…)");
    }

    /**
     * Takes the database file's own lock ({@link FileFlock}), creating an empty file when there is none;
     * null where it cannot be taken here (not Linux, no JNA, no {@code /proc}, a file system without
     * {@code flock}): the path's lock file alone then guards it, as before.
     *
     * @throws HeldElsewhere when another process holds it, with that process's id when {@code /proc/locks} says
     * @throws RunnerException when another application of this JVM holds it
     */
    private static FileHold lockDatabaseFile(Path database) throws IOException, HeldElsewhere {
        Path db = database.toAbsolutePath();
        if (!Files.exists(db)) {
            try (FileChannel created = DataFiles.open(db, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                // empty: SQLite makes its database in it
            }
        }
        BasicFileAttributes attributes = Files.readAttributes(db, BasicFileAttributes.class);
        Object key = attributes.fileKey();
        if (key == null) {
            return null;
        }
        if (!HELD_FILES.add(key)) {
            // Not opened again: closing that descriptor would release the fcntl locks SQLite holds on the file here.
            throw new RunnerException("another buildhook in this same process is already serving the SQLite database "
                    + database + " under another name of the same file (a hard link): give this one a database of"
                    + " its own (store.url). Two servers on one SQLite file would run the same jobs");
        }
        FileChannel channel = null;
        boolean held = false;
        try {
            java.util.Set<Integer> before = descriptorsOf(key);
            channel = FileChannel.open(db, StandardOpenOption.READ);
            java.util.Set<Integer> opened = descriptorsOf(key);
            if (before == null || opened == null) {
                return null;
            }
            opened.removeAll(before);
            if (opened.size() != 1) {
                return null; // another thread opened it meanwhile: which one is this channel's cannot be told
            }
            switch (FileFlock.tryExclusive(opened.iterator().next())) {
                case TAKEN:
                    held = true;
                    return new FileHold(channel, key);
                case HELD:
                    throw new HeldElsewhere(flockHolder(db));
                default:
                    return null;
            }
        } finally {
            if (!held) {
                closeQuietly(channel);
                HELD_FILES.remove(key);
            }
        }
    }

    /** This process's descriptors open on the file of {@code key} ({@code /proc/self/fd}); null without {@code /proc}. */
    private static java.util.Set<Integer> descriptorsOf(Object key) {
        java.util.Set<Integer> found = new java.util.HashSet<>();
        try (java.nio.file.DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (key.equals(Files.readAttributes(fd, BasicFileAttributes.class).fileKey())) {
                        found.add(Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile, or not a file (the listing's own descriptor)
                }
            }
            return found;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The id of the process holding a {@code flock} on {@code file}, as {@code /proc/locks} says; null when it does not. */
    private static String flockHolder(Path file) {
        try {
            long dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
            long ino = ((Number) Files.getAttribute(file, "unix:ino")).longValue();
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            String id = String.format("%02x:%02x:%d", major, minor, ino);
            for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
                String[] f = line.trim().split("\\s+");
                // "1: FLOCK  ADVISORY  WRITE 12345 08:02:1311 0 EOF"
                if (f.length >= 6 && f[1].equals("FLOCK") && f[3].equals("WRITE") && f[5].equals(id)) {
                    return f[4];
                }
            }
        } catch (IOException | RuntimeException e) {
            // only a courtesy: the refusal stands without it
        }
        return null;
    }

    /**
     * The last server on this database had another data folder: said once, at start. Not refused, as a
     * data folder moved on purpose (a configuration folder moved with a relative data-dir) looks the same.
     */
    private static void warnIfLastServedWithAnotherDataDir(Path database, String[] last, Path dataDir) {
        if (last[1] != null && !sameFolder(Path.of(last[1]), dataDir)) {
            LOG.warn("the SQLite database {} was last served by a buildhook with data-dir {}{}, and this one's data-dir"
                    + " is {}: one database with two data folders. The secrets generated in {} (webhook-secret,"
                    + " admin-token) are not used here, and the logs of the jobs run then are read here, under this one's"
                    + " runner.log-dir (<job id>/attempt-N.log) first, and from there only when missing here. If two"
                    + " installations use this database by mistake, give each its own database (store.url): two"
                    + " servers on one SQLite file at once are refused. If you moved the data folder, copy those"
                    + " secrets here (and its job logs, if runner.log-dir was outside it)", database, last[1], last[0] == null ? "" : " (" + last[0] + ")", dataDir, last[1]);
        }
    }

    /** A database at {@code <data-dir>/buildhook.db}, store.url's default. */
    private static boolean isDefault(Path database, Path dataDir) {
        return sameFolder(database.toAbsolutePath().normalize().getParent(), dataDir)
                && database.getFileName().toString().equals("buildhook.db");
    }

    /** The same folder, by its path or, both existing, as the file system sees it (a link, a bind mount). */
    private static boolean sameFolder(Path a, Path b) {
        if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())) {
            return true;
        }
        try {
            return Files.isSameFile(a, b);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The first {@link #MAX_READ} bytes of the lock file, through {@code channel}; empty when they cannot be read. */
    private static String read(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(MAX_READ);
            while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
                // until the end of the file or MAX_READ
            }
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /**
     * What a lock file says of the server that wrote it: {@code "pid 123 on host, started …"} and its
     * data folder, each null when unknown (written by an older version, empty, or not buildhook's).
     */
    private static String[] holder(String text) {
        String[] holder = new String[2];
        java.util.List<String> lines = text.lines().toList();
        if (!lines.isEmpty() && lines.get(0).startsWith("pid ") && lines.get(0).strip().length() <= 300) {
            holder[0] = lines.get(0).strip();
        }
        for (String line : lines) {
            if (line.startsWith(DATA_DIR) && line.length() > DATA_DIR.length()
                    && isPath(line.substring(DATA_DIR.length()))) {
                holder[1] = line.substring(DATA_DIR.length());
            }
        }
        return holder;
    }

    /**
     * Whether {@code text} can be a path: a torn write may leave a NUL in the file, and a start must not
     * fail on what is only a courtesy (review14 F5).
     */
    private static boolean isPath(String text) {
        try {
            Path.of(text);
            return true;
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    private static String host() {
        return org.buildhook.runner.exec.HostName.current(); // the kernel's, resolved or not (tryout29 F8)
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
            // After the store: closing a descriptor of the database file releases the fcntl locks SQLite holds
            // on it in this process.
            if (database != null) {
                closeQuietly(database.channel());
                HELD_FILES.remove(database.key());
            }
            closeQuietly(channel);
            HELD.remove(file);
        }
    }
}
