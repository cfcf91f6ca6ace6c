package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Set;

/**
 * Reads the {@code on-success}, {@code on-failure} and {@code on-cancel} follow-ups of a rule or of a
 * follow-up, and a rule's {@code on-approval-request}. Each is an action (a {@code run} mapping) and may have follow-ups of its own, written
 * inline, so a chain is a tree and no cycle can be written; it may nest {@value #MAX_DEPTH} deep.
 *
 * <p>The result is the follow-ups' specification: canonical JSON kept with the job, read back by
 * {@link FollowUps} when the job ends (so a later change of the rules file does not change what an
 * already planned job starts).
 */
final class FollowUpReader extends NodeReader {

    static final String ON_SUCCESS = "on-success";
    static final String ON_FAILURE = "on-failure";
    static final String ON_CANCEL = "on-cancel";
    static final Set<String> KEYS = Set.of(ON_SUCCESS, ON_FAILURE, ON_CANCEL);
    /**
     * A rule's follow-up started when one of its jobs begins to await an approval (tryout47b F18: nothing could tell
     * the approver). A rule's only, and only beside {@code approval}: a follow-up is never gated.
     */
    static final String ON_APPROVAL_REQUEST = "on-approval-request";
    /** A rule's follow-up keys: {@link #KEYS} and {@link #ON_APPROVAL_REQUEST}. */
    static final Set<String> RULE_KEYS = Set.of(ON_SUCCESS, ON_FAILURE, ON_CANCEL, ON_APPROVAL_REQUEST);
    /** A rule's follow-ups are at depth 1, theirs at 2 …; deeper is refused. */
    static final int MAX_DEPTH = 3;

    private static final ObjectMapper JSON = new ObjectMapper();

    FollowUpReader(ProblemCollector problems) {
        super(problems);
    }

    /**
     * The specification of {@code owner}'s follow-ups, or null when it has none (or they have
     * mistakes, all recorded).
     *
     * @param depth the depth of {@code owner}: 0 for a rule
     */
    String read(YamlNode.Mapping owner, boolean perRun, Map<String, Integer> capacities, int depth) {
        ObjectNode spec = JSON.createObjectNode();
        int before = problems.count();
        for (String key : new java.util.TreeSet<>(depth == 0 ? RULE_KEYS : KEYS)) {
            YamlNode.Entry entry = owner.entries().get(key);
            if (entry == null) {
                continue;
            }
            if (depth + 1 > MAX_DEPTH) {
                problems.add(entry.keyLocation(), "follow-ups nest at most " + MAX_DEPTH + " deep ('" + key
                        + "' here would be level " + (depth + 1) + ")");
                continue;
            }
            new ActionReader(problems).read(entry.value(), perRun, capacities, depth + 1, key);
            try {
                spec.set(key, JSON.readTree(Snapshot.of(entry.value())));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("a snapshot is always JSON", e);
            }
        }
        if (spec.isEmpty() || problems.count() > before) {
            return null;
        }
        spec.put("depth", depth + 1);
        spec.put("perRun", perRun);
        ObjectNode caps = spec.putObject("capacities");
        new java.util.TreeMap<>(capacities).forEach(caps::put);
        return spec.toString();
    }
}
