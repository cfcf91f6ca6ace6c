package org.buildhook.runner.store;

import java.sql.ResultSet;
import java.sql.PreparedStatement;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.buildhook.core.DataFiles;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.NodeFolders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes from this node's own disk the job log folders ({@code <log dir>/<job id>/}) and payload
 * copies ({@code <data>/payloads/<delivery id>.json}) whose job or delivery the store no longer has.
 * Retention deletes a delivery's files on the disk of the node whose sweep deleted its rows; in a
 * cluster whose nodes keep logs on disks of their own, the files of the jobs that ran on other nodes
 * would otherwise stay for ever (their rows are gone, so no sweep finds them again), and on one node
 * a stop between the rows' commit and the files' deletion leaves them too. The store is the truth:
 * each node asks it, a batch of names per query, which of the ids its folders hold still exist.
 *
 * <p>What it touches, and why that is safe:
 * <ul>
 * <li>Only names buildhook writes: a folder named by a job id, holding {@code attempt-N.log} files,
 * and a regular file {@code <delivery id>.json}; ids have the shape {@link Ids} makes. Also the probe
 * file a node killed while it probed the folder left ({@link NodeFolders#isProbe}, a regular file). Anything else
 * is left alone, and so is a folder that holds anything else once its attempt logs are gone. Symbolic
 * links are never followed: the folders are read through a {@link SecureDirectoryStream}, each opened
 * relative to its parent without following links (on a platform without one, Linux and macOS have it,
 * nothing is removed, and that is said once).
 * <li>Only ids made more than the retention age ago: only retention deletes rows, and it takes only
 * deliveries received that long ago, so a younger id is, but for a job re-run (or a follow-up) on an
 * old delivery, one whose row is still there; such a job's folder goes once its own id is that old. It
 * also keeps this sweep away from the files of another installation given the same folder by mistake,
 * unless they are older than the retention.
 * <li>Only in a folder no other store uses: each store has an installation id (made once by its
 * schema, {@code store_installation}), and marks the folders it sweeps with a file
 * {@code .buildhook-store-<id>} ({@link StoreMark}: which store it is, without a password; empty when an older
 * build made it) when it opens (and sets its log folder); a folder that holds another
 * store's mark is not swept (said once), so two installations given one folder by mistake (two WARs
 * in one Tomcat with the same relative {@code data-dir}, one {@code runner.log-dir} for two servers)
 * never remove each other's files, whatever their retention. A folder that has lost this store's mark
 * is marked again and swept from the next sweep on, so that another store using it has had a
 * sweep's time to mark it too. The nodes of one cluster share one store, so one mark.
 * <li>Only files and folders unchanged for {@link #GRACE}. A job's row, and its delivery's, are
 * committed before its engine writes its payload copy or its log (it reads the job from the store
 * first), and the folder is listed before the store is asked, so a live file's row is always seen; no
 * window is known. The grace keeps it so should that order ever change, or a store answer lag.
 * </ul>
 *
 * <p>Bounded: at most {@code limit} names per folder per sweep, from where the previous sweep stopped,
 * so names of live rows at the front do not hide the orphans behind them. A store that fails ends the
 * sweep (one warning); files that cannot be removed are counted and said in one warning per sweep.
 */
final class OrphanFiles {

    /** How long a file or folder must be left unchanged before it may be taken for an orphan. */
    static final Duration GRACE = Duration.ofMinutes(10);

    private static final Logger LOG = LoggerFactory.getLogger(OrphanFiles.class);
    /**
     * An attempt's log, the rewrite of one a stop left half-way ({@code JobLogs.rewriteOf}) or the record of its
     * notes ({@code JobLogs.notesOf}).
     */
    private static final Pattern ATTEMPT_LOG = Pattern.compile(
            "attempt-[1-9][0-9]{0,9}\\.log|\\.attempt-[1-9][0-9]{0,9}\\.log\\.(rewrite|notes)");
    private static final String PAYLOAD_SUFFIX = ".json";
    /** The name of a store's mark in a folder it sweeps, before its installation id. */
    static final String MARK_PREFIX = ".buildhook-store-";

    /** The two kinds of files, each with the table whose ids name them. */
    private enum Kind {
        LOG_FOLDERS("jobs"), PAYLOAD_COPIES("deliveries");

        final String table;

        Kind(String table) {
            this.table = table;
        }

        /** The id a name stands for, or null when the name is none buildhook writes. */
        String idOf(String name) {
            String id = this == LOG_FOLDERS ? name
                    : name.endsWith(PAYLOAD_SUFFIX) ? name.substring(0, name.length() - PAYLOAD_SUFFIX.length()) : null;
            return Ids.isValid(id) ? id : null;
        }

        String nameOf(String id) {
            return this == LOG_FOLDERS ? id : id + PAYLOAD_SUFFIX;
        }
    }

    /** What one sweep removed. */
    record Removed(int logFolders, int payloadCopies) {
    }

    private final Database db;
    private final Clock clock;
    private final Duration maxAge;
    private final int batch;
    private final int limit;
    private final Path payloads;
    private volatile Path logs;
    private boolean saidNoSecureStream;
    private volatile String installation;
    private final Set<Path> saidShared = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Set<Path> saidCannotMark = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AtomicLong logFoldersRemoved = new AtomicLong();
    private final AtomicLong payloadCopiesRemoved = new AtomicLong();
    /** Per kind, the last id the previous sweep looked at, or null to start from the oldest. */
    private final String[] after = new String[Kind.values().length];

    /** What this store's marks record ({@link StoreMark#content}): its URL without a password. */
    private final String markContent;

    OrphanFiles(Database db, Clock clock, Duration maxAge, int batch, int limit, Path payloads) {
        this(db, clock, maxAge, batch, limit, payloads, "");
    }

    /** @param markContent what a mark this store makes records ({@link StoreMark#content}), or "" for nothing */
    OrphanFiles(Database db, Clock clock, Duration maxAge, int batch, int limit, Path payloads, String markContent) {
        this.markContent = markContent;
        this.db = db;
        this.clock = clock;
        this.maxAge = maxAge;
        this.batch = batch;
        this.limit = limit;
        this.payloads = payloads;
    }

    /** The job log folder to sweep too: the launcher's, which the store does not know by itself. */
    void logDirectory(Path directory) {
        this.logs = directory;
    }

    /** The job log folder set by {@link #logDirectory(Path)}, or null while none is. */
    Path logDirectory() {
        return logs;
    }

    /** One sweep; never throws for a store or file problem, which it logs once. */
    synchronized Removed sweep() {
        Instant now = clock.instant();
        FileProblems problems = new FileProblems();
        int folders = 0;
        int copies = 0;
        try {
            Path logFolder = logs;
            if (logFolder != null) {
                folders = sweep(Kind.LOG_FOLDERS, logFolder, now, problems);
            }
            copies = sweep(Kind.PAYLOAD_COPIES, payloads, now, problems);
        } catch (RunnerException e) { // StoreUnavailableException among them
            LOG.warn("retention could not ask the store which job log folders and payload copies on this node"
                    + " are left over: {}; will try again at the next sweep", e.getMessage());
        }
        problems.log(LOG, "left-over job log folder(s) or payload copy(ies) on this node",
                "will try again at the next sweep");
        logFoldersRemoved.addAndGet(folders);
        payloadCopiesRemoved.addAndGet(copies);
        if (folders + copies > 0) {
            LOG.info("retention removed {} job log folder(s) and {} payload copy(ies) from this node whose job or"
                    + " delivery the store no longer has (deleted by another node's sweep, or before a stop)",
                    folders, copies);
        }
        return new Removed(folders, copies);
    }

    /**
     * Marks {@code folder} (made if missing) as swept by this store, so that another store given it
     * too leaves it alone; a problem is said once and leaves the folder unswept (no mark, no sweep).
     */
    void mark(Path folder) {
        try {
            // As every folder and file buildhook makes in its data folder: 0750 and 0640 whatever the
            // umask (the mark is often the first thing made there, and a folder that exists keeps its mode).
            DataFiles.createDirectories(folder);
            // Records which store it is (switch41 F2), so that check and the start can name it, and count its
            // jobs not ended, once another store is configured on this folder; a mark an older build left empty
            // is filled in. Or marked by another node of this store.
            StoreMark.write(folder.resolve(MARK_PREFIX + installation()), markContent);
        } catch (IOException | RunnerException e) {
            if (saidCannotMark.add(folder)) {
                // The reason, not the path again (final18 F1: NotDirectoryException's message is the path alone).
                LOG.warn("retention cannot mark {} as this store's ({}): left-over files there are not removed until"
                        + " it can", folder, e instanceof IOException io ? NodeFolders.reason(folder, io)
                                : e.getMessage());
            }
        }
    }

    /**
     * Whether this sweep may remove files from {@code folder}: it holds this store's mark and no other
     * store's. A folder without this store's mark is marked now and swept from the next sweep on.
     */
    private boolean sweptByThisStoreAlone(Path folder) throws IOException {
        String mine = MARK_PREFIX + installation();
        boolean marked = false;
        List<String> others = new ArrayList<>();
        try (DirectoryStream<Path> marks = Files.newDirectoryStream(folder, MARK_PREFIX + "*")) {
            for (Path mark : marks) {
                String name = mark.getFileName().toString();
                if (name.equals(mine)) {
                    marked = true;
                } else {
                    others.add(name.substring(MARK_PREFIX.length()));
                }
            }
        }
        if (!others.isEmpty()) {
            if (saidShared.add(folder)) {
                LOG.warn("retention does not remove left-over files in {}: another buildhook store uses that folder"
                        + " too (installation {}; this one is {}). Give each installation folders of its own"
                        + " (data-dir, runner.log-dir), then delete the other's {}* file", folder,
                        String.join(", ", others), installation(), MARK_PREFIX);
            }
            return false;
        }
        if (!marked) {
            mark(folder);
        }
        return marked;
    }

    /** This store's installation id, read once. */
    String installation() {
        String id = installation;
        if (id == null) {
            id = db.read("read the store's installation id", c -> {
                try (PreparedStatement p = c.prepareStatement("SELECT installation FROM store_installation WHERE id = 1");
                        ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        throw new RunnerException("the store has no installation id (store_installation is empty)");
                    }
                    return rs.getString(1);
                }
            });
            installation = id;
        }
        return id;
    }

    /** The log folders removed since the store opened. */
    long logFoldersRemoved() {
        return logFoldersRemoved.get();
    }

    /** The payload copies removed since the store opened. */
    long payloadCopiesRemoved() {
        return payloadCopiesRemoved.get();
    }

    private int sweep(Kind kind, Path folder, Instant now, FileProblems problems) {
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        String before = Ids.lowestAt(now.minus(maxAge));
        int removed = 0;
        try {
            if (!sweptByThisStoreAlone(folder)) {
                return 0;
            }
        } catch (IOException e) {
            problems.add(e);
            return 0;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(folder)) {
            if (!(stream instanceof SecureDirectoryStream<Path> secure)) {
                if (!saidNoSecureStream) {
                    saidNoSecureStream = true;
                    LOG.warn("retention does not remove left-over job log folders and payload copies on this"
                            + " platform: it cannot read {} without following links", folder);
                }
                return 0;
            }
            List<Path> probes = new ArrayList<>();
            List<String> ids = candidates(kind, stream, before, after[kind.ordinal()], probes);
            Instant changedBefore = now.minus(GRACE);
            for (Path probe : probes) {
                removeProbe(secure, probe, changedBefore, problems);
            }
            for (int from = 0; from < ids.size(); from += batch) {
                List<String> some = ids.subList(from, Math.min(ids.size(), from + batch));
                Set<String> present = present(kind, some);
                for (String id : some) {
                    if (!present.contains(id) && remove(kind, secure, kind.nameOf(id), changedBefore, problems)) {
                        removed++;
                    }
                }
            }
            // Not moved on when the store failed: the next sweep looks at these names again.
            after[kind.ordinal()] = ids.size() < limit ? null : ids.get(ids.size() - 1);
        } catch (IOException e) {
            problems.add(e);
        } catch (DirectoryIteratorException e) {
            problems.add(e.getCause());
        }
        return removed;
    }

    /**
     * The ids named in the folder, older than {@code before} and after {@code after}: the first {@code limit}.
     * Adds the names of probe files ({@link NodeFolders#isProbe}) to {@code probes}, at most {@code limit}.
     */
    private List<String> candidates(Kind kind, DirectoryStream<Path> stream, String before, String after,
            List<Path> probes) {
        TreeSet<String> ids = new TreeSet<>();
        for (Path entry : stream) {
            String name = entry.getFileName().toString();
            if (NodeFolders.isProbe(name)) {
                if (probes.size() < limit) {
                    probes.add(entry.getFileName());
                }
                continue;
            }
            String id = kind.idOf(name);
            if (id != null && id.compareTo(before) < 0 && (after == null || id.compareTo(after) > 0)) {
                ids.add(id);
                if (ids.size() > limit) {
                    ids.pollLast();
                }
            }
        }
        return new ArrayList<>(ids);
    }

    /** Which of {@code ids} the store has: one query. */
    private Set<String> present(Kind kind, List<String> ids) {
        String sql = "SELECT id FROM " + kind.table + " WHERE id IN ("
                + String.join(", ", Collections.nCopies(ids.size(), "?")) + ")";
        return db.read("find the " + kind.table + " of files on this node",
                c -> new HashSet<>(StoreReader.query(c, sql, ids, rs -> rs.getString(1))));
    }

    private static boolean remove(Kind kind, SecureDirectoryStream<Path> folder, String name, Instant changedBefore,
            FileProblems problems) {
        try {
            return kind == Kind.LOG_FOLDERS ? removeLogFolder(folder, Path.of(name), changedBefore)
                    : removeFile(folder, Path.of(name), changedBefore);
        } catch (NoSuchFileException e) {
            return false; // removed meanwhile: by another node sharing the folder, or an operator
        } catch (IOException e) {
            problems.add(e);
            return false;
        }
    }

    /** A probe file left by a node killed while it probed the folder ({@code NodeFolders.probe} deletes its own). */
    private static void removeProbe(SecureDirectoryStream<Path> folder, Path name, Instant changedBefore,
            FileProblems problems) {
        try {
            removeFile(folder, name, changedBefore);
        } catch (NoSuchFileException e) {
            // Removed meanwhile: its probe ended, or another node sharing the folder took it.
        } catch (IOException e) {
            problems.add(e);
        }
    }

    private static boolean removeFile(SecureDirectoryStream<Path> folder, Path name, Instant changedBefore)
            throws IOException {
        BasicFileAttributes file = attributes(folder, name);
        if (!file.isRegularFile() || changedSince(file, changedBefore)) {
            return false;
        }
        folder.deleteFile(name);
        return true;
    }

    private static boolean removeLogFolder(SecureDirectoryStream<Path> parent, Path name, Instant changedBefore)
            throws IOException {
        BasicFileAttributes attributes = attributes(parent, name);
        if (!attributes.isDirectory() || changedSince(attributes, changedBefore)) {
            return false;
        }
        // Opened without following a link: a folder replaced by a link since is not entered.
        try (SecureDirectoryStream<Path> folder = parent.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
            List<Path> logs = new ArrayList<>();
            for (Path entry : folder) {
                Path file = entry.getFileName();
                if (ATTEMPT_LOG.matcher(file.toString()).matches()) {
                    BasicFileAttributes log = attributes(folder, file);
                    if (changedSince(log, changedBefore)) {
                        return false;
                    }
                    if (log.isRegularFile()) {
                        logs.add(file);
                    }
                }
            }
            for (Path log : logs) {
                folder.deleteFile(log);
            }
        }
        try {
            parent.deleteDirectory(name);
            return true;
        } catch (DirectoryNotEmptyException e) {
            return false; // something of someone else's is in it: left with it
        }
    }

    private static BasicFileAttributes attributes(SecureDirectoryStream<Path> folder, Path name) throws IOException {
        return folder.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .readAttributes();
    }

    private static boolean changedSince(BasicFileAttributes attributes, Instant since) {
        return attributes.lastModifiedTime().toInstant().isAfter(since);
    }
}
