package org.buildhook.runner.rules;

import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A compiled matcher for one written value: a glob ({@code andy-corp/*}, {@code build-?64},
 * {@code **}) or, when written between slashes, a Java regular expression ({@code /build-(arm|aarch)64/},
 * {@code /lmp/i} for case-insensitive). Both must match the whole value.
 *
 * <p>Glob syntax: {@code *} any characters except {@code /}; {@code **} any characters;
 * {@code ?} one character except {@code /}; {@code [abc]}, {@code [a-z]}, {@code [!abc]} one of
 * (or none of) a set; {@code \} makes the next character literal. Matching is case-sensitive.
 */
final class TextPattern {

    private final String written;
    // Checked before the regex: most rules fail on their literal prefix, which costs one compare.
    private final String literalPrefix;
    private final Pattern regex;

    private TextPattern(String written, String literalPrefix, Pattern regex) {
        this.written = written;
        this.literalPrefix = literalPrefix;
        this.regex = regex;
    }

    /** @throws IllegalArgumentException saying what is wrong with the pattern */
    static TextPattern parse(String written) {
        Objects.requireNonNull(written, "written");
        if (written.length() >= 2 && written.startsWith("/")
                && (written.endsWith("/") || written.endsWith("/i"))) {
            boolean ignoreCase = written.endsWith("/i") && written.length() >= 3;
            String body = written.substring(1, written.length() - (ignoreCase ? 2 : 1));
            try {
                Pattern regex = Pattern.compile(body, ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0);
                return new TextPattern(written, ignoreCase ? "" : regexPrefix(body), regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("bad regular expression " + written + ": "
                        + e.getDescription() + " near index " + e.getIndex());
            }
        }
        return glob(written);
    }

    boolean matches(String value) {
        if (value == null) {
            return false;
        }
        if (regex == null) {
            return literalPrefix.equals(value);
        }
        return value.startsWith(literalPrefix) && regex.matcher(value).matches();
    }

    /** Whether only one exact value matches (a glob without metacharacters). */
    boolean isLiteral() {
        return regex == null;
    }

    /** Text every matching value starts with; empty for a regex. */
    String literalPrefix() {
        return literalPrefix;
    }

    /** The pattern as the operator wrote it. */
    String written() {
        return written;
    }

    @Override
    public String toString() {
        return written;
    }

    /**
     * The plain text every match of {@code regex} must start with, found conservatively: the leading
     * letters, digits and {@code - _ / , : @ =}, minus the last one if a quantifier follows it, and
     * nothing at all if the expression has an alternation anywhere.
     */
    static String regexPrefix(String regex) {
        if (regex.indexOf('|') >= 0) {
            return "";
        }
        int end = 0;
        while (end < regex.length() && isPlain(regex.charAt(end))) {
            end++;
        }
        if (end < regex.length() && "?*+{".indexOf(regex.charAt(end)) >= 0 && end > 0) {
            end--;
        }
        return regex.substring(0, end);
    }

    private static boolean isPlain(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-_/,:@=".indexOf(c) >= 0;
    }

    private static TextPattern glob(String glob) {
        StringBuilder regex = new StringBuilder();
        StringBuilder prefix = new StringBuilder();
        boolean literalSoFar = true;
        int i = 0;
        while (i < glob.length()) {
            char c = glob.charAt(i);
            if (c == '\\') {
                if (i + 1 == glob.length()) {
                    throw new IllegalArgumentException("bad glob '" + glob + "': it ends with a lone '\\'");
                }
                char next = glob.charAt(i + 1);
                regex.append(Pattern.quote(String.valueOf(next)));
                if (literalSoFar) {
                    prefix.append(next);
                }
                i += 2;
                continue;
            }
            if (c == '*' || c == '?' || c == '[') {
                literalSoFar = false;
            }
            if (c == '*') {
                boolean doubleStar = i + 1 < glob.length() && glob.charAt(i + 1) == '*';
                regex.append(doubleStar ? ".*" : "[^/]*");
                i += doubleStar ? 2 : 1;
            } else if (c == '?') {
                regex.append("[^/]");
                i++;
            } else if (c == '[') {
                i = appendClass(glob, i, regex);
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
                if (literalSoFar) {
                    prefix.append(c);
                }
                i++;
            }
        }
        if (literalSoFar) {
            return new TextPattern(glob, prefix.toString(), null);
        }
        return new TextPattern(glob, prefix.toString(), Pattern.compile(regex.toString(), Pattern.DOTALL));
    }

    /** Appends the set starting at {@code open} ('['); returns the index after its ']'. */
    private static int appendClass(String glob, int open, StringBuilder regex) {
        int close = glob.indexOf(']', open + 2);
        if (close < 0) {
            throw new IllegalArgumentException("bad glob '" + glob + "': '[' at position " + (open + 1)
                    + " is never closed with ']' (write \\[ for a literal bracket)");
        }
        String members = glob.substring(open + 1, close);
        regex.append('[');
        int from = 0;
        if (members.startsWith("!") || members.startsWith("^")) {
            regex.append('^');
            from = 1;
        }
        for (int k = from; k < members.length(); k++) {
            char m = members.charAt(k);
            // Only '-' keeps its meaning inside a set; everything else is literal.
            if (m == '-' && k > from && k < members.length() - 1) {
                regex.append('-');
            } else if (Character.isLetterOrDigit(m)) {
                regex.append(m);
            } else {
                regex.append('\\').append(m);
            }
        }
        regex.append(']');
        return close + 1;
    }
}
