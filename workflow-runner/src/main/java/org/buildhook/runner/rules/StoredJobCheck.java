package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.buildhook.runner.store.Job;

/**
 * Whether this build would plan a job as the store holds it (tryout42 F7). A job keeps the command its rule rendered
 * when it was planned: one stored by an older buildhook (queued, waiting, awaiting an approval, or cut short by a stop
 * or a crash), or by an older node of a cluster being upgraded, of a rule this build refuses at load (payload text in
 * shell code), would otherwise run that command, the payload's text with it, under a build that refuses such rules.
 * The rule as stored, the snapshot the job carries ({@link Job#ruleSnapshot()}; a follow-up's is its action), is read
 * through this build's rules checks, alone, without a file: a refused job is not started (the engine cancels it at its
 * pick), approved or re-run, and {@code check} and every start list such jobs.
 *
 * <p>Called at every start of an attempt: the answer is kept by snapshot (a few kilobytes at most per distinct rule
 * version; bounded). Never throws.
 */
public final class StoredJobCheck {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How ActionReader and NodeReader begin the problem of a key they do not know. */
    private static final String UNKNOWN_KEY = "unknown key '";
    /** Distinct rule versions kept; past it the cache starts again (a store holds few at once). */
    private static final int KEPT = 512;
    private static final Map<String, Optional<String>> CHECKED = new ConcurrentHashMap<>();

    private StoredJobCheck() {
    }

    /**
     * Why this build refuses to run {@code job} as stored, with what to do, in one sentence that names no file (the
     * rule's name and where in the rule the mistake is): {@code its rule 'deploy' as stored with the job is refused by
     * this build: run.command element 3: placeholder … ; fix … then buildhook replay DELIVERY --rule deploy}. Callers
     * put what the refusal stops before it ({@code not run: }, {@code cannot be approved: }).
     *
     * <p>The one place that says whether a stored job may run: a check of the stored delivery's values belongs here too.
     *
     * @param job the job as stored, with its real environment (its snapshot's secret values not masked)
     * @return empty when this build would plan the job's rule (or follow-up) as it is stored
     */
    public static Optional<String> refusal(Job job) {
        return refusal(job.ruleName(), job.ruleSnapshot(), job.workflow().depth(), job.runName() != null,
                job.deliveryId());
    }

    /**
     * As {@link #refusal(Job)}, from the parts of a job it reads, for a listing of many jobs ({@code check}, a start).
     *
     * @param rule       the job's rule name ({@code deploy}; a follow-up's {@code deploy/on-success})
     * @param snapshot   the rule snapshot the job carries (a follow-up's: its action)
     * @param depth      0 for a rule's job; a follow-up's depth (1 for a rule's follow-up, 2 for theirs …)
     * @param perRun     whether the job is one of a run ({@code match: each})
     * @param deliveryId the job's delivery, which the replay it advises names
     */
    public static Optional<String> refusal(String rule, String snapshot, int depth, boolean perRun, String deliveryId) {
        return why(rule, snapshot, depth, perRun).map(problem -> depth > 0
                ? followUpRefused(rule, deliveryId, problem) : ruleRefused(rule, deliveryId, problem));
    }

    private static String ruleRefused(String rule, String deliveryId, String problem) {
        return "its rule '" + rule + "' as stored with the job (planned by an older buildhook, or by a node"
                + " of one) is refused by this build: " + problem + ". Fix the rule in the rules file (buildhook check"
                + " says it), then, if the job is still wanted, make a new one of its delivery with the fixed rule in"
                + " force: buildhook replay " + deliveryId + " --rule " + rule;
    }

    private static String followUpRefused(String ruleName, String deliveryId, String problem) {
        String[] names = ruleName.split("/");
        String rule = names[0];
        String key = names.length < 2 ? "follow-up" : String.join(" of ", reversed(names));
        return "its follow-up " + key + " as stored with the job (planned by an older"
                + " buildhook, or by a node of one) is refused by this build: " + problem + ". Fix rule '" + rule
                + "' in the rules file (buildhook check says it); a replay of its delivery with the fixed rule in force"
                + " runs rule '" + rule + "' again, with its follow-ups: buildhook replay " + deliveryId
                + " --rule " + rule;
    }

    /** {@code [deploy, on-failure, on-success]} as {@code 'on-success', 'on-failure', 'deploy'}, the innermost first. */
    private static List<String> reversed(String[] names) {
        List<String> out = new ArrayList<>();
        for (int i = names.length - 1; i >= 0; i--) {
            out.add((i == 0 ? "rule '" : "'") + names[i] + "'");
        }
        return out;
    }

    /**
     * The mistakes this build's rules checks find in a rule (or a follow-up's action) as a job carries it, joined with
     * {@code "; "}, each after where it is in the rule ({@code run.command element 3: …}); empty when there is none.
     *
     * @param name     the job's rule name ({@code deploy}, a follow-up's {@code deploy/on-success})
     * @param snapshot the canonical JSON the job carries; null or not JSON: empty (nothing to check it by)
     * @param depth    0 for a whole rule; a follow-up's action's depth (1 for a rule's follow-up, 2 for theirs …)
     * @param perRun   whether the job is one of a run ({@code match: each}), for a follow-up's run placeholders
     */
    public static Optional<String> why(String name, String snapshot, int depth, boolean perRun) {
        if (snapshot == null || snapshot.isEmpty()) {
            return Optional.empty();
        }
        String key = depth + (perRun ? "1" : "0") + name + '\u0000' + snapshot;
        Optional<String> known = CHECKED.get(key);
        if (known != null) {
            return known;
        }
        Optional<String> found = check(name, snapshot, depth, perRun);
        if (CHECKED.size() >= KEPT) {
            CHECKED.clear();
        }
        CHECKED.put(key, found);
        return found;
    }

    private static Optional<String> check(String name, String snapshot, int depth, boolean perRun) {
        boolean followUp = depth > 0;
        JsonNode stored;
        try {
            stored = JSON.readTree(snapshot);
        } catch (JsonProcessingException e) {
            return Optional.empty(); // a snapshot of another kind (a test's), never one buildhook wrote
        }
        // A rule buildhook stored has its name and run (a follow-up, its command): anything else is no snapshot of
        // a rule it planned (a test's "{}"), with nothing to check.
        if (stored == null || !stored.isObject() || (followUp ? !stored.has("command")
                : !stored.has("name") || !stored.has("run"))) {
            return Optional.empty();
        }
        // Every resource the rule asks for, declared with the largest capacity: the rules file declares them, not the
        // rule, and a job stored keeps the units it was planned with.
        ObjectNode capacities = JSON.createObjectNode();
        stored.findValues("resources").forEach(r -> r.fieldNames()
                .forEachRemaining(n -> capacities.put(n, WorkflowReader.MAX_CAPACITY)));
        String text;
        if (followUp) {
            text = stored.toString();
        } else {
            ObjectNode file = JSON.createObjectNode();
            if (!capacities.isEmpty()) {
                file.set("resources", capacities);
            }
            file.putArray("rules").add(stored);
            text = file.toString();
        }
        ProblemCollector problems = new ProblemCollector("(stored)");
        Optional<YamlNode> root = new YamlTreeReader(problems).read(text);
        if (root.isEmpty()) {
            return Optional.empty();
        }
        YamlNode checked = root.get();
        if (followUp) {
            int slash = name.lastIndexOf('/');
            Map<String, Integer> declared = new java.util.HashMap<>();
            capacities.fieldNames().forEachRemaining(n -> declared.put(n, WorkflowReader.MAX_CAPACITY));
            new ActionReader(problems).read(checked, perRun, declared, depth,
                    slash < 0 ? "follow-up" : name.substring(slash + 1));
        } else {
            new RulesReader(problems).read(checked);
            checked = ((YamlNode.Sequence) ((YamlNode.Mapping) checked).entries().get("rules").value()).items().get(0);
        }
        List<String> said = new ArrayList<>();
        for (Problem p : problems.sorted()) {
            if (p.message().startsWith(UNKNOWN_KEY)) {
                // A key this build does not know was written by a newer one (a rolling upgrade's newer node planned
                // the job; tryout43 F9), not refused by this build's checks: the job runs as stored, as before.
                continue;
            }
            String at = followUp ? where(name.substring(name.lastIndexOf('/') + 1), checked, p)
                    : where(null, checked, p);
            said.add((at.isEmpty() ? "" : at + ": ") + p.message());
        }
        return said.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", said));
    }

    /**
     * Where in {@code node} the problem {@code p} is, as a path of keys and elements ({@code run.command element 3},
     * {@code supersede.key}): the last node or key written at or before the problem's place, which holds it (a
     * placeholder's problem is at the placeholder, inside its element); empty when it is about the whole rule.
     */
    private static String where(String prefix, YamlNode node, Problem p) {
        List<String> best = new ArrayList<>();
        find(node, new YamlNode.Location(p.line(), p.column()), new ArrayList<>(), best);
        List<String> path = new ArrayList<>();
        if (prefix != null) {
            path.add(prefix);
        }
        path.addAll(best);
        StringBuilder out = new StringBuilder();
        for (String part : path) {
            out.append(part.startsWith(" ") || out.length() == 0 ? "" : ".").append(part);
        }
        return out.toString();
    }

    /** Walks {@code node} in the order written, keeping in {@code best} the path of the last place at or before {@code at}. */
    private static void find(YamlNode node, YamlNode.Location at, List<String> path, List<String> best) {
        if (!after(node.location(), at)) {
            best.clear();
            best.addAll(path);
        }
        if (node instanceof YamlNode.Mapping mapping) {
            for (YamlNode.Entry entry : mapping.entries().values()) {
                path.add(entry.key());
                if (!after(entry.keyLocation(), at)) {
                    best.clear();
                    best.addAll(path);
                }
                find(entry.value(), at, path, best);
                path.remove(path.size() - 1);
            }
        } else if (node instanceof YamlNode.Sequence sequence) {
            for (int i = 0; i < sequence.items().size(); i++) {
                path.add(" element " + (i + 1));
                find(sequence.items().get(i), at, path, best);
                path.remove(path.size() - 1);
            }
        }
    }

    private static boolean after(YamlNode.Location place, YamlNode.Location at) {
        return place.line() > at.line() || (place.line() == at.line() && place.column() > at.column());
    }
}
