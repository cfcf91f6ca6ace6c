package org.buildhook.runner.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.NodeFolders;
import org.buildhook.runner.rules.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteDataSource;
import org.sqlite.SQLiteErrorCode;

/**
 * The SQLite store's first connection at the start, made before its pools are (store41). A new JVM's first SQLite
 * connection loads the driver's classes and extracts and loads its native library (sqlite-jdbc's {@code
 * SQLiteJDBCLoader}: about a megabyte written to {@code java.io.tmpdir} and compared byte by byte), which costs a
 * fraction of a second of CPU; on a loaded host (load 30-45 on two CPUs, a CI machine building beside it) that took
 * over the default {@code store.connect-timeout} of 5 s of wall time, counted by the pool's first wait, and the start
 * ended with HikariCP's "Connection is not available, request timed out after 5037ms (total=0, …)" and no advice.
 *
 * <p>Made on a thread of its own ({@link #THREAD}), waited for in turns of {@code store.connect-timeout}: a turn in
 * which the host held that thread back ({@link CpuShare.Window#heldBack}: it, or this process's threads together,
 * waited for a CPU for much of the turn) is waited again, as long as that lasts, with one warning; a turn it spent waiting off the CPU (for the disk, or for a lock another program holds on the file) ends
 * the start, as the key says. SQLite's own error (not a database, cannot open, read-only, locked) ends it at once.
 * The connection is closed again; the pools then open theirs with the driver loaded.
 */
final class SqliteFirstConnection {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteFirstConnection.class);

    /** The name of the thread that makes it (Linux shows its first 15 bytes: "buildhook-sqlit"). */
    static final String THREAD = "buildhook-sqlite-first-connection";

    /**
     * The least time the start waits for a lock another program holds on the file: as long as the runner's bookkeeping
     * waits for one ({@link Database#SQLITE_BUSY_TIMEOUT}), so that a start is never the first to give up: {@link
     * #lockWait}. The first connection waited 3 s (sqlite-jdbc's default) until migrate53.
     */
    static final Duration LOCK_WAIT = Database.SQLITE_BUSY_TIMEOUT;

    private SqliteFirstConnection() {
    }

    /**
     * How long the start waits for a lock another program (or another store on the same file) holds on the SQLite file
     * of {@code config}: {@link #LOCK_WAIT}, or {@code store.connect-timeout} when longer. The first connection's busy
     * timeout, and the wait of every transaction the start writes through {@link SqliteWriter} (the migrations, what
     * the application writes before it serves: {@link SqliteWriter#duringStart}); a lock held longer ends the start
     * with {@link #refused}, which says this figure. The migrations waited {@link SqliteWriter#ACCEPT_WAIT} (2 s) until
     * migrate53, and the start then said "for over 3s".
     */
    static Duration lockWait(StoreConfig config) {
        return config.connectTimeout().compareTo(LOCK_WAIT) > 0 ? config.connectTimeout() : LOCK_WAIT;
    }

    /**
     * Makes and closes the first connection to the SQLite store of {@code config} through {@code source} (set up as
     * the pools' connections are), waiting as said above.
     *
     * @param heldBack whether the host held the connection's thread back in a turn ({@link
     *                 CpuShare.Window#heldBack}; a seam for tests)
     * @throws StoreUnavailableException SQLite refused the connection, or it was not made within a turn in which the
     *                                   host did not hold it back; the message names the file, the key and what to
     *                                   check
     */
    static void make(StoreConfig config, SQLiteDataSource source, Predicate<CpuShare.Window> heldBack) {
        Duration turn = Duration.ofMillis(Math.max(250, config.connectTimeout().toMillis()));
        source.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, lockWait(config).toMillis()));
        CompletableFuture<Void> made = new CompletableFuture<>();
        long start = System.nanoTime();
        CpuShare all = CpuShare.of(THREAD, "connection");
        CpuShare share = CpuShare.of(THREAD, "connection");
        Thread thread = new Thread(() -> {
            try (Connection c = source.getConnection(); Statement st = c.createStatement()) {
                // Reads the file's header and schema: a file that is not a database says so now, not at the first read.
                st.executeQuery("SELECT count(*) FROM sqlite_master").close();
                made.complete(null);
            } catch (SQLException | RuntimeException | LinkageError e) {
                made.completeExceptionally(e);
            }
        }, THREAD);
        thread.setDaemon(true);
        thread.start();
        boolean said = false;
        while (true) {
            try {
                made.get(turn.toMillis(), TimeUnit.MILLISECONDS);
                if (said) {
                    LOG.info("the SQLite store's first connection was made after {} s ({})", seconds(System.nanoTime()
                            - start), all.end().describe());
                }
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreUnavailableException("interrupted while waiting for the SQLite store's first connection"
                        + " (" + where(config) + ")", e);
            } catch (ExecutionException e) {
                throw refused(config, e.getCause());
            } catch (TimeoutException e) {
                CpuShare.Window got = share.end();
                if (!heldBack.test(got)) {
                    LOG.debug("the SQLite store's first connection was neither made nor refused in time; its thread: {}",
                            java.util.Arrays.toString(thread.getStackTrace()));
                    throw new StoreUnavailableException(timedOut(config, all.end()), null);
                }
                if (!said) {
                    said = true;
                    LOG.warn("the SQLite store's first connection ({}) was not made within store.connect-timeout ({}),"
                            + " and this host held this process back meanwhile: {}. Waiting for it as long as the host"
                            + " holds this process back: this JVM's first connection loads the SQLite driver and its"
                            + " native library, which the next ones do not", where(config),
                            Durations.format(config.connectTimeout()), got.describe());
                }
                share = CpuShare.of(THREAD, "connection");
            }
        }
    }

    /** The store as the messages name it: its file, or its URL (in memory, {@code file:} URLs). */
    private static String where(StoreConfig config) {
        return Dialect.sqliteFile(config.url()).map(Path::toString).orElse(config.describe());
    }

    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e9);
    }

    /**
     * What the start says when the SQLite store's first connection was neither made nor refused within {@code
     * store.connect-timeout} while the host did not hold it back: the file, the key and its value, what the process got
     * ({@code got}), and what to check.
     */
    static String timedOut(StoreConfig config, CpuShare.Window got) {
        String file = where(config);
        return "cannot open the SQLite store " + file + ": its first connection was neither made nor refused within"
                + " store.connect-timeout (" + Durations.format(config.connectTimeout()) + ") (" + got.describe()
                + "), and it waited off the CPU: for the disk, or for a lock another program holds on the file. Check"
                + " the disk and the file system of " + folder(file) + " (a network file system that does not answer,"
                + " a failing disk: dmesg) and which programs have the file open (fuser " + file + "); if the disk is"
                + " only slow, raise store.connect-timeout (for example to 30s)";
    }

    /** The folder of {@code file} as said, or the file itself when it has none. */
    private static String folder(String file) {
        Path parent = Path.of(file).getParent();
        return parent == null ? file : parent.toString();
    }

    /**
     * What the start says when SQLite refused the store's first connection ({@code failure}, the driver's): the file,
     * SQLite's reason, and what to check for that reason.
     */
    static RunnerException refused(StoreConfig config, Throwable failure) {
        if (failure instanceof SQLException e) {
            return refused(config, e, lockWait(config));
        }
        // The driver's native library could not be loaded (no build for this system), or the driver failed.
        return new RunnerException("cannot open the SQLite store " + where(config) + ": the SQLite driver failed: "
                + failure + "; check that java.io.tmpdir (" + System.getProperty("java.io.tmpdir") + ") is writable"
                + " and not mounted noexec (the driver extracts its native library there), or set org.sqlite.tmpdir",
                failure);
    }

    /**
     * As {@link #refused(StoreConfig, Throwable)}, for SQLite's (or the driver's) refusal {@code e}.
     *
     * @param waited how long the refused statement waited for a lock another program holds (its busy timeout, or the
     *               limit {@link SqliteWriter}'s wait ran to: {@link SqliteLockNotGiven}); {@code null} when not known
     */
    static StoreUnavailableException refused(StoreConfig config, SQLException e, Duration waited) {
        String file = where(config);
        String reason = e.getMessage() == null ? e.toString() : e.getMessage().strip();
        String said = "cannot open the SQLite store " + file + ": " + reason + "; ";
        int code = e.getErrorCode() & 0xff;
        if (code == SQLiteErrorCode.SQLITE_BUSY.code || code == SQLiteErrorCode.SQLITE_LOCKED.code) {
            String held = waited == null ? "holds a lock on the file"
                    : "has held a lock on the file for over " + Durations.format(waited);
            return new StoreUnavailableException(said + "another program " + held + " (the start waits for one "
                    + Durations.format(LOCK_WAIT) + ", or store.connect-timeout when longer: "
                    + Durations.format(config.connectTimeout()) + " now): an sqlite3 shell or another program with a"
                    + " transaction open, a backup tool. Let it end"
                    + " (fuser " + file + " names it), then start buildhook again; if it holds the lock only for a"
                    + " while (a backup on a slow disk), raise store.connect-timeout", e);
        }
        if (code == SQLiteErrorCode.SQLITE_NOTADB.code || code == SQLiteErrorCode.SQLITE_CORRUPT.code) {
            return new StoreUnavailableException(said + "the file is not an SQLite database, or it is damaged: check"
                    + " that store.url (or data-dir) names buildhook's database, or restore the database from a backup",
                    e);
        }
        // What the folder shows now: SQLite names a full disk SQLITE_FULL only where a write ran out of room; the
        // shared-memory file's growth says SQLITE_IOERR_SHMSIZE ("I/O error within xShmMap"), a read-only mount
        // SQLITE_READONLY or SQLITE_CANTOPEN (tryout57 F2: a start on a full disk was sent to permissions first).
        String seen = NodeFolders.whyNotWritable(Path.of(folder(file))).orElse(null);
        if (code == SQLiteErrorCode.SQLITE_FULL.code || seen != null && seen.startsWith(NodeFolders.DISK_FULL)) {
            String free = seen == null || !seen.startsWith(NodeFolders.DISK_FULL) ? ""
                    : seen.substring(NodeFolders.DISK_FULL.length()); // " (N bytes free)"
            return new StoreUnavailableException(said + "the disk of " + folder(file) + " is full" + free
                    + ": free space there (df " + folder(file) + ")", e);
        }
        if (seen != null) {
            return new StoreUnavailableException(said + "its folder " + folder(file) + ": " + seen + "; make it"
                    + " writable for the user buildhook runs as, or set data-dir (or store.url) to a folder that is", e);
        }
        return new StoreUnavailableException(said + "check that the file and its folder " + folder(file) + " exist,"
                + " that the user buildhook runs as may read and write both (ls -l), and the disk (df, dmesg)", e);
    }
}
