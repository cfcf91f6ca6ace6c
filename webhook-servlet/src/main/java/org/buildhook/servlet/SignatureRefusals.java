package org.buildhook.servlet;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The deliveries this node refused for their signature, for the status page: how many in the last
 * 24 hours (counted per minute, so the window slides) and the last one's time, endpoint and reason.
 * The reason is the verifier's fixed description ("no configured secret matches …"), never a
 * header value or a secret. Refused bodies are not stored, so the counts are this node's since it
 * started. Thread-safe.
 */
final class SignatureRefusals {

    /** The last refusal: when, on which endpoint, from where, and why. */
    record Last(Instant at, String endpoint, String remote, String reason) {
    }

    private static final int MINUTES = 24 * 60;

    private final Clock clock;
    private final long[] minuteOf = new long[MINUTES];
    private final long[] countOf = new long[MINUTES];
    private long total;
    private Last last;

    SignatureRefusals(Clock clock) {
        this.clock = clock;
    }

    /** Counts one refusal now. */
    synchronized void record(String endpoint, String remote, String reason) {
        Instant now = clock.instant();
        long minute = now.getEpochSecond() / 60;
        int slot = (int) Math.floorMod(minute, (long) MINUTES);
        if (minuteOf[slot] != minute) {
            minuteOf[slot] = minute;
            countOf[slot] = 0;
        }
        countOf[slot]++;
        total++;
        last = new Last(now, endpoint, remote, reason);
    }

    /** Refusals in the last 24 hours (to the minute). */
    synchronized long lastDay() {
        long now = clock.instant().getEpochSecond() / 60;
        long sum = 0;
        for (int i = 0; i < MINUTES; i++) {
            if (now - minuteOf[i] < MINUTES) {
                sum += countOf[i];
            }
        }
        return sum;
    }

    /** Refusals since this node started. */
    synchronized long total() {
        return total;
    }

    /** The last refusal, if it was within the last 24 hours. */
    synchronized Optional<Last> last() {
        if (last == null || Duration.between(last.at(), clock.instant()).toMinutes() >= MINUTES) {
            return Optional.empty();
        }
        return Optional.of(last);
    }
}
