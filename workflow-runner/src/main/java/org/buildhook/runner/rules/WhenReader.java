package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.buildhook.core.BuildStatus;
import org.buildhook.core.Run;

/** Reads a rule's {@code when} mapping into checks and an optional run selector. */
final class WhenReader extends NodeReader {

    static final Set<String> KEYS = Set.of("endpoint", "project", "factory", "trigger", "status", "runs");
    static final Set<String> RUNS_KEYS = Set.of("match", "name", "host-tag", "status");
    private static final Set<String> STATUSES = Arrays.stream(BuildStatus.Known.values())
            .filter(k -> k != BuildStatus.Known.UNKNOWN)
            .map(Enum::name)
            .collect(Collectors.toCollection(LinkedHashSet::new));

    /**
     * What a {@code when} mapping became.
     *
     * @param perRun whether {@code ${run.*}} may be used: {@code match: each}, or a {@code runs} so
     *               broken that it was already reported (so as not to add a second, misleading error)
     */
    record When(List<Check<JobSubject>> checks, RunSelector runs, boolean perRun) {
        static final When EVERYTHING = new When(List.of(), null, false);
    }

    WhenReader(ProblemCollector problems) {
        super(problems);
    }

    When read(YamlNode node) {
        List<Check<JobSubject>> checks = new ArrayList<>();
        if (node instanceof YamlNode.Scalar && ((YamlNode.Scalar) node).isNull()) {
            return When.EVERYTHING; // "when:" with nothing under it matches everything
        }
        Optional<YamlNode.Mapping> when = mapping(node, "'when'");
        if (when.isEmpty()) {
            return When.EVERYTHING;
        }
        // A key of runs written on when (host-tag: beside trigger:), how one first writes "when an aarch64 run
        // fails", says where it goes (tryout47b F11).
        onlyKeys(when.get(), KEYS, "when", key -> RUNS_KEYS.contains(key)
                ? ": '" + key + "' is a key of 'runs' under 'when', which picks the build's runs (when: {runs: {" + key
                        + ": …}}, e.g. runs: {host-tag: aarch64, status: FAILED})" : null);
        var entries = when.get().entries();
        // Cheapest and most selective first: most rules are rejected by the first check.
        addPatterns(checks, entries.get("endpoint"), "endpoint", JobSubject::endpoint);
        addPatterns(checks, entries.get("trigger"), "trigger", s -> s.event().triggerName());
        addStatuses(checks, entries.get("status"), "status", s -> s.event().status().value());
        addPatterns(checks, entries.get("factory"), "factory", JobSubject::factory);
        addPatterns(checks, entries.get("project"), "project", JobSubject::project);
        if (!entries.containsKey("runs")) {
            return new When(checks, null, false);
        }
        int before = problems.count();
        RunSelector runs = readRuns(entries.get("runs").value());
        boolean perRun = runs == null || runs.mode() == RunSelector.Mode.EACH || problems.count() > before;
        return new When(checks, runs, perRun);
    }

    private RunSelector readRuns(YamlNode node) {
        Optional<YamlNode.Mapping> runs = mapping(node, "'runs'");
        if (runs.isEmpty()) {
            return null;
        }
        onlyKeys(runs.get(), RUNS_KEYS, "runs", key -> KEYS.contains(key)
                ? ": '" + key + "' is a key of 'when', beside 'runs', not under it (when: {" + key + ": …, runs: {…}})"
                : null);
        var entries = runs.get().entries();
        RunSelector.Mode mode = RunSelector.Mode.ANY;
        YamlNode.Entry match = entries.get("match");
        if (match != null) {
            Optional<String> written = text(match.value(), "'match'");
            if (written.isPresent()) {
                try {
                    mode = RunSelector.Mode.valueOf(written.get().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    problems.add(match.value().location(), "bad match '" + written.get()
                            + "': write any, all or each");
                }
            }
        }
        List<Check<Run>> checks = new ArrayList<>();
        addPatterns(checks, entries.get("name"), "run name", Run::name);
        addPatterns(checks, entries.get("host-tag"), "run host-tag", Run::hostTag);
        addStatuses(checks, entries.get("status"), "run status", r -> r.status().value());
        return new RunSelector(mode, checks);
    }

    private <T> void addPatterns(List<Check<T>> checks, YamlNode.Entry entry, String key, Function<T, String> field) {
        if (entry == null) {
            return;
        }
        List<TextPattern> patterns = new ArrayList<>();
        for (YamlNode.Scalar value : oneOrMany(entry.value(), "'" + entry.key() + "'")) {
            try {
                patterns.add(TextPattern.parse(value.text()));
            } catch (IllegalArgumentException e) {
                problems.add(value.location(), e.getMessage() + " in '" + entry.key() + "'");
            }
        }
        if (!patterns.isEmpty()) {
            checks.add(new Check<>(key, field, ValueMatcher.patterns(patterns)));
        }
    }

    private <T> void addStatuses(List<Check<T>> checks, YamlNode.Entry entry, String key, Function<T, String> field) {
        if (entry == null) {
            return;
        }
        Set<String> names = new LinkedHashSet<>();
        for (YamlNode.Scalar value : oneOrMany(entry.value(), "'" + entry.key() + "'")) {
            String name = value.text().trim().toUpperCase(Locale.ROOT);
            if (STATUSES.contains(name)) {
                names.add(name);
            } else {
                problems.add(value.location(), "unknown status '" + value.text() + "'"
                        + Suggestions.didYouMean(name, STATUSES) + "; known: " + String.join(", ", STATUSES));
            }
        }
        if (!names.isEmpty()) {
            checks.add(new Check<>(key, field, ValueMatcher.statuses(names)));
        }
    }
}
