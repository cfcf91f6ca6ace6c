package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.TreeMap;

/**
 * The canonical JSON of a rule as written (keys sorted, no comments or layout), stored with each job
 * so history shows what the rule was when it fired, even after the file changes.
 */
final class Snapshot {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Snapshot() {
    }

    static String of(YamlNode rule) {
        try {
            return JSON.writeValueAsString(toJson(rule));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain nodes always serialises", e);
        }
    }

    private static JsonNode toJson(YamlNode node) {
        if (node instanceof YamlNode.Mapping) {
            ObjectNode object = NODES.objectNode();
            new TreeMap<>(((YamlNode.Mapping) node).entries())
                    .forEach((key, entry) -> object.set(key, toJson(entry.value())));
            return object;
        }
        if (node instanceof YamlNode.Sequence) {
            ArrayNode array = NODES.arrayNode();
            ((YamlNode.Sequence) node).items().forEach(item -> array.add(toJson(item)));
            return array;
        }
        YamlNode.Scalar scalar = (YamlNode.Scalar) node;
        try {
            switch (scalar.type()) {
                case NULL:
                    return NODES.nullNode();
                case BOOLEAN:
                    return NODES.booleanNode(Boolean.parseBoolean(scalar.text().toLowerCase(java.util.Locale.ROOT)));
                case INTEGER:
                    return NODES.numberNode(new BigInteger(scalar.text()));
                case DECIMAL:
                    return NODES.numberNode(new BigDecimal(scalar.text()));
                default:
                    return NODES.textNode(scalar.text());
            }
        } catch (NumberFormatException e) {
            // YAML spellings Java does not parse (0x1F, 1_000, .inf) stay as written.
            return NODES.textNode(scalar.text());
        }
    }
}
