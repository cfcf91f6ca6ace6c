package org.buildhook.servlet.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes as operators write them: {@code 512KiB}, {@code 10MiB}, {@code 1GiB} or a plain number of bytes. */
final class Sizes {

    private static final Pattern SIZE = Pattern.compile("(\\d{1,18})\\s*(B|KiB|MiB|GiB)?", Pattern.CASE_INSENSITIVE);

    private Sizes() {
    }

    /** @throws IllegalArgumentException with a message fit for the operator */
    static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("bad size '" + text
                    + "': write a number of bytes or a number and a unit (KiB, MiB, GiB), for example 512KiB or 10MiB");
        }
        long amount = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(java.util.Locale.ROOT);
        int shift = unit.equals("kib") ? 10 : unit.equals("mib") ? 20 : unit.equals("gib") ? 30 : 0;
        if (amount > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("bad size '" + text + "': too large");
        }
        return amount << shift;
    }

    /** The shortest exact way to write {@code bytes} back. */
    static String format(long bytes) {
        String[] units = {"GiB", "MiB", "KiB"};
        int[] shifts = {30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << shifts[i];
            if (bytes >= unit && bytes % unit == 0) {
                return bytes / unit + units[i];
            }
        }
        return Long.toString(bytes);
    }
}
