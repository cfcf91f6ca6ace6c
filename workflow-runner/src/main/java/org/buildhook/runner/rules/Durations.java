package org.buildhook.runner.rules;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the durations operators write: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}, {@code 1h30m},
 * {@code 7d}. Shared by the rules file, the configuration file and the command line.
 */
public final class Durations {

    private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:ms|s|m|h|d))+");
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    private Durations() {
    }

    /** @throws IllegalArgumentException with a message fit for the operator */
    public static Duration parse(String text) {
        String trimmed = text.trim();
        if (!WHOLE.matcher(trimmed).matches()) {
            throw new IllegalArgumentException("bad duration '" + text
                    + "': write a number and a unit (ms, s, m, h, d), for example 30s, 10m or 1h30m");
        }
        Duration total = Duration.ZERO;
        Matcher part = PART.matcher(trimmed);
        try {
            while (part.find()) {
                long amount = Long.parseLong(part.group(1));
                total = total.plus(unit(part.group(2)).multipliedBy(amount));
            }
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("bad duration '" + text + "': too long", e);
        }
        return total;
    }

    /**
     * {@code d} for people reading a log, the status page or the command line — the one formatter of
     * durations shown to an operator, so that the same duration reads the same everywhere: {@code
     * 850ms} under a second, tenths under ten seconds ({@code 2s}, {@code 2.5s}), whole seconds above
     * ({@code 42s}, {@code 1m30s}, {@code 2h5m}, {@code 2h5m30s}; tenths truncated); never ISO-8601's
     * {@code PT2S}, and never a space, so that a whole value reads as the rules file and the
     * configuration write it ({@code timeout: 1m30s}).
     *
     * @param d any duration; a negative one is written with a leading {@code -}
     */
    public static String describe(Duration d) {
        if (d.isNegative()) {
            return "-" + describe(d.negated());
        }
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + "ms";
        }
        if (ms < 10_000) {
            return ms % 1000 < 100 ? ms / 1000 + "s" : ms / 1000 + "." + ms % 1000 / 100 + "s";
        }
        long s = d.getSeconds();
        return (s >= 3600 ? s / 3600 + "h" : "") + (s % 3600 >= 60 ? s % 3600 / 60 + "m" : "")
                + (s % 60 != 0 ? s % 60 + "s" : "");
    }

    /** The shortest way to write {@code d} back in this syntax, for snapshots and dry runs. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    private static Duration unit(String unit) {
        switch (unit) {
            case "ms": return Duration.ofMillis(1);
            case "s": return Duration.ofSeconds(1);
            case "m": return Duration.ofMinutes(1);
            case "h": return Duration.ofHours(1);
            default: return Duration.ofDays(1);
        }
    }
}
