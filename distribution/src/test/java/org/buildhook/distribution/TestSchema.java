package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.fail;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * A schema of its own on {@code BUILDHOOK_TEST_PG_URL}'s PostgreSQL, dropped on {@link #close()}.
 * Without the URL a test using it fails on CI ({@code CI=true}) and is skipped elsewhere.
 */
final class TestSchema implements AutoCloseable {

    /**
     * The driver's bound on each login ({@code loginTimeout}, seconds) in {@link #storeUrl} and {@link
     * ProxiedSchema#storeUrlGenerousLogins}, where it wins over {@code store.connect-timeout}'s. A server's start
     * bounds its first connection, its JVM's first (class loading, SCRAM's 4096 PBKDF2 rounds still interpreted):
     * 3 to 12 s on CI's two cores under load (flake26), against the key's default of 5 s. 60 s is five times the
     * slowest seen; no test using it is about the login's bound.
     */
    static final int GENEROUS_LOGIN_SECONDS = 60;

    /** The JDBC URL straight to PostgreSQL, without the schema. */
    final String url;
    /** The schema's name: the prefix and 12 random hex digits. */
    final String schema;
    /**
     * The JDBC URL with the schema current and each login bounded by {@link #GENEROUS_LOGIN_SECONDS}, for a
     * server's {@code store.url}: straight to PostgreSQL, whose logins do not hang, so only a cold start's slow
     * first login meets that bound.
     */
    final String storeUrl;

    private TestSchema(String url, String schema) {
        this.url = url;
        this.schema = schema;
        this.storeUrl = url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema + "&loginTimeout="
                + GENEROUS_LOGIN_SECONDS;
    }

    /** Creates the schema; {@code prefix} names the test in the schema's name. */
    static TestSchema create(String prefix) throws Exception {
        String url = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (url == null || url.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("BUILDHOOK_TEST_PG_URL is not set on CI");
            }
            Assumptions.abort("BUILDHOOK_TEST_PG_URL is not set");
        }
        String schema = prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
        try (Connection admin = DriverManager.getConnection(url); Statement sql = admin.createStatement()) {
            sql.execute("CREATE SCHEMA " + schema);
        }
        return new TestSchema(url, schema);
    }

    /** Drops the schema; call it after the servers using it have stopped. */
    @Override
    public void close() throws Exception {
        try (Connection admin = DriverManager.getConnection(url); Statement sql = admin.createStatement()) {
            sql.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }
}
