package org.buildhook.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * A shared secret JobServ signs with. The bytes are copied in and never leave this class except to
 * key an HMAC; {@link #toString()} does not show them, so a secret can sit in logged configuration
 * objects safely.
 */
public final class Secret {

    private final byte[] key;

    private Secret(byte[] key) {
        if (key.length == 0) {
            throw new IllegalArgumentException("a signing secret must not be empty");
        }
        this.key = key.clone();
    }

    /** A secret from raw bytes (copied). */
    public static Secret of(byte[] key) {
        return new Secret(Objects.requireNonNull(key, "key"));
    }

    /** A secret from text, encoded as UTF-8 — what JobServ does with the secret you give it. */
    public static Secret of(String key) {
        return new Secret(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8));
    }

    /** The key bytes; only for keying a MAC inside this package. */
    byte[] key() {
        return key;
    }

    /**
     * The HMAC-SHA256 of {@code message} keyed with this secret's bytes: a value that proves knowing the secret without
     * holding it (the status page's sign-in cookie is one).
     */
    public byte[] hmacSha256(byte[] message) {
        return Hmac.keyedWith(this).doFinal(Objects.requireNonNull(message, "message"));
    }

    /** Two secrets are equal when their bytes are; compared in constant time. */
    @Override
    public boolean equals(Object other) {
        return other instanceof Secret && MessageDigest.isEqual(key, ((Secret) other).key);
    }

    @Override
    public int hashCode() {
        // Deliberately weak: a hash of the bytes would leak information about the secret.
        return key.length;
    }

    @Override
    public String toString() {
        return "Secret[hidden]";
    }
}
