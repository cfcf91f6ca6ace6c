package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Type checks on the located YAML tree shared by the readers of each part of a rule. Every check
 * that fails records a problem and returns empty, so reading goes on and all mistakes are found.
 */
class NodeReader {

    final ProblemCollector problems;

    NodeReader(ProblemCollector problems) {
        this.problems = problems;
    }

    Optional<YamlNode.Mapping> mapping(YamlNode node, String what) {
        if (node instanceof YamlNode.Mapping) {
            return Optional.of((YamlNode.Mapping) node);
        }
        if (isEmpty(node)) {
            problems.add(node.location(), what + " is empty: write its keys under it, indented (key: value lines),"
                    + " or remove it");
        } else {
            problems.add(node.location(), what + " must be a mapping (key: value lines), got " + describe(node));
        }
        return Optional.empty();
    }

    /** A key written with nothing after it ({@code on-failure:}), which YAML reads as null or as an empty string. */
    private static boolean isEmpty(YamlNode node) {
        return node instanceof YamlNode.Scalar scalar
                && (scalar.isNull() || scalar.type() == YamlNode.Scalar.Type.STRING && scalar.text().isEmpty());
    }

    /**
     * Reports every key of {@code mapping} that is not in {@code allowed}, with the closest known key.
     *
     * @return the known keys suggested, so a misspelt required key is not also reported missing
     */
    Set<String> onlyKeys(YamlNode.Mapping mapping, Set<String> allowed, String where) {
        return onlyKeys(mapping, allowed, where, key -> null);
    }

    /**
     * As {@link #onlyKeys(YamlNode.Mapping, Set, String)}; {@code belongsElsewhere} gives, for a key that is known one
     * level down or up, where it goes ({@code ": it belongs under 'run' …"}), said instead of the closest key; null for
     * the others.
     */
    Set<String> onlyKeys(YamlNode.Mapping mapping, Set<String> allowed, String where,
            java.util.function.Function<String, String> belongsElsewhere) {
        Set<String> suggested = new java.util.HashSet<>();
        for (YamlNode.Entry entry : mapping.entries().values()) {
            if (!allowed.contains(entry.key())) {
                String elsewhere = belongsElsewhere.apply(entry.key());
                if (elsewhere == null) {
                    Suggestions.closest(entry.key(), allowed).ifPresent(suggested::add);
                }
                problems.add(entry.keyLocation(), "unknown key '" + entry.key() + "' in " + where
                        + (elsewhere != null ? elsewhere : Suggestions.didYouMean(entry.key(), allowed)));
            }
        }
        return suggested;
    }

    /** A scalar's text; numbers and booleans are accepted as their written text. */
    Optional<String> text(YamlNode node, String what) {
        if (node instanceof YamlNode.Scalar && !((YamlNode.Scalar) node).isNull()) {
            return Optional.of(((YamlNode.Scalar) node).text());
        }
        problems.add(node.location(), what + " must be a single value, got " + describe(node));
        return Optional.empty();
    }

    /** One value or a list of them; each item located for its own errors. */
    List<YamlNode.Scalar> oneOrMany(YamlNode node, String what) {
        List<YamlNode.Scalar> out = new ArrayList<>();
        if (node instanceof YamlNode.Sequence) {
            List<YamlNode> items = ((YamlNode.Sequence) node).items();
            if (items.isEmpty()) {
                problems.add(node.location(), what + " is an empty list: it would never match (remove the key to match everything)");
            }
            for (YamlNode item : items) {
                text(item, "each value of " + what).ifPresent(t -> out.add((YamlNode.Scalar) item));
            }
        } else {
            text(node, what).ifPresent(t -> out.add((YamlNode.Scalar) node));
        }
        return out;
    }

    Optional<Integer> integer(YamlNode node, String what, int min, int max) {
        if (!(node instanceof YamlNode.Scalar) || ((YamlNode.Scalar) node).type() != YamlNode.Scalar.Type.INTEGER) {
            problems.add(node.location(), what + " must be a whole number, got " + describe(node));
            return Optional.empty();
        }
        try {
            int value = Integer.parseInt(((YamlNode.Scalar) node).text());
            if (value >= min && value <= max) {
                return Optional.of(value);
            }
        } catch (NumberFormatException e) {
            // reported below like any other out-of-range value
        }
        problems.add(node.location(), what + " must be between " + min + " and " + max + ", got "
                + ((YamlNode.Scalar) node).text());
        return Optional.empty();
    }

    Optional<Boolean> bool(YamlNode node, String what) {
        if (node instanceof YamlNode.Scalar) {
            switch (((YamlNode.Scalar) node).text().toLowerCase(Locale.ROOT)) {
                case "true": case "on": case "yes":
                    return Optional.of(true);
                case "false": case "off": case "no":
                    return Optional.of(false);
                default:
                    break;
            }
        }
        problems.add(node.location(), what + " must be true or false (on/off), got " + describe(node));
        return Optional.empty();
    }

    /** The mistake of a rule's duration longer than {@link Action#LONGEST}. */
    static String tooLong(String what, String written) {
        return what + " must be at most " + Action.LONGEST.toDays() + "d (ten years), got " + written.trim();
    }

    static String describe(YamlNode node) {
        if (node instanceof YamlNode.Scalar && !((YamlNode.Scalar) node).isNull()) {
            return node.kind() + " ('" + ((YamlNode.Scalar) node).text() + "')";
        }
        return node.kind();
    }
}
