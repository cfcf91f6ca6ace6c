package org.buildhook.servlet.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code http:} section: how the receiving servlet treats requests.
 *
 * @param maxBodyBytes   a body larger than this is answered 413 without being read (default 5 MiB)
 * @param retryAfter     the {@code Retry-After} sent with a 503 when the store is unreachable (default 5 s)
 * @param trustedProxies peers whose {@code X-Forwarded-For} is believed (default none)
 */
public record HttpSettings(long maxBodyBytes, Duration retryAfter, List<Cidr> trustedProxies) {

    public static final long DEFAULT_MAX_BODY = 5L * 1024 * 1024;
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(5);

    public HttpSettings {
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be >= 1, got " + maxBodyBytes);
        }
        Objects.requireNonNull(retryAfter, "retryAfter");
        if (retryAfter.isNegative()) {
            throw new IllegalArgumentException("retryAfter must not be negative, got " + retryAfter);
        }
        trustedProxies = List.copyOf(trustedProxies);
    }

    public static HttpSettings defaults() {
        return new HttpSettings(DEFAULT_MAX_BODY, DEFAULT_RETRY_AFTER, List.of());
    }

    /** Whether {@code peer} is one of the trusted proxies. */
    public boolean trusts(java.net.InetAddress peer) {
        return trustedProxies.stream().anyMatch(c -> c.contains(peer));
    }
}
