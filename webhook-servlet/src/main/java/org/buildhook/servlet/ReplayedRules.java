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
import org.buildhook.runner.rules.Suggestions;

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
        List<String> followUps = rules.followUpNames();
        List<String> instead = new ArrayList<>();
        for (String name : asked) {
            if (!rules.ruleNames().contains(name)) {
                unknown.add("'" + LogSafe.escape(name) + "'" + (rules.disabledRuleNames().contains(name)
                        ? " (it has enabled: false)" : ""));
                if (followUps.contains(name)) {
                    instead.add(followUpInstead(name, deliveryId));
                } else if (!rules.disabledRuleNames().contains(name)) {
                    // As jobs --rule (tryout51 F3): a misspelt name, of a rule or of a follow-up, gets the nearest.
                    List<String> candidates = new ArrayList<>(rules.ruleNames());
                    candidates.addAll(followUps);
                    Suggestions.nearest(name, candidates).ifPresent(near -> instead.add("Did you mean '" + near + "'?"
                            + (followUps.contains(near) ? " " + followUpInstead(near, deliveryId) : "")));
                }
            }
        }
        if (!unknown.isEmpty()) {
            throw ApiError.badRequest("no rule " + String.join(", ", unknown) + " is in force in " + rules.source()
                    + "; the rules in force: " + (rules.ruleNames().isEmpty() ? "none"
                            : String.join(", ", rules.ruleNames())) + ". " + (instead.isEmpty() ? ""
                                    : String.join(" ", instead) + " ") + "Nothing was replayed");
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

    /**
     * What to do instead of replaying {@code followUp}, the name the jobs of a follow-up get ({@code chain/on-success},
     * {@link RuleSet#followUpNames}): a replay plans rules, and a follow-up's job is made only by its rule's job.
     * Names its rule, the replay of that rule (which runs the rule's command again too) and the re-run of a follow-up's
     * job alone (migrate53; {@code jobs --rule} knew such names since tryout51 F3, replay refused them with the rules
     * in force only).
     */
    static String followUpInstead(String followUp, String deliveryId) {
        String rule = followUp.substring(0, followUp.indexOf('/'));
        String safe = LogSafe.escape(followUp);
        return "'" + safe + "' is a follow-up of rule '" + LogSafe.escape(rule) + "', not a rule: its jobs are made by"
                + " that rule's jobs, and a replay plans rules. Replay the rule (buildhook replay " + deliveryId
                + " --rule " + LogSafe.escape(rule) + ": its command runs again, then its follow-ups as it ends), or run"
                + " a job of the follow-up again alone (buildhook jobs --rule " + safe + " lists them; buildhook rerun"
                + " JOB).";
    }
}
