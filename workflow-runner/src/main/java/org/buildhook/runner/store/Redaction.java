package org.buildhook.runner.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Hides secret values from what the store shows. The engine runs jobs with the real values, which
 * the database keeps: protect the database like the rules file.
 */
public final class Redaction {

    /**
     * Keys whose values are never shown. {@code PASS} covers {@code PASSWORD}, {@code PASSWD},
     * {@code PASSPHRASE} (GPG signing keys) and {@code DB_PASS}; {@code AUTH} covers
     * {@code NPM_AUTH}, {@code BASIC_AUTH}. Masking a harmless name too ({@code BYPASS_CACHE}) only
     * hides a value from the display; the job still gets it.
     */
    public static final Pattern SECRET_KEY = Pattern.compile("SECRET|TOKEN|PASS|KEY|CREDENTIAL|AUTH|COOKIE|PRIVATE",
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

    /** Masks in place: replacing a field's value is no structural change, so iterating is safe. */
    private static void maskEnv(JsonNode node) {
        node.fields().forEachRemaining(field -> {
            if (field.getKey().equals("env") && field.getValue().isObject()) {
                field.getValue().fields().forEachRemaining(variable -> {
                    if (SECRET_KEY.matcher(variable.getKey()).find()) {
                        variable.setValue(TextNode.valueOf(MASK));
                    }
                });
            } else {
                maskEnv(field.getValue());
            }
        });
        if (node.isArray()) {
            node.forEach(Redaction::maskEnv);
        }
    }
}
