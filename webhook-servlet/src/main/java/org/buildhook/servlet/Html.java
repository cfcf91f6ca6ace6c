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
}
