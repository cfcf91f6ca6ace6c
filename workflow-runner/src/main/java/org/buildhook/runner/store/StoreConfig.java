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
 * @param retentionInterval how often the retention sweep runs (default 1 hour); zero disables it
 * @param retentionBatch    rows deleted per transaction by the sweep (default 500)
 * @param poolSize          maximum database connections (default 10)
 * @param connectTimeout    how long to wait for a connection before {@link StoreUnavailableException} (default 5 s)
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
     * a password may be: safe to log.
     */
    public String describe() {
        int query = url.indexOf('?');
        String shown = query < 0 ? url : url.substring(0, query) + "?(parameters hidden)";
        int start = shown.indexOf("//");
        if (start < 0) {
            return shown;
        }
        int slash = shown.indexOf('/', start + 2);
        int at = shown.lastIndexOf('@', (slash < 0 ? shown.length() : slash) - 1);
        return at > start + 1 ? shown.substring(0, start + 2) + "(credentials hidden)" + shown.substring(at) : shown;
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
