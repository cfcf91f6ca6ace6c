package org.buildhook.runner.rules;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the workflow parts of a rules file: the top-level {@code resources} (named capacities) and a
 * rule's {@code supersede} and {@code approval}.
 */
final class WorkflowReader extends NodeReader {

    static final Set<String> SUPERSEDE_KEYS = Set.of("key", "running");
    static final Set<String> APPROVAL_KEYS = Set.of("expires");
    static final Duration DEFAULT_APPROVAL_EXPIRY = Duration.ofHours(24);
    static final int MAX_CAPACITY = 10_000;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

    WorkflowReader(ProblemCollector problems) {
        super(problems);
    }

    /** The capacity of a declared resource whose capacity is a mistake. */
    static final int NO_CAPACITY = 0;

    /**
     * {@code resources: {name: capacity}}; each mistake recorded. A well-named resource whose capacity
     * is wrong maps to {@link #NO_CAPACITY}, so that what asks for it says so rather than calling it
     * unknown (the file is refused either way).
     */
    Map<String, Integer> resources(YamlNode node) {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (node instanceof YamlNode.Scalar && ((YamlNode.Scalar) node).isNull()) {
            return out;
        }
        Optional<YamlNode.Mapping> mapping = mapping(node, "'resources'");
        if (mapping.isEmpty()) {
            return out;
        }
        Map<String, YamlNode.Entry> byVariable = new LinkedHashMap<>();
        for (YamlNode.Entry entry : mapping.get().entries().values()) {
            if (!NAME.matcher(entry.key()).matches()) {
                problems.add(entry.keyLocation(), "bad resource name '" + entry.key()
                        + "': use letters, digits, '.', '_' and '-' (at most 100), starting with a letter or digit");
                continue;
            }
            // Each resource tells its jobs their units in a variable of its own (units32): two names that give one
            // variable would tell a job holding units of both only one resource's numbers. A warning, not a
            // refusal: such a file was valid before the variables existed, and must still load after an upgrade
            // (review32); a job holding units of both is told neither (ResourceVariable.variables).
            String variable = ResourceVariable.of(entry.key());
            YamlNode.Entry same = byVariable.putIfAbsent(variable, entry);
            if (same != null) {
                problems.warn(entry.keyLocation(), "resource '" + entry.key() + "' would tell its jobs their units in "
                        + variable + ", as resource '" + same.key() + "' (line " + same.keyLocation().line()
                        + ") does: names that differ only in case or in '.', '_' and '-' give one variable, so a job"
                        + " holding units of both is told neither; rename one");
            }
            out.put(entry.key(), integer(entry.value(), "the capacity of resource '" + entry.key() + "'", 1,
                    MAX_CAPACITY).orElse(NO_CAPACITY));
        }
        return out;
    }

    /** A rule's {@code supersede: {key: template, running: keep|cancel}}. */
    RuleWorkflow supersede(YamlNode node, boolean perRun, RuleWorkflow into) {
        Optional<YamlNode.Mapping> mapping = mapping(node, "'supersede'");
        if (mapping.isEmpty()) {
            return into;
        }
        Set<String> misspelt = onlyKeys(mapping.get(), SUPERSEDE_KEYS, "supersede");
        var entries = mapping.get().entries();
        YamlNode.Entry key = entries.get("key");
        Template template = null;
        if (key == null) {
            if (!misspelt.contains("key")) {
                problems.add(mapping.get().location(), "'supersede' has no 'key' (write key: \"${build.project}/${build.trigger}\")");
            }
        } else {
            Optional<String> text = text(key.value(), "'key'");
            if (text.isPresent()) {
                template = Template.parse(text.get(), Template.Where.SUPERSEDE_KEY,
                        message -> problems.add(key.value().location(), message));
                for (Placeholder p : template.placeholders()) {
                    if (p.isPerRun() && !perRun) {
                        problems.add(key.value().location(), "placeholder '${" + p.placeholderName()
                                + "}' needs a run: use it only in rules with runs: {match: each}");
                    } else if (p.isFollowUp()) {
                        problems.add(key.value().location(), "placeholder '${" + p.placeholderName()
                                + "}' is only for follow-ups, not for a supersede key");
                    }
                }
            }
        }
        boolean cancelRunning = false;
        YamlNode.Entry running = entries.get("running");
        if (running != null) {
            Optional<String> text = text(running.value(), "'running'");
            if (text.isPresent() && text.get().equals("cancel")) {
                cancelRunning = true;
            } else if (text.isPresent() && !text.get().equals("keep")) {
                problems.add(running.value().location(), "'running' must be keep (a running job of an older build"
                        + " goes on) or cancel (its process tree is killed), got '" + text.get() + "'");
            }
        }
        return new RuleWorkflow(template, cancelRunning, into.approvalExpiry());
    }

    /** A rule's {@code approval: {expires: 24h}}. */
    RuleWorkflow approval(YamlNode node, RuleWorkflow into) {
        Duration expires = DEFAULT_APPROVAL_EXPIRY;
        if (!(node instanceof YamlNode.Scalar && ((YamlNode.Scalar) node).isNull())) {
            Optional<YamlNode.Mapping> mapping = mapping(node, "'approval'");
            if (mapping.isEmpty()) {
                return into;
            }
            onlyKeys(mapping.get(), APPROVAL_KEYS, "approval");
            YamlNode.Entry entry = mapping.get().entries().get("expires");
            if (entry != null) {
                Optional<String> text = text(entry.value(), "'expires'");
                if (text.isPresent()) {
                    try {
                        expires = Durations.parse(text.get());
                        if (expires.isZero()) {
                            problems.add(entry.value().location(), "'expires' must be longer than zero");
                            expires = DEFAULT_APPROVAL_EXPIRY;
                        } else if (expires.compareTo(Action.LONGEST) > 0) {
                            problems.add(entry.value().location(), tooLong("'expires'", text.get()));
                            expires = DEFAULT_APPROVAL_EXPIRY;
                        }
                    } catch (IllegalArgumentException e) {
                        problems.add(entry.value().location(), e.getMessage() + " in 'expires'");
                    }
                }
            }
        }
        return new RuleWorkflow(into.supersedeKey(), into.supersedeRunning(), expires);
    }
}
