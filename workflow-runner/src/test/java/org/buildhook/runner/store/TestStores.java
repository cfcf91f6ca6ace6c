package org.buildhook.runner.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/** Fresh, independent store configurations for tests: a SQLite file, or a new PostgreSQL schema. */
public final class TestStores {

    public static final String PG_URL_ENV = "BUILDHOOK_TEST_PG_URL";

    private static final java.util.List<String> SCHEMAS = new java.util.concurrent.CopyOnWriteArrayList<>();

    static {
        // Leave the shared test database as we found it.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            String base = System.getenv(PG_URL_ENV);
            if (base == null || SCHEMAS.isEmpty()) {
                return;
            }
            try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
                for (String schema : SCHEMAS) {
                    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                }
            } catch (SQLException e) {
                System.err.println("could not drop test schemas: " + e.getMessage());
            }
        }, "drop-test-schemas"));
    }

    private TestStores() {
    }

    public static StoreConfig sqlite(Path dir) {
        return StoreConfig.sqlite(dir);
    }

    /**
     * A new empty schema on the test PostgreSQL server. Skips the test when
     * {@value #PG_URL_ENV} is not set, except on CI ({@code CI=true}) where that is a failure.
     */
    public static StoreConfig postgres(Path dir) {
        return StoreConfig.of(postgresUrl(), dir);
    }

    public static String postgresUrl() {
        String base = System.getenv(PG_URL_ENV);
        if (base == null || base.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(PG_URL_ENV + " must be set on CI (see .ci/run)");
            }
            Assumptions.abort(PG_URL_ENV + " not set: PostgreSQL tests skipped");
        }
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
        try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
            SCHEMAS.add(schema);
        } catch (SQLException e) {
            throw new AssertionError("cannot create a schema on " + PG_URL_ENV + ": " + e.getMessage(), e);
        }
        return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }
}
