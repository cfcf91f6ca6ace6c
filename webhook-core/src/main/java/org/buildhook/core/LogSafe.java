package org.buildhook.core;

import java.util.regex.Pattern;

/**
 * Payload values (a run name, a project, a header) and a job's output shown to a person (a log line, a
 * terminal, the status page): what would act on the display instead of showing is escaped, so that a
 * value cannot forge a log line, send escape sequences to a terminal, or reorder or hide text, and a
 * value is cut at {@value #MAX} characters in a log line (then ending with {@code …}).
 *
 * <p>Two kinds are escaped, each one way everywhere:
 * <ul>
 *   <li>control characters (C0 U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F) as {@code \xNN};</li>
 *   <li>{@linkplain #isInvisible invisible characters}: Unicode's format characters (general category
 *       Cf: the bidirectional controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C, the
 *       zero-width U+200B–U+200D, U+2060–U+2064, U+FEFF, the soft hyphen, the tags U+E0000–U+E007F …)
 *       and the line and paragraph separators U+2028, U+2029, as {@code \}{@code uNNNN} (four lowercase
 *       hex digits), or {@code \}{@code UNNNNNNNN} (eight) beyond U+FFFF. A bidirectional control makes
 *       a terminal or a browser show text in another order than it is ("Trojan Source", CVE-2021-42574:
 *       {@code run-tests} can read as another name), a zero-width character makes two different values
 *       look the same.</li>
 * </ul>
 * In a value on one line ({@link #of}, {@link #escape}: a payload value in a log line, a table, the status page),
 * a backslash that would otherwise be read as the start of an escape is escaped too, so that every escape
 * shown stands for a character that was escaped (tryout29 F4): a run of backslashes followed by text that reads
 * as an escape ({@code x} and two hex digits, {@code u} and four, {@code U} and eight, either case) or by a
 * character shown escaped is written doubled. A value holding the six characters {@code \}{@code u202e} shows
 * as {@code \\}{@code u202e}, one holding U+202E as {@code \}{@code u202e}, one holding a backslash then U+202E
 * as {@code \\\}{@code u202e}; every other backslash ({@code C:\Users}, {@code a\\b}, {@code \n} in a regex) is
 * shown as it is. {@link #escapeLines} (a job's output, whose bytes are the job's) leaves backslashes as they are,
 * and so does {@link #escapeMessage} (a job's message, which shows its payload values already so).
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
     * @return its text with control and invisible characters escaped ({@link #escape}), at most
     *     {@value #MAX} characters of it, then {@code …} when there was more; the cut never splits an
     *     escape or a surrogate pair
     */
    public static String of(Object value) {
        return of(value, MAX);
    }

    /**
     * The value as {@link #of(Object)} shows it, cut at {@code max} characters instead of {@value #MAX} (a table's
     * cell).
     *
     * @param value any value, or {@code null} (shown as {@code -})
     * @param max   the most characters shown before {@code …}, at least 1
     * @return the escaped text, whole when it is at most {@code max} characters long, else at most {@code max} of
     *     them then {@code …}; the cut never splits an escape or a surrogate pair
     */
    public static String of(Object value, int max) {
        if (value == null) {
            return "-";
        }
        String s = value.toString();
        // Escaping only lengthens: the first max characters shown come from at most max + 1 of the value.
        String shown = escape(s.length() > max ? s.substring(0, max + 1) : s);
        if (shown.length() <= max) {
            return shown;
        }
        int cut = 0;
        int width = 0;
        while (true) {
            int c = s.codePointAt(cut);
            String escaped = escaped(c);
            // A backslash may be shown doubled (before an escape): counted so, the cut stays within max.
            int shows = escaped != null ? escaped.length() : c == '\\' ? 2 : Character.charCount(c);
            if (width + shows > max) {
                break;
            }
            width += shows;
            cut += Character.charCount(c);
        }
        return escape(s.substring(0, cut)) + "…";
    }

    /**
     * Whether a character is invisible or reorders text where it is shown: a format character (Unicode
     * general category Cf, {@link Character#FORMAT}, per the JDK's Unicode tables) or the line or
     * paragraph separator (U+2028, U+2029), which some viewers take as a line break.
     *
     * @param codePoint any code point
     * @return true when {@link #escape} and {@link #escapeLines} show it as {@code \}{@code uNNNN}
     */
    public static boolean isInvisible(int codePoint) {
        int type = Character.getType(codePoint);
        return type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }

    private static boolean isControl(int c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f);
    }

    /** How {@code c} is shown, or null when it is shown as it is. */
    private static String escaped(int c) {
        if (isControl(c)) {
            return String.format("\\x%02x", c);
        }
        return isInvisible(c) ? invisible(c) : null;
    }

    private static String invisible(int c) {
        return c > 0xffff ? String.format("\\U%08x", c) : String.format("\\u%04x", c);
    }

    /**
     * {@code text} with its control characters (U+0000–U+001F, U+007F–U+009F) written as {@code \xNN} and
     * its {@linkplain #isInvisible invisible characters} as {@code \}{@code uNNNN}, so that it can go to a
     * log line or a terminal as it is: a newline in it cannot forge a line, an escape sequence cannot move
     * the cursor, clear the screen or set a title, a bidirectional control cannot reorder what is shown.
     * Returns {@code text} itself when nothing needs escaping.
     *
     * @param text any text
     * @return the text, escaped; never cut
     */
    public static String escape(String text) {
        return escape(text, Mode.ALL);
    }

    /**
     * {@code text} with its lines kept, as {@code buildhook logs} shows a job's output on a terminal: newlines,
     * tabs and a carriage return just before a newline (a CRLF line end) as they are, every other control
     * character as {@code \xNN} (a raw ESC shows as {@code \x1b}, so {@code ESC[31m} reads {@code \x1b[31m}, not
     * {@code [31m}; a lone carriage return as {@code \x0d}), its {@linkplain #isInvisible invisible characters} as
     * {@code \}{@code uNNNN}: for text of several lines shown to a person where a control character would
     * otherwise show as nothing, such as the status page. Returns {@code text} itself when nothing needs
     * escaping.
     *
     * @param text any text
     * @return the text, escaped; never cut
     */
    public static String escapeLines(String text) {
        return escape(text, Mode.LINES);
    }

    /**
     * A message buildhook wrote for a person (a job's or an attempt's message) as a terminal or a page shows it on one
     * line: its control characters as {@code \xNN} and its {@linkplain #isInvisible invisible characters} as
     * {@code \}{@code uNNNN}, as {@link #escape} writes them, so that none reaches the terminal or the page as it is,
     * but its backslashes as they are. Such a message already shows each payload value it names as {@link #of} does
     * (the refusal of a value: {@code its value "inj\x0anewline" is refused: it holds '\x0a'}): a backslash in it is
     * one of those escapes, or a value's own backslash already doubled, and {@link #escape} would double it again: a
     * newline then showed as {@code \\x0a}, which reads as the text {@code \x0a} (tryout50 F3). Returns {@code text}
     * itself when nothing needs escaping.
     *
     * @param text a message whose payload values are shown escaped ({@link #of}, {@link #escape}); any text
     * @return the text, its control and invisible characters escaped; never cut
     */
    public static String escapeMessage(String text) {
        return escape(text, Mode.MESSAGE);
    }

    /**
     * {@code text} between double quotes as a terminal shows one value of a list ({@code job show}'s command and
     * environment): every backslash as {@code \\}, a double quote as {@code \"}, control and invisible characters
     * as {@link #escape} writes them, so the value reads back exactly.
     *
     * @param text any text
     * @return the text, escaped and between double quotes; never cut
     */
    public static String quoted(String text) {
        return "\"" + escape(text, Mode.QUOTED) + "\"";
    }

    /** Which characters {@link #escape(String, Mode)} escapes. */
    private enum Mode {
        /** Control and invisible characters. */
        ALL,
        /** Control characters but a line's ends and tabs, and invisible characters. */
        LINES,
        /** As ALL, and every backslash and double quote. */
        QUOTED,
        /** Control and invisible characters; backslashes as they are (a message's own escapes). */
        MESSAGE
    }

    /** How {@code c}, at {@code i} in {@code text}, is shown in {@code mode}, or null when it is shown as it is. */
    private static String escaped(String text, int i, int c, Mode mode) {
        return switch (mode) {
            case ALL, MESSAGE -> escaped(c);
            case QUOTED -> c == '\\' ? "\\\\" : c == '"' ? "\\\"" : escaped(c);
            case LINES -> c == '\n' || c == '\t' || c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n'
                    ? null : escaped(c);
        };
    }

    /** Text that reads as an escape: x and 2 hex digits, u and 4, U and 8 (either case). */
    private static final Pattern ESCAPE_LIKE = Pattern.compile("x\\p{XDigit}{2}|u\\p{XDigit}{4}|U\\p{XDigit}{8}");

    /**
     * Whether a run of backslashes that ends before {@code end} would be read, with its last backslash, as the
     * start of an escape: escape-like text or a character shown escaped follows it.
     */
    private static boolean escapeFollows(String text, int end, Mode mode) {
        return end < text.length() && (escaped(text, end, text.codePointAt(end), mode) != null
                || ESCAPE_LIKE.matcher(text).region(end, text.length()).lookingAt());
    }

    private static String escape(String text, Mode mode) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            if (c == '\\' && mode == Mode.ALL) {
                int end = i;
                while (end < text.length() && text.charAt(end) == '\\') {
                    end++;
                }
                boolean doubled = escapeFollows(text, end, mode);
                if (doubled && out == null) {
                    out = new StringBuilder(text.length() + 8).append(text, 0, i);
                }
                if (out != null) {
                    out.append(doubled ? "\\\\".repeat(end - i) : text.substring(i, end));
                }
                i = end;
                continue;
            }
            String escaped = escaped(text, i, c, mode);
            if (escaped != null && out == null) {
                out = new StringBuilder(text.length() + 8).append(text, 0, i);
            }
            if (out != null) {
                if (escaped != null) {
                    out.append(escaped);
                } else {
                    out.appendCodePoint(c);
                }
            }
            i += Character.charCount(c);
        }
        return out == null ? text : out.toString();
    }
}
