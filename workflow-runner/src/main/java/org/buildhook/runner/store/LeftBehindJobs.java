package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The jobs not ended (queued, waiting, running or awaiting an approval) in the data folder's own SQLite store,
 * {@code <data-dir>/buildhook.db}, when the configured store is another one (tryout41 F11): a {@code store.url}
 * switched to PostgreSQL (or to another SQLite file) on the same data folder starts on a store without them, and
 * nothing moves them, so they would never run or be shown. {@code buildhook check} and every start say them; a
 * warning, never a refusal (the operator may mean it).
 *
 * <p>Read as {@link SchemaOutlook} reads a store: read-only (as {@code immutable} when no {@code -wal} file is beside
 * it, so that nothing is created there), without creating, upgrading or locking anything the old server would need.
 * The other way round, a store configured after a PostgreSQL one (or another SQLite file) on the same data folder,
 * is said by {@link OtherStoreJobs}, from the store its mark in the data folder records.
 *
 * @param file       the data folder's SQLite file, absolute
 * @param notEnded   its jobs not ended, by state, in the order of {@link JobState} (none is 0)
 * @param version    the file's schema version, 0 when it could not be read
 * @param latest     this build's SQLite schema version
 * @param unreadable why the file could not be read (then {@code notEnded} is empty), or {@code null}
 */
public record LeftBehindJobs(Path file, Map<JobState, Integer> notEnded, int version, int latest, String unreadable) {

    /** The name of a data folder's own SQLite store, {@code store.url}'s default. */
    static final String FILE = "buildhook.db";
    /** Where the docs say how to switch stores and what to do with the jobs left in the old one. */
    public static final String DOCS = "docs/storage.md#from-sqlite-to-postgresql";

    public LeftBehindJobs {
        notEnded = Map.copyOf(notEnded);
    }

    /**
     * The data folder's SQLite store's jobs not ended, when {@code config} names another store: PostgreSQL, or an
     * SQLite file that is not {@code <data-dir>/buildhook.db}. Waits at most {@code store.connect-timeout} for a lock
     * (a read in WAL mode waits for none). Never throws.
     *
     * @return empty when the configured store is that file (or an SQLite store whose file cannot be told: in memory, a
     *         {@code file:} URI), when there is no such file, when it has no buildhook tables, or when every one of
     *         its jobs has ended; else the counts, or why the file could not be read
     */
    public static Optional<LeftBehindJobs> of(StoreConfig config) {
        Path file = config.dataDir().resolve(FILE).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file) || !anotherStore(config, file)) {
            return Optional.empty();
        }
        int latest = Migrations.latest(Dialect.SQLITE);
        int version = 0;
        try (Connection c = DriverManager.getConnection(SchemaOutlook.sqliteReadOnlyUrl(file),
                SchemaOutlook.sqliteProperties(config))) {
            version = SchemaOutlook.version(c, "SELECT EXISTS (SELECT 1 FROM sqlite_master"
                    + " WHERE type = 'table' AND name = 'schema_version')");
            if (version == 0) {
                return Optional.empty(); // no buildhook tables: nothing was ever stored there
            }
            Map<JobState, Integer> counts = notEnded(c);
            return counts.isEmpty() ? Optional.empty()
                    : Optional.of(new LeftBehindJobs(file, counts, version, latest, null));
        } catch (SQLException | IllegalArgumentException e) { // a state this build does not know: a newer schema's
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
            return Optional.of(new LeftBehindJobs(file, Map.of(), version, latest, reason));
        }
    }

    /**
     * A store's jobs not ended, by state (none is absent).
     *
     * @throws IllegalArgumentException for a state this build does not know (a newer schema's)
     */
    static Map<JobState, Integer> notEnded(Connection c) throws SQLException {
        String states = Arrays.stream(JobState.values()).filter(state -> !state.isFinal())
                .map(state -> "'" + state.name() + "'").collect(Collectors.joining(", "));
        Map<JobState, Integer> counts = new EnumMap<>(JobState.class);
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT state, COUNT(*) FROM jobs"
                + " WHERE state IN (" + states + ") GROUP BY state")) {
            while (r.next()) {
                counts.put(JobState.valueOf(r.getString(1)), r.getInt(2));
            }
        }
        return counts;
    }

    /** The counts as {@code 2 AWAITING_APPROVAL, 1 QUEUED}, in the order of {@link JobState}. */
    static String counts(Map<JobState, Integer> notEnded) {
        return notEnded.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getValue() + " " + e.getKey().name()).collect(Collectors.joining(", "));
    }

    /** Whether the configured store is surely not {@code file}. */
    private static boolean anotherStore(StoreConfig config, Path file) {
        if (config.dialect() == Dialect.POSTGRESQL) {
            return true;
        }
        Optional<Path> configured = Dialect.sqliteFile(config.url());
        if (configured.isEmpty()) {
            return false;
        }
        Path path = configured.get().normalize();
        if (path.equals(file)) {
            return false;
        }
        try {
            return !Files.exists(path) || !Files.isSameFile(path, file);
        } catch (IOException e) {
            return false; // cannot be told: said nothing rather than a warning that may be wrong
        }
    }

    /** The number of jobs not ended. */
    public int total() {
        return notEnded.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * One warning for {@code check} and the start's log: where the file is, its jobs not ended by state (or why
     * they could not be counted), that they do not move, and what to do.
     *
     * @param configured the configured store as {@link StoreConfig#describe()} names it (never a password)
     */
    public String describe(String configured) {
        String newer = version > latest ? " (at schema version " + version + ", a buildhook newer than this one's "
                + latest + ")" : "";
        String what = "the data folder's SQLite store " + file + newer + " is not the configured store ("
                + configured + ") and ";
        if (unreadable != null) {
            return what + "whether it holds jobs not ended could not be read (" + unreadable + "): jobs queued,"
                    + " waiting, running or awaiting an approval there do not move to the configured store, which"
                    + " neither runs nor shows them; see " + DOCS;
        }
        String counts = counts(notEnded);
        return what + "holds " + total() + " job(s) not ended (" + counts + "): they do not move to the configured"
                + " store, which neither runs nor shows them. To let them end, start the previous configuration (without"
                + " store.url, or with jdbc:sqlite:" + file + ") again on this data folder, approve or reject the jobs awaiting an approval"
                + " (buildhook jobs --state awaiting_approval) and let the others end, then switch again; to leave them"
                + " unrun, move " + file + " (with its -wal and -shm files, if any) out of the data folder. Said at"
                + " every start while it holds them: " + DOCS;
    }
}
