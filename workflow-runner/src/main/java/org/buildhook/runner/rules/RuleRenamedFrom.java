package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * A rule's {@code renamed-from} (rename35) as its canonical JSON ({@link Snapshot}) writes it: one old name or a
 * list of them. Read from the snapshot rather than kept on {@link Rule}: the snapshot is what every node's
 * fingerprint and every job carry, so all agree on it.
 */
final class RuleRenamedFrom {

    /** The rule key. */
    static final String KEY = "renamed-from";

    private static final ObjectMapper JSON = new ObjectMapper();

    private RuleRenamedFrom() {
    }

    /** The old names the rule of {@code snapshot} writes, in the order written; empty without the key. */
    static List<String> of(String snapshot) {
        JsonNode value;
        try {
            value = JSON.readTree(snapshot).get(KEY);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a rule's snapshot is JSON buildhook wrote", e);
        }
        List<String> names = new ArrayList<>();
        if (value != null && value.isValueNode() && !value.isNull()) {
            names.add(value.asText());
        } else if (value != null && value.isArray()) {
            value.forEach(n -> names.add(n.asText()));
        }
        return List.copyOf(names);
    }
}
