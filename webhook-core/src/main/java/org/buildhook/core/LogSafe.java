package org.buildhook.core;

/**
 * Payload values (a run name, a project, a header) in log lines: control characters escaped as
 * {@code \xNN}, so that a value cannot forge a log line or send escape sequences to a terminal that
 * shows the log, and cut at {@value #MAX} characters (then ending with {@code …}).
 */
public final class LogSafe {

    /** The most characters of a value a log line shows. */
    public static final int MAX = 200;

    private LogSafe() {
    }

    /**
     * The value as a log line may show it.
     *
     * @param value any value, or {@code null} (shown as {@code -})
     * @return its text with C0 controls, DEL and C1 controls escaped, at most {@value #MAX} characters
     *     of it
     */
    public static String of(Object value) {
        if (value == null) {
            return "-";
        }
        String s = value.toString();
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX) + 8);
        for (int i = 0; i < s.length() && out.length() < MAX; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return s.length() > MAX ? out + "…" : out.toString();
    }
}
