package org.buildhook.runner.rules;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML document as a tree that remembers where each node was written, so every mistake can be
 * reported with its line and column (Jackson's own tree forgets locations).
 * Public so that the configuration file (webhook-servlet) is read the same way.
 */
public sealed interface YamlNode {

    /** 1-based position of a node's first character. */
    record Location(int line, int column) {
    }

    Location location();

    /** How the operator would call this kind of node in an error message. */
    String kind();

    /**
     * What a whole document that is not a mapping is, for the error that says so — never its text.
     * A file named by mistake where a YAML file was expected is often a secret ({@code rules:
     * jobserv-secret}, {@code --config data/admin-token}): YAML reads its one line as a string,
     * which an error message, and so the server log, would otherwise repeat.
     *
     * @param root the document's root node
     * @return for a string or number its length and number of lines, else {@link #kind()}
     */
    static String describeDocument(YamlNode root) {
        if (root instanceof Scalar scalar && !scalar.isNull()) {
            long lines = scalar.text().lines().count();
            return "a plain text of " + scalar.text().length() + " character(s)"
                    + (lines > 1 ? " on " + lines + " lines" : "")
                    + ", not shown since such a file may hold a secret: is it the right file?";
        }
        return root.kind();
    }

    /** A mapping; keys in the order written, each with its own location. */
    record Mapping(Location location, Map<String, Entry> entries) implements YamlNode {
        public Mapping {
            entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
        }

        @Override
        public String kind() {
            return "a mapping";
        }
    }

    /** One key of a mapping and its value. */
    record Entry(String key, Location keyLocation, YamlNode value) {
    }

    record Sequence(Location location, List<YamlNode> items) implements YamlNode {
        public Sequence {
            items = List.copyOf(items);
        }

        @Override
        public String kind() {
            return "a list";
        }
    }

    /**
     * A scalar as written. {@code type} keeps what YAML made of it, so {@code retries: "2"} and
     * {@code retries: 2} can be told apart when it matters, and the snapshot keeps numbers numbers.
     *
     * @param written the scalar's characters in the file, from {@code location} on (its quotes, or a block scalar's
     *                {@code |} and indentation, included), for {@link #locationOf}; null when not known
     */
    record Scalar(Location location, String text, Type type, String written) implements YamlNode {
        public enum Type { STRING, INTEGER, DECIMAL, BOOLEAN, NULL }

        /** A scalar whose characters in the file are not known: its parts are placed at its {@code location}. */
        public Scalar(Location location, String text, Type type) {
            this(location, text, type, null);
        }

        /**
         * Where the characters {@code [offset, offset + length)} of {@link #text()} were written: their own line and
         * column, also inside a block scalar ({@code |}, {@code >}) or a text over several lines, whose
         * {@code location} is its first line's (tryout42 F11). Found as the same occurrence of the same characters in
         * {@code written}; the scalar's {@code location} when they are not written as such there (an escape such as
         * {@code \x24} wrote them) or not known.
         *
         * @param offset the first character's index in {@link #text()}, 0 or more
         * @param length how many characters, 1 or more
         */
        public Location locationOf(int offset, int length) {
            if (written == null || offset < 0 || length < 1 || offset + length > text.length()) {
                return location;
            }
            String part = text.substring(offset, offset + length);
            int nth = 0;
            for (int at = text.indexOf(part); at >= 0 && at < offset; at = text.indexOf(part, at + 1)) {
                nth++;
            }
            if (count(text, part) != count(written, part)) {
                return location;
            }
            int at = written.indexOf(part);
            for (int i = 0; i < nth; i++) {
                at = written.indexOf(part, at + 1);
            }
            int line = location.line();
            int column = location.column();
            for (int i = 0; i < at; i++) {
                char c = written.charAt(i);
                if (c == '\n') {
                    line++;
                    column = 1;
                } else if (!Character.isLowSurrogate(c)) { // columns count characters, as YAML's marks do
                    column++;
                }
            }
            return new Location(line, column);
        }

        private static int count(String in, String part) {
            int n = 0;
            for (int at = in.indexOf(part); at >= 0; at = in.indexOf(part, at + 1)) {
                n++;
            }
            return n;
        }

        @Override
        public String kind() {
            switch (type) {
                case INTEGER: case DECIMAL:
                    return "a number";
                case BOOLEAN:
                    return "a boolean";
                case NULL:
                    return "nothing (null)";
                default:
                    return "a string";
            }
        }

        public boolean isNull() {
            return type == Type.NULL;
        }
    }
}
