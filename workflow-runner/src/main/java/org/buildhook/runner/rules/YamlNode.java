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
     */
    record Scalar(Location location, String text, Type type) implements YamlNode {
        public enum Type { STRING, INTEGER, DECIMAL, BOOLEAN, NULL }

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
