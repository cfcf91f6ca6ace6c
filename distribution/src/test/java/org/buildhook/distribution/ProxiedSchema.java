package org.buildhook.distribution;


import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.buildhook.distribution.reliability.TcpProxy;

/**
 * A schema of its own on {@code BUILDHOOK_TEST_PG_URL}'s PostgreSQL, for a server that reaches it
 * through a {@link TcpProxy} the test can cut: outages without touching the shared PostgreSQL server.
 * Without the URL a test using it fails on CI ({@code CI=true}) and is skipped elsewhere.
 */
final class ProxiedSchema implements AutoCloseable {

    /** The JDBC URL straight to PostgreSQL (for the test's own looks), without the schema. */
    final String url;
    /** The schema's name: {@code prefix} and 12 random hex digits. */
    final String schema;
    /** The proxy the server's store URL goes through, open. */
    final TcpProxy proxy;
    /**
     * The JDBC URL for the server's {@code store.url}: through the proxy, the schema current. Each login is bounded
     * by {@code store.connect-timeout} (5 s by default), the start's first one too: for a test about that bound (a
     * proxy that freezes or swallows logins); otherwise use {@link #storeUrlGenerousLogins}.
     */
    final String storeUrl;
    /**
     * {@link #storeUrl} with each login bounded by {@link TestSchema#GENEROUS_LOGIN_SECONDS} ({@code loginTimeout},
     * which wins over {@code store.connect-timeout}'s) instead: for a test that only cuts and opens the proxy, whose
     * server's start must not fail because its cold JVM's first login took longer than the key's bound (flake26).
     */
    final String storeUrlGenerousLogins;

    private ProxiedSchema(String url, String schema, TcpProxy proxy, String storeUrl) {
        this.url = url;
        this.schema = schema;
        this.proxy = proxy;
        this.storeUrl = storeUrl;
        this.storeUrlGenerousLogins = storeUrl + "&loginTimeout=" + TestSchema.GENEROUS_LOGIN_SECONDS;
    }

    /** Creates the schema and opens the proxy; {@code prefix} names the test in the schema's name. */
    static ProxiedSchema create(String prefix) throws Exception {
        TestSchema created = TestSchema.create(prefix);
        String url = created.url;
        String schema = created.schema;
        URI target = URI.create(url.substring("jdbc:".length()));
        String query = target.getRawQuery() == null ? "" : target.getRawQuery() + "&";
        TcpProxy proxy = new TcpProxy(target.getHost(), target.getPort() < 0 ? 5432 : target.getPort());
        int port = proxy.open();
        return new ProxiedSchema(url, schema, proxy, "jdbc:postgresql://127.0.0.1:" + port + target.getRawPath() + "?"
                + query + "currentSchema=" + schema);
    }

    /** Closes the proxy and drops the schema; call it after the server using it has stopped. */
    @Override
    public void close() throws Exception {
        proxy.close();
        try (Connection admin = DriverManager.getConnection(url); Statement sql = admin.createStatement()) {
            sql.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }
}
