package org.buildhook.runner.exec;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which variable names hold a secret: the rule of docs/rules.md, "Secrets". buildhook shows such a variable's value
 * as {@code ***} ({@code org.buildhook.runner.store.Redaction}) and masks it in the job's own log ({@link LogMask}).
 */
public final class SecretNames {

    /**
     * Names whose values are secret. {@code PASS} covers {@code PASSWORD}, {@code PASSWD},
     * {@code PASSPHRASE} (GPG signing keys) and {@code DB_PASS}; {@code AUTH} covers
     * {@code NPM_AUTH}, {@code BASIC_AUTH}; {@code BEARER} a bearer token ({@code FOUNDRIES_BEARER});
     * {@code DSN} a database or Sentry DSN, {@code WEBHOOK} a chat's
     * incoming-webhook URL; {@code PWD}, {@code PW} and {@code PAT} (a personal access token) only as a whole
     * word between {@code _} ({@code DB_PWD}, {@code GITHUB_PAT}, not {@code PATH}). Masking a harmless name too
     * ({@code BYPASS_CACHE}) only hides a value from the display and the log; the job still gets it.
     */
    public static final Pattern PATTERN = Pattern.compile(
            "SECRET|TOKEN|PASS|KEY|CREDENTIAL|CREDS|AUTH|BEARER|COOKIE|PRIVATE|DSN|WEBHOOK|(?:^|_)(?:PWD|PW|PAT)(?:$|_)",
            Pattern.CASE_INSENSITIVE);

    /**
     * A secret value shorter than this is hidden under its name only: not wherever else it appears, nor in the job's
     * log, where masking {@code 1} or {@code yes} would hide every such piece of the output.
     */
    public static final int SHORTEST_MASKED_VALUE = 4;

    private SecretNames() {
    }

    /** Whether {@code name} looks secret ({@link #PATTERN}). */
    public static boolean looksSecret(String name) {
        return PATTERN.matcher(name).find();
    }

    /** The values of {@code env}'s secret-named variables, at least {@value #SHORTEST_MASKED_VALUE} characters long. */
    public static Set<String> valuesIn(Map<String, String> env) {
        Set<String> out = new TreeSet<>();
        env.forEach((k, v) -> {
            if (v != null && v.length() >= SHORTEST_MASKED_VALUE && looksSecret(k)) {
                out.add(v);
            }
        });
        return out;
    }
}
