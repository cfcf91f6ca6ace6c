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
