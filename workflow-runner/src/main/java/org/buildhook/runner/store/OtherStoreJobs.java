package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The jobs not ended (queued, waiting, running or awaiting an approval) in a store that used this data folder before
 * the configured one (switch41 F2): a server that ran on PostgreSQL, then configured back on the data folder's SQLite
 * file or on another database, starts on a store without them, and nothing moves them, so they would never run or be
 * shown. The other way round of {@link LeftBehindJobs}; {@code buildhook check} and every start say them, a warning,
 * never a refusal.
 *
 * <p>Found by the stores' marks in {@code <data-dir>/payloads} ({@code .buildhook-store-<installation id>}, {@link
 * StoreMark}): a mark of another installation than the configured store's names the store it was, by its URL
 * without a password. A PostgreSQL store is asked with that URL (its password, if it needs one, from the
 * {@code .pgpass} file pgjdbc reads: {@code PGPASSFILE} or {@code ~/.pgpass}), waiting at most {@code
 * store.connect-timeout} to connect and 5 s more for the answers; read only. One that cannot be reached is said as
 * such. An SQLite file is read as {@link SchemaOutlook} reads one; the data folder's own is {@link LeftBehindJobs}'s.
 * An empty mark (made by a build older than 2026-12-05) names no store: it is said as another installation's, with
 * nothing counted, when the configured store's installation id is known to differ.
 *
 * @param mark         the mark, absolute
 * @param installation the installation id its name holds
 * @param store        the store it records, as {@link StoreConfig#describe()} names it, or {@code null} when it
 *                     records none
 * @param notEnded     its jobs not ended, by state (empty when not counted)
 * @param unreached    why it could not be read or reached, or {@code null}
 */
public record OtherStoreJobs(Path mark, String installation, String store, Map<JobState, Integer> notEnded,
        String unreached) {

    /** Where the docs say what to do with the jobs left in the store used before. */
    public static final String DOCS = "docs/storage.md#back-from-postgresql";

    public OtherStoreJobs {
        notEnded = Map.copyOf(notEnded);
    }

    /**
     * The stores other than {@code config}'s that marked its data folder, with their jobs not ended; never throws.
     *
     * @param configuredInstallation the configured store's installation id ("" when it has none yet), or empty when
     *                               it is not known (it cannot be read); asked only when the folder holds a mark
     * @return one entry per such store with jobs not ended, or that could not be reached, or whose mark records no
     *         store; none for a store whose jobs have all ended, that no longer exists, or whose location is the
     *         configured store's
     */
    public static List<OtherStoreJobs> of(StoreConfig config, Supplier<Optional<String>> configuredInstallation) {
        Path folder = config.dataDir().resolve("payloads").toAbsolutePath().normalize();
        List<Path> marks = new ArrayList<>();
        try (DirectoryStream<Path> found = Files.newDirectoryStream(folder, OrphanFiles.MARK_PREFIX + "*")) {
            for (Path mark : found) {
                if (Files.isRegularFile(mark, LinkOption.NOFOLLOW_LINKS)) {
                    marks.add(mark);
                }
            }
        } catch (IOException | RuntimeException e) {
            return List.of(); // no folder yet, or one that cannot be read: the start says the latter
        }
        if (marks.isEmpty()) {
            return List.of();
        }
        marks.sort(null);
        Optional<String> own = configuredInstallation.get();
        String ownUrl = StoreMark.url(config.url());
        Path ownFile = config.dataDir().resolve(LeftBehindJobs.FILE).toAbsolutePath().normalize();
        List<OtherStoreJobs> others = new ArrayList<>();
        for (Path mark : marks) {
            String id = mark.getFileName().toString().substring(OrphanFiles.MARK_PREFIX.length());
            if (own.isPresent() && own.get().equals(id)) {
                continue;
            }
            Optional<String> recorded;
            try {
                recorded = StoreMark.recorded(mark);
            } catch (IOException | RuntimeException e) {
                recorded = Optional.empty();
            }
            if (recorded.isEmpty()) {
                if (own.isPresent()) {
                    others.add(new OtherStoreJobs(mark, id, null, Map.of(), null));
                }
                continue;
            }
            String url = recorded.get();
            if (url.equals(ownUrl)) {
                continue; // the configured store's place: its own mark, or one of a store it replaced
            }
            Dialect dialect;
            try {
                dialect = Dialect.of(url);
            } catch (RuntimeException e) {
                continue; // not a store this build knows
            }
            String described = StoreConfig.of(url, config.dataDir()).describe();
            try {
                Optional<Map<JobState, Integer>> counts = dialect == Dialect.POSTGRESQL
                        ? postgresql(StoreConfig.of(url, config.dataDir()).withConnectTimeout(config.connectTimeout()), id) : sqlite(config, url, ownFile, id);
                counts.filter(c -> !c.isEmpty())
                        .ifPresent(c -> others.add(new OtherStoreJobs(mark, id, described, c, null)));
            } catch (SQLException | IllegalArgumentException e) { // a state this build does not know: a newer schema's
                String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
                others.add(new OtherStoreJobs(mark, id, described, Map.of(), reason));
            }
        }
        return others;
    }

    /** The jobs not ended of the PostgreSQL store at {@code other}, empty when it is not installation {@code id}. */
    private static Optional<Map<JobState, Integer>> postgresql(StoreConfig other, String id) throws SQLException {
        try (Connection c = StoreReachability.connect(other)) {
            c.setReadOnly(true);
            if (!id.equals(installationIn(c, "SELECT to_regclass('store_installation') IS NOT NULL"))) {
                return Optional.empty(); // its tables are gone, or another store is there now
            }
            return Optional.of(LeftBehindJobs.notEnded(c));
        }
    }

    /** The jobs not ended of the SQLite store at {@code url}, unless it is the data folder's own or no longer there. */
    private static Optional<Map<JobState, Integer>> sqlite(StoreConfig config, String url, Path ownFile, String id)
            throws SQLException {
        Optional<Path> file = Dialect.sqliteFile(url).map(f -> f.toAbsolutePath().normalize());
        if (file.isEmpty() || file.get().equals(ownFile) || !Files.isRegularFile(file.get())) {
            return Optional.empty(); // in memory; LeftBehindJobs says the data folder's own file; gone
        }
        try (Connection c = DriverManager.getConnection(SchemaOutlook.sqliteReadOnlyUrl(file.get()),
                SchemaOutlook.sqliteProperties(config))) {
            if (!id.equals(installationIn(c, SQLITE_INSTALLATION_THERE))) {
                return Optional.empty();
            }
            return Optional.of(LeftBehindJobs.notEnded(c));
        }
    }

    private static final String SQLITE_INSTALLATION_THERE = "SELECT EXISTS (SELECT 1 FROM sqlite_master"
            + " WHERE type = 'table' AND name = 'store_installation')";

    /** The installation id of the store {@code c} reads, or null when it has none. */
    private static String installationIn(Connection c, String tableThere) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery(tableThere)) {
                if (!r.next() || !r.getBoolean(1)) {
                    return null;
                }
            }
            try (ResultSet r = s.executeQuery("SELECT installation FROM store_installation WHERE id = 1")) {
                return r.next() ? r.getString(1) : null;
            }
        }
    }

    /**
     * The installation id of the store {@code config} names, read only as {@link SchemaOutlook} reads it (for
     * {@code check}, which opens no store): waits at most {@code store.connect-timeout} to connect and 5 s more for
     * the answer. Never throws.
     *
     * @return its id; "" when it has none yet (no file, no tables: every mark is another store's); empty when it is
     *         in memory or cannot be read
     */
    public static Optional<String> installationOf(StoreConfig config) {
        try {
            if (config.dialect() == Dialect.POSTGRESQL) {
                try (Connection c = StoreReachability.connect(config)) {
                    c.setReadOnly(true);
                    return Optional.of(Objects.requireNonNullElse(
                            installationIn(c, "SELECT to_regclass('store_installation') IS NOT NULL"), ""));
                }
            }
            Optional<Path> file = Dialect.sqliteFile(config.url());
            if (file.isEmpty()) {
                return Optional.empty();
            }
            if (!Files.exists(file.get())) {
                return Optional.of("");
            }
            try (Connection c = DriverManager.getConnection(SchemaOutlook.sqliteReadOnlyUrl(file.get()),
                    SchemaOutlook.sqliteProperties(config))) {
                return Optional.of(Objects.requireNonNullElse(installationIn(c, SQLITE_INSTALLATION_THERE), ""));
            }
        } catch (SQLException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The number of jobs not ended. */
    public int total() {
        return notEnded.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * One warning for {@code check} and the start's log: which store used the data folder before (never its
     * password), its jobs not ended by state (or that it was not reached, or that its mark names no store), that they
     * do not move, and what to do.
     *
     * @param configured the configured store as {@link StoreConfig#describe()} names it
     */
    public String describe(String configured) {
        String remedy = " To let them end, start the previous configuration (store.url " + (store == null
                ? "as it was" : store + ", with its password") + ") again on this data folder, approve or reject the"
                + " jobs awaiting an approval (buildhook jobs --state awaiting_approval) and let the others end, then"
                + " switch again; once none is left, or to leave them unrun, delete " + mark + " (retention does not"
                + " remove left-over payload copies there while it is there). Said at every start while it is there and"
                + " that store may hold such jobs: " + DOCS;
        String move = " they do not move to the configured store, which neither runs nor shows them.";
        if (store == null) {
            return "another store (installation " + installation + ") used this data folder before the configured"
                    + " store (" + configured + "); its mark " + mark + ", made by a buildhook older than 2026-12-05,"
                    + " does not record which store it was, so whether it holds jobs not ended (queued, waiting,"
                    + " running or awaiting an approval) could not be read:" + move + remedy;
        }
        String what = "the store " + store + " (installation " + installation + "), which used this data folder before"
                + " (its mark " + mark + "), is not the configured store (" + configured + ") and ";
        if (unreached != null) {
            return what + "could not be reached to count its jobs not ended (" + unreached + "): jobs queued, waiting,"
                    + " running or awaiting an approval there do not move to the configured store, which neither runs"
                    + " nor shows them." + remedy;
        }
        return what + "holds " + total() + " job(s) not ended (" + LeftBehindJobs.counts(notEnded) + "):" + move
                + remedy;
    }
}
