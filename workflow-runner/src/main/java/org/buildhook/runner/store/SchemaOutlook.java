package org.buildhook.runner.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * What {@code serve} will do to a store's schema at its start, read without opening the store, for
 * {@code buildhook check} (tryout26 F9): the schema version the store is at against this build's
 * ({@link Migrations#latest}). Nothing is migrated, created or locked: SQLite is opened read-only (and,
 * when no {@code -wal} file is beside it, as {@code immutable}, so that no such file is
 * created, which a {@code check} run as root would leave unusable to the server's user); a missing SQLite
 * file is not created. PostgreSQL is read in a read-only session.
 *
 * @param dialect the store's engine
 * @param store   the store as {@link StoreConfig#describe()} names it (never a password)
 * @param version the schema version the store is at: 0 when it has no tables yet (or no file)
 * @param latest  this build's schema version
 * @param exists  false when there is no SQLite file yet
 * @param unreadable why the version could not be read (then {@code version} is 0), or {@code null}
 */
public record SchemaOutlook(Dialect dialect, String store, int version, int latest, boolean exists, String unreadable) {

    /** Where the docs say how to back up a store and what a restore loses. */
    static final String BACKUP_DOCS = "docs/storage.md, Backing up and restoring";

    /**
     * Reads the schema version of the store {@code config} names. Waits at most {@code store.connect-timeout}
     * for a PostgreSQL connection (and 5 s more for the read); on SQLite, as long for a lock (a read in WAL mode
     * waits for none). Never throws.
     *
     * @return the outlook, with {@link #unreadable()} set when the version could not be read (an SQLite file that
     *         is no database or this user may not read; a PostgreSQL store that cannot be reached or used now,
     *         which {@link StoreReachability#whyUnreachable} says first); empty for an in-memory SQLite store
     */
    public static Optional<SchemaOutlook> of(StoreConfig config) {
        int latest = Migrations.latest(config.dialect());
        String store = config.describe();
        try {
            if (config.dialect() == Dialect.POSTGRESQL) {
                try (Connection c = StoreReachability.connect(config)) {
                    c.setReadOnly(true);
                    return Optional.of(new SchemaOutlook(config.dialect(), store,
                            version(c, "SELECT to_regclass('schema_version') IS NOT NULL"), latest, true, null));
                }
            }
            Optional<Path> file = Dialect.sqliteFile(config.url());
            if (file.isEmpty()) {
                return Optional.empty(); // in memory: nothing outlives the process
            }
            if (!Files.exists(file.get())) {
                return Optional.of(new SchemaOutlook(config.dialect(), store, 0, latest, false, null));
            }
            try (Connection c = DriverManager.getConnection(sqliteReadOnlyUrl(file.get()), sqliteProperties(config))) {
                int version = version(c, "SELECT EXISTS (SELECT 1 FROM sqlite_master"
                        + " WHERE type = 'table' AND name = 'schema_version')");
                return Optional.of(new SchemaOutlook(config.dialect(), store, version, latest, true, null));
            }
        } catch (SQLException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
            return Optional.of(new SchemaOutlook(config.dialect(), store, 0, latest, true, reason));
        }
    }

    /**
     * A read-only URI of an SQLite file: {@code immutable=1} when its {@code -wal} file is not there (no connection
     * has it open in WAL mode: one that has keeps its {@code -wal} until the last one closes, so none writes the
     * file; SQLite then reads only the file and creates nothing), else {@code mode=ro}, which shares the running
     * server's {@code -shm} and takes no write lock. A {@code -shm} without a {@code -wal} is one a stop left: with
     * {@code mode=ro} SQLite made a {@code -wal} beside it (check26, left open), which {@code check} must not.
     */
    static String sqliteReadOnlyUrl(Path file) {
        boolean inUse = Files.exists(Path.of(file + "-wal"));
        String path = file.toUri().getRawPath();
        return "jdbc:sqlite:file:" + path + (inUse ? "?mode=ro" : "?mode=ro&immutable=1");
    }

    static Properties sqliteProperties(StoreConfig config) {
        Properties p = new Properties();
        p.setProperty("open_mode", Integer.toString(0x00000001 | 0x00000040)); // SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
        p.setProperty("busy_timeout", Long.toString(Math.max(1, config.connectTimeout().toMillis())));
        return p;
    }

    /** The schema version, 0 when {@code tableThere} says there is no {@code schema_version} table. */
    static int version(Connection c, String tableThere) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery(tableThere)) {
                if (!r.next() || !r.getBoolean(1)) {
                    return 0;
                }
            }
            try (ResultSet r = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }

    /** Whether this build's start upgrades the store: an existing schema, read, older than this build's. */
    public boolean upgrades() {
        return unreadable == null && exists && version > 0 && version < latest;
    }

    /** Whether this build refuses to start on the store: a newer build migrated it. */
    public boolean newer() {
        return version > latest;
    }

    /**
     * One sentence for {@code check}: at which schema version the store is and what {@code serve} does to it
     * at its start; for a newer store ({@link #newer()}) the words of the start's refusal.
     */
    public String describe() {
        if (unreadable != null) {
            return "the schema version of the store " + store + " could not be read (" + unreadable + "): 'serve'"
                    + " would meet the same at its start unless it is a passing fault; this build's schema version is "
                    + latest;
        }
        if (newer()) {
            return "the store " + store + ": " + Migrations.newerSchema(version, latest).getMessage();
        }
        if (!exists) {
            return "the SQLite store " + store + " does not exist yet: 'serve' creates a new store, at schema version "
                    + latest + ", at its first start";
        }
        if (version == 0) {
            return "the store " + store + " has no buildhook tables yet: 'serve' creates them, at schema version "
                    + latest + ", at its first start";
        }
        if (version == latest) {
            return "the store " + store + " is at schema version " + version + ", this build's: 'serve' has nothing"
                    + " to migrate";
        }
        String pending = Migrations.known(dialect).stream()
                .filter(m -> m.version() > version)
                .map(m -> "V" + m.version() + " " + m.description()).collect(Collectors.joining(", "));
        return "the store " + store + " is at schema version " + version + "; this build's is " + latest
                + ": 'serve' migrates it at its start (" + pending + "), and a buildhook older than this one cannot"
                + " open it afterwards: back it up first (" + BACKUP_DOCS + ")";
    }
}
