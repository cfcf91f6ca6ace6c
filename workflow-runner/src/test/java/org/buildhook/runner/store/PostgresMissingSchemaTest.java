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
     * database's owner) got PostgreSQL's "permission denied for schema …"; every start needs the
     * privilege, also on a schema whose tables are all there ({@code CREATE TABLE IF NOT EXISTS} asks for
     * it). Made here by the schema's owner revoking it from itself, as it may.
     */
    @Test
    void aRoleThatMayNotCreateInItsSchemaIsToldWhatToGrantAlsoWhenTheTablesAreThere() throws Exception {
        String url = TestStores.postgresUrl();
        String schema = url.replaceAll(".*currentSchema=([^&]*).*", "$1");
        Store.open(StoreConfig.of(url, dir)).close();
        String role;
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.Statement s = c.createStatement()) {
            s.execute("REVOKE CREATE ON SCHEMA " + schema + " FROM CURRENT_USER");
            try (java.sql.ResultSet r = s.executeQuery("SELECT current_user")) {
                r.next();
                role = r.getString(1);
            }
        }
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
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                    java.sql.Statement s = c.createStatement()) {
                s.execute("GRANT CREATE ON SCHEMA " + schema + " TO CURRENT_USER");
            }
        }
        assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir))).isEmpty();
    }
}
