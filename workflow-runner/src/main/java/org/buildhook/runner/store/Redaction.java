package org.buildhook.runner.store;

import java.util.LinkedHashMap;
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

    private Redaction() {
    }

    public static Map<String, String> redact(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> out.put(k, SECRET_KEY.matcher(k).find() ? MASK : v));
        return out;
    }
}
