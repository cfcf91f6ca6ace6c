package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a reload changed that the jobs already stored do not follow by themselves (tryout33 F1, F11): a rule taken
 * out whose {@code run} a rule new in the same version has word for word (likely the same rule renamed: the
 * renamed rule's {@code concurrency} and {@code supersede} see only jobs of its own name), and a rule that now asks
 * for an {@code approval} it did not ask for before (its jobs already stored were planned without one).
 *
 * @param renamedTo    each enabled rule of the version before that the new version no longer enables, to the first
 *                     rule (in file order) new in it whose {@code run} is the same; rules with no such rule are
 *                     absent
 * @param approvalAdded the rules enabled in both versions that ask for an approval now and did not before, in file
 *                     order
 */
public record RulesChange(Map<String, String> renamedTo, List<String> approvalAdded) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public RulesChange {
        renamedTo = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(renamedTo));
        approvalAdded = List.copyOf(approvalAdded);
    }

    /**
     * Compares two versions of the rules by their rules' snapshots (the canonical JSON of each rule as written).
     *
     * @param before the version in force until now
     * @param after  the version now in force
     */
    public static RulesChange between(RuleSet before, RuleSet after) {
        Map<String, JsonNode> old = parsed(before.snapshots());
        Map<String, JsonNode> now = parsed(after.snapshots());
        Map<String, String> renamed = new LinkedHashMap<>();
        old.forEach((name, rule) -> {
            if (!now.containsKey(name)) {
                now.entrySet().stream().filter(e -> !old.containsKey(e.getKey()))
                        .filter(e -> rule.has("run") && rule.get("run").equals(e.getValue().get("run")))
                        .findFirst().ifPresent(e -> renamed.put(name, e.getKey()));
            }
        });
        List<String> approval = new ArrayList<>();
        now.forEach((name, rule) -> {
            if (old.containsKey(name) && rule.has("approval") && !old.get(name).has("approval")) {
                approval.add(name);
            }
        });
        return new RulesChange(renamed, approval);
    }

    /** The rule new in the version after that has the same {@code run} as {@code rule}, taken out; or empty. */
    public Optional<String> renamedTo(String rule) {
        return Optional.ofNullable(renamedTo.get(rule));
    }

    private static Map<String, JsonNode> parsed(Map<String, String> snapshots) {
        Map<String, JsonNode> rules = new LinkedHashMap<>();
        snapshots.forEach((name, json) -> {
            try {
                rules.put(name, JSON.readTree(json));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("a rule's snapshot is JSON buildhook wrote", e);
            }
        });
        return rules;
    }
}
