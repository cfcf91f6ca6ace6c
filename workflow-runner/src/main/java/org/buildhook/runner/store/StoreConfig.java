package org.buildhook.runner.store;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * How the store is opened.
 *
 * @param url               {@code jdbc:sqlite:/path/buildhook.db} (embedded default) or
 *                          {@code jdbc:postgresql://host:5432/db?user=…&password=…}
 * @param dataDir           where the store writes payload files ({@code <dataDir>/payloads/<delivery>.json})
 * @param dedupWindow       an identical body on the same endpoint within this window is a duplicate (default 7 days)
 * @param retention         deliveries, jobs, attempts and logs older than this are deleted (default 30 days)
 * @param retentionInterval how often the retention sweep runs (default 1 hour), the first time a minute after the
 *                          open (or after this, if shorter); zero disables it
 * @param retentionBatch    rows deleted per transaction by the sweep (default 500)
 * @param poolSize          maximum database connections (default 10)
 * @param connectTimeout    how long a caller waits for a connection of the store's pools before {@link
 *                          StoreUnavailableException} (default 5 s; {@code store.connect-timeout}): also the first
 *                          connection of a start, and the unit of the stop's waits for a store that cannot be reached
 * @param clock             the time source
 */
public record StoreConfig(
        String url,
        Path dataDir,
        Duration dedupWindow,
        Duration retention,
        Duration retentionInterval,
        int retentionBatch,
        int poolSize,
        Duration connectTimeout,
        Clock clock) {

    public static final Duration DEFAULT_DEDUP_WINDOW = Duration.ofDays(7);
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(30);
    public static final Duration DEFAULT_RETENTION_INTERVAL = Duration.ofHours(1);
    public static final int DEFAULT_RETENTION_BATCH = 500;
    public static final int DEFAULT_POOL_SIZE = 10;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

    public StoreConfig {
        Dialect.of(Objects.requireNonNull(url, "url"));
        Objects.requireNonNull(dataDir, "dataDir");
        requirePositive(dedupWindow, "dedupWindow");
        requirePositive(retention, "retention");
        Objects.requireNonNull(retentionInterval, "retentionInterval");
        if (retentionInterval.isNegative()) {
            throw new IllegalArgumentException("retentionInterval must not be negative");
        }
        if (retentionBatch < 1 || poolSize < 2) {
            throw new IllegalArgumentException("retentionBatch must be >= 1 and poolSize >= 2");
        }
        requirePositive(connectTimeout, "connectTimeout");
        Objects.requireNonNull(clock, "clock");
    }

    /** The defaults, with the given URL and data directory. */
    public static StoreConfig of(String url, Path dataDir) {
        return new StoreConfig(url, dataDir, DEFAULT_DEDUP_WINDOW, DEFAULT_RETENTION, DEFAULT_RETENTION_INTERVAL,
                DEFAULT_RETENTION_BATCH, DEFAULT_POOL_SIZE, DEFAULT_CONNECT_TIMEOUT, Clock.systemUTC());
    }

    /** The embedded default: SQLite at {@code <dataDir>/buildhook.db}. */
    public static StoreConfig sqlite(Path dataDir) {
        return of("jdbc:sqlite:" + dataDir.resolve("buildhook.db").toAbsolutePath(), dataDir);
    }

    public Dialect dialect() {
        return Dialect.of(url);
    }

    /**
     * The URL without its query string and without a {@code user:password@} before the host, where
     * a password may be: safe to log. Where the URL leaves it open whether an '@' ends a password
     * that holds a '/' ({@code //user:pa/ss@host}, no database) or stands in a database's name
     * ({@code //db/team@ci}), it is taken for a password's end: such a database is described as
     * {@code //(credentials hidden)@ci}, but no password is shown (review11 F7).
     */
    public String describe() {
        int at = credentialsEnd(url);
        if (at < 0) {
            at = atInDatabaseName(url);
        }
        String shown = at < 0 ? url : url.substring(0, url.indexOf("//") + 2) + "(credentials hidden)" + url.substring(at);
        int query = shown.indexOf('?', at < 0 ? 0 : shown.indexOf('@'));
        return query < 0 ? shown : shown.substring(0, query) + "?(parameters hidden)";
    }

    /**
     * The last '@' after {@code //} and before the first {@code =} (the first parameter's value,
     * where an '@' is a user name's, as in {@code ?user=admin@server}); -1 without one.
     */
    static int atInDatabaseName(String url) {
        int start = url.indexOf("//");
        if (start < 0) {
            return -1;
        }
        int equals = url.indexOf('=', start + 2);
        int at = url.lastIndexOf('@', (equals < 0 ? url.length() : equals) - 1);
        return at >= start + 2 ? at : -1;
    }

    /** A host (and port, or several), then the database's '/': what follows the '@' that ends credentials. */
    private static final java.util.regex.Pattern HOST_THEN_DATABASE = java.util.regex.Pattern.compile(
            "[A-Za-z0-9._~%\\-\\[\\]:,]+/");

    /**
     * The index of the '@' that ends a {@code //user:password@} part of {@code url}, or -1 when it has
     * none. A password may hold any character, '/', '?', '=' and '@' included (a generated one often
     * holds '/'), so an '@' followed by a host (and port) and the database's '/' ends one wherever it
     * stands; and unless the URL starts with a host and '/' (then an '@' further on is the database's
     * or a parameter's), so does the last '@' before the query's first {@code name=}. An '@' in a
     * parameter's value ({@code ?user=admin@server}, as Azure writes it) does not.
     */
    public static int credentialsEnd(String url) {
        int start = url.indexOf("//");
        if (start < 0) {
            return -1;
        }
        int from = start + 2;
        java.util.regex.Matcher host = HOST_THEN_DATABASE.matcher(url);
        int end = -1;
        if (!host.region(from, url.length()).lookingAt()) {
            int query = url.indexOf('?', from);
            int equals = url.indexOf('=', from);
            int limit = Math.max(query < 0 ? url.length() : query, equals < 0 ? url.length() : equals);
            end = url.lastIndexOf('@', limit - 1);
        }
        for (int at = url.indexOf('@', from); at >= 0; at = url.indexOf('@', at + 1)) {
            if (at > end && host.region(at + 1, url.length()).lookingAt()) {
                end = at;
            }
        }
        return end >= from ? end : -1;
    }

    @Override
    public String toString() {
        return "StoreConfig[" + describe() + ", dataDir=" + dataDir + "]";
    }

    public StoreConfig withDedupWindow(Duration value) {
        return new StoreConfig(url, dataDir, value, retention, retentionInterval, retentionBatch, poolSize,
                connectTimeout, clock);
    }

    public StoreConfig withRetention(Duration value, Duration interval) {
        return new StoreConfig(url, dataDir, dedupWindow, value, interval, retentionBatch, poolSize,
                connectTimeout, clock);
    }

    public StoreConfig withPoolSize(int value) {
        return new StoreConfig(url, dataDir, dedupWindow, retention, retentionInterval, retentionBatch, value,
                connectTimeout, clock);
    }

    /**
     * This configuration with another connection wait ({@code store.connect-timeout}).
     *
     * @param value how long a caller waits for a connection; positive (the pools wait at least 250 ms,
     *              HikariCP's least)
     * @throws IllegalArgumentException when {@code value} is zero or negative
     */
    public StoreConfig withConnectTimeout(Duration value) {
        return new StoreConfig(url, dataDir, dedupWindow, retention, retentionInterval, retentionBatch, poolSize,
                value, clock);
    }

    public StoreConfig withClock(Clock value) {
        return new StoreConfig(url, dataDir, dedupWindow, retention, retentionInterval, retentionBatch, poolSize,
                connectTimeout, value);
    }

    private static void requirePositive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}
