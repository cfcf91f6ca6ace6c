package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;
import org.buildhook.runner.RunnerException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code currentSchema} in {@code store.url} that names no schema of the database (a typo, or a
 * schema not created yet) stops the start with what is missing and what to do, not PostgreSQL's
 * "no schema has been selected to create in / Position: 28".
 */
class PostgresMissingSchemaTest {

    @TempDir
    Path dir;

    @Test
    void aCurrentSchemaThatDoesNotExistIsNamedWithWhatToDo() {
        String existing = TestStores.postgresUrl();
        String missing = "t_missing_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)
                .toLowerCase(Locale.ROOT);
        String url = existing.replaceAll("currentSchema=[^&]*", "currentSchema=" + missing);

        assertThatThrownBy(() -> Store.open(StoreConfig.of(url, dir)).close())
                .isInstanceOf(RunnerException.class)
                .satisfies(e -> assertThat(e.getMessage())
                        .contains("no schema to create its tables in")
                        .contains(missing)
                        .contains("CREATE SCHEMA")
                        .contains("currentSchema in store.url")
                        .doesNotContain("Position:"));
    }

    /**
     * review15: a role without CREATE on its schema (PostgreSQL 15's {@code public} for any role but the
     * database's owner) got PostgreSQL's "permission denied for schema …" when the start must create the
     * tables. Made here, as in the tests below, by the schema's owner revoking it from itself, as it may.
     */
    @Test
    void aRoleThatMayNotCreateInAnEmptySchemaIsToldWhatToGrant() throws Exception {
        String url = TestStores.postgresUrl();
        String schema = schemaOf(url);
        String role = withoutCreate(url);
        try {
            assertThatThrownBy(() -> Store.open(StoreConfig.of(url, dir)).close())
                    .isInstanceOf(RunnerException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .startsWith("the PostgreSQL store cannot create its tables in schema " + schema
                                    + ": the role " + role + " has no CREATE privilege on it")
                            .contains("GRANT CREATE ON SCHEMA " + schema + " TO " + role)
                            .contains("CREATE SCHEMA name AUTHORIZATION " + role)
                            .doesNotContain("permission denied"));
            assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir))).as("what check says beforehand")
                    .hasValueSatisfying(why -> assertThat(why).contains("has no CREATE privilege on it")
                            .contains("GRANT CREATE ON SCHEMA " + schema + " TO " + role));
        } finally {
            grantCreate(url, schema);
        }
        assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir))).isEmpty();
    }

    /**
     * surface16 S4: a role that may read and write the tables of an up-to-date schema, but not create in
     * it (least privilege once the tables are made), could never start: {@code CREATE TABLE IF NOT EXISTS
     * schema_version} asked for the privilege at every start. Now only a start that creates or upgrades
     * the tables needs it, and {@code check} says nothing of it.
     */
    @Test
    void aRoleThatMayOnlyReadAndWriteStartsOnAnUpToDateSchema() throws Exception {
        String url = TestStores.postgresUrl();
        Store.open(StoreConfig.of(url, dir)).close();
        withoutCreate(url);
        try {
            assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir))).isEmpty();
            Store.open(StoreConfig.of(url, dir)).close();
            assertThat(versionOf(url)).isEqualTo(Migrations.latest(Dialect.POSTGRESQL));
        } finally {
            grantCreate(url, schemaOf(url));
        }
    }

    /**
     * The same role on a schema this buildhook must upgrade is told which versions, and what to do, not
     * PostgreSQL's "permission denied for schema"; {@code check} says so beforehand. Made by taking the
     * schema back to version 12 (V13 creates a table).
     */
    @Test
    void aRoleThatMayNotCreateIsToldHowToUpgrade() throws Exception {
        String url = TestStores.postgresUrl();
        String schema = schemaOf(url);
        Store.open(StoreConfig.of(url, dir)).close();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.Statement s = c.createStatement()) {
            s.execute("ALTER TABLE node_leases DROP COLUMN rules_fingerprint, DROP COLUMN rules_loaded_at,"
                    + " DROP COLUMN rules_instance, DROP COLUMN acquired_host_at, DROP COLUMN acquired_host_instance,"
                    + " DROP COLUMN data_dir");
            s.execute("ALTER TABLE job_attempts DROP COLUMN node_died, DROP COLUMN unit_numbers");
            s.execute("ALTER TABLE resource_holds DROP COLUMN unit_numbers");
            s.execute("DROP INDEX job_attempts_given_back_idx");
            s.execute("DROP INDEX deliveries_build_idx");
            s.execute("DROP INDEX jobs_run_idx");
            s.execute("DROP TABLE store_installation");
            s.execute("DELETE FROM schema_version WHERE version >= 13");
        }
        String role = withoutCreate(url);
        int latest = Migrations.latest(Dialect.POSTGRESQL);
        try {
            assertThatThrownBy(() -> Store.open(StoreConfig.of(url, dir)).close())
                    .isInstanceOf(RunnerException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .startsWith("the PostgreSQL store must upgrade its schema from version 12 to " + latest
                                    + " in schema " + schema + ", and the role " + role + " may not change its tables")
                            .contains("start this buildhook once with the role that created them")
                            .contains("GRANT CREATE ON SCHEMA " + schema + " TO " + role));
            assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir))).as("what check says beforehand")
                    .hasValueSatisfying(why -> assertThat(why)
                            .contains("must upgrade its schema from version 12 to " + latest));
        } finally {
            grantCreate(url, schema);
        }
        Store.open(StoreConfig.of(url, dir)).close();
        assertThat(versionOf(url)).as("upgraded once the role may").isEqualTo(latest);
    }

    private static int versionOf(String url) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.Statement s = c.createStatement();
                java.sql.ResultSet r = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
            r.next();
            return r.getInt(1);
        }
    }

    private static String schemaOf(String url) {
        return url.replaceAll(".*currentSchema=([^&]*).*", "$1");
    }

    /** Revokes CREATE on the URL's schema from its role (the schema's owner); returns the role. */
    private static String withoutCreate(String url) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.Statement s = c.createStatement()) {
            s.execute("REVOKE CREATE ON SCHEMA " + schemaOf(url) + " FROM CURRENT_USER");
            try (java.sql.ResultSet r = s.executeQuery("SELECT current_user")) {
                r.next();
                return r.getString(1);
            }
        }
    }

    private static void grantCreate(String url, String schema) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.Statement s = c.createStatement()) {
            s.execute("GRANT CREATE ON SCHEMA " + schema + " TO CURRENT_USER");
        }
    }
}
