package org.buildhook.servlet.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.buildhook.runner.rules.Durations;

/**
 * The accepted range of every number, duration and size key of {@code buildhook.yaml}, in one
 * place: the reader checks values against it, docs/configuration.md writes each as
 * {@code Range `min` to `max`.}, and tests hold the two together and start a real server at both
 * ends. A bound here is what the code below it accepts (db-scheduler wants at least 4 missed
 * heartbeats; Jetty needs a few threads of its own besides the request threads).
 */
public final class Ranges {

    /** What a key holds. */
    public enum Kind { INTEGER, DURATION, SIZE }

    /**
     * One key's range, written as the documentation writes it.
     *
     * @param kind what the value is
     * @param min  the least accepted value, as written in the file ({@code 1}, {@code 1ms}, {@code 1KiB})
     * @param max  the greatest
     */
    public record Range(Kind kind, String min, String max) {

        /** The least accepted value: the number, milliseconds or bytes. */
        public long minValue() {
            return value(min);
        }

        /** The greatest accepted value: the number, milliseconds or bytes. */
        public long maxValue() {
            return value(max);
        }

        /**
         * A value written in this key's syntax, as a number, milliseconds or bytes.
         *
         * @throws IllegalArgumentException when it is not written in that syntax
         */
        public long value(String text) {
            switch (kind) {
                case INTEGER: return Long.parseLong(text);
                case DURATION: return Durations.parse(text).toMillis();
                default: return Sizes.parse(text);
            }
        }

        Duration minDuration() {
            return Duration.ofMillis(minValue());
        }

        Duration maxDuration() {
            return Duration.ofMillis(maxValue());
        }
    }

    /** Timings of the runner and the server: long enough for anything sensible, short enough to mean something. */
    private static final String LONGEST_WAIT = "1d";
    /** How long data may be kept or compared: ten years. */
    private static final String LONGEST_KEEP = "3650d";

    /** Every ranged key by its dotted path (as docs/configuration.md writes it), in reference order. */
    public static final Map<String, Range> ALL = build();

    private Ranges() {
    }

    private static Map<String, Range> build() {
        Map<String, Range> out = new LinkedHashMap<>();
        out.put("store.dedup-window", new Range(Kind.DURATION, "1ms", LONGEST_KEEP));
        out.put("store.retention", new Range(Kind.DURATION, "1ms", LONGEST_KEEP));
        out.put("store.pool-size", new Range(Kind.INTEGER, "2", "1000"));
        // HikariCP's least wait; above ten minutes a delivery would wait that long for its 503 (JobServ
        // has no client timeout), and a stop during an outage three times that.
        out.put("store.connect-timeout", new Range(Kind.DURATION, "250ms", "10m"));
        out.put("runner.threads", new Range(Kind.INTEGER, "1", "1000"));
        out.put("runner.log-max-bytes", new Range(Kind.SIZE, "1KiB", "1GiB"));
        out.put("runner.kill-grace", new Range(Kind.DURATION, "0s", LONGEST_WAIT));
        out.put("runner.shutdown-grace", new Range(Kind.DURATION, "0s", LONGEST_WAIT));
        out.put("runner.poll-interval", new Range(Kind.DURATION, "1ms", LONGEST_WAIT));
        out.put("runner.heartbeat-interval", new Range(Kind.DURATION, "1ms", LONGEST_WAIT));
        // db-scheduler's own lower bound.
        out.put("runner.missed-heartbeats", new Range(Kind.INTEGER, "4", "1000"));
        out.put("runner.slot-retry", new Range(Kind.DURATION, "1ms", LONGEST_WAIT));
        out.put("runner.cancel-check", new Range(Kind.DURATION, "1ms", LONGEST_WAIT));
        out.put("runner.deaths-in-a-row", new Range(Kind.INTEGER, "1",
                String.valueOf(org.buildhook.runner.engine.EngineConfig.MOST_DEATHS_IN_A_ROW)));
        out.put("runner.stops-in-a-row", new Range(Kind.INTEGER, "1",
                String.valueOf(org.buildhook.runner.engine.EngineConfig.MOST_DEATHS_IN_A_ROW)));
        out.put("http.max-body", new Range(Kind.SIZE, "1", "1GiB"));
        out.put("http.retry-after", new Range(Kind.DURATION, "0s", LONGEST_WAIT));
        out.put("server.port", new Range(Kind.INTEGER, "0", "65535"));
        out.put("server.idle-timeout", new Range(Kind.DURATION, "1ms", LONGEST_WAIT));
        out.put("server.request-timeout", new Range(Kind.DURATION, "1ms", LONGEST_WAIT));
        out.put("server.stop-timeout", new Range(Kind.DURATION, "1ms", LONGEST_WAIT));
        out.put("server.threads.min", new Range(Kind.INTEGER, "1", "10000"));
        // Jetty takes up to 9 threads for accepting and selecting on a large host before any request.
        out.put("server.threads.max", new Range(Kind.INTEGER, "16", "10000"));
        return java.util.Collections.unmodifiableMap(out);
    }

    /**
     * What an operator upgrading needs to hear about a key whose range was narrowed, so that a value an
     * older build took is not refused without a word; empty for the other keys.
     */
    static String changed(String key) {
        return CHANGED.getOrDefault(key, "");
    }

    private static final Map<String, String> CHANGED = Map.of(
            "server.threads.max", "; this range is new since 2026-11-29 (builds before took fewer): Jetty takes up to 9"
                    + " threads for accepting and selecting before any request, so fewer than 16 could leave none to"
                    + " answer");

    static Range of(String key) {
        Range range = ALL.get(key);
        if (range == null) {
            throw new IllegalArgumentException("no range for " + key);
        }
        return range;
    }
}
