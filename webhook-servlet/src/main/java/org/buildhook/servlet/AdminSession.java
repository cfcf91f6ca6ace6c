package org.buildhook.servlet;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.core.Secret;

/**
 * The value of the status page's cookie {@value AdminAuth#COOKIE}, which is not the admin token: a browser sends a
 * cookie to every port of its host name, so Grafana or Jenkins beside buildhook received the bearer token of the whole
 * admin API, and could log it (tryout55 F2). The value is
 * {@code v1.<issued, epoch seconds>.<base64url HMAC-SHA256 keyed with the token of "buildhook admin cookie v1 " +
 * issued>}: only the cookie path accepts it (never a Bearer header), for {@link #LIFETIME} after its issue, which is
 * the sign-in, and no longer: a value is never renewed, so one that leaked (a service on another port of the host name
 * logged it) cannot be kept alive by whoever holds it (review56 F6). Derived from the token alone, it is accepted by
 * every node with the same token (a cluster's, behind one load balancer) and by none once {@code admin.token}
 * changes; nothing is kept on the server.
 */
final class AdminSession {

    /** {@link #LIFETIME} in days. */
    static final int LIFETIME_DAYS = 7;
    /** How long a value is accepted after its issue (the sign-in); fixed, not configured, never extended. */
    static final Duration LIFETIME = Duration.ofDays(LIFETIME_DAYS);
    /** How far ahead of this node's clock an issue may be: another node of the cluster issued it by its own clock. */
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final String LABEL = "buildhook admin cookie v1 ";
    /** 32 bytes in base64url without padding are 43 characters. */
    private static final Pattern VALUE = Pattern.compile("v1\\.(\\d{1,12})\\.([A-Za-z0-9_-]{43})");

    private final Secret token;
    private final Clock clock;

    AdminSession(Secret token, Clock clock) {
        this.token = Objects.requireNonNull(token, "token");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A new value, issued now. */
    String issue() {
        long now = clock.instant().getEpochSecond();
        return "v1." + now + "." + mac(now);
    }

    /**
     * When {@code value} was issued, if it is one of this token's and has not expired; empty for anything else
     * (another token's, a tampered or malformed one, an expired one, the token itself).
     */
    Optional<Instant> issued(String value) {
        Matcher m = VALUE.matcher(value);
        if (!m.matches()) {
            return Optional.empty();
        }
        long seconds = Long.parseLong(m.group(1));
        // The text compared, not the decoded bytes: base64 lets a last character differ in bits it does not use.
        if (!MessageDigest.isEqual(m.group(2).getBytes(StandardCharsets.US_ASCII),
                mac(seconds).getBytes(StandardCharsets.US_ASCII))) {
            return Optional.empty();
        }
        Instant issued = Instant.ofEpochSecond(seconds);
        Instant now = clock.instant();
        if (issued.isAfter(now.plus(CLOCK_SKEW)) || !issued.plus(LIFETIME).isAfter(now)) {
            return Optional.empty();
        }
        return Optional.of(issued);
    }

    /**
     * The value to set instead of an accepted cookie {@code value}: a new one when it is the token itself, as builds
     * before 2026-12-07 set it (deprecated: accepted still, so the upgrade signs nobody out, and replaced at once);
     * none for a value of this class, whatever its age: renewing it would let whoever holds a leaked one keep it
     * valid for ever, by presenting it before each expiry (review56 F6).
     */
    Optional<String> replacement(String value) {
        return !value.isEmpty() && token.equals(Secret.of(value)) ? Optional.of(issue()) : Optional.empty();
    }

    private String mac(long issued) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(
                token.hmacSha256((LABEL + issued).getBytes(StandardCharsets.US_ASCII)));
    }
}
