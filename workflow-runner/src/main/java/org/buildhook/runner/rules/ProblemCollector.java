package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Gathers the problems of one rules file so they are reported together, in file order. */
final class ProblemCollector {

    private final String file;
    private final List<Problem> problems = new ArrayList<>();

    ProblemCollector(String file) {
        this.file = file;
    }

    /** Records a problem at {@code at}, or about the whole file when {@code at} is null. */
    void add(YamlNode.Location at, String message) {
        problems.add(at == null
                ? new Problem(file, 0, 0, message)
                : new Problem(file, at.line(), at.column(), message));
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    int count() {
        return problems.size();
    }

    /** Throws the collected problems, sorted by position, if there are any. */
    void throwIfAny() {
        if (!problems.isEmpty()) {
            List<Problem> sorted = new ArrayList<>(problems);
            sorted.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
            throw new RuleException(sorted);
        }
    }
}
