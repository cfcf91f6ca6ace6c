package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout26 F9: {@code buildhook check} said nothing of the schema: not that the first {@code serve} of a new
 * build migrates the store (after which an older build cannot open it: the backup must come first), nor
 * that this build cannot open a store a newer one migrated. It now says, as one line, at which version the store
 * is and what {@code serve} does to it, reading it only: the stores here are made by the older build's own
 * migration scripts (this build's, up to the one before the newest), and stay byte for byte as they were.
 */
class CheckSchemaVersionTest {

    @TempDir
    Path dir;

    private final CheckRun run = new CheckRun();

    private Path config(Path data, String storeUrl) throws IOException {
        return CheckRun.config(dir, data, storeUrl == null ? "" : "store: {url: '" + storeUrl + "'}\n");
    }

    /** The migration scripts of an engine, in order, as this build ships them. */
    private static List<String> migrations(String engine) throws IOException {
        String folder = "/org/buildhook/runner/store/migrations/" + engine + "/";
        return Stream.of(resource(folder + "index.txt").split("\n")).map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = CheckSchemaVersionTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Makes the schema an older build left: every migration script but the newest, with its schema_version row. */
    private static void olderSchema(String url, String engine) throws Exception {
        List<String> scripts = migrations(engine);
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL,"
                    + " applied_at BIGINT NOT NULL)");
            for (int v = 1; v < scripts.size(); v++) {
                String name = scripts.get(v - 1);
                for (String sql : resource("/org/buildhook/runner/store/migrations/" + engine + "/" + name)
                        .split(";\\s*\\n")) {
                    if (!sql.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("--"))) {
                        s.execute(sql);
                    }
                }
                s.execute("INSERT INTO schema_version VALUES (" + v + ", '"
                        + name.replaceFirst("^V\\d+__", "").replace(".sql", "") + "', 0)");
            }
        }
    }

    private static int version(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
            r.next();
            return r.getInt(1);
        }
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void sqliteStoreOfAnOlderBuildIsAnnouncedAsMigratedAtTheStartAndLeftUntouched() throws Exception {
        List<String> scripts = migrations("sqlite");
        int latest = scripts.size();
        Path data = Files.createDirectories(dir.resolve("data"));
        Path db = data.resolve("buildhook.db");
        olderSchema("jdbc:sqlite:" + db, "sqlite");
        byte[] before = Files.readAllBytes(db);
        List<String> filesBefore = listing(data);

        assertThat(run.check(config(data, null))).as(run.err.toString()).isEqualTo(ExitCodes.OK);

        String newest = scripts.get(latest - 1).replaceFirst("__", " ").replace(".sql", "");
        assertThat(run.out.toString()).contains(": the store jdbc:sqlite:" + db + " is at schema version " + (latest - 1)
                + "; this build's is " + latest + ": 'serve' migrates it at its start (" + newest + "), and a"
                + " buildhook older than this one cannot open it afterwards: back it up first (docs/storage.md,"
                + " Backing up and restoring)\n");
        // Read only: the same bytes, no -wal or -shm file left beside it, still at the older version.
        assertThat(Files.readAllBytes(db)).isEqualTo(before);
        assertThat(listing(data)).isEqualTo(filesBefore);
        assertThat(version("jdbc:sqlite:" + db)).isEqualTo(latest - 1);
    }

    @Test
    void sqliteStoreANewerBuildMigratedFailsTheCheckInTheStartsWords() throws Exception {
        Path data = dir.resolve("data");
        StoreConfig store = StoreConfig.sqlite(data);
        Store.open(store).close();
        try (Connection c = DriverManager.getConnection(store.url()); Statement s = c.createStatement()) {
            s.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)");
        }
        int latest = migrations("sqlite").size();

        assertThat(run.check(config(data, null))).isEqualTo(ExitCodes.UNAVAILABLE);

        assertThat(run.out.toString()).contains("ok (1 endpoint(s)), but 'serve' would not start now: see the error below")
                .contains(": error: the store " + store.describe() + ": the database schema is at version 99 but this"
                        + " buildhook only knows up to " + latest + ": it was used by a newer buildhook; upgrade this one,"
                        + " or restore the backup of the store taken before that upgrade")
                .contains("('serve' would not start now)");
        assertThat(run.err.toString()).contains("'serve' would not start now: see the error above");
    }

    @Test
    void sqliteStoreOfThisBuildNeedsNothingEvenWhileItsServerRuns() throws Exception {
        Path data = dir.resolve("data");
        StoreConfig store = StoreConfig.sqlite(data);
        int latest = migrations("sqlite").size();
        // Open as a running server holds it: its lock file, its file lock, its writer in WAL mode.
        try (Store running = Store.open(store)) {
            assertThat(run.check(config(data, null))).as(run.err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(run.out.toString()).contains(": the store " + store.describe() + " is at schema version " + latest
                    + ", this build's: 'serve' has nothing to migrate\n");
        }
    }

    /**
     * check26 (left open): a store in WAL mode whose {@code -shm} is there but not its {@code -wal} (what a stop can
     * leave) was opened {@code mode=ro}, with which SQLite must make the {@code -wal} it may not make read-only: the
     * version could not be read. Without a {@code -wal} no connection has the store open, so it is read as {@code
     * immutable}: the version is read, and nothing beside the file is written or made.
     */
    @Test
    void sqliteStoreWithAShmFileButNoWalIsReadAndLeftAsItWas() throws Exception {
        Path data = dir.resolve("data");
        StoreConfig store = StoreConfig.sqlite(data);
        Store.open(store).close();
        Path db = data.resolve("buildhook.db");
        byte[] shm;
        try (Connection c = DriverManager.getConnection(store.url()); Statement s = c.createStatement()) {
            s.execute("SELECT COUNT(*) FROM schema_version");
            shm = Files.readAllBytes(Path.of(db + "-shm"));
        }
        Files.deleteIfExists(Path.of(db + "-wal"));
        Files.write(Path.of(db + "-shm"), shm);
        byte[] before = Files.readAllBytes(db);
        List<String> filesBefore = listing(data);
        assertThat(filesBefore).contains("buildhook.db-shm").doesNotContain("buildhook.db-wal");

        assertThat(run.check(config(data, null))).as(run.err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(run.out.toString()).contains(": the store " + store.describe() + " is at schema version "
                + migrations("sqlite").size() + ", this build's: 'serve' has nothing to migrate\n")
                .doesNotContain("could not be read");
        assertThat(Files.readAllBytes(db)).isEqualTo(before);
        assertThat(Files.readAllBytes(Path.of(db + "-shm"))).isEqualTo(shm);
        assertThat(listing(data)).isEqualTo(filesBefore);
    }

    @Test
    void aMissingSqliteFileIsANewStoreAndIsNotCreated() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));

        assertThat(run.check(config(data, null))).as(run.err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(run.out.toString()).contains(": the SQLite store jdbc:sqlite:" + data.resolve("buildhook.db")
                + " does not exist yet: 'serve' creates a new store, at schema version " + migrations("sqlite").size()
                + ", at its first start\n");
        assertThat(listing(data)).isEmpty();
    }

    @Test
    void anSqliteFileThatIsNoDatabaseIsAWarningAndIsLeftAsItWas() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path db = Files.writeString(data.resolve("buildhook.db"), "not a database, but long enough to be read as one");

        assertThat(run.check(config(data, null))).as(run.err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(run.out.toString()).contains(": warning: the schema version of the store jdbc:sqlite:" + db
                + " could not be read (").contains("not a database");
        assertThat(Files.readString(db)).isEqualTo("not a database, but long enough to be read as one");
        assertThat(listing(data)).containsExactly("buildhook.db");
    }

    @Test
    void postgresqlSchemaOfAnOlderBuildNewerBuildAndNoTables() throws Exception {
        try (TestSchema schema = TestSchema.create("t_outlook_")) {
            String url = schema.storeUrl;
            List<String> scripts = migrations("postgresql");
            int latest = scripts.size();
            Path config = config(dir.resolve("data"), url);
            String described = StoreConfig.of(url, dir.resolve("data")).describe();

            assertThat(run.check(config)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(run.out.toString()).contains(": the store " + described + " has no buildhook tables yet: 'serve'"
                    + " creates them, at schema version " + latest + ", at its first start\n");

            olderSchema(url, "postgresql");
            assertThat(run.check(config)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(run.out.toString()).contains(": the store " + described + " is at schema version " + (latest - 1)
                    + "; this build's is " + latest + ": 'serve' migrates it at its start ("
                    + scripts.get(latest - 1).replaceFirst("__", " ").replace(".sql", "") + "), and a buildhook older"
                    + " than this one cannot open it afterwards: back it up first (docs/storage.md, Backing up and"
                    + " restoring)\n");
            assertThat(version(url)).isEqualTo(latest - 1);

            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)");
            }
            assertThat(run.check(config)).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(run.out.toString()).contains(": error: the store " + described + ": the database schema is at"
                    + " version 99 but this buildhook only knows up to " + latest);
        }
    }

    /**
     * tryout32 F8: a node of an older build still running (its claim renewed now) on the PostgreSQL schema that this
     * build's start would upgrade is named in a warning, with the step of deploying.md it breaks; the exit code stays
     * that of a valid check (warnings do not change it), with --strict too, since 'serve' would start. No warning
     * once no node runs.
     */
    @Test
    void postgresqlNodeOfAnOlderBuildRunningOnASchemaThisBuildWouldUpgradeIsAWarning() throws Exception {
        try (TestSchema schema = TestSchema.create("t_olderrun_")) {
            String url = schema.storeUrl;
            int latest = migrations("postgresql").size();
            Path config = config(dir.resolve("data"), url);
            olderSchema(url, "postgresql");
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("INSERT INTO node_leases (node_id, instance, host, boot_id, node_pid, node_started,"
                        + " acquired_at, renewed_at) VALUES ('node-a', 'instance-a', 'old-host', '', 4242, 1,"
                        + " (extract(epoch from clock_timestamp()) * 1000)::bigint - 60000,"
                        + " (extract(epoch from clock_timestamp()) * 1000)::bigint)");
            }

            assertThat(run.check(config, "--strict")).as(run.err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(run.out.toString()).contains(": warning: 1 node(s) run on this store at schema version "
                    + (latest - 1) + ": node-a (host old-host, pid 4242). They run a buildhook older than this one, and"
                    + " 'serve' of this build would upgrade the schema to " + latest + " at its start, which theirs"
                    + " cannot open: stop every node before the first new one starts (docs/deploying.md#upgrading,"
                    + " step 4)\n");

            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("UPDATE node_leases SET renewed_at = renewed_at - 3600000");
            }
            assertThat(run.check(config, "--strict")).as(run.err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(run.out.toString()).doesNotContain("run on this store at schema version");
            assertThat(version(url)).isEqualTo(latest - 1);
        }
    }
}
