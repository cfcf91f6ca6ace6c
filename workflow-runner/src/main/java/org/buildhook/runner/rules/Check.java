package org.buildhook.runner.rules;

import java.util.function.Function;

/**
 * One {@code when} matcher: a field of the build (or of a run) and the values it may have.
 *
 * @param key   the key as written in the rules file, for explanations
 * @param field reads the value from the subject; null when the event does not carry it
 */
record Check<T>(String key, Function<T, String> field, ValueMatcher accepted) {

    boolean test(T subject) {
        return accepted.matches(field.apply(subject));
    }

    /** Why {@code subject} fails this check, for a dry run. */
    String mismatch(T subject) {
        String value = field.apply(subject);
        // "trigger is absent does not match containers-devel" read as broken grammar (tryout21 F8.1).
        return value == null ? key + " is absent from the event, so it cannot match " + accepted.describe()
                : key + " '" + value + "' does not match " + accepted.describe();
    }
}
