package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Gathers the problems of one YAML file (the rules file, the configuration file) so they are
 * reported together, in file order.
 */
public final class ProblemCollector {

    private final String file;
    private final List<Problem> problems = new ArrayList<>();
    private final List<Problem> warnings = new ArrayList<>();
    private final Map<Problem, String> onceKeys = new HashMap<>();
    private final List<Problem> jobPageUses = new ArrayList<>();

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

    /** A warning said once per rule ({@link #warnOncePerRule}): its index, its message, and its further places. */
    private record Grouped(int index, Function<List<YamlNode.Location>, String> message,
            List<YamlNode.Location> more) {
    }

    private final Map<String, Grouped> ruleWarnings = new HashMap<>();

    /** A new rule begins: the warnings said once per rule ({@link #warnOncePerRule}) are said again in it. */
    void startRule() {
        ruleWarnings.clear();
    }

    /**
     * A warning said once per rule for each {@code key}, at its first place (tryout39 F4: an argument holding a
     * password, the same long warning again at each one of a rule): the same key again in the same rule adds its
     * place to that warning, which {@code message} writes from the further places (none at first), in file order.
     */
    void warnOncePerRule(String key, YamlNode.Location at, Function<List<YamlNode.Location>, String> message) {
        Grouped first = ruleWarnings.get(key);
        if (first == null) {
            warn(at, message.apply(List.of()));
            ruleWarnings.put(key, new Grouped(warnings.size() - 1, message, new ArrayList<>()));
            return;
        }
        first.more().add(at);
        first.more().sort(Comparator.comparingInt(YamlNode.Location::line).thenComparingInt(YamlNode.Location::column));
        Problem said = warnings.get(first.index());
        warnings.set(first.index(), new Problem(file, said.line(), said.column(), first.message().apply(
                List.copyOf(first.more()))));
    }

    /**
     * Notes a follow-up's {@code ${job.url}} at {@code at}: valid whatever the configuration, but empty where it sets no
     * {@code admin.public-url}, which only the configuration knows ({@link RuleSet#jobPageWarnings}).
     */
    void jobPageUse(YamlNode.Location at) {
        jobPageUses.add(new Problem(file, at.line(), at.column(), "'${job.url}' is empty: the configuration sets no"
                + " admin.public-url (the address people open the status page at, https://buildhook.example.com/),"
                + " which a job's page link is made of (docs/configuration.md)"));
    }

    /** The places {@link #jobPageUse} noted, in file order. */
    List<Problem> jobPageUses() {
        List<Problem> sorted = new ArrayList<>(jobPageUses);
        sorted.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
        return List.copyOf(sorted);
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
