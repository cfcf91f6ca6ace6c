package org.buildhook.runner.store;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;

/**
 * Makes ULID-style ids: 26 characters of Crockford base32, 48 bits of milliseconds then 80 random
 * bits. They sort by creation time (so they make a paging cursor), are safe in URLs and match the
 * log-path component {@code [A-Za-z0-9_-]}.
 */
public final class Ids {

    private static final String VALID = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private static final char[] ALPHABET = VALID.toCharArray();

    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private static final long MASK_40 = (1L << 40) - 1;
    private long lastTime = -1;
    private long hi;
    private long lo;

    public Ids(Clock clock) {
        this.clock = clock;
    }

    /**
     * The next id. Ids made by one instance strictly increase, even within one millisecond (the
     * random part is then incremented, as in ULID's monotonic mode), so the jobs of one delivery
     * list in the order they were planned.
     */
    public synchronized String next() {
        long time = clock.millis();
        if (time <= lastTime) {
            time = lastTime;
            lo = (lo + 1) & MASK_40;
            if (lo == 0) {
                hi = (hi + 1) & MASK_40;
            }
        } else {
            lastTime = time;
            byte[] rnd = new byte[10];
            random.nextBytes(rnd);
            hi = bits40(rnd, 0);
            lo = bits40(rnd, 5);
        }
        char[] out = new char[26];
        encode(out, 0, 10, time);
        encode(out, 10, 8, hi);
        encode(out, 18, 8, lo);
        return new String(out);
    }

    private static long bits40(byte[] b, int from) {
        long v = 0;
        for (int i = from; i < from + 5; i++) {
            v = (v << 8) | (b[i] & 0xffL);
        }
        return v;
    }

    private static void encode(char[] out, int at, int chars, long value) {
        for (int i = at + chars - 1; i >= at; i--) {
            out[i] = ALPHABET[(int) (value & 31)];
            value >>>= 5;
        }
    }

    /**
     * The smallest id that {@link #next()} can make at {@code at} (millisecond precision): every id
     * made at or after that moment sorts at or after it, so {@code id >= lowestAt(t)} selects by time
     * on the primary key.
     */
    public static String lowestAt(Instant at) {
        char[] out = new char[26];
        encode(out, 0, 10, Math.max(0, at.toEpochMilli()));
        Arrays.fill(out, 10, 26, ALPHABET[0]);
        return new String(out);
    }

    /** Whether {@code id} has the shape of an id this class makes (for validating URL input). */
    public static boolean isValid(String id) {
        if (id == null || id.length() != 26) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            if (VALID.indexOf(id.charAt(i)) < 0) {
                return false;
            }
        }
        return true;
    }
}
