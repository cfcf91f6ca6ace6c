package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Turns the located tree of a whole rules file into rules, recording every mistake. */
final class RulesReader extends NodeReader {

    static final Set<String> TOP_KEYS = Set.of("rules", "resources");
    static final Set<String> RULE_KEYS = Set.of("name", "description", "enabled", "when", "run", "supersede",
            "approval", RuleRenamedFrom.KEY, FollowUpReader.ON_SUCCESS, FollowUpReader.ON_FAILURE, FollowUpReader.ON_CANCEL,
            FollowUpReader.ON_APPROVAL_REQUEST);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

    private final WhenReader when;
    private final ActionReader action;
    private final WorkflowReader workflow;
    private Map<String, Integer> capacities = Map.of();
    private final List<String> disabled = new ArrayList<>();
    /** Each {@code renamed-from} name written, by the rule that writes it (rename35); checked once all are read. */
    private final List<Renamed> renamed = new ArrayList<>();
    /**
     * The names of the enabled rules, those with a mistake of their own too: a rule's name is known even when its
     * body is wrong, and {@code renamed-from} naming it is a mistake to list in the same run (tryout36 F2).
     */
    private final Set<String> enabledNames = new java.util.HashSet<>();

    private record Renamed(String rule, String old, YamlNode.Location at) {
    }

    RulesReader(ProblemCollector problems) {
        super(problems);
        this.workflow = new WorkflowReader(problems);
        this.when = new WhenReader(problems);
        this.action = new ActionReader(problems);
    }

    /**
     * An empty file is most likely one caught while being written in place, or emptied by mistake:
     * putting "no rules" in force would accept builds and run nothing for them.
     */
    static void refuseEmpty(ProblemCollector problems) {
        problems.add(new YamlNode.Location(1, 1), "the rules file is empty (still being written?);"
                + " to run nothing on purpose, write 'rules: []'");
    }

    /** The shared resources the file declares (name to capacity); read by {@link #read}. */
    Map<String, Integer> capacities() {
        return capacities;
    }

    /** The names of the rules written with {@code enabled: false}, in file order; filled by {@link #read}. */
    List<String> disabled() {
        return List.copyOf(disabled);
    }

    /** The enabled rules, in file order; valid only when no problem was recorded. */
    List<Rule> read(YamlNode root) {
        List<Rule> rules = new ArrayList<>();
        if (root instanceof YamlNode.Scalar && ((YamlNode.Scalar) root).isNull()) {
            refuseEmpty(problems);
            return rules;
        }
        if (!(root instanceof YamlNode.Mapping)) {
            problems.add(root.location(), "the rules file must be a mapping (key: value lines), got "
                    + YamlNode.describeDocument(root));
            return rules;
        }
        Optional<YamlNode.Mapping> top = Optional.of((YamlNode.Mapping) root);
        onlyKeys(top.get(), TOP_KEYS, "the rules file");
        YamlNode.Entry declared = top.get().entries().get("resources");
        if (declared != null) {
            capacities = workflow.resources(declared.value());
        }
        YamlNode.Entry list = top.get().entries().get("rules");
        if (list == null || (list.value() instanceof YamlNode.Scalar && ((YamlNode.Scalar) list.value()).isNull())) {
            return rules;
        }
        if (!(list.value() instanceof YamlNode.Sequence)) {
            problems.add(list.value().location(), "'rules' must be a list of rules (each starting with '- name:'), got "
                    + describe(list.value()));
            return rules;
        }
        Map<String, YamlNode.Location> seen = new HashMap<>();
        for (YamlNode item : ((YamlNode.Sequence) list.value()).items()) {
            readRule(item, seen).ifPresent(rules::add);
        }
        checkRenames();
        return rules;
    }

    /**
     * A {@code renamed-from} name may be a rule long gone (nothing to check it against), but not a rule in force:
     * that rule's jobs are its own, and the rename would count them twice over; nor the rule itself, nor a name
     * another rule already says it was renamed from (whose jobs would be counted by two rules).
     */
    private void checkRenames() {
        Set<String> inForce = enabledNames;
        Map<String, Renamed> claimed = new HashMap<>();
        for (Renamed r : renamed) {
            if (r.old().equals(r.rule())) {
                problems.add(r.at(), "rule '" + r.rule() + "' is renamed from itself: 'renamed-from' names the rule's"
                        + " old name(s), the ones its jobs were stored under before (remove '" + r.old() + "')");
            } else if (inForce.contains(r.old())) {
                problems.add(r.at(), "rule '" + r.rule() + "' says it is renamed from '" + r.old() + "', which is a"
                        + " rule in force in this file: its jobs are its own; remove '" + r.old() + "' from"
                        + " 'renamed-from', or remove (or disable with enabled: false) rule '" + r.old() + "'");
            } else {
                Renamed first = claimed.putIfAbsent(r.old(), r);
                if (first != null && !first.rule().equals(r.rule())) {
                    problems.add(r.at(), "rule '" + r.rule() + "' says it is renamed from '" + r.old() + "', as rule '"
                            + first.rule() + "' does (line " + first.at().line() + "): a rule's old name belongs to"
                            + " one rule only");
                }
            }
        }
    }

    /** Reads {@code renamed-from}: one old rule name or a list of them, each a valid rule name. */
    private void renamedFrom(String rule, YamlNode value) {
        List<YamlNode> items = value instanceof YamlNode.Sequence ? ((YamlNode.Sequence) value).items() : List.of(value);
        if (value instanceof YamlNode.Sequence && items.isEmpty()) {
            problems.add(value.location(), "'renamed-from' is an empty list: write the rule's old name (or a list of"
                    + " them), or remove the key");
        }
        for (YamlNode item : items) {
            Optional<String> old = text(item, items.size() == 1 && item == value ? "'renamed-from'"
                    : "each value of 'renamed-from'");
            if (old.isPresent() && !NAME.matcher(old.get()).matches()) {
                problems.add(item.location(), "bad rule name '" + old.get() + "' in 'renamed-from': a rule's old"
                        + " name is a rule name (letters, digits, '.', '_' and '-', at most 100, starting with a"
                        + " letter or digit)");
            } else if (old.isPresent() && rule != null) {
                renamed.add(new Renamed(rule, old.get(), item.location()));
            }
        }
    }

    private Optional<Rule> readRule(YamlNode node, Map<String, YamlNode.Location> seen) {
        problems.startRule();
        Optional<YamlNode.Mapping> mapping = mapping(node, "each rule");
        if (mapping.isEmpty()) {
            return Optional.empty();
        }
        YamlNode.Mapping rule = mapping.get();
        // A key of the action written on the rule (concurrency: 1 beside run:) says where it goes (tryout38 F7).
        Set<String> misspelt = onlyKeys(rule, RULE_KEYS, "rule", key -> ActionReader.KEYS.contains(key)
                ? ": it belongs under 'run' (run: {command: […], " + key + ": …})" : null);
        var entries = rule.entries();
        String name = misspelt.contains("name") && !entries.containsKey("name") ? null : name(rule, seen);
        boolean enabled = !entries.containsKey("enabled") || bool(entries.get("enabled").value(), "'enabled'").orElse(true);
        if (entries.containsKey("description")) {
            text(entries.get("description").value(), "'description'");
        }
        WhenReader.When conditions = entries.containsKey("when")
                ? when.read(entries.get("when").value())
                : WhenReader.When.EVERYTHING;
        boolean perRun = conditions.perRun();
        YamlNode.Entry run = entries.get("run");
        if (run == null) {
            if (misspelt.contains("run")) {
                return Optional.empty();
            }
            problems.add(rule.location(), "rule" + (name == null ? "" : " '" + name + "'")
                    + " has no 'run' (write run: {command: [/path/to/program, …]})");
            return Optional.empty();
        }
        int before = problems.count();
        Optional<Action> act = action.read(run.value(), perRun, capacities, 0);
        RuleWorkflow parts = RuleWorkflow.NONE;
        if (entries.containsKey("supersede")) {
            parts = workflow.supersede(entries.get("supersede").value(), perRun, parts);
        }
        if (entries.containsKey("approval")) {
            parts = workflow.approval(entries.get("approval").value(), parts);
        }
        String followUps = new FollowUpReader(problems).read(rule, perRun, capacities, 0);
        YamlNode.Entry request = entries.get(FollowUpReader.ON_APPROVAL_REQUEST);
        if (request != null && !entries.containsKey("approval")) {
            problems.add(request.keyLocation(), "'" + FollowUpReader.ON_APPROVAL_REQUEST + "' starts when a job of the"
                    + " rule begins to await an approval, but rule" + (name == null ? "" : " '" + name + "'")
                    + " asks for none: add 'approval: {expires: 24h}' beside it, or remove it");
        }
        if (entries.containsKey(RuleRenamedFrom.KEY)) {
            renamedFrom(enabled ? name : null, entries.get(RuleRenamedFrom.KEY).value());
            if (enabled && act.isPresent() && act.get().concurrency() == 0) {
                // tryout36 F9: accepted silently, though it then keeps no second deploy from starting (a supersede
                // with running: cancel stops the old name's jobs of older builds of its key only: renames37).
                problems.warn(entries.get(RuleRenamedFrom.KEY).keyLocation(), "'renamed-from' keeps nothing from"
                        + " running beside the old name's running jobs here: rule"
                        + (name == null ? "" : " '" + name + "'") + " has no 'concurrency', and the key only makes"
                        + " a rule's concurrency count them ('supersede' with running: cancel stops only those of"
                        + " an older build of its key); add 'concurrency: 1'"
                        + " to its run for its jobs to wait for them");
            }
        }
        if (name != null && !enabled) {
            disabled.add(name);
        } else if (name != null) {
            enabledNames.add(name);
        }
        if (name == null || act.isEmpty() || !enabled || problems.count() > before) {
            return Optional.empty();
        }
        return Optional.of(new Rule(name, Snapshot.of(rule), conditions.checks(), conditions.runs(),
                act.get().withFollowUps(followUps), parts));
    }

    private String name(YamlNode.Mapping rule, Map<String, YamlNode.Location> seen) {
        YamlNode.Entry entry = rule.entries().get("name");
        if (entry == null) {
            problems.add(rule.location(), "rule has no 'name' (every rule needs a unique name)");
            return null;
        }
        Optional<String> name = text(entry.value(), "'name'");
        if (name.isEmpty()) {
            return null;
        }
        if (!NAME.matcher(name.get()).matches()) {
            problems.add(entry.value().location(), "bad rule name '" + name.get()
                    + "': use letters, digits, '.', '_' and '-' (at most 100), starting with a letter or digit");
            return null;
        }
        YamlNode.Location first = seen.putIfAbsent(name.get(), entry.value().location());
        if (first != null) {
            problems.add(entry.value().location(), "duplicate rule name '" + name.get()
                    + "' (first used on line " + first.line() + ")");
            return null;
        }
        return name.get();
    }
}
