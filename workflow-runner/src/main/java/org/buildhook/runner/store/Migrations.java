package org.buildhook.runner.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.runner.RunnerException;

/**
 * Applies the versioned schema migrations ({@code migrations/<engine>/V<n>__<what>.sql}, listed in
 * that folder's {@code index.txt}) that the database does not have yet, each in its own
 * transaction with its {@code schema_version} row, and refuses to start on a database that a newer
 * buildhook has already migrated.
 *
 * <p>A database already at this buildhook's version is only read: no statement needs more than the right to
 * read {@code schema_version}, so a PostgreSQL role with read and write access to the tables but no
 * {@code CREATE} on their schema runs it; only the first start and an upgrade create or change tables.
 *
 * <p>Why not Flyway: two engines, one initial script each and a few statements per version; a
 * 100-line runner is easier to audit than a dependency ten times the size of the module.
 */
final class Migrations {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Migrations.class);

    private static final Pattern NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");
    /** An arbitrary constant: nodes starting together on PostgreSQL take turns migrating. */
    private static final long PG_LOCK_KEY = 0x6275696c64686f6bL;

    private final Database db;
    private final Clock clock;
    /** The version {@link #apply} upgraded the schema from; 0 when it created it or had nothing to do. */
    private int upgradedFrom;

    Migrations(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** The versions this code knows, in order. */
    List<Migration> known() {
        return known(db.dialect());
    }

    /** The schema version this code brings a {@code dialect} database to: its newest migration's number. */
    static int latest(Dialect dialect) {
        return known(dialect).size();
    }

    static List<Migration> known(Dialect dialect) {
        String folder = "migrations/" + dialect.folder() + "/";
        List<Migration> result = new ArrayList<>();
        for (String line : resource(folder + "index.txt").split("\n")) {
            String name = line.strip();
            if (name.isEmpty() || name.startsWith("#")) {
                continue;
            }
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                throw new RunnerException("bad migration name " + name + " in " + folder + "index.txt");
            }
            int version = Integer.parseInt(m.group(1));
            if (version != result.size() + 1) {
                throw new RunnerException("migrations must be numbered 1, 2, 3…; got " + name);
            }
            result.add(new Migration(version, m.group(2), resource(folder + name)));
        }
        return result;
    }

    /** Brings the schema up to date; returns the version it is at. */
    int apply() {
        List<Migration> known = known();
        // CREATE TABLE IF NOT EXISTS asks PostgreSQL for the CREATE privilege even when the table is there.
        boolean created = db.read("look for schema_version", this::hasSchemaVersion);
        if (created && db.dialect() == Dialect.POSTGRESQL) {
            refuseWithoutTablePrivileges();
        }
        if (!created) {
            try {
                db.inTransaction("create schema_version", c -> {
                    // Locked too: concurrent CREATE TABLE IF NOT EXISTS can still collide on PostgreSQL.
                    lock(c);
                    try (Statement s = c.createStatement()) {
                        s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY,"
                                + " description VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
                    }
                    return null;
                });
            } catch (RunnerException e) {
                throw noSchemaToCreateIn(e);
            }
        }
        int[] from = {0};
        List<String> applied = new ArrayList<>();
        try {
            if (db.dialect() == Dialect.POSTGRESQL) {
                db.read("apply the migrations", c -> {
                    holdingTheLock(c, () -> migrate(known, from, applied, new Transactions() {
                        @Override
                        public <T> T inTransaction(String what, Database.Work<T> work) {
                            return Migrations.this.inTransaction(c, what, work);
                        }
                    }));
                    return null;
                });
            } else {
                // SQLite: one node per file (the store lock), so no other node migrates between these transactions.
                migrate(known, from, applied, db::inTransaction);
            }
        } catch (RunnerException e) {
            throw noRightToUpgrade(e, from[0], known.size());
        }
        int version = db.read("read the schema version", Migrations::current);
        if (version > known.size()) {
            throw newerSchema(version, known.size());
        }
        if (!applied.isEmpty()) {
            // An upgrade changes the operator's database for good: say so, once, on the node that did it.
            if (from[0] == 0) {
                LOG.info("store schema created at version {}", version);
            } else {
                upgradedFrom = from[0];
                LOG.info("store schema upgraded from version {} to {} ({}); a buildhook older than this one cannot"
                        + " open it any more", from[0], version, String.join(", ", applied));
            }
        }
        return version;
    }

    /**
     * After {@link #apply}: the schema version this node's apply upgraded the store from (from 1), or 0 when it
     * created the schema or found it up to date (another node's upgrade included).
     */
    int upgradedFrom() {
        return upgradedFrom;
    }

    /** How {@link #migrate} runs one migration's transaction. */
    private interface Transactions {
        <T> T inTransaction(String what, Database.Work<T> work);
    }

    /**
     * Reads the version the schema is at into {@code from} and applies the {@code known} migrations it lacks,
     * each in its own transaction with its {@code schema_version} row, adding their names to {@code applied}.
     * Run while no other node migrates ({@link #holdingTheLock}), so {@code from} and {@code applied} are what
     * this node found and did: two nodes starting at once on an empty database took turns by migration, and
     * one said "upgraded from version 2 to 16 … a buildhook older than this one cannot open it any more" of a
     * store created a second before (tryout28 F2).
     */
    private void migrate(List<Migration> known, int[] from, List<String> applied, Transactions transactions) {
        from[0] = transactions.inTransaction("read the schema version", Migrations::current);
        for (Migration m : known) {
            boolean ran = transactions.inTransaction("apply migration V" + m.version(), c -> {
                lock(c);
                int current = current(c);
                if (current > known.size()) {
                    throw newerSchema(current, known.size());
                }
                if (current < m.version()) {
                    try (Statement s = c.createStatement()) {
                        for (String sql : statements(m.sql())) {
                            s.execute(sql);
                        }
                    }
                    try (PreparedStatement p = c.prepareStatement(
                            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                        p.setInt(1, m.version());
                        p.setString(2, m.description());
                        p.setLong(3, clock.millis());
                        p.executeUpdate();
                    }
                    return true;
                }
                return false;
            });
            if (ran) {
                applied.add("V" + m.version() + " " + m.description());
            }
        }
    }

    /**
     * PostgreSQL: runs {@code run} holding the migrations' advisory lock on session {@code c} from before it
     * reads the version until after its last migration. Each migration's transaction takes the same lock again
     * ({@link #lock}), which its own session always gets; another node's, whether of this build or of an older
     * one in a rolling upgrade (which locks per migration), waits until {@code run} is done and then finds the
     * schema up to date. The lock is a session's: it outlives the transaction it is taken in and ends with the
     * session if the connection is cut.
     */
    private void holdingTheLock(Connection c, Runnable run) throws SQLException {
        inTransaction(c, "wait for another node's migrations", t -> {
            try (Statement unbounded = t.createStatement()) {
                unbounded.execute("SET LOCAL lock_timeout = 0"); // as long as another node's migrations take
            }
            try (PreparedStatement p = t.prepareStatement("SELECT pg_advisory_lock(?)")) {
                p.setLong(1, PG_LOCK_KEY);
                p.execute();
            }
            return null;
        });
        try {
            run.run();
        } catch (RuntimeException | Error failed) {
            // The migrations' own failure is the one said: an unlock that fails too (the session cut during a
            // migration, which ended the lock with it) is added to it, not put in its place (recheck29).
            try {
                unlock(c);
            } catch (SQLException | RuntimeException unlockFailed) {
                failed.addSuppressed(unlockFailed);
            }
            throw failed;
        }
        unlock(c);
    }

    /** Gives the migrations' session lock ({@link #holdingTheLock}) back on {@code c}. */
    private static void unlock(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            p.setLong(1, PG_LOCK_KEY);
            p.execute();
        }
    }

    /** {@code work} in one transaction on {@code c}, committed when it returns; failures as {@link Database#translate}. */
    private <T> T inTransaction(Connection c, String what, Database.Work<T> work) {
        try {
            return Database.jdbcTransaction(c, work);
        } catch (SQLException e) {
            throw db.translate(what, e);
        }
    }

    /**
     * The refusal of a schema at {@code version}, newer than the {@code known} versions of this build: a newer
     * build migrated it (a downgrade). Names the three ways on, the backup taken before that upgrade among them
     * (deploying.md "Upgrading" step 2), as an older build's words cannot (tryout26 F5).
     */
    static RunnerException newerSchema(int version, int known) {
        return new RunnerException("the database schema is at version " + version
                + " but this buildhook only knows up to " + known
                + ": it was used by a newer buildhook; upgrade this one, or restore the backup of the store taken"
                + " before that upgrade (docs/deploying.md, Upgrading step 2; what a restore re-runs and loses:"
                + " docs/storage.md, Backing up and restoring), or point it at another database");
    }

    /**
     * PostgreSQL's "no schema has been selected to create in" (SQLSTATE 3F000) means that no schema
     * of the search path exists, typically a misspelt {@code currentSchema} in {@code store.url}: said
     * with the search path and what to do. Any other failure is {@code e} unchanged.
     */
    private RunnerException noSchemaToCreateIn(RunnerException e) {
        if (e.getCause() instanceof SQLException && "42501".equals(((SQLException) e.getCause()).getSQLState())) {
            return noRightToCreateIn(e);
        }
        if (!(e.getCause() instanceof SQLException) || !"3F000".equals(((SQLException) e.getCause()).getSQLState())) {
            return e;
        }
        String said;
        try {
            said = db.read("read the search path", c -> {
                String searchPath;
                try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SHOW search_path")) {
                    searchPath = r.next() ? r.getString(1) : "";
                }
                String[] unusable = schemaWithoutUsage(c, searchPath);
                return unusable != null ? noUsageOf(unusable[0], unusable[1], unusable[2])
                        : noSchemaToCreateIn(searchPath);
            });
        } catch (RunnerException unreadable) {
            said = noSchemaToCreateIn("(unreadable: " + unreadable.getMessage() + ")");
        }
        return new RunnerException("the PostgreSQL store " + said, e.getCause());
    }

    /**
     * The first schema of {@code searchPath} that exists but on which the current role has no {@code USAGE}
     * privilege, with the role and the schema's owner; or {@code null}. PostgreSQL leaves such a schema out
     * of the search path, so for that role it is as if it did not exist (the start said "no schema of its
     * search path … exists" of a schema that does).
     */
    static String[] schemaWithoutUsage(Connection c, String searchPath) throws SQLException {
        List<String> names = new ArrayList<>();
        for (String part : searchPath.split(",")) {
            String name = part.strip();
            if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
                name = name.substring(1, name.length() - 1).replace("\"\"", "\"");
            }
            if (!name.isEmpty() && !name.equals("$user")) {
                names.add(name);
            }
        }
        if (names.isEmpty()) {
            return null;
        }
        java.sql.Array array = c.createArrayOf("text", names.toArray());
        try (PreparedStatement p = c.prepareStatement("SELECT nspname, current_user, pg_get_userbyid(nspowner)"
                + " FROM pg_namespace WHERE nspname = ANY(?) AND NOT has_schema_privilege(oid, 'USAGE')"
                + " ORDER BY array_position(?, nspname::text) LIMIT 1")) {
            p.setArray(1, array);
            p.setArray(2, array);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? new String[] {r.getString(1), r.getString(2), r.getString(3)} : null;
            }
        } finally {
            array.free();
        }
    }

    /**
     * What the start says, after "the PostgreSQL store", of a schema its role has no {@code USAGE}
     * privilege on, and what {@code buildhook check} says of it beforehand ({@link StoreReachability}).
     *
     * @param owner the schema's owner, or {@code null} when unknown
     */
    static String noUsageOf(String schema, String role, String owner) {
        return "cannot use schema " + schema + ": the role " + role + " has no USAGE privilege on it, so PostgreSQL"
                + " hides the schema and its tables from it; as the schema's owner" + (owner == null ? "" : " (" + owner + ")")
                + ", run GRANT USAGE ON SCHEMA " + schema + " TO " + role + " (docs/storage.md, Least privilege)";
    }

    /**
     * What the start says, after "the PostgreSQL store", of a database in which no schema of the search
     * path exists, and what {@code buildhook check} says of it beforehand ({@link StoreReachability}).
     */
    static String noSchemaToCreateIn(String searchPath) {
        return "has no schema to create its tables in: no schema of its search path " + searchPath
                + " exists in this database (currentSchema in store.url names it); create it (CREATE SCHEMA name"
                + " AUTHORIZATION user, once) or correct currentSchema in store.url";
    }

    /**
     * PostgreSQL's "permission denied for schema" (SQLSTATE 42501) when the tables are made: the role of
     * {@code store.url} may not create in its schema (from PostgreSQL 15 on, no role but the database's
     * owner may create in {@code public}). The first start needs it; a later one on an up-to-date
     * schema does not (an upgrade does: {@link #noRightToUpgrade}). Said with the schema, the role and what to do.
     */
    private RunnerException noRightToCreateIn(RunnerException e) {
        String[] found = schemaAndRole();
        return found == null ? e : new RunnerException("the PostgreSQL store "
                + noRightToCreateIn(found[0], found[1], found[2]), e.getCause());
    }

    /** SQL of the current schema, role and the schema's owner, in that order. */
    static final String SCHEMA_ROLE_OWNER = "current_schema(), current_user, (SELECT pg_get_userbyid(nspowner)"
            + " FROM pg_namespace WHERE nspname = current_schema())";

    /**
     * The current schema, role and the schema's owner ({@link #SCHEMA_ROLE_OWNER}), for a refusal's
     * message; null when they cannot be read either.
     */
    private String[] schemaAndRole() {
        try {
            return db.read("read the schema and role", c -> {
                try (Statement s = c.createStatement();
                        ResultSet r = s.executeQuery("SELECT " + SCHEMA_ROLE_OWNER)) {
                    return r.next() ? new String[] {r.getString(1), r.getString(2), r.getString(3)}
                            : new String[] {"?", "?", null};
                }
            });
        } catch (RunnerException unreadable) {
            return null;
        }
    }

    /**
     * PostgreSQL, on a schema whose tables are made: refuses the start, with which tables lack which
     * privilege and the {@code GRANT} to run ({@link TablePrivileges}), when the role may not read or write
     * one of them; it failed later with PostgreSQL's bare "permission denied for table node_leases" (final18
     * F3). Asked before the migrations, whose first read needs {@code SELECT} on {@code schema_version}; an
     * upgrade's new tables are its role's own.
     */
    private void refuseWithoutTablePrivileges() {
        String lacking = db.read("check the role's privileges on the tables", c -> {
            Map<String, List<String>> missing = TablePrivileges.missing(c);
            if (missing.isEmpty()) {
                return null;
            }
            try (Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT current_schema(), current_user")) {
                r.next();
                return TablePrivileges.lacking(r.getString(1), r.getString(2), missing);
            }
        });
        if (lacking != null) {
            throw new RunnerException("the PostgreSQL store " + lacking);
        }
    }

    /**
     * What the start says, after "the PostgreSQL store", of a role without the CREATE privilege on the
     * schema its tables go in, and what {@code buildhook check} says of it beforehand ({@link StoreReachability}):
     * first to run the first start as the schema's owner (least privilege), then the grant.
     *
     * @param owner the schema's owner, or {@code null} when unknown
     */
    static String noRightToCreateIn(String schema, String role, String owner) {
        // The PostgreSQL 15 aside explains only schema public (tryout19 F6).
        String start = "cannot create its tables in schema " + schema + ": the role " + role + " has no CREATE"
                + " privilege on it" + (schema.equals("public")
                        ? " (from PostgreSQL 15 on, only the database's owner has it on schema public)" : "")
                + ", and the first start needs it to create the tables; ";
        String otherWays = "grant it CREATE once as the schema's owner (GRANT CREATE ON SCHEMA " + schema + " TO " + role
                + ") or give the role a schema of its own (CREATE SCHEMA name AUTHORIZATION " + role
                + ", and currentSchema=name in store.url)";
        if (owner != null && owner.equals(role)) {
            return start + otherWays; // its own schema: no other owner to run the first start as
        }
        String who = owner == null ? "" : owner.equals("pg_database_owner") ? " (the database's owner)" : " (" + owner + ")";
        // final18 F5: with least privilege the restricted role never gets CREATE: the owner makes the tables.
        return start + "run that first start once as the schema's owner" + who + " in store.user, which creates the"
                + " tables, then grant " + role + " read and write access to them and go back to it (docs/storage.md,"
                + " Least privilege); or " + otherWays;
    }

    /** Whether the table {@code schema_version} is there (in the search path's schema, on PostgreSQL). */
    private boolean hasSchemaVersion(Connection c) throws SQLException {
        String sql = db.dialect() == Dialect.POSTGRESQL ? "SELECT to_regclass('schema_version') IS NOT NULL"
                : "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version')";
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            return r.next() && r.getBoolean(1);
        }
    }

    /**
     * PostgreSQL's "permission denied" (SQLSTATE 42501) while an upgrade changes the tables: said with the
     * versions, the schema, the role and what to do. Any other failure is {@code e} unchanged.
     */
    private RunnerException noRightToUpgrade(RunnerException e, int from, int to) {
        if (!(e.getCause() instanceof SQLException) || !"42501".equals(((SQLException) e.getCause()).getSQLState())) {
            return e;
        }
        if (from == 0) {
            return noRightToCreateIn(e);
        }
        String[] found = schemaAndRole();
        if (found == null) {
            return e;
        }
        return new RunnerException("the PostgreSQL store " + noRightToUpgrade(found[0], found[1], from, to) + " ("
                + e.getCause().getMessage().strip() + ")", e.getCause());
    }

    /**
     * What the start says, after "the PostgreSQL store", of a role that may read and write the tables but
     * not change them, on a schema this buildhook must upgrade; and what {@code buildhook check} says of it
     * beforehand ({@link StoreReachability}).
     */
    static String noRightToUpgrade(String schema, String role, int from, int to) {
        return "must upgrade its schema from version " + from + " to " + to + " in schema " + schema
                + ", and the role " + role + " may not change its tables (an upgrade needs the CREATE privilege on"
                + " the schema and to own the tables); start this buildhook once with the role that created them"
                + " (the schema's owner) in store.url, then go back to " + role + ", which needs only to read and"
                + " write them from then on; or grant it once (GRANT CREATE ON SCHEMA " + schema + " TO " + role
                + ", and make it the tables' owner)";
    }

    private void lock(Connection c) throws SQLException {
        if (db.dialect() == Dialect.POSTGRESQL) {
            // A migration waits for another node's, and its DDL for the tables' users, as long as they take:
            // not the bound the pool's sessions give deliveries (Database#sessionInitSql).
            try (Statement unbounded = c.createStatement()) {
                unbounded.execute("SET LOCAL lock_timeout = 0");
            }
            try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                p.setLong(1, PG_LOCK_KEY);
                p.execute();
            }
        }
        // SQLite: the transaction already began IMMEDIATE, which holds the only write lock.
    }

    private static int current(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Splits a script on semicolons that end a line; comment lines are dropped. */
    static List<String> statements(String script) {
        List<String> result = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("--") || trimmed.isEmpty()) {
                continue;
            }
            current.append(line).append('\n');
            if (trimmed.endsWith(";")) {
                String sql = current.toString().strip();
                result.add(sql.substring(0, sql.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            result.add(current.toString().strip());
        }
        return result;
    }

    private static String resource(String name) {
        try (InputStream in = Migrations.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new RunnerException("missing migration resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RunnerException("cannot read migration resource " + name, e);
        }
    }

    /** One versioned script. */
    record Migration(int version, String description, String sql) {
    }
}
