package org.buildhook.runner.store;

import java.security.SecureRandom;
import java.time.Clock;

/**
 * Makes ULID-style ids: 26 characters of Crockford base32, 48 bits of milliseconds then 80 random
 * bits. They sort by creation time (so they make a paging cursor), are safe in URLs and match the
 * log-path component {@code [A-Za-z0-9_-]}.
 */
public final class Ids {

    private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public Ids(Clock clock) {
        this.clock = clock;
    }

    public String next() {
        long time = clock.millis();
        byte[] rnd = new byte[10];
        random.nextBytes(rnd);
        char[] out = new char[26];
        for (int i = 9; i >= 0; i--) {
            out[i] = ALPHABET[(int) (time & 31)];
            time >>>= 5;
        }
        // 80 random bits -> 16 characters of 5 bits.
        long hi = ((rnd[0] & 0xffL) << 32) | ((rnd[1] & 0xffL) << 24) | ((rnd[2] & 0xffL) << 16)
                | ((rnd[3] & 0xffL) << 8) | (rnd[4] & 0xffL);
        long lo = ((rnd[5] & 0xffL) << 32) | ((rnd[6] & 0xffL) << 24) | ((rnd[7] & 0xffL) << 16)
                | ((rnd[8] & 0xffL) << 8) | (rnd[9] & 0xffL);
        for (int i = 17; i >= 10; i--) {
            out[i] = ALPHABET[(int) (hi & 31)];
            hi >>>= 5;
        }
        for (int i = 25; i >= 18; i--) {
            out[i] = ALPHABET[(int) (lo & 31)];
            lo >>>= 5;
        }
        return new String(out);
    }

    /** Whether {@code id} has the shape of an id this class makes (for validating URL input). */
    public static boolean isValid(String id) {
        if (id == null || id.length() != 26) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            if (new String(ALPHABET).indexOf(id.charAt(i)) < 0) {
                return false;
            }
        }
        return true;
    }
}
