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
     * {@code d} for people reading a log or a table: {@code 850ms}, {@code 2s}, {@code 2.5s},
     * {@code 1m30s}, {@code 2h5m}; never ISO-8601's {@code PT2S}. Every duration shown to an operator
     * goes through here.
     */
    public static String describe(Duration d) {
        if (d.isNegative()) {
            return "-" + describe(d.negated());
        }
        if (d.toMillis() < 1000) {
            return d.toMillis() + "ms";
        }
        Duration whole = d.toHours() > 0 ? d.withNanos(0) : d.withNanos(d.getNano() / 100_000_000 * 100_000_000);
        return whole.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
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
