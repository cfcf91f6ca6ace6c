package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.buildhook.core.Run;

/**
 * The {@code runs} matcher: which runs of the build count, and whether any, all, or each of them
 * makes the rule fire ({@code each} plans one job per matching run).
 */
record RunSelector(Mode mode, List<Check<Run>> checks) {

    /** How the runs that pass the checks decide whether the rule fires. */
    enum Mode {
        /** At least one run matches; one job. */
        ANY,
        /** The build has runs and every one matches; one job. */
        ALL,
        /** One job for every matching run; none when no run matches. */
        EACH
    }

    RunSelector {
        checks = List.copyOf(checks);
    }

    boolean matches(Run run) {
        for (Check<Run> check : checks) {
            if (!check.test(run)) {
                return false;
            }
        }
        return true;
    }

    /** Whether an any/all selector accepts the build's runs. */
    boolean accepts(List<Run> runs) {
        if (mode == Mode.ALL) {
            if (runs.isEmpty()) {
                return false;
            }
            for (Run run : runs) {
                if (!matches(run)) {
                    return false;
                }
            }
            return true;
        }
        for (Run run : runs) {
            if (matches(run)) {
                return true;
            }
        }
        return false;
    }

    /** For {@code each}: the matching runs, in the event's order. */
    List<Run> select(List<Run> runs) {
        List<Run> selected = new ArrayList<>();
        for (Run run : runs) {
            if (matches(run)) {
                selected.add(run);
            }
        }
        return selected;
    }

    /** Why the runs do not satisfy this selector, for a dry run. */
    String mismatch(List<Run> runs) {
        if (runs.isEmpty()) {
            return "runs (" + modeName() + "): the build has no runs";
        }
        if (mode == Mode.ALL) {
            for (Run run : runs) {
                for (Check<Run> check : checks) {
                    if (!check.test(run)) {
                        return "runs (all): run '" + run.name() + "': " + check.mismatch(run);
                    }
                }
            }
        }
        return "runs (" + modeName() + "): no run has " + describe();
    }

    String describe() {
        if (checks.isEmpty()) {
            return "any properties";
        }
        return checks.stream().map(c -> c.key() + " " + c.accepted().describe()).collect(Collectors.joining(" and "));
    }

    private String modeName() {
        return mode.name().toLowerCase(java.util.Locale.ROOT);
    }
}
