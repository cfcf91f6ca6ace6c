package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout41 F11: a server on the data folder's SQLite store ({@code data/buildhook.db}) stopped with jobs awaiting an
 * approval; its configuration switched to PostgreSQL on the same data folder. {@code check} said ok and {@code serve}
 * started without a word, and the jobs were gone from every view. Now both say where the file is, its jobs not ended
 * by state and what to do, reading it only; a file that cannot be read is said as such, and neither fails. Real
 * servers (the old one in this JVM, the new one a real {@code serve} process), real jobs, the real {@code check}.
 */
class StoreSwitchLeftJobsTest {

    @TempDir
    Path dir;

    private TestSchema pg;

    @AfterEach
    void dropSchema() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    /** A configuration on {@code dir/data} with the store {@code storeUrl} (none: the data folder's SQLite file). */
    private Path config(String name, String storeUrl) throws IOException {
        return Files.writeString(dir.resolve(name), String.join("\n",
                "data-dir: " + dir.resolve("data"),
                "rules: " + dir.resolve("rules.yaml"),
                "endpoints: {default: {secrets: [{file: " + dir.resolve("webhook-secret") + "}]}}",
                "server: {host: 127.0.0.1, port: 0}",
                storeUrl == null ? "" : "store: {url: '" + storeUrl + "'}",
                ""));
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void jobsAwaitingAnApprovalInTheOldSqliteStoreAreSaidByCheckAndServeOnPostgresql() throws Exception {
        pg = TestSchema.create("leftjobs_");
        String rules = "rules:\n"
                + "  - name: deploy\n    when: {status: PASSED}\n    approval: {}\n    run: {command: [/bin/true]}\n"
                + "  - name: release\n    when: {status: PASSED}\n    approval: {}\n    run: {command: [/bin/true]}\n"
                + "  - name: echo\n    when: {status: PASSED}\n    run: {command: [/bin/true]}\n";
        try (AdminServer old = AdminServer.withRules(dir, rules)) {
            String delivery = old.deliver("build-67-passed.json");
            await().atMost(Duration.ofMinutes(2)).until(() -> {
                String jobs = old.getJson("jobs?delivery=" + delivery).toString();
                return jobs.split("AWAITING_APPROVAL", -1).length == 3 && jobs.contains("SUCCEEDED");
            });
        }
        Path data = dir.resolve("data");
        Path db = data.resolve("buildhook.db");
        byte[] before = Files.readAllBytes(db);
        List<String> filesBefore = listing(data);
        String warning = "the data folder's SQLite store " + db + " is not the configured store ("
                + StoreConfig.of(pg.storeUrl, data).describe() + ") and holds 2 job(s) not ended (2 AWAITING_APPROVAL):"
                + " they do not move to the configured store, which neither runs nor shows them. To let them end, start"
                + " the previous configuration (without store.url, or with jdbc:sqlite:" + db + ") again on this data"
                + " folder, approve or reject the jobs awaiting an approval";
        CheckRun run = new CheckRun();

        // The old configuration, on that very file: nothing to say.
        assertThat(run.check(config("buildhook-sqlite.yaml", null))).as(run.err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run.out.toString()).doesNotContain("is not the configured store");

        Path pgConfig = config("buildhook-pg.yaml", pg.storeUrl);
        assertThat(run.check(pgConfig)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run.out.toString()).contains(pgConfig + ": warning: " + warning)
                .contains("docs/storage.md#from-sqlite-to-postgresql");
        // Read only: the same bytes, no file made beside it.
        assertThat(Files.readAllBytes(db)).isEqualTo(before);
        assertThat(listing(data)).isEqualTo(filesBefore);

        Path out = dir.resolve("serve.out");
        try (ServeProcesses servers = new ServeProcesses(dir)) {
            Process serve = servers.serve(pgConfig, out);
            ServeProcesses.awaitUrl(serve, data);
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.readAllLines(out, StandardCharsets.UTF_8).stream()
                    .anyMatch(l -> l.contains(" WARN ") && l.contains(warning)));
        }
        assertThat(Files.readAllBytes(db)).isEqualTo(before);

        // A file a newer buildhook migrated is still counted, and said as such.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)");
        }
        assertThat(run.check(pgConfig)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run.out.toString()).contains(pgConfig + ": warning: the data folder's SQLite store " + db
                + " (at schema version 99, a buildhook newer than this one's ").contains("holds 2 job(s) not ended");
    }

    /**
     * switch41 F2, the other way round: a server on PostgreSQL stopped with jobs awaiting an approval; its
     * configuration switched back to the data folder's SQLite store (or to another PostgreSQL database). The store's
     * mark in the data folder records it, without its password; {@code check} and {@code serve} name it and count its
     * jobs not ended when its password is in a {@code .pgpass} file, or say it was not reached; a mark an older build
     * left empty is said as another installation's, and filled in when its store opens again.
     */
    @Test
    void jobsAwaitingAnApprovalInTheOldPostgresqlStoreAreSaidByCheckAndServeOnTheDataFoldersSqliteStore()
            throws Exception {
        pg = TestSchema.create("backjobs_");
        String rules = "rules:\n"
                + "  - name: deploy\n    when: {status: PASSED}\n    approval: {}\n    run: {command: [/bin/true]}\n"
                + "  - name: release\n    when: {status: PASSED}\n    approval: {}\n    run: {command: [/bin/true]}\n"
                + "  - name: echo\n    when: {status: PASSED}\n    run: {command: [/bin/true]}\n";
        try (AdminServer old = AdminServer.withRulesOn(dir, rules, pg.storeUrl)) {
            String delivery = old.deliver("build-67-passed.json");
            await().atMost(Duration.ofMinutes(2)).until(() -> {
                String jobs = old.getJson("jobs?delivery=" + delivery).toString();
                return jobs.split("AWAITING_APPROVAL", -1).length == 3 && jobs.contains("SUCCEEDED");
            });
        }
        Path data = dir.resolve("data");
        List<String> marks = listing(data.resolve("payloads")).stream().filter(n -> n.startsWith(".buildhook-store-"))
                .toList();
        assertThat(marks).hasSize(1);
        Path mark = data.resolve("payloads").resolve(marks.get(0));
        String installation = marks.get(0).substring(".buildhook-store-".length());
        // The store's URL, its schema and user, never its password.
        assertThat(Files.readString(mark)).contains("store=" + pg.url.substring(0, pg.url.indexOf('?')))
                .contains("currentSchema=" + pg.schema).doesNotContain("password=");
        String named = "the store " + StoreConfig.of(pg.storeUrl, data).describe() + " (installation " + installation
                + "), which used this data folder before (its mark " + mark + "), is not the configured store (";
        Path sqliteConfig = config("buildhook-sqlite.yaml", null);
        String onSqlite = named + StoreConfig.sqlite(data).describe() + ") and ";
        Path pgpass = dir.resolve("pgpass");
        java.net.URI u = java.net.URI.create(pg.url.substring("jdbc:".length()));
        java.util.Map<String, String> query = new java.util.HashMap<>();
        for (String p : u.getRawQuery().split("&")) {
            query.put(p.substring(0, p.indexOf('=')), p.substring(p.indexOf('=') + 1));
        }
        Files.writeString(pgpass, u.getHost() + ":" + u.getPort() + ":" + u.getPath().substring(1) + ":"
                + query.get("user") + ":" + query.get("password") + "\n");
        Files.setPosixFilePermissions(pgpass, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        CheckRun run = new CheckRun();
        String before = System.getProperty("org.postgresql.pgpassfile");
        try {
            // Without its password: named, and said not reached.
            System.setProperty("org.postgresql.pgpassfile", dir.resolve("no-pgpass").toString());
            assertThat(run.check(sqliteConfig)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(run.out.toString()).contains(sqliteConfig + ": warning: " + onSqlite
                    + "could not be reached to count its jobs not ended (").contains("docs/storage.md#back-from-postgresql")
                    .doesNotContain("password=");

            System.setProperty("org.postgresql.pgpassfile", pgpass.toString());
            String counted = "holds 2 job(s) not ended (2 AWAITING_APPROVAL): they do not move to the configured"
                    + " store, which neither runs nor shows them. To let them end, start the previous configuration"
                    + " (store.url " + StoreConfig.of(pg.storeUrl, data).describe() + ", with its password) again on"
                    + " this data folder";
            assertThat(run.check(sqliteConfig)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(run.out.toString()).contains(sqliteConfig + ": warning: " + onSqlite + counted)
                    .contains("delete " + mark);

            // To another PostgreSQL database (here: schema) on the same data folder, the same.
            try (TestSchema other = TestSchema.create("backjobs2_")) {
                Path otherConfig = config("buildhook-pg2.yaml", other.storeUrl);
                assertThat(run.check(otherConfig)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
                assertThat(run.out.toString()).contains(otherConfig + ": warning: " + named
                        + StoreConfig.of(other.storeUrl, data).describe() + ") and " + counted)
                        .doesNotContain("password=");
            }

            // The start on SQLite says it too (its .pgpass from PGPASSFILE).
            Path out = dir.resolve("serve.out");
            try (ServeProcesses servers = new ServeProcesses(dir)) {
                Process serve = servers.serve(sqliteConfig, out, java.util.Map.of("PGPASSFILE", pgpass.toString()));
                ServeProcesses.awaitUrl(serve, data);
                await().atMost(Duration.ofMinutes(2)).until(() -> Files.readAllLines(out, StandardCharsets.UTF_8)
                        .stream().anyMatch(l -> l.contains(" WARN ") && l.contains(onSqlite + counted)));
            }
            assertThat(Files.readString(out)).doesNotContain("password=");

            // A mark an older build made (empty): another installation, not counted.
            Files.write(mark, new byte[0]);
            assertThat(run.check(sqliteConfig)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(run.out.toString()).contains(sqliteConfig + ": warning: another store (installation "
                    + installation + ") used this data folder before the configured store ("
                    + StoreConfig.sqlite(data).describe() + "); its mark " + mark + ", made by a buildhook older than"
                    + " 2026-12-05, does not record which store it was");
            // Filled in when its store opens again.
            try (AdminServer again = AdminServer.withRulesOn(dir, rules, pg.storeUrl)) {
                assertThat(Files.readString(mark)).contains("currentSchema=" + pg.schema).doesNotContain("password=");
            }
        } finally {
            if (before == null) {
                System.clearProperty("org.postgresql.pgpassfile");
            } else {
                System.setProperty("org.postgresql.pgpassfile", before);
            }
        }
    }

    @Test
    void anUnreadableFileInTheDataFolderIsSaidNotFailedWhenAnotherSqliteStoreIsConfigured() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("webhook-secret"), TestConfig.SECRET);
        Files.writeString(dir.resolve("rules.yaml"), "rules: []\n");
        Path db = Files.writeString(data.resolve("buildhook.db"), "not a database, but some text long enough to be"
                + " taken for a file's header and more: ".repeat(20));
        Path config = config("buildhook-other.yaml", "jdbc:sqlite:" + dir.resolve("other.db"));
        CheckRun run = new CheckRun();

        assertThat(run.check(config)).as(run.err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run.out.toString()).contains(config + ": warning: the data folder's SQLite store " + db
                + " is not the configured store (jdbc:sqlite:" + dir.resolve("other.db") + ") and whether it holds"
                + " jobs not ended could not be read (");
    }
}
