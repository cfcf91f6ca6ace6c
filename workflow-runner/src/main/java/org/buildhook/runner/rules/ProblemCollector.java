package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Gathers the problems of one YAML file (the rules file, the configuration file) so they are
 * reported together, in file order.
 */
public final class ProblemCollector {

    private final String file;
    private final List<Problem> problems = new ArrayList<>();
    private final List<Problem> warnings = new ArrayList<>();
    private final Map<Problem, String> onceKeys = new HashMap<>();

    public ProblemCollector(String file) {
        this.file = file;
    }

    /**
     * Records a problem at {@code at}, or about the whole file when {@code at} is null.
     *
     * @return the problem recorded
     */
    public Problem add(YamlNode.Location at, String message) {
        Problem problem = at == null
                ? new Problem(file, 0, 0, message)
                : new Problem(file, at.line(), at.column(), message);
        problems.add(problem);
        return problem;
    }

    /**
     * Records a warning at {@code at}: something valid that is likely not what the author meant. A
     * warning never refuses the file.
     */
    void warn(YamlNode.Location at, String message) {
        warnings.add(at == null
                ? new Problem(file, 0, 0, message)
                : new Problem(file, at.line(), at.column(), message));
    }

    /**
     * As {@link #warn(YamlNode.Location, String)}, for a warning that {@code check} gives at each place but a server
     * logs once per {@code key} while it runs ({@link RuleSet#writingWarningsToLog}): an env name that looks secret
     * only by a word inside a longer word, whichever rules and reloads write it.
     */
    void warnOncePer(String key, YamlNode.Location at, String message) {
        warn(at, message);
        onceKeys.put(warnings.get(warnings.size() - 1), key);
    }

    /** The key of each warning a server logs once per key ({@link #warnOncePer}). */
    Map<Problem, String> onceKeys() {
        return Map.copyOf(onceKeys);
    }

    /** The warnings so far, sorted by position. */
    List<Problem> warnings() {
        List<Problem> sorted = new ArrayList<>(warnings);
        sorted.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
        return List.copyOf(sorted);
    }

    public boolean isEmpty() {
        return problems.isEmpty();
    }

    int count() {
        return problems.size();
    }

    /** Throws the collected problems, sorted by position, if there are any. */
    void throwIfAny() {
        if (!problems.isEmpty()) {
            throw new RuleException(sorted());
        }
    }

    /** The problems so far, sorted by position (problems about the whole file first). */
    public List<Problem> sorted() {
        List<Problem> sorted = new ArrayList<>(problems);
        sorted.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
        return List.copyOf(sorted);
    }
}
