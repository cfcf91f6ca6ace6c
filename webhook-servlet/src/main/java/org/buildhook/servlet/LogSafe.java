package org.buildhook.servlet;

/** Payload values in log lines: control characters escaped so a value cannot forge a log line. */
final class LogSafe {

    private static final int MAX = 200;

    private LogSafe() {
    }

    static String of(Object value) {
        if (value == null) {
            return "-";
        }
        String s = value.toString();
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX) + 8);
        for (int i = 0; i < s.length() && out.length() < MAX; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return s.length() > MAX ? out + "…" : out.toString();
    }
}
