package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.buildhook.core.BuildEvent;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.RunnerException;

/**
 * Plans the follow-up a job starts when it ends, from the specification its rule gave it
 * ({@link JobWorkflow#followUps()}): {@code on-success} after {@code SUCCEEDED}; {@code on-failure}
 * after {@code FAILED} or {@code TIMED_OUT} (so after the last retry, and also when the command could
 * not start); {@code on-cancel} after {@code CANCELLED}, and after {@code SUPERSEDED} when the job
 * had started (its command was stopped, or stopped short of a retry, for a newer build: what it began
 * may need the same clean-up as a cancelled job's). Other final states (superseded before it started,
 * rejected, expired) start none. And a rule's {@code on-approval-request} when its job begins to await an approval
 * ({@code AWAITING_APPROVAL}, not a final state: {@link org.buildhook.runner.store.FollowUpLedger#awaitingRequests}).
 */
public final class FollowUps {

    private static final ObjectMapper JSON = new ObjectMapper();

    private FollowUps() {
    }

    /**
     * Which follow-up key a final state starts (or {@code AWAITING_APPROVAL}: {@code on-approval-request}), or empty
     * for none.
     *
     * @param finalState the job's final state's name
     * @param attempts   how many attempts the job had started (0 when its command never started)
     */
    public static Optional<String> keyFor(String finalState, int attempts) {
        switch (finalState) {
            case "SUCCEEDED":
                return Optional.of(FollowUpReader.ON_SUCCESS);
            case "FAILED":
            case "TIMED_OUT":
                return Optional.of(FollowUpReader.ON_FAILURE);
            case "CANCELLED":
                return Optional.of(FollowUpReader.ON_CANCEL);
            case "SUPERSEDED":
                return attempts > 0 ? Optional.of(FollowUpReader.ON_CANCEL) : Optional.empty();
            case "AWAITING_APPROVAL":
                return Optional.of(FollowUpReader.ON_APPROVAL_REQUEST);
            default:
                return Optional.empty();
        }
    }

    /**
     * The follow-up job {@code parent} starts, or empty when its outcome starts none.
     *
     * @param spec     the parent's {@link JobWorkflow#followUps()}
     * @param endpoint the endpoint the delivery came on
     * @param event    the delivery's event
     * @param runName  the parent's run (for {@code match: each} rules), or null
     * @throws RunnerException when the specification cannot be read (a store written by another version)
     */
    public static Optional<PlannedJob> plan(String spec, String endpoint, BuildEvent event, String runName,
            FollowUpParent parent) {
        Optional<String> key = keyFor(parent.outcome(), parent.attempts());
        if (spec == null || key.isEmpty()) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = JSON.readTree(spec);
        } catch (JsonProcessingException e) {
            throw new RunnerException("unreadable follow-up specification of job " + parent.id(), e);
        }
        JsonNode action = root.get(key.get());
        if (action == null) {
            return Optional.empty();
        }
        int depth = root.path("depth").asInt(1);
        Map<String, Integer> capacities = new LinkedHashMap<>();
        root.path("capacities").fields().forEachRemaining(e -> capacities.put(e.getKey(), e.getValue().asInt()));
        ProblemCollector problems = new ProblemCollector("follow-up of job " + parent.id());
        Optional<YamlNode> node = new YamlTreeReader(problems).read(action.toString());
        Optional<Action> read = node.flatMap(n -> new ActionReader(problems)
                .read(n, root.path("perRun").asBoolean(false), capacities, depth));
        problems.throwIfAny();
        if (read.isEmpty()) {
            throw new RunnerException("unreadable follow-up specification of job " + parent.id());
        }
        JobSubject subject = JobSubject.of(endpoint, event).forRunNamed(runName).forFollowUpOf(parent);
        String rule = parent.rule() + "/" + key.get();
        JobWorkflow workflow = new JobWorkflow(event.buildId(), null, false, null, Map.of(), Map.of(), null,
                parent.id(), depth);
        return Optional.of(read.get().plan(rule, action.toString(), subject, workflow));
    }


    /**
     * The follow-up specification of a job planned without an approval that its rule's approval now gates (a reload that
     * added {@code approval}, tryout33 F11): the job's own {@code jobSpec}, its follow-ups as planned, with the {@code
     * on-approval-request} of {@code ruleSpec}, the rule's specification in force, in place of any it had (none, or
     * one written by an earlier gate of the job that did not make it wait), so that the job tells the approvers once
     * it awaits, as the rule's new jobs do (approval50). The request's shared resources' capacities are the rule's
     * ({@code capacities}, the rule's winning over the job's for a name in both, as a reload gives stored jobs the
     * capacities in force), and its {@code ${run.*}} are read as the rule allows them ({@code perRun}). Canonical as
     * {@code FollowUpReader} writes a specification: action keys sorted, then {@code depth}, {@code perRun}, {@code
     * capacities}.
     *
     * @param jobSpec  the job's stored {@link JobWorkflow#followUps()}, or null for none
     * @param ruleSpec the follow-ups of the rule that gates it, as its new jobs are planned with, or null for none
     * @return the specification to keep with the job; null when it has no follow-up at all; {@code jobSpec} word for
     *         word when neither has a request, or when either cannot be read (a store written by another version: its
     *         follow-ups fail as before)
     */
    public static String withApprovalRequest(String jobSpec, String ruleSpec) {
        JsonNode job;
        JsonNode rule;
        try {
            job = jobSpec == null ? JSON.createObjectNode() : JSON.readTree(jobSpec);
            rule = ruleSpec == null ? JSON.createObjectNode() : JSON.readTree(ruleSpec);
        } catch (JsonProcessingException e) {
            return jobSpec;
        }
        if (!job.isObject() || !rule.isObject()) {
            return jobSpec;
        }
        JsonNode request = rule.get(FollowUpReader.ON_APPROVAL_REQUEST);
        if (request == null && !job.has(FollowUpReader.ON_APPROVAL_REQUEST)) {
            return jobSpec; // nothing to add or take away: kept word for word
        }
        // Its follow-ups (and any key a newer version wrote) as planned, the request in place of any: keys sorted.
        java.util.TreeSet<String> keys = new java.util.TreeSet<>();
        job.fieldNames().forEachRemaining(keys::add);
        keys.removeAll(List.of("depth", "perRun", "capacities"));
        keys.add(FollowUpReader.ON_APPROVAL_REQUEST);
        com.fasterxml.jackson.databind.node.ObjectNode out = JSON.createObjectNode();
        for (String key : keys) {
            JsonNode action = key.equals(FollowUpReader.ON_APPROVAL_REQUEST) ? request : job.get(key);
            if (action != null) {
                out.set(key, action);
            }
        }
        if (out.isEmpty()) {
            return null;
        }
        out.put("depth", job.path("depth").asInt(1));
        out.put("perRun", job.path("perRun").asBoolean(false) || (request != null && rule.path("perRun").asBoolean()));
        java.util.TreeMap<String, Integer> capacities = new java.util.TreeMap<>();
        job.path("capacities").fields().forEachRemaining(e -> capacities.put(e.getKey(), e.getValue().asInt()));
        if (request != null) {
            rule.path("capacities").fields().forEachRemaining(e -> capacities.put(e.getKey(), e.getValue().asInt()));
        }
        com.fasterxml.jackson.databind.node.ObjectNode caps = out.putObject("capacities");
        capacities.forEach(caps::put);
        return out.toString();
    }

    /** Whether follow-up specification {@code spec} (null for none) has a follow-up under {@code key}. */
    static boolean asks(String spec, String key) {
        if (spec == null) {
            return false;
        }
        try {
            return JSON.readTree(spec).has(key);
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    /**
     * The names the jobs of follow-up specification {@code spec} (null for none) get, nested ones too: {@code
     * deploy/on-success}, {@code deploy/on-success/on-failure}, as {@link #plan} names them ({@code ruleName} then each
     * key); none for an unreadable one.
     *
     * @param ruleName the name of the rule (or follow-up) {@code spec} belongs to
     */
    static List<String> names(String ruleName, String spec) {
        List<String> names = new java.util.ArrayList<>();
        if (spec != null) {
            try {
                names(ruleName, JSON.readTree(spec), names);
            } catch (JsonProcessingException e) {
                return List.of();
            }
        }
        return names;
    }

    private static void names(String prefix, JsonNode node, List<String> names) {
        for (String key : new java.util.TreeSet<>(FollowUpReader.RULE_KEYS)) {
            JsonNode action = node.get(key);
            if (action != null) {
                names.add(prefix + "/" + key);
                names(prefix + "/" + key, action, names);
            }
        }
    }

    /**
     * For a dry run: one line per follow-up of {@code spec}, nested ones indented, each with its key,
     * its command as written (placeholders are rendered only when the job ends) and the shared
     * resources it would wait for.
     */
    static List<String> describe(String spec) {
        List<String> lines = new java.util.ArrayList<>();
        if (spec != null) {
            try {
                JsonNode root = JSON.readTree(spec);
                describe(root, root.path("capacities"), "", lines);
            } catch (JsonProcessingException e) {
                lines.add("(unreadable follow-ups)");
            }
        }
        return lines;
    }

    private static void describe(JsonNode node, JsonNode capacities, String indent, List<String> lines) {
        for (String key : new java.util.TreeSet<>(FollowUpReader.RULE_KEYS)) {
            JsonNode action = node.get(key);
            if (action != null) {
                StringBuilder line = new StringBuilder(indent).append(key).append(": ").append(action.path("command"));
                java.util.StringJoiner units = new java.util.StringJoiner("; ");
                action.path("resources").fields().forEachRemaining(e -> units.add(e.getKey() + " " + e.getValue().asInt()
                        + " of " + capacities.path(e.getKey()).asInt()));
                if (units.length() > 0) {
                    line.append(" (waits until it can hold ").append(units).append(')');
                }
                lines.add(line.toString());
                describe(action, capacities, indent + "  ", lines);
            }
        }
    }
}
