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
import java.util.function.Function;
import java.util.function.Supplier;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.WebhookException;
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
 * <p>The values too (values43 V2, tryout43 F8): a job keeps the values its rule's command and {@code env} were
 * rendered with, and an older build did not check them ({@link PayloadValues}): {@link #valuesRefusal} checks them
 * again against the job's delivery, as planning would have ({@code ../victim} in {@code [rm, -rf,
 * "/srv/builds/${build.trigger}"]}), unless the stored rule writes {@code payload-values: as-sent}. Such a job ends
 * {@code FAILED} without running, as it would have been stored at planning, and its {@code on-failure} starts.
 *
 * <p>Called at every start of an attempt: the answer is kept by snapshot (a few kilobytes at most per distinct rule
 * version; bounded), with whether its action writes a payload value at all, so that a delivery's body is read and
 * parsed only for the jobs of such rules. Never throws.
 */
public final class StoredJobCheck {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How ActionReader and NodeReader begin the problem of a key they do not know. */
    private static final String UNKNOWN_KEY = "unknown key '";
    /** Distinct rule versions kept; past it the cache starts again (a store holds few at once). */
    private static final int KEPT = 512;
    private static final Map<String, Checked> CHECKED = new ConcurrentHashMap<>();
    /** Thread-safe ({@link BuildEventParser}): the deliveries' bodies are parsed as planning parses them. */
    private static final BuildEventParser EVENTS = new BuildEventParser();
    /**
     * The events of the deliveries whose jobs were checked last, by delivery id (a delivery's body never changes), the
     * least recently used dropped first past {@link #PARSED_KEPT} of them or {@link #PARSED_BYTES} of their bodies: a
     * delivery's jobs are picked one after another, and build 9000's 1,500 runs would parse its 800 KB body 1,500 times;
     * the jobs of several builds picked in turn are checked against theirs. Guarded by itself (its reads reorder it).
     * Before, 4 events were kept and all dropped past them: a backlog of 5 builds' jobs picked in turn parsed a body at
     * every pick (review44 R3).
     */
    private static final java.util.LinkedHashMap<String, Parsed> PARSED = new java.util.LinkedHashMap<>(16, 0.75f,
            true);
    /** Deliveries' events kept at most. */
    private static final int PARSED_KEPT = 32;
    /**
     * The bodies' bytes whose events are kept at most (8 MiB; an event holds its body's fields, unknown ones too): a
     * body larger is parsed for each of its jobs' checks, as before the cache.
     */
    static final long PARSED_BYTES = 8L * 1024 * 1024;
    /** The bytes of the bodies of {@link #PARSED}'s events; guarded by {@link #PARSED}. */
    private static long parsedBytes;

    /** A delivery's event as kept, with the size of the body it was parsed from. */
    private record Parsed(BuildEvent event, long bytes) {
    }

    /**
     * What the check of one snapshot found.
     *
     * @param why    the rule's refusal ({@link #why}), or empty
     * @param values the action to check a job's values by: set when the snapshot reads into one that writes a value
     *               of the build's own text into its command or env, and not {@code payload-values: as-sent}; else
     *               null (nothing to check, no body to read)
     */
    private record Checked(Optional<String> why, Action values) {
    }

    private StoredJobCheck() {
    }

    /**
     * Why this build refuses to run {@code job} as stored, with what to do, in one sentence that names no file (the
     * rule's name and where in the rule the mistake is): {@code its rule 'deploy' as stored with the job is refused by
     * this build: run.command element 3: placeholder … ; fix … then buildhook replay DELIVERY --rule deploy}. Callers
     * put what the refusal stops before it ({@code not run: }, {@code cannot be approved: }).
     *
     * <p>The one place that says whether a stored job may run, with {@link #valuesRefusal}, which checks its values.
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
        return checked(name, snapshot, depth, perRun).why();
    }

    /**
     * Whether a job of this rule as stored has values to check against its delivery ({@link #valuesRefusal}): its
     * rule (or follow-up) is not refused, writes a value of the build's own text into its command or env, and does not
     * write {@code payload-values: as-sent}. Parameters as {@link #why}.
     */
    public static boolean checksValues(String name, String snapshot, int depth, boolean perRun) {
        Checked checked = checked(name, snapshot, depth, perRun);
        return checked.why().isEmpty() && checked.values() != null;
    }

    /**
     * Why this build refuses the values {@code job} was planned with (values43 V2, tryout43 F8: an older build stored
     * it without checking them), in the words planning uses ({@link PayloadValues}: which rule, placeholder and place,
     * what is wrong with the value, what to do) and the replay that makes a new job of its delivery; empty when they
     * pass, when its rule as stored writes {@code payload-values: as-sent} or writes no such value, and when its rule
     * is refused ({@link #refusal(Job)} says that). Reads {@code body} only when there is a value to check and the
     * delivery's event is not kept from a job checked before; throws only what {@code body} and {@code jobs} throw.
     *
     * @param job  the job as stored
     * @param body its delivery's exact body (null when it is gone)
     * @param jobs the stored job of an id, for a follow-up's parent ({@code ${job.*}} written before a value)
     */
    public static Optional<String> valuesRefusal(Job job, Supplier<byte[]> body, Function<String, Optional<Job>> jobs) {
        String parentId = job.workflow().parentId();
        return valuesRefusal(job.ruleName(), job.ruleSnapshot(), job.workflow().depth(), job.runName(),
                job.deliveryId(), body, () -> parentId == null ? null : jobs.apply(parentId).map(p ->
                        new FollowUpParent(p.id(), p.ruleName(), p.state().name(), p.exitCode(), p.attempts(),
                                p.logPath())).orElse(null), refusedWhenPlanned(job));
    }

    /**
     * Whether {@code job} is one planning stored refused ({@code FAILED}, no attempt, planning's {@code not started:
     * rule '…' writes …}), not one stored unchecked and refused at its start (whose message says so): the words of
     * its re-run's refusal differ (tryout44 F6: its 409 said it was "stored with this value unchecked (planned by an
     * older buildhook …)").
     */
    private static boolean refusedWhenPlanned(Job job) {
        String message = job.message();
        return job.state() == org.buildhook.runner.store.JobState.FAILED && job.attempts() == 0 && message != null
                && message.startsWith("not started: rule '") && !message.contains(STORED_UNCHECKED);
    }

    /**
     * As {@link #valuesRefusal(Job, Supplier, Function)}, from the parts of a job it reads, for a listing ({@code
     * check}, a start).
     *
     * @param runName the job's run ({@code match: each}), or null
     * @param parent  the job a follow-up follows, or null (its {@code ${job.*}} values then empty)
     */
    public static Optional<String> valuesRefusal(String rule, String snapshot, int depth, String runName,
            String deliveryId, Supplier<byte[]> body, Supplier<FollowUpParent> parent) {
        return valuesRefusal(rule, snapshot, depth, runName, deliveryId, body, parent, false);
    }

    /** As above; {@code whenPlanned}: the job was stored refused by planning ({@link #refusedWhenPlanned}). */
    private static Optional<String> valuesRefusal(String rule, String snapshot, int depth, String runName,
            String deliveryId, Supplier<byte[]> body, Supplier<FollowUpParent> parent, boolean whenPlanned) {
        Checked checked = checked(rule, snapshot, depth, runName != null);
        if (checked.why().isPresent() || checked.values() == null) {
            return Optional.empty();
        }
        BuildEvent event = parsed(deliveryId);
        if (event == null) {
            byte[] read = body.get();
            try {
                if (read == null) {
                    return Optional.of(valuesUnchecked(rule, deliveryId, "its delivery's body is gone", whenPlanned));
                }
                event = EVENTS.parse(read);
            } catch (WebhookException e) {
                return Optional.of(valuesUnchecked(rule, deliveryId, "its delivery's body is not a build event this"
                        + " build reads (" + e.getMessage() + ")", whenPlanned));
            }
            keep(deliveryId, event, read.length);
        }
        // The endpoint is no placeholder: only BUILDHOOK_ENDPOINT, not checked, holds it. A job keeps its run's name,
        // not which of the event's runs it was: with two runs of one name each is checked, and a value refused in
        // either refuses the job (tryout44 F12: the first run's passed, and the second run's job deleted a folder).
        FollowUpParent followed = depth > 0 ? parent.get() : null;
        for (JobSubject subject : JobSubject.of("", event).forEachRunNamed(runName)) {
            Optional<PayloadValues.Refusal> refused = PayloadValues.check(checked.values(),
                    followed == null ? subject : subject.forFollowUpOf(followed));
            if (refused.isPresent()) {
                return Optional.of(refused.get().why(rule) + ". " + storedValues(rule, deliveryId, whenPlanned));
            }
        }
        return Optional.empty();
    }

    /** The event kept of delivery {@code deliveryId}, now the most recently used; null when none is kept. */
    private static BuildEvent parsed(String deliveryId) {
        synchronized (PARSED) {
            Parsed kept = PARSED.get(deliveryId);
            return kept == null ? null : kept.event();
        }
    }

    /** Keeps {@code event}, parsed from a body of {@code bytes}, dropping the least recently used past the bounds. */
    private static void keep(String deliveryId, BuildEvent event, long bytes) {
        if (bytes > PARSED_BYTES) {
            return;
        }
        synchronized (PARSED) {
            Parsed before = PARSED.put(deliveryId, new Parsed(event, bytes));
            parsedBytes += bytes - (before == null ? 0 : before.bytes());
            java.util.Iterator<Parsed> eldest = PARSED.values().iterator();
            while (PARSED.size() > PARSED_KEPT || parsedBytes > PARSED_BYTES) {
                parsedBytes -= eldest.next().bytes();
                eldest.remove();
            }
        }
    }

    /** How the words of a job stored unchecked and refused where it would start begin: told apart from planning's. */
    private static final String STORED_UNCHECKED = "The job was stored with this value unchecked";

    /**
     * What a value refusal of a stored job adds to planning's words: why it is seen only now (or, {@code whenPlanned},
     * that planning refused it already and it never ran), and the replay.
     */
    private static String storedValues(String name, String deliveryId, boolean whenPlanned) {
        String rule = name.contains("/") ? name.substring(0, name.indexOf('/')) : name;
        return (whenPlanned ? "The job was refused for this value when it was planned, and never ran; a re-run is"
                + " refused for it the same"
                : STORED_UNCHECKED + " (planned by an older buildhook, or by a node of one), and this build checks it"
                        + " where it would start the job")
                + ". If the job is still wanted, change the rule as said, then make a new job of its delivery:"
                + " buildhook replay " + deliveryId + " --rule " + rule;
    }

    private static String valuesUnchecked(String rule, String deliveryId, String why, boolean whenPlanned) {
        return "rule '" + rule + "' writes a value of the build's own text into its command or env, and " + why
                + ", so this build cannot check the value the job was stored with (docs/rules.md#placeholders). "
                + storedValues(rule, deliveryId, whenPlanned);
    }

    private static Checked checked(String name, String snapshot, int depth, boolean perRun) {
        if (snapshot == null || snapshot.isEmpty()) {
            return new Checked(Optional.empty(), null);
        }
        String key = depth + (perRun ? "1" : "0") + name + '\u0000' + snapshot;
        Checked known = CHECKED.get(key);
        if (known != null) {
            return known;
        }
        Checked found = check(name, snapshot, depth, perRun);
        if (CHECKED.size() >= KEPT) {
            CHECKED.clear();
        }
        CHECKED.put(key, found);
        return found;
    }

    private static Checked check(String name, String snapshot, int depth, boolean perRun) {
        Checked none = new Checked(Optional.empty(), null);
        boolean followUp = depth > 0;
        JsonNode stored;
        try {
            stored = JSON.readTree(snapshot);
        } catch (JsonProcessingException e) {
            return none; // a snapshot of another kind (a test's), never one buildhook wrote
        }
        // A rule buildhook stored has its name and run (a follow-up, its command): anything else is no snapshot of
        // a rule it planned (a test's "{}"), with nothing to check.
        if (stored == null || !stored.isObject() || (followUp ? !stored.has("command")
                : !stored.has("name") || !stored.has("run"))) {
            return none;
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
            return none;
        }
        YamlNode checked = root.get();
        Action action;
        if (followUp) {
            int slash = name.lastIndexOf('/');
            Map<String, Integer> declared = new java.util.HashMap<>();
            capacities.fieldNames().forEachRemaining(n -> declared.put(n, WorkflowReader.MAX_CAPACITY));
            action = new ActionReader(problems).read(checked, perRun, declared, depth,
                    slash < 0 ? "follow-up" : name.substring(slash + 1)).orElse(null);
        } else {
            List<Rule> rules = new RulesReader(problems).read(checked);
            action = rules.size() == 1 ? rules.get(0).action() : null;
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
        if (!said.isEmpty()) {
            return new Checked(Optional.of(String.join("; ", said)), null);
        }
        boolean writesValues = action != null && !action.valuesAsSent()
                && PayloadValues.writesPayloadText(action.command(), action.env().values());
        return new Checked(Optional.empty(), writesValues ? action : null);
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
