package org.buildhook.core;

import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 instances. {@link Mac} is not thread-safe and keying one costs as much as hashing a
 * small body, so verifiers key one prototype per secret and clone it per request: a clone copies
 * the keyed state (a few hundred bytes) and works the same on platform and virtual threads, without
 * the class-loader leaks a ThreadLocal would cause in a servlet container.
 */
final class Hmac {

    static final String ALGORITHM = "HmacSHA256";
    static final int LENGTH = 32;

    private Hmac() {
    }

    static Mac keyedWith(Secret secret) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(secret.key(), ALGORITHM));
            return mac;
        } catch (GeneralSecurityException e) {
            // Every Java SE runtime must provide HmacSHA256; reaching this means a broken JRE.
            throw new IllegalStateException("this Java runtime cannot compute " + ALGORITHM, e);
        }
    }

    /** A fresh keyed copy of {@code prototype}, which must not be used for hashing itself. */
    static Mac copyOf(Mac prototype, Secret secret) {
        try {
            return (Mac) prototype.clone();
        } catch (CloneNotSupportedException e) {
            // Some security providers (e.g. FIPS ones) do not clone; slower, but still correct.
            return keyedWith(secret);
        }
    }
}
