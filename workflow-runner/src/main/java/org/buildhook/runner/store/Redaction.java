package org.buildhook.runner.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Hides secret values from what the store shows. The engine runs jobs with the real values, which
 * the database keeps: protect the database like the rules file.
 */
public final class Redaction {

    /** Keys whose values are never shown. */
    public static final Pattern SECRET_KEY = Pattern.compile("SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL",
            Pattern.CASE_INSENSITIVE);
    public static final String MASK = "***";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Redaction() {
    }

    public static Map<String, String> redact(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> out.put(k, SECRET_KEY.matcher(k).find() ? MASK : v));
        return out;
    }

    /**
     * A rule's canonical JSON (a job's {@code ruleSnapshot}, the status page's rules in force) with
     * the values of secret-looking keys of every {@code env} mapping in it replaced by {@code ***}:
     * the rule's own {@code env} and those of its follow-ups, at any depth. Text that is not JSON
     * is returned as it is (a snapshot always is JSON).
     *
     * @param snapshot canonical JSON as {@code org.buildhook.runner.rules.Snapshot} writes it
     * @return the same JSON with such values masked, keys and order unchanged
     */
    public static String redactSnapshot(String snapshot) {
        if (snapshot == null || snapshot.indexOf("\"env\"") < 0) {
            return snapshot;
        }
        try {
            JsonNode tree = JSON.readTree(snapshot);
            maskEnv(tree);
            return JSON.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            return snapshot;
        }
    }

    private static void maskEnv(JsonNode node) {
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                JsonNode value = object.get(name);
                if (name.equals("env") && value.isObject()) {
                    ObjectNode env = (ObjectNode) value;
                    List<String> keys = new ArrayList<>();
                    env.fieldNames().forEachRemaining(keys::add);
                    for (String key : keys) {
                        if (SECRET_KEY.matcher(key).find()) {
                            env.put(key, MASK);
                        }
                    }
                } else {
                    maskEnv(value);
                }
            }
        } else if (node.isArray()) {
            node.forEach(Redaction::maskEnv);
        }
    }
}
