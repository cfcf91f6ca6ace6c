package org.buildhook.runner.rules;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** "Did you mean …?" hints for misspelt names, by edit distance. */
public final class Suggestions {

    private Suggestions() {
    }

    /** {@code " (did you mean 'x'?)"} for the closest candidate within reach, else {@code ""}. */
    public static String didYouMean(String written, Collection<String> candidates) {
        return closest(written, candidates).map(c -> " (did you mean '" + c + "'?)").orElse("");
    }

    /** The candidate closest to {@code written}, if it is close enough to be a likely typo. */
    public static Optional<String> closest(String written, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            int d = distance(written.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        // Beyond a third of the word the "suggestion" is noise rather than help.
        int reach = Math.max(2, written.length() / 3);
        return best != null && bestDistance <= reach ? Optional.of(best) : Optional.empty();
    }

    /**
     * As {@link #closest}, also taking {@code written} as a shortened name: a candidate's beginning counts
     * ({@code deploy-tst} is one letter off {@code deploy-test-fleet}'s {@code deploy-test}), as an operator
     * filtering a list types a rule's name from memory (for 4 letters or more). Same reach as {@link #closest} (a third of what was
     * written, at least 2).
     *
     * @return the nearest candidate, or empty when none is close enough (or there is none)
     */
    public static Optional<String> nearest(String written, Collection<String> candidates) {
        String w = written.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            String c = candidate.toLowerCase(Locale.ROOT);
            int d = distance(w, c);
            // Its beginnings at least half as long as what was written, for 4 letters or more: fewer, or a shorter
            // beginning, would match about anything.
            for (int end = Math.max(1, w.length() / 2); w.length() >= 4 && end < c.length(); end++) {
                d = Math.min(d, distance(w, c.substring(0, end)));
            }
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        int reach = Math.max(2, written.length() / 3);
        return best != null && bestDistance <= reach ? Optional.of(best) : Optional.empty();
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
