package org.buildhook.servlet.config;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.rules.Problem;
import org.buildhook.runner.rules.ProblemCollector;
import org.buildhook.runner.rules.Suggestions;
import org.buildhook.runner.rules.YamlNode;

/**
 * Typed reads of the located YAML tree. Every failed check records a problem prefixed with the key's
 * dotted path and returns empty, so reading goes on and every mistake is reported at once.
 */
final class Nodes {

    private final ProblemCollector problems;
    private final java.util.List<Problem> ofTheMachine = new java.util.ArrayList<>(0);
    private final java.util.List<Problem> notRead = new java.util.ArrayList<>(0);
    /**
     * The key each problem is about, as a dotted path ({@code server.port}, {@code admin.token.file}); for an unknown
     * key, the known key it looks like when there is one ({@code server.prot}: {@code server.port}).
     */
    private final java.util.Map<Problem, String> keys = new java.util.HashMap<>();

    Nodes(ProblemCollector problems) {
        this.problems = problems;
    }

    void problem(YamlNode.Location at, String path, String message) {
        add(at, path, path, message);
    }

    private Problem add(YamlNode.Location at, String path, String key, String message) {
        Problem problem = problems.add(at, path + ": " + message);
        keys.put(problem, key);
        return problem;
    }

    /**
     * The problems about the keys {@code used} accepts (given each problem's key path, see {@link #keys}), sorted by
     * position: for a command that reads only some keys ({@link ClientKeys}).
     */
    java.util.List<Problem> about(java.util.function.Predicate<String> used) {
        return problems.sorted().stream().filter(p -> used.test(keys.getOrDefault(p, ClientKeys.WHOLE_FILE))).toList();
    }

    /**
     * As {@link #problem}, for what is wrong with the machine rather than the file: a folder the key names is on a
     * file system mounted read-only, or its owner or mode keeps buildhook's user out (tryout31 F4: it was headed
     * "the configuration has mistakes"). See {@link ConfigException#ofTheMachineOnly()}.
     */
    void machineProblem(YamlNode.Location at, String path, String message) {
        ofTheMachine.add(add(at, path, path, message));
    }

    /**
     * As {@link #problem}, for a file the key names that is not there or cannot be read (a secret file, the rules
     * file): no mistake of the configuration's text, and one a restart may find mended (a file another service writes
     * after boot, a mount that comes later). See {@link ConfigException#restartMayMend()}.
     */
    void notReadProblem(YamlNode.Location at, String path, String message) {
        notRead.add(add(at, path, path, message));
    }

    /** The problems recorded by {@link #notReadProblem}, in the order recorded. */
    java.util.List<Problem> notRead() {
        return java.util.List.copyOf(notRead);
    }

    /** The problems recorded by {@link #machineProblem}, in the order recorded. */
    java.util.List<Problem> ofTheMachine() {
        return java.util.List.copyOf(ofTheMachine);
    }

    /**
     * Why {@code file}, which is not a regular file, cannot be read as one: {@code "not found"}, or
     * what is there instead (a folder, a device …), so that a path naming a folder is not reported
     * as missing.
     */
    static String notAFile(java.nio.file.Path file) {
        if (java.nio.file.Files.isDirectory(file)) {
            return "is a folder, not a file: name the file itself";
        }
        if (java.nio.file.Files.exists(file)) {
            return "is not a regular file (a device, a pipe or a socket): name a regular file";
        }
        return "not found";
    }

    /** Nothing written: {@code key:} alone (at the end of a file Jackson reports it as an empty string). */
    static boolean isNull(YamlNode node) {
        return node instanceof YamlNode.Scalar
                && (((YamlNode.Scalar) node).isNull() || ((YamlNode.Scalar) node).text().isEmpty());
    }

    Optional<YamlNode.Mapping> mapping(YamlNode node, String path) {
        if (node instanceof YamlNode.Mapping) {
            return Optional.of((YamlNode.Mapping) node);
        }
        problem(node.location(), path, "expected a mapping (key: value lines), got " + describe(node));
        return Optional.empty();
    }

    /** Reports every key that is not in {@code allowed}, with the closest known key. */
    void onlyKeys(YamlNode.Mapping mapping, Set<String> allowed, String path) {
        for (YamlNode.Entry entry : mapping.entries().values()) {
            if (!allowed.contains(entry.key())) {
                Optional<String> closest = Suggestions.closest(entry.key(), allowed);
                String hint = closest.map(c -> "; did you mean '" + c + "'?")
                        .orElse("; known keys: " + String.join(", ", allowed));
                add(entry.keyLocation(), join(path, entry.key()), join(path, closest.orElse(entry.key())),
                        "unknown key" + hint);
            }
        }
    }

    Optional<String> text(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar && !isNull(node)) {
            String text = ((YamlNode.Scalar) node).text();
            if (!text.isBlank()) {
                return Optional.of(text.trim());
            }
        }
        problem(node.location(), path, "expected a value, got " + describe(node));
        return Optional.empty();
    }

    Optional<Boolean> bool(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar && ((YamlNode.Scalar) node).type() == YamlNode.Scalar.Type.BOOLEAN) {
            return Optional.of(Boolean.parseBoolean(((YamlNode.Scalar) node).text().trim().toLowerCase(java.util.Locale.ROOT)));
        }
        problem(node.location(), path, "expected true or false, got " + describe(node));
        return Optional.empty();
    }

    Optional<Integer> integer(YamlNode node, String path, int min, int max) {
        if (node instanceof YamlNode.Scalar && ((YamlNode.Scalar) node).type() == YamlNode.Scalar.Type.INTEGER) {
            try {
                int value = Integer.parseInt(((YamlNode.Scalar) node).text());
                if (value >= min && value <= max) {
                    return Optional.of(value);
                }
            } catch (NumberFormatException e) {
                // out of int range: reported below like any other out-of-range value
            }
            problem(node.location(), path, "must be between " + min + " and " + max + ", got "
                    + ((YamlNode.Scalar) node).text() + Ranges.changed(path));
            return Optional.empty();
        }
        problem(node.location(), path, "expected a whole number between " + min + " and " + max + ", got " + describe(node));
        return Optional.empty();
    }

    /** A whole number within the range {@link Ranges} gives the key {@code path}. */
    Optional<Integer> integer(YamlNode node, String path) {
        Ranges.Range range = Ranges.of(path);
        return integer(node, path, Math.toIntExact(range.minValue()), Math.toIntExact(range.maxValue()));
    }

    /** A duration within the range {@link Ranges} gives the key {@code path}. */
    Optional<Duration> duration(YamlNode node, String path) {
        Ranges.Range range = Ranges.of(path);
        Optional<Duration> value = duration(node, path, range.minDuration());
        if (value.isPresent() && value.get().compareTo(range.maxDuration()) > 0) {
            problem(node.location(), path, "must be between " + range.min() + " and " + range.max() + ", got "
                    + ((YamlNode.Scalar) node).text().trim());
            return Optional.empty();
        }
        return value;
    }

    /** A size within the range {@link Ranges} gives the key {@code path}. */
    Optional<Long> size(YamlNode node, String path) {
        Ranges.Range range = Ranges.of(path);
        return size(node, path, range.minValue(), range.maxValue());
    }

    /** A duration such as {@code 30s}; {@code min} is the least accepted (zero or a positive amount). */
    Optional<Duration> duration(YamlNode node, String path, Duration min) {
        Optional<String> text = text(node, path);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            Duration value = Durations.parse(text.get());
            if (value.compareTo(min) < 0) {
                problem(node.location(), path, "must be at least " + Durations.format(min) + ", got " + text.get());
                return Optional.empty();
            }
            return Optional.of(value);
        } catch (IllegalArgumentException e) {
            problem(node.location(), path, e.getMessage());
            return Optional.empty();
        }
    }

    /** A size such as {@code 10MiB}, between {@code min} and {@code max} bytes. */
    Optional<Long> size(YamlNode node, String path, long min, long max) {
        Optional<String> text = text(node, path);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            long value = Sizes.parse(text.get());
            if (value < min || value > max) {
                problem(node.location(), path, "must be between " + Sizes.format(min) + " and " + Sizes.format(max)
                        + ", got " + text.get());
                return Optional.empty();
            }
            return Optional.of(value);
        } catch (IllegalArgumentException e) {
            problem(node.location(), path, e.getMessage());
            return Optional.empty();
        }
    }

    static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** What a node is, with a scalar's text; never call it on a node that may hold a secret. */
    static String describe(YamlNode node) {
        if (node instanceof YamlNode.Scalar && !isNull(node)) {
            return node.kind() + " ('" + ((YamlNode.Scalar) node).text() + "')";
        }
        return node.kind();
    }
}
