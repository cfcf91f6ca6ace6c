package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.Properties;

/**
 * Whether {@code serve} could open a PostgreSQL store now, asked without opening it: one connection,
 * one read, nothing written, no lock taken. {@code buildhook check} says so before a service is
 * started on a configuration whose password, database or {@code currentSchema} is wrong, or whose
 * role may not create in its schema when the start must create or upgrade the tables (the start then
 * fails, and a systemd unit restarts it again and again), or whose role may not use its schema
 * ({@code USAGE}) or read and write one of its tables. A role that may only read and write the tables
 * of an up-to-date schema is fine.
 */
public final class StoreReachability {

    private StoreReachability() {
    }

    /**
     * Why a store with this configuration could not be opened now, in the words the start would use,
     * or empty when it could (and always for SQLite, whose file {@code check} looks at elsewhere).
     * Waits at most {@code store.connect-timeout} (5 s by default) for the connection, the whole attempt
     * ({@link #timeouts}), then at most 5 s more for each read; never throws.
     *
     * @param config the store's configuration, its URL with the user and password
     * @return the reason, naming the URL without its parameters (never the password), and what to check
     */
    public static Optional<String> whyUnreachable(StoreConfig config) {
        if (config.dialect() != Dialect.POSTGRESQL) {
            return Optional.empty();
        }
        try (Connection c = connect(config)) {
            String schema;
            String searchPath;
            boolean mayCreate;
            String role;
            boolean made;
            String owner;
            try (Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT current_schema(), current_setting('search_path'),"
                            + " current_schema() IS NULL OR has_schema_privilege(current_schema(), 'CREATE'), current_user,"
                            + " to_regclass('schema_version') IS NOT NULL, (SELECT pg_get_userbyid(nspowner)"
                            + " FROM pg_namespace WHERE nspname = current_schema())")) {
                if (!r.next()) {
                    return Optional.empty();
                }
                schema = r.getString(1);
                searchPath = r.getString(2);
                mayCreate = r.getBoolean(3);
                role = r.getString(4);
                made = r.getBoolean(5);
                owner = r.getString(6);
            }
            String store = "the PostgreSQL store " + config.describe() + " ";
            if (schema == null) {
                // The tables would have nowhere to go: the start fails with Migrations' 3F000 message, which
                // names a schema the role may not use rather than call it missing.
                String[] unusable = Migrations.schemaWithoutUsage(c, searchPath);
                return Optional.of(store + (unusable != null ? Migrations.noUsageOf(unusable[0], unusable[1], unusable[2])
                        : Migrations.noSchemaToCreateIn(searchPath)));
            }
            if (made) {
                // A table the role may not read or write: the start refuses with the same words.
                java.util.Map<String, java.util.List<String>> missing = TablePrivileges.missing(c);
                if (!missing.isEmpty()) {
                    return Optional.of(store + TablePrivileges.lacking(schema, role, missing));
                }
            }
            if (!mayCreate) {
                int version = made ? version(c) : 0;
                if (version == 0) {
                    // Its first statement would be refused: the start fails with Migrations' 42501 message.
                    return Optional.of(store + Migrations.noRightToCreateIn(schema, role, owner));
                }
                int latest = Migrations.latest(Dialect.POSTGRESQL);
                if (version < latest) {
                    // The upgrade would be refused: the start fails with Migrations' upgrade message.
                    return Optional.of(store + Migrations.noRightToUpgrade(schema, role, version, latest));
                }
            }
            return Optional.empty();
        } catch (SQLException e) {
            if (Store.timedOut(e)) {
                return Optional.of(Store.connectTimedOut(config));
            }
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
            return Optional.of(Store.cannotConnect(config, reason.replaceFirst("\\.$", "") + Store.notPostgres(e), e));
        }
    }

    /** The schema version the store is at (0 for an empty {@code schema_version}). */
    private static int version(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            return r.next() ? r.getInt(1) : 0;
        }
    }

    /**
     * The running nodes of a PostgreSQL store with the rules each has in force ({@link
     * NodeLeases#runningNodesRules}), read without opening the store: one connection, one read, nothing
     * written. For {@code buildhook check}, which compares them with the rules file it checks.
     *
     * @param config    the store's configuration
     * @param deadLimit the dead-node limit: claims renewed longer ago than that are not running nodes
     * @return the nodes, by node id; empty when the store is SQLite (one node), cannot be reached now, or
     *         has no such table or columns yet (no node of schema version 15 has started on it). Never throws.
     */
    public static Optional<java.util.List<NodeLeases.NodeRules>> runningNodesRules(StoreConfig config,
            java.time.Duration deadLimit) {
        if (config.dialect() != Dialect.POSTGRESQL) {
            return Optional.empty();
        }
        try (Connection c = connect(config)) {
            c.setReadOnly(true);
            return Optional.of(NodeLeases.runningNodesRules(c, NodeLeases.databaseNow(c), deadLimit));
        } catch (SQLException e) {
            // Unreachable (whyUnreachable says so) or no node_leases with the V15 columns: nothing to compare.
            return Optional.empty();
        }
    }

    /**
     * The driver's timeouts for one connection of {@code buildhook check} and of the start's first
     * connection ({@link Store}), and, without the read bound, of the pools' logins ({@link PostgresLogins}):
     * <ul>
     * <li>{@code loginTimeout}, which bounds the whole attempt (TCP connect, SSL request, the plain second attempt of
     * {@code sslmode=prefer}, login), is {@code store.connect-timeout} (in seconds, fractions kept);</li>
     * <li>each read, in the login and after it ({@code socketTimeout}), 5 s more than the login's bound: the key's, or a
     * longer {@code loginTimeout} in {@code store.url} (whole seconds, rounded up). A read bound under the URL's login
     * bound cut a first login that bound allowed (a pooler queueing logins), and pgJDBC then tried it again on a new
     * connection (sslmode=prefer, after a read timeout), queued in turn (logins48). With {@code loginTimeout=0} in
     * {@code store.url} (no bound on a login, the operator's choice) none: the login's reads are not cut either
     * ({@link #connect} bounds the reads after it);</li>
     * <li>the wait for the answer to the SSL request ({@code sslResponseTimeout}) and the TCP connect ({@code
     * connectTimeout}): see {@link #SSL_ANSWER}.</li>
     * </ul>
     * A parameter of the same name in {@code store.url} wins over these.
     */
    static Properties timeouts(StoreConfig config) {
        Properties timeouts = new Properties();
        long millis = Math.max(1, config.connectTimeout().toMillis());
        long seconds = Math.max(1, (millis + 999) / 1000);
        timeouts.setProperty("loginTimeout",
                java.math.BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString());
        java.time.Duration bound = Store.loginBound(config);
        long reads = Math.max(seconds, (bound.toMillis() + 999) / 1000) + 5;
        if (!bound.isZero()) {
            timeouts.setProperty("socketTimeout", Long.toString(reads));
        }
        if (bound.isZero() || (retriesWithoutSsl(config, timeouts) && bound.compareTo(SSL_ANSWER.multipliedBy(2)) >= 0)) {
            // The answer waited for as pgJDBC waits by default, and the second attempt's connect given its own time.
            timeouts.setProperty("sslResponseTimeout", Long.toString(SSL_ANSWER.toMillis()));
            timeouts.setProperty("connectTimeout", Long.toString(seconds + SSL_ANSWER.toSeconds()));
        } else {
            timeouts.setProperty("sslResponseTimeout", Long.toString(reads * 1000));
            timeouts.setProperty("connectTimeout", Long.toString(seconds));
        }
        return timeouts;
    }

    /**
     * The bound on the wait for the answer to the driver's SSL request (pgJDBC's {@code sslResponseTimeout}, this by
     * default), 5 s, when a login's bound ({@link Store#loginBound}) is at least twice it and {@code sslmode} is {@code
     * prefer} (the default), or when there is none ({@code loginTimeout=0} in {@code store.url}). A server, or a
     * pooler in front of it, answers that request before any work of the login (PgBouncer at once, PostgreSQL once its
     * backend is forked); with {@code sslmode=prefer} pgJDBC tries the login again without SSL on a new connection when
     * that answer does not come in time, which a connection that stopped answering (a middlebox that lost its flow, a
     * server failed over behind its address) needs. That second attempt's TCP connect gets what is left of {@code
     * connectTimeout} since the first began (1 ms once spent, which a loaded host missed: logins48), so {@code
     * connectTimeout} is then the key, in whole seconds, plus this: the second connect keeps the key's own time.
     *
     * <p>Otherwise (a shorter login bound, the default 5 s; or an {@code sslmode} without that second attempt) the
     * answer is waited for as each other read of the login: past the login's own bound, which ends the login first, so
     * that a second attempt made as that bound ends cannot fail in its place (9e0b8f60); and the TCP connect at most
     * the key, in whole seconds. Before, the answer was waited for that long whatever the bound: a login with a bound of
     * minutes whose connection stopped answering before the SSL answer waited all of it (logins49).
     */
    static final java.time.Duration SSL_ANSWER = java.time.Duration.ofSeconds(5);

    /** Whether pgJDBC tries a login again without SSL when its SSL answer times out: {@code sslmode=prefer}. */
    private static boolean retriesWithoutSsl(StoreConfig config, Properties timeouts) {
        Properties read = org.postgresql.Driver.parseURL(config.url(), timeouts);
        try {
            return read != null && org.postgresql.jdbc.SslMode.of(read) == org.postgresql.jdbc.SslMode.PREFER;
        } catch (SQLException e) {
            return false; // an sslmode the driver refuses: the login fails whatever the bounds
        }
    }

    /**
     * A connection to the PostgreSQL store of {@code config} made with {@link #timeouts} and, when {@code store.url}
     * sets {@code loginTimeout=0} (no bound on the login, none on its reads either) and no {@code socketTimeout}, each
     * read after the login bounded as with the key: 5 s more than it, in whole seconds. For {@code buildhook check} and
     * the other one-connection looks, whose statements are short.
     *
     * @throws SQLException the connection was not made
     */
    static Connection connect(StoreConfig config) throws SQLException {
        Connection c = Store.postgresDriver().connect(config.url(), timeouts(config));
        if (c == null) {
            throw new SQLException("the PostgreSQL driver does not take store.url");
        }
        if (Store.loginBound(config).isZero() && urlParameter(config, "socketTimeout").isEmpty()) {
            long seconds = Math.max(1, (config.connectTimeout().toMillis() + 999) / 1000);
            PostgresLogins.readBound(c, (int) Math.min(Integer.MAX_VALUE, (seconds + 5) * 1000));
        }
        return c;
    }

    /**
     * The driver's parameter {@code name} as {@code store.url} sets it, read as pgJDBC reads the URL
     * ({@code org.postgresql.Driver.parseURL}, without defaults); empty when the URL does not set it (or is not one the
     * driver takes).
     */
    static java.util.Optional<String> urlParameter(StoreConfig config, String name) {
        return urlParameter(config.url(), name);
    }

    /** As {@link #urlParameter(StoreConfig, String)}, of the URL {@code url} (empty for one that is not PostgreSQL's). */
    static java.util.Optional<String> urlParameter(String url, String name) {
        Properties read = url == null ? null : org.postgresql.Driver.parseURL(url, new Properties());
        return java.util.Optional.ofNullable(read == null ? null : read.getProperty(name));
    }
}
