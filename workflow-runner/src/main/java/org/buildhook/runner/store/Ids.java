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

    /**
     * The id an operator typed, as this class writes it, or null when {@code typed} is none. ULIDs are Crockford
     * base32, which is read without regard to case and with I and L read as 1 and O as 0
     * (https://github.com/ulid/spec, https://www.crockford.com/base32.html): an id copied from a lower-cased log or
     * URL is the same id (tryout42 F15). For the ids of the admin API's paths and filters and of the command line.
     *
     * @param typed the text given, 26 characters for an id; null is none
     * @return the id in capitals with I, L and O read as 1, 1 and 0, or null when {@code typed} is no id
     */
    public static String typed(String typed) {
        if (typed == null || typed.length() != 26) {
            return null;
        }
        char[] out = new char[26];
        for (int i = 0; i < 26; i++) {
            char c = typed.charAt(i);
            c = c >= 'a' && c <= 'z' ? (char) (c - 'a' + 'A') : c; // ASCII only: no dotless i read as an I
            c = c == 'I' || c == 'L' ? '1' : c == 'O' ? '0' : c;
            if (VALID.indexOf(c) < 0) {
                return null;
            }
            out[i] = c;
        }
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
