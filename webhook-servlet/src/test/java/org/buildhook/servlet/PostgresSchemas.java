package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * New schemas on the test PostgreSQL ({@code BUILDHOOK_TEST_PG_URL}), one a call, dropped together by
 * {@link #dropAll()} (a test class's {@code @AfterAll}). Without the variable the test is skipped, except
 * on CI ({@code CI=true}), where it fails.
 */
final class PostgresSchemas {

    private final List<String> schemas = new ArrayList<>();

    /** The store URL of a new, empty schema. */
    synchronized String newSchemaUrl() throws Exception {
        String base = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (base == null || base.isBlank()) {
            assertThat(System.getenv("CI")).as("BUILDHOOK_TEST_PG_URL must be set on CI").isNotEqualToIgnoringCase("true");
            Assumptions.abort("BUILDHOOK_TEST_PG_URL not set: PostgreSQL tests skipped");
        }
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
            schemas.add(schema);
        }
        return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    /** Drops every schema made so far. */
    synchronized void dropAll() throws Exception {
        for (String schema : schemas) {
            try (Connection c = DriverManager.getConnection(System.getenv("BUILDHOOK_TEST_PG_URL"));
                    Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
        schemas.clear();
    }
}
