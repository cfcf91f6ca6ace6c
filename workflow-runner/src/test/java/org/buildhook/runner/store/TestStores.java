package org.buildhook.runner.store;

import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    /**
     * Parameters to append to a PostgreSQL {@code store.url} that bound each login (the start's first connection and
     * each pooled one) by 60 s instead of {@code store.connect-timeout}: the URL's {@code loginTimeout} and
     * {@code connectTimeout} (seconds) win over the key's (Store#firstConnection). A new JVM's first login took 3-12 s
     * on a loaded machine (flake26), beyond a test's short connection wait meant for something else.
     */
    public static final String GENEROUS_LOGINS = "&loginTimeout=60&connectTimeout=60";

    private TestStores() {
    }

    /**
     * Waits until {@code store}'s health check says {@link StoreHealth#OK}. The check's own pool ({@code
     * buildhook-health}) waits at most 1 s ({@code Database.HEALTH_WAIT}) for a connection; it is made at the open
     * with its connection when the open's first login was made (pglogin28), else on the check's first use, so a
     * first check whose login takes longer says {@link StoreHealth#UNREACHABLE} though the store works (pglogin27).
     * For a test about something other than that first check; 5 min is a bound for a hung test only.
     */
    public static void awaitHealthy(Store store) {
        await().atMost(Duration.ofMinutes(5)).until(() -> store.health() == StoreHealth.OK);
    }

    /**
     * The store of {@code config} once its pool holds {@code connections} connections: the open and each new pooled
     * connection must come within {@code config}'s connection wait ({@code store.connect-timeout}), which a loaded
     * machine can miss (a login taking longer), so both are tried again until they do, for at most 5 min each (a bound
     * for a hung test only); the test's callers then find the connections made. For a test whose short connection
     * wait is about an exhausted pool, not about logins: give its URL {@link #GENEROUS_LOGINS} too. That covers a login
     * slow now and then (a cold JVM's first, a loaded machine's), not every login slower than the wait: each open's
     * new pools wait only {@code store.connect-timeout} for their first connection (the migrations' connection), so
     * such an open never succeeds, and this fails after 5 min naming the last refusal (pglogin27).
     *
     * @param connections how many connections the store's pool ({@link Store#dataSource()}) must have made, at most
     *     its size
     * @throws AssertionError if the store did not open within 5 min, with its last refusal
     * @throws org.awaitility.core.ConditionTimeoutException if its pool did not make them within 5 min
     */
    public static Store openWithConnections(StoreConfig config, int connections) {
        Store[] opened = new Store[1];
        StoreUnavailableException[] refused = new StoreUnavailableException[1];
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> {
                try {
                    return (opened[0] = Store.open(config)) != null;
                } catch (StoreUnavailableException e) {
                    refused[0] = e;
                    return false;
                }
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // Each open makes new pools whose first connection is waited for store.connect-timeout only, whatever the
            // URL's loginTimeout: with every login slower than that (a proxy delaying each by 1 s against 500 ms), no
            // open can succeed (pglogin27). Said, rather than a bare timeout.
            throw new AssertionError("the store did not open within 5 min; its last refusal: " + refused[0], e);
        }
        try {
            await().atMost(Duration.ofMinutes(5)).ignoreExceptionsInstanceOf(SQLException.class).until(() -> {
                List<Connection> held = new ArrayList<>();
                try {
                    for (int i = 0; i < connections; i++) {
                        held.add(opened[0].dataSource().getConnection());
                    }
                    return true;
                } finally {
                    for (Connection c : held) {
                        c.close();
                    }
                }
            });
            return opened[0];
        } catch (RuntimeException | Error e) {
            opened[0].close();
            throw e;
        }
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

    /**
     * The PostgreSQL backends holding {@code nodeId}'s advisory lock in the schema of {@code url} (key: a hash of the
     * schema and the id, as {@link NodeLeases.Lock}'s).
     */
    public static List<Integer> nodeIdLockHolders(String url, String nodeId) throws SQLException {
        List<Integer> pids = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url);
                java.sql.PreparedStatement p = c.prepareStatement("SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                        + " AND granted AND objsubid = 2 AND objid = hashtext(current_schema() || '/' || ?)::oid")) {
            p.setString(1, nodeId);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
        }
        return pids;
    }
}
