package org.buildhook.runner.rules;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/** Decides whether one value (a project, a run name, a status …) is among the values a rule names. */
interface ValueMatcher {

    /** {@code value} is null when the event does not carry it; that never matches. */
    boolean matches(String value);

    /** The accepted values as the operator wrote them, for dry-run explanations. */
    String describe();

    /** The patterns this matcher accepts any of; empty when it is not pattern-based. */
    default List<TextPattern> patterns() {
        return List.of();
    }

    /** Globs or regexes; a list means any of them. */
    static ValueMatcher patterns(List<TextPattern> patterns) {
        List<TextPattern> copy = List.copyOf(patterns);
        if (copy.size() == 1) {
            TextPattern only = copy.get(0);
            return new ValueMatcher() {
                @Override
                public boolean matches(String value) {
                    return only.matches(value);
                }

                @Override
                public String describe() {
                    return only.written();
                }

                @Override
                public List<TextPattern> patterns() {
                    return copy;
                }
            };
        }
        return new ValueMatcher() {
            @Override
            public boolean matches(String value) {
                for (TextPattern p : copy) {
                    if (p.matches(value)) {
                        return true;
                    }
                }
                return false;
            }

            @Override
            public String describe() {
                return copy.stream().map(TextPattern::written).collect(Collectors.joining(", ", "[", "]"));
            }

            @Override
            public List<TextPattern> patterns() {
                return copy;
            }
        };
    }

    /** Status names, compared without regard to case. */
    static ValueMatcher statuses(Set<String> upperCaseNames) {
        Set<String> copy = Set.copyOf(upperCaseNames);
        return new ValueMatcher() {
            @Override
            public boolean matches(String value) {
                // JobServ sends upper case; only other spellings pay for the conversion.
                return value != null && (copy.contains(value) || copy.contains(value.toUpperCase(Locale.ROOT)));
            }

            @Override
            public String describe() {
                return copy.stream().sorted().collect(Collectors.joining(", ", "[", "]"));
            }
        };
    }
}
