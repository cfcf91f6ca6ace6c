package org.buildhook.servlet;

import org.buildhook.core.LogSafe;

/**
 * The status page's one HTML-escaping helper: every value that reaches the page goes through
 * {@link #escape} ({@link #escapeLines} in a {@code pre}), in text and in attribute values alike, so payload markup shows as text, and its
 * invisible characters (bidirectional controls, zero-width and other format characters) and control characters
 * show as the command line shows a job's output ({@code buildhook logs}), {@code \}{@code u202e} (escape29) and
 * {@code \x1b} (jobpage29), a newline in a one-line value {@code \x0a} (page30): {@link LogSafe#escape} for a value on
 * one line, {@link LogSafe#escapeLines} for text of several lines.
 */
final class Html {

    private Html() {
    }

    /**
     * The value as HTML text safe in element content and quoted attributes, on one line; null is empty. HTML-escaped,
     * a bidirectional control (U+202E) still reorders the text around it in the browser, a zero-width one still
     * hides, a control character (a raw ESC, C1 U+009B) shows as nothing ({@code ESC[31m} read {@code [31m}) and a
     * newline as a space: they are written as {@link LogSafe#escape} writes them, {@code \}{@code u202e},
     * {@code \x1b}, {@code \x0a}, {@code \x09}, as {@code buildhook jobs} and {@code job show} show a one-line value
     * on a terminal (page30: a build name's newline read as a space, two lines read as one). For every value shown on
     * one line: payload values, names, messages, table cells, tooltips. Text of several lines in a {@code pre} (a
     * log, a rule's text) is {@link #escapeLines}.
     *
     * @param value any value, or null
     * @return its text escaped; the empty string for null
     */
    static String escape(Object value) {
        return value == null ? "" : markup(LogSafe.escape(value.toString()));
    }

    /**
     * As {@link #escape}, for a message buildhook wrote (a job's or an attempt's message), which shows its payload
     * values escaped already ({@code its value "inj\x0anewline" is refused}): its control and invisible characters
     * escaped, its backslashes as they are ({@link LogSafe#escapeMessage}); {@link #escape} doubled them, so that a
     * newline read as the text {@code \x0a} (tryout50 F3).
     *
     * @param value a message, or null
     * @return its text escaped; the empty string for null
     */
    static String escapeMessage(String value) {
        return value == null ? "" : markup(LogSafe.escapeMessage(value));
    }

    /**
     * As {@link #escape}, but keeping the text's lines, for a {@code pre} (a job's log, a rule's text, an error of
     * several lines): newlines, tabs and CRLF line ends stay, every other control character is {@code \xNN} and every
     * invisible one {@code \}{@code uNNNN}, as {@link LogSafe#escapeLines} writes them and {@code buildhook logs}
     * shows a job's output (jobpage29).
     *
     * @param value any value, or null
     * @return its text escaped; the empty string for null
     */
    static String escapeLines(Object value) {
        return value == null ? "" : markup(LogSafe.escapeLines(value.toString()));
    }

    /** {@code s} with the five characters of HTML markup as entities. */
    private static String markup(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** How many characters of a payload value a list (the deliveries and their jobs) shows, as {@code buildhook jobs} does. */
    static final int LIST_WIDTH = 60;
    /** How many characters of a clipped value its tooltip holds: a whole 65,536-character value in every row would make the page and its live update hundreds of KB. */
    static final int TITLE_WIDTH = 1000;

    /**
     * A value for a cell of a list (the deliveries' endpoint, project, trigger, status): in a {@code span} of
     * class {@code clipped}, which the page's style keeps whole up to a width and wraps beyond it, so one long
     * value cannot push the list's other columns out of the window (tryout25 F10) and none is cut by the style
     * (page29: an ellipsis hid RUNNING_WITH_FAILURES between 1201 and 1440 px); its {@code title} holds the
     * value (up to {@link #TITLE_WIDTH} characters), for the reader to see what the cut below hides. Its text is
     * at most {@link #LIST_WIDTH} characters (its first {@code LIST_WIDTH - 1} and "…"), so a 65,536-character
     * value does not weigh on every live update (tryout24 F3); the job's page shows it whole. Never cuts a
     * surrogate pair.
     *
     * @param value the value, or null (empty)
     * @return HTML safe in element content; the empty string for null or empty
     */
    static String clipped(String value) {
        if (value == null || value.isEmpty()) {
            return "";
        }
        return "<span class=\"clipped\" title=\"" + escape(cut(value, TITLE_WIDTH)) + "\">"
                + escape(cut(value, LIST_WIDTH)) + "</span>";
    }

    /** The value cut to at most {@code max} code points, its last one "…" when cut. */
    static String cut(String value, int max) {
        if (value.codePointCount(0, value.length()) <= max) {
            return value;
        }
        return value.substring(0, value.offsetByCodePoints(0, max - 1)) + "\u2026";
    }
}
