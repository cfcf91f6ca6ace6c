package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.buildhook.runner.RunnerException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * final18 F3: a role that may not read or write one of buildhook's tables (a {@code REVOKE}, or a table
 * an upgrade added after the least-privilege {@code GRANT}) started the store, then failed with
 * PostgreSQL's bare "permission denied for table node_leases", and {@code buildhook check} said nothing.
 * Now both say which tables lack which privilege, and the {@code GRANT} to run. The role here is the
 * schema's owner, revoking from itself, as it may (PostgresMissingSchemaTest does the same; CI's role
 * may not create roles).
 */
class PostgresTablePrivilegesTest {

    @TempDir
    Path dir;

    @Test
    void aTableTheRoleMayNotWriteStopsTheStartWithTheGrantToRun() throws Exception {
        String url = TestStores.postgresUrl();
        Store.open(StoreConfig.of(url, dir)).close();
        String schema = schemaOf(url);
        String role = run(url, "REVOKE ALL ON node_leases FROM CURRENT_USER", "REVOKE INSERT ON jobs FROM CURRENT_USER");
        String all = "SELECT, INSERT, UPDATE, DELETE";

        assertThatThrownBy(() -> Store.open(StoreConfig.of(url, dir)).close())
                .isInstanceOf(RunnerException.class)
                .satisfies(e -> assertThat(e.getMessage())
                        .startsWith("the PostgreSQL store cannot use its tables in schema " + schema + ": the role "
                                + role + " lacks INSERT on jobs; " + all + " on node_leases")
                        .contains("GRANT " + all + " ON ALL TABLES IN SCHEMA " + schema + " TO " + role)
                        .contains("ALTER DEFAULT PRIVILEGES IN SCHEMA " + schema + " GRANT " + all + " ON TABLES TO "
                                + role)
                        .contains("docs/storage.md, Least privilege")
                        .doesNotContain("permission denied"));
        assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir))).as("what check says beforehand")
                .hasValueSatisfying(why -> assertThat(why)
                        .contains("cannot use its tables in schema " + schema)
                        .contains("lacks INSERT on jobs; " + all + " on node_leases")
                        .contains("GRANT " + all + " ON ALL TABLES IN SCHEMA " + schema + " TO " + role));

        run(url, "GRANT " + all + " ON ALL TABLES IN SCHEMA " + schema + " TO CURRENT_USER");
        assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir))).isEmpty();
        Store.open(StoreConfig.of(url, dir)).close();
    }

    /** The table every start reads first: PostgreSQL's "permission denied for table schema_version" before. */
    @Test
    void noReadOfTheSchemaVersionIsSaidTheSameWay() throws Exception {
        String url = TestStores.postgresUrl();
        Store.open(StoreConfig.of(url, dir)).close();
        String role = run(url, "REVOKE SELECT ON schema_version FROM CURRENT_USER");
        try {
            assertThatThrownBy(() -> Store.open(StoreConfig.of(url, dir)).close())
                    .isInstanceOf(RunnerException.class)
                    .hasMessageStartingWith("the PostgreSQL store cannot use its tables in schema " + schemaOf(url)
                            + ": the role " + role + " lacks SELECT on schema_version (");
            assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir)))
                    .hasValueSatisfying(why -> assertThat(why).contains("lacks SELECT on schema_version ("));
        } finally {
            run(url, "GRANT SELECT ON schema_version TO CURRENT_USER");
        }
    }

    /** Only the migrations (the owner's start) write schema_version and store_installation: reading is enough. */
    @Test
    void tablesOnlyTheMigrationsWriteNeedOnlyBeRead() throws Exception {
        String url = TestStores.postgresUrl();
        Store.open(StoreConfig.of(url, dir)).close();
        run(url, "REVOKE INSERT, UPDATE, DELETE ON schema_version, store_installation FROM CURRENT_USER");

        assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir))).isEmpty();
        Store.open(StoreConfig.of(url, dir)).close();
    }

    /**
     * A role without USAGE on its schema: PostgreSQL leaves the schema out of its search path, so the start
     * and check said "no schema of its search path … exists" of a schema that exists.
     */
    @Test
    void aSchemaTheRoleMayNotUseIsNotCalledMissing() throws Exception {
        String url = TestStores.postgresUrl();
        Store.open(StoreConfig.of(url, dir)).close();
        String schema = schemaOf(url);
        String role = run(url, "REVOKE USAGE ON SCHEMA " + schema + " FROM CURRENT_USER");
        try {
            assertThatThrownBy(() -> Store.open(StoreConfig.of(url, dir)).close())
                    .isInstanceOf(RunnerException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .startsWith("the PostgreSQL store cannot use schema " + schema + ": the role " + role
                                    + " has no USAGE privilege on it")
                            .contains("GRANT USAGE ON SCHEMA " + schema + " TO " + role)
                            .doesNotContain("exists in this database"));
            assertThat(StoreReachability.whyUnreachable(StoreConfig.of(url, dir)))
                    .hasValueSatisfying(why -> assertThat(why)
                            .contains("cannot use schema " + schema + ": the role " + role + " has no USAGE privilege")
                            .contains("GRANT USAGE ON SCHEMA " + schema + " TO " + role));
        } finally {
            run(url, "GRANT USAGE ON SCHEMA " + schema + " TO CURRENT_USER");
        }
    }

    /**
     * final18's steps with a restricted role of its own: the least-privilege GRANTs of docs/storage.md,
     * then the owner revokes one table. The role and the grant are named.
     */
    @Test
    void aRestrictedRoleMissingATableGrantIsToldWhatToRun() throws Exception {
        String url = TestStores.postgresUrl();
        Store.open(StoreConfig.of(url, dir)).close();
        String schema = schemaOf(url);
        String role = PostgresRoles.create("s3cret-start19");
        try {
            run(url, "GRANT USAGE ON SCHEMA " + schema + " TO " + role,
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + role,
                    "REVOKE ALL ON node_leases FROM " + role);
            String restricted = PostgresRoles.urlAs(url, role, "s3cret-start19");

            assertThatThrownBy(() -> Store.open(StoreConfig.of(restricted, dir)).close())
                    .isInstanceOf(RunnerException.class)
                    .hasMessageStartingWith("the PostgreSQL store cannot use its tables in schema " + schema
                            + ": the role " + role + " lacks SELECT, INSERT, UPDATE, DELETE on node_leases (")
                    .hasMessageContaining("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema
                            + " TO " + role);
            assertThat(StoreReachability.whyUnreachable(StoreConfig.of(restricted, dir)))
                    .hasValueSatisfying(why -> assertThat(why).contains("the role " + role + " lacks SELECT, INSERT,"
                            + " UPDATE, DELETE on node_leases"));

            run(url, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + role);
            assertThat(StoreReachability.whyUnreachable(StoreConfig.of(restricted, dir))).isEmpty();
            Store.open(StoreConfig.of(restricted, dir)).close();
        } finally {
            PostgresRoles.drop(role);
        }
    }

    /**
     * final18 F5: a restricted role on an empty schema was told only to be granted CREATE; least privilege
     * has the owner make the tables, so that comes first, with the owner named.
     */
    @Test
    void aRestrictedRoleOnAnEmptySchemaIsFirstToldToLetTheOwnerStart() throws Exception {
        String url = TestStores.postgresUrl();
        String schema = schemaOf(url);
        String owner = run(url);
        String role = PostgresRoles.create("s3cret-start19");
        try {
            run(url, "GRANT USAGE ON SCHEMA " + schema + " TO " + role);
            String restricted = PostgresRoles.urlAs(url, role, "s3cret-start19");

            assertThatThrownBy(() -> Store.open(StoreConfig.of(restricted, dir)).close())
                    .isInstanceOf(RunnerException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .startsWith("the PostgreSQL store cannot create its tables in schema " + schema
                                    + ": the role " + role + " has no CREATE privilege on it")
                            .containsSubsequence("run that first start once as the schema's owner (" + owner
                                    + ") in store.user", "Least privilege",
                                    "GRANT CREATE ON SCHEMA " + schema + " TO " + role));
            assertThat(StoreReachability.whyUnreachable(StoreConfig.of(restricted, dir)))
                    .hasValueSatisfying(why -> assertThat(why).containsSubsequence("run that first start once as the"
                            + " schema's owner (" + owner + ")", "GRANT CREATE ON SCHEMA " + schema + " TO " + role));
        } finally {
            PostgresRoles.drop(role);
        }
    }

    @Test
    void theTablesAskedAboutAreEveryTableTheMigrationsCreate() {
        assertThat(TablePrivileges.tables()).startsWith("schema_version").contains("deliveries", "jobs", "job_attempts",
                "scheduled_tasks", "node_leases", "store_installation", "store_probe").doesNotHaveDuplicates();
    }

    static String schemaOf(String url) {
        return url.replaceAll(".*currentSchema=([^&]*).*", "$1");
    }

    /** Runs {@code statements} as the URL's role, in its schema; returns the role. */
    static String run(String url, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
            try (ResultSet r = s.executeQuery("SELECT current_user")) {
                r.next();
                return r.getString(1);
            }
        }
    }
}
