package org.buildhook.distribution;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tests of real {@code buildhook serve} processes on PostgreSQL behind a {@code TcpProxy}
 * ({@link ProxiedSchema}): a schema of their own for each test, dropped after it, and the serve
 * processes a test started ({@link #processes}) killed first. Needs {@code BUILDHOOK_TEST_PG_URL};
 * skipped without it, except on CI where it fails.
 */
abstract class AbstractProxiedServeTest {

    @TempDir
    Path dir;
    ProxiedSchema pg;
    ServeProcesses processes;
    private final String schemaPrefix;

    /** @param schemaPrefix the start of the test schema's name ({@code stop_}) */
    AbstractProxiedServeTest(String schemaPrefix) {
        this.schemaPrefix = schemaPrefix;
    }

    @BeforeEach
    void schema() throws Exception {
        pg = ProxiedSchema.create(schemaPrefix);
    }

    @AfterEach
    void dropSchema() throws Exception {
        if (processes != null) {
            processes.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /**
     * Starts a {@code serve} of one rule, {@code quick} ({@code /bin/true}), on this test's schema through its proxy
     * with {@code store.connect-timeout} 2 s (the pools' and the sessions' lock waits) and each login bounded by
     * {@link TestSchema#GENEROUS_LOGIN_SECONDS} instead
     * ({@link ProxiedSchema#storeUrlGenerousLogins}: the start's first connection, and a login the proxy swallows), the
     * default endpoint's secret in {@code webhook-secret}, its output in {@code out}; sets {@link #processes}. The
     * server's process.
     *
     * @param more lines of the configuration besides those ({@code "runner: {heartbeat-interval: 1s}"})
     */
    Process serveQuickRule(Path out, String... more) throws java.io.IOException {
        return serveQuickRuleOn(out, "url: '" + pg.storeUrlGenerousLogins + "', connect-timeout: 2s", more);
    }

    /**
     * As {@link #serveQuickRule(Path, String...)}, with {@code store} as the {@code store:} mapping's keys (for a
     * test about the logins' bound, which must keep {@code store.connect-timeout}'s).
     */
    Process serveQuickRuleOn(Path out, String store, String... more) throws java.io.IOException {
        java.nio.file.Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-follow-test\n");
        java.nio.file.Files.writeString(dir.resolve("admin-token"), ServeProcesses.FOLLOW_TOKEN + "\n");
        java.nio.file.Files.writeString(dir.resolve("rules.yaml"),
                "rules:\n  - name: quick\n    run: {command: [/bin/true]}\n");
        java.util.List<String> lines = new java.util.ArrayList<>(java.util.List.of(
                "data-dir: data",
                "rules: rules.yaml",
                "store: {" + store + "}",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "admin: {token: {file: admin-token}}",
                "server: {host: 127.0.0.1, port: 0}"));
        lines.addAll(java.util.List.of(more));
        lines.add("");
        Path config = java.nio.file.Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n", lines));
        processes = new ServeProcesses(dir);
        return processes.serve(config, out);
    }

    /**
     * Starts a {@code serve} of node {@code id} of a cluster on this test's schema through {@code url} (the proxy's, or
     * another proxy's of the same database): its folder {@code dir/id}, the rules in {@code dir/rules.yaml}, the
     * default endpoint's secret in {@code dir/webhook-secret}, {@code store.connect-timeout} 2 s, a dead-node limit of
     * 25 s (1 s x 25), its output in {@code dir/id.out}; {@link #processes} must be set. The server's process.
     */
    Process clusterNode(String id, String url) throws java.io.IOException {
        Path home = java.nio.file.Files.createDirectories(dir.resolve(id));
        Path config = java.nio.file.Files.writeString(home.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: " + home.resolve("data"),
                "rules: " + dir.resolve("rules.yaml"),
                "store: {url: '" + url + "', connect-timeout: 2s}",
                "endpoints: {default: {secrets: [{file: " + dir.resolve("webhook-secret") + "}]}}",
                "runner: {node-id: " + id + ", heartbeat-interval: 1s, missed-heartbeats: 25}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        return processes.serve(config, dir.resolve(id + ".out"));
    }

    /** The one value {@code sql} reads from this test's database (the query must give exactly one row). */
    String one(String sql) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.url);
             java.sql.Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery(sql)) {
            java.util.List<String> rows = new java.util.ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
            org.assertj.core.api.Assertions.assertThat(rows).as(sql).hasSize(1);
            return rows.get(0);
        }
    }

    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

    /** {@code GET /healthz} of the server at {@code url} (its answer within a minute, a bound for a hung test only). */
    static java.net.http.HttpResponse<String> healthz(java.net.URI url) throws Exception {
        return HTTP.send(java.net.http.HttpRequest.newBuilder(url.resolve("healthz"))
                .timeout(java.time.Duration.ofSeconds(60)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    /** Whether the sample delivery to the server at {@code url} is answered with a 2xx (accepted, or a duplicate). */
    boolean accepted(java.net.URI url) {
        return ServeProcesses.sendSample(url, dir, new java.io.StringWriter()) == 0;
    }

    /** What keeps a test's store from answering for a while (a stop, a restart), and what ends that. */
    interface StoreOutage {
        void start() throws Exception;

        void end() throws Exception;
    }

    /**
     * Another program's hold of a SQLite database's write lock ({@code BEGIN EXCLUSIVE}, as an sqlite3 shell in a
     * transaction) from {@link #start} to {@link #end}: the server's writes wait meanwhile. Closing it ends a hold
     * still there (a test that failed before its end).
     */
    static final class SqliteLockHeld implements StoreOutage, AutoCloseable {
        private final String jdbcUrl;
        private java.sql.Connection other;

        SqliteLockHeld(String jdbcUrl) {
            this.jdbcUrl = jdbcUrl;
        }

        @Override
        public void start() throws java.sql.SQLException {
            other = java.sql.DriverManager.getConnection(jdbcUrl);
            try (java.sql.Statement st = other.createStatement()) {
                st.execute("PRAGMA busy_timeout = 60000");
                st.execute("BEGIN EXCLUSIVE");
            }
        }

        @Override
        public void end() throws java.sql.SQLException {
            close();
        }

        @Override
        public void close() throws java.sql.SQLException {
            if (other != null) {
                other.close();
                other = null;
            }
        }
    }
}
