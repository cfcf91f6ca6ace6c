package org.buildhook.servlet;

/**
 * The status page's one HTML-escaping helper: every value that reaches the page goes through
 * {@link #escape}, in text and in attribute values alike, so payload markup shows as text.
 */
final class Html {

    private Html() {
    }

    /** The value as HTML text safe in element content and quoted attributes; null is empty. */
    static String escape(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
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
     * A payload value (project, trigger, run name, …) for a list: escaped whole when at most {@link #LIST_WIDTH}
     * characters, else its first {@code LIST_WIDTH - 1} and "…" in a {@code span} whose {@code title} holds up to
     * {@link #TITLE_WIDTH} of it; the job's page shows it whole (tryout24 F3). Never cuts a surrogate pair.
     *
     * @param value the value, or null (empty)
     * @return HTML safe in element content
     */
    static String clipped(String value) {
        if (value == null || value.codePointCount(0, value.length()) <= LIST_WIDTH) {
            return escape(value);
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
