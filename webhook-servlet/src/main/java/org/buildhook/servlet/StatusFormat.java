package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** How the status page writes times and durations: UTC times in {@code <time>}, durations as {@code 2s}, {@code 1m5s}. */
final class StatusFormat {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    /** As {@link #TIME}, the time of day joined to its {@code UTC} by a no-break space. */
    private static final DateTimeFormatter TIME_WRAPPING = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'\u00a0UTC'")
            .withZone(ZoneOffset.UTC);

    private StatusFormat() {
    }

    /** The instant as a {@code <time>} element, or the empty string for null. */
    static String time(Instant at) {
        return at == null ? "" : "<time datetime=\"" + escape(at) + "\">" + escape(TIME.format(at)) + "</time>";
    }

    /**
     * As {@link #time}, for a narrow column whose style lets it wrap (the list's Received, page29): it can only
     * wrap after the date, so the time of day stays whole with its {@code UTC}.
     */
    static String timeWrapping(Instant at) {
        return at == null ? "" : "<time datetime=\"" + escape(at) + "\">" + escape(TIME_WRAPPING.format(at)) + "</time>";
    }

    /**
     * A duration as every surface writes it ({@link org.buildhook.runner.rules.Durations#describe}: {@code
     * 350ms}, {@code 2.5s}, {@code 1m5s}, {@code 2h3m}); a negative one as 0, empty for null.
     */
    static String duration(Duration d) {
        return d == null ? "" : org.buildhook.runner.rules.Durations.describe(d.isNegative() ? Duration.ZERO : d);
    }

    /** A share 0..1 as a whole percentage. */
    static String percent(double share) {
        return Math.round(share * 100) + "%";
    }
}
