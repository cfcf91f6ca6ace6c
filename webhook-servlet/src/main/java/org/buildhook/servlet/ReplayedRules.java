package org.buildhook.servlet;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.rules.DryRun;
import org.buildhook.runner.rules.RuleSet;

/**
 * The jobs a replay plans: every firing rule's, or, with {@code ?rule=NAME} (repeatable), only the named rules'
 * (tryout34 F8: an operator who wanted only the deploy replayed got every matching rule's jobs). A named rule that
 * is not in force, or in force but not firing for the delivery, refuses the whole replay, naming each and why, so
 * nothing is planned that the operator did not ask for.
 */
final class ReplayedRules {

    private ReplayedRules() {
    }

    /**
     * @param names the rules asked for; null or empty for every firing rule
     * @throws ApiError 400 naming a rule not in force (with the names in force), 409 naming a rule that does not fire
     *                  for this delivery (with its reason)
     */
    static List<PlannedJob> plan(RuleSet rules, String endpoint, BuildEvent event, String deliveryId, String[] names) {
        if (names == null || names.length == 0) {
            return rules.match(endpoint, event);
        }
        Set<String> asked = new LinkedHashSet<>(List.of(names));
        List<String> unknown = new ArrayList<>();
        for (String name : asked) {
            if (!rules.ruleNames().contains(name)) {
                unknown.add("'" + LogSafe.escape(name) + "'" + (rules.disabledRuleNames().contains(name)
                        ? " (it has enabled: false)" : ""));
            }
        }
        if (!unknown.isEmpty()) {
            throw ApiError.badRequest("no rule " + String.join(", ", unknown) + " is in force in " + rules.source()
                    + "; the rules in force: " + (rules.ruleNames().isEmpty() ? "none"
                            : String.join(", ", rules.ruleNames())) + ". Nothing was replayed");
        }
        DryRun dryRun = rules.explain(endpoint, event);
        List<String> notFiring = new ArrayList<>();
        List<PlannedJob> planned = new ArrayList<>();
        for (DryRun.Verdict verdict : dryRun.verdicts()) {
            if (!asked.contains(verdict.rule())) {
                continue;
            }
            if (verdict.fires()) {
                planned.addAll(verdict.jobs());
            } else {
                notFiring.add("'" + verdict.rule() + "' (" + LogSafe.escape(String.valueOf(verdict.whyNot())) + ")");
            }
        }
        if (!notFiring.isEmpty()) {
            throw new ApiError(409, "rule " + String.join(", ", notFiring) + " does not match delivery " + deliveryId
                    + " under the rules in force now; nothing was replayed (buildhook test shows each rule's verdict"
                    + " for a body)");
        }
        return List.copyOf(planned);
    }
}
