package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** How the status page writes times and durations: UTC times in {@code <time>}, durations as {@code 2s}, {@code 1m 5s}. */
final class StatusFormat {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private StatusFormat() {
    }

    /** The instant as a {@code <time>} element, or the empty string for null. */
    static String time(Instant at) {
        return at == null ? "" : "<time datetime=\"" + escape(at) + "\">" + escape(TIME.format(at)) + "</time>";
    }

    /** A duration the way people write it: {@code 350ms}, {@code 2s}, {@code 1m 5s}, {@code 2h 3m}; empty for null. */
    static String duration(Duration d) {
        if (d == null) {
            return "";
        }
        long ms = Math.max(0, d.toMillis());
        if (ms < 1000) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s < 60) {
            return ms < 10_000 && ms % 1000 != 0 ? String.format(java.util.Locale.ROOT, "%.1fs", ms / 1000.0) : s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m" + (s % 60 == 0 ? "" : " " + s % 60 + "s");
        }
        return s / 3600 + "h" + (s % 3600 / 60 == 0 ? "" : " " + s % 3600 / 60 + "m");
    }

    /** A share 0..1 as a whole percentage. */
    static String percent(double share) {
        return Math.round(share * 100) + "%";
    }
}
