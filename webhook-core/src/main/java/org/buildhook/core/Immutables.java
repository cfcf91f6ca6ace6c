package org.buildhook.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Defensive copies for the value types. JSON nodes are deep-copied on the way in and on the way out
 * (see the records' {@code unknownFields()}), so nobody can change a value through them.
 */
final class Immutables {

    private Immutables() {
    }

    static Map<String, JsonNode> copyOrdered(Map<String, JsonNode> fields) {
        if (fields == null || fields.isEmpty()) {
            return Map.of();
        }
        Map<String, JsonNode> copy = new LinkedHashMap<>();
        fields.forEach((k, v) -> copy.put(k, v == null ? NullNode.getInstance() : v.deepCopy()));
        return Collections.unmodifiableMap(copy);
    }

    static <T> List<T> copy(List<T> list) {
        return list == null ? List.of() : List.copyOf(list);
    }
}
