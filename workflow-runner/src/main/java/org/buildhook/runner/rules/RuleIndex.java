package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Narrows the rules worth checking for one event by its factory, so large rule sets made of
 * per-factory rules do not cost a check of every rule. A rule whose {@code factory} is exact text,
 * or whose every {@code project} pattern starts with {@code <factory>/}, can only fire for those
 * factories and is indexed under them; every other rule is checked for every event. Candidates
 * come out in file order, so the index never changes which jobs are planned or their order.
 */
final class RuleIndex {

    private static final int[] NONE = new int[0];

    private final Map<String, int[]> byFactory;
    private final int[] everyEvent;

    RuleIndex(List<Rule> rules) {
        Map<String, List<Integer>> indexed = new HashMap<>();
        List<Integer> others = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            Set<String> factories = factoriesOf(rules.get(i));
            if (factories == null) {
                others.add(i);
            } else {
                for (String factory : factories) {
                    indexed.computeIfAbsent(factory, f -> new ArrayList<>()).add(i);
                }
            }
        }
        Map<String, int[]> compact = new HashMap<>();
        indexed.forEach((factory, positions) -> compact.put(factory, toArray(positions)));
        this.byFactory = Map.copyOf(compact);
        this.everyEvent = toArray(others);
    }

    /** Positions of the rules that may fire for an event of {@code factory}, ascending. */
    int[] candidates(JobSubject subject) {
        if (byFactory.isEmpty()) {
            return everyEvent;
        }
        int[] forFactory = byFactory.getOrDefault(subject.factory(), NONE);
        if (forFactory.length == 0) {
            return everyEvent;
        }
        if (everyEvent.length == 0) {
            return forFactory;
        }
        return merge(forFactory, everyEvent);
    }

    /** The only factories {@code rule} can fire for, or null when it is not bound to any. */
    private static Set<String> factoriesOf(Rule rule) {
        for (Check<JobSubject> check : rule.checks()) {
            List<TextPattern> patterns = check.accepted().patterns();
            if (patterns.isEmpty()) {
                continue;
            }
            Set<String> factories = new LinkedHashSet<>();
            for (TextPattern p : patterns) {
                String factory = null;
                if (check.key().equals("factory") && p.isLiteral()) {
                    factory = p.literalPrefix();
                } else if (check.key().equals("project") && p.literalPrefix().indexOf('/') >= 0) {
                    factory = p.literalPrefix().substring(0, p.literalPrefix().indexOf('/'));
                }
                if (factory == null) {
                    factories = null;
                    break;
                }
                factories.add(factory);
            }
            if (factories != null) {
                return factories;
            }
        }
        return null;
    }

    private static int[] merge(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        int i = 0;
        int j = 0;
        int k = 0;
        while (i < a.length && j < b.length) {
            out[k++] = a[i] < b[j] ? a[i++] : b[j++];
        }
        while (i < a.length) {
            out[k++] = a[i++];
        }
        while (j < b.length) {
            out[k++] = b[j++];
        }
        return out;
    }

    private static int[] toArray(List<Integer> positions) {
        int[] out = new int[positions.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = positions.get(i);
        }
        return out;
    }
}
