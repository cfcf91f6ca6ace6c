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
     * @return its text with C0 controls, DEL and C1 controls escaped ({@link #escape}), at most
     *     {@value #MAX} characters of it, then {@code …} when there was more; the cut never splits an
     *     escape or a surrogate pair
     */
    public static String of(Object value) {
        if (value == null) {
            return "-";
        }
        String s = value.toString();
        // Escaping only lengthens: the first MAX characters shown come from at most MAX + 1 of the value.
        String shown = escape(s.length() > MAX ? s.substring(0, MAX + 1) : s);
        if (shown.length() <= MAX) {
            return shown;
        }
        int cut = 0;
        int width = 0;
        while (true) {
            char c = s.charAt(cut);
            boolean pair = Character.isHighSurrogate(c) && cut + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(cut + 1));
            int shows = isControl(c) ? 4 : pair ? 2 : 1;
            if (width + shows > MAX) {
                break;
            }
            width += shows;
            cut += pair ? 2 : 1;
        }
        return escape(s.substring(0, cut)) + "…";
    }

    private static boolean isControl(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f);
    }

    /**
     * {@code text} with its C0 controls, DEL and C1 controls (U+0000–U+001F, U+007F–U+009F) written as
     * {@code \xNN}, so that it can go to a log line or a terminal as it is: a newline in it cannot
     * forge a line, an escape sequence cannot move the cursor, clear the screen or set a title.
     * Returns {@code text} itself when nothing needs escaping.
     *
     * @param text any text
     * @return the text, escaped; never cut
     */
    public static String escape(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = isControl(c);
            if (control && out == null) {
                out = new StringBuilder(text.length() + 8).append(text, 0, i);
            }
            if (out != null) {
                if (control) {
                    out.append(String.format("\\x%02x", (int) c));
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? text : out.toString();
    }
}
