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
     * word between {@code _} ({@code DB_PWD}, {@code GITHUB_PAT}, not {@code PATH}). A harmless name masked too
     * costs more than the display: the job still gets its value, but (since mask36) wherever the job's log prints
     * that value it is replaced by {@code ***} before the file is written, so {@code PASSENGER_ENV: production} hides
     * every {@code production} of the log for good (a boolean word is spared since 2026-12-05: {@link #isBooleanWord}). A word found only inside a longer word ({@code PASS} in {@code BYPASS},
     * {@code AUTH} in {@code AUTHOR}) is deprecated and warned of ({@link SecretNameWords}, tryout38 F6); it still
     * makes the name secret here.
     */
    public static final Pattern PATTERN = Pattern.compile(
            "SECRET|TOKEN|PASS|KEY|CREDENTIAL|CREDS|AUTH|BEARER|COOKIE|PRIVATE|DSN|WEBHOOK|(?:^|_)(?:PWD|PW|PAT)(?:$|_)",
            Pattern.CASE_INSENSITIVE);

    /**
     * The last words of a name that names or locates something rather than holding it (mask36 L4): {@code SIGN_KEY_ID},
     * {@code SSH_KEY_NAME}, {@code DB_PASSWORD_FILE}, {@code TOKEN_URL}, {@code AUTH_USER}. Such a value is shown as
     * {@code ***} under its own name, but not masked wherever else it appears nor in the job's log: a
     * {@code SIGN_KEY_ID: main} hid every {@code main} of the command and the log.
     */
    private static final Set<String> IDENTIFIER_WORDS = Set.of("ID", "IDS", "NAME", "NAMES", "USER", "USERNAME",
            "EMAIL", "FILE", "PATH", "DIR", "URL", "URI", "HOST", "PORT", "TYPE", "VERSION", "REGION", "FINGERPRINT");
    /**
     * Names that end in an identifier word and still hold a secret: a chat's incoming-webhook URL
     * ({@code SLACK_WEBHOOK_URL}: the URL is the secret) or its path ({@code SLACK_WEBHOOK_PATH}: Slack's
     * {@code /services/T…/B…/X…} is the whole secret; review40 F3), a DSN given as a URL ({@code SENTRY_DSN_URL}, {@code _URI}: a
     * Sentry DSN's key is its user part, which no credential shape finds; a database DSN holds its password) and
     * Vault's AppRole {@code SECRET_ID} (a credential). Not a name of a DSN's part ({@code DB_DSN_USER: admin},
     * {@code DB_DSN_PORT: 5432}, {@code ODBC_DSN_NAME}): masked everywhere, it hid every {@code admin} of the job's log
     * (review39); nor of a webhook's part ({@code WEBHOOK_PORT: 8080}, {@code WEBHOOK_HOST}, {@code SLACK_WEBHOOK_ID}),
     * which hid every {@code 8080} (lead, session 39).
     */
    private static final Pattern SECRET_ALL_THE_SAME = Pattern.compile(
            "(?:WEBHOOK|DSN)_UR[IL]$|WEBHOOK_PATH$|(?:^|_)SECRET_ID$",
            Pattern.CASE_INSENSITIVE);

    /**
     * A secret value shorter than this is hidden under its name only: not wherever else it appears, nor in the job's
     * log, where masking {@code 1} or {@code yes} would hide every such piece of the output.
     */
    public static final int SHORTEST_MASKED_VALUE = 4;

    private SecretNames() {
    }

    /**
     * {@link #PATTERN}'s words found anywhere in a name, in upper case; {@link SecretNameWords} names the first it
     * finds in a warning, in this order. Not to be changed at run time.
     */
    static final String[] WORDS = {"SECRET", "TOKEN", "PASS", "KEY", "CREDENTIAL", "CREDS", "AUTH", "BEARER",
        "COOKIE", "PRIVATE", "DSN", "WEBHOOK"};
    /** {@link #PATTERN}'s words found only whole, between {@code _} or the name's ends. */
    private static final Set<String> WHOLE_WORDS = Set.of("PWD", "PW", "PAT");

    /**
     * Whether {@code name} looks secret: exactly whether {@link #PATTERN} finds itself in it (ASCII letters in any
     * case; a name that ends in a line break is judged as the name before it, as the pattern's {@code $} does), without
     * the pattern, whose case-insensitive alternatives tried at every position cost about 1 µs a name:
     * every job start, and every job a list shows, asks it of each of the job's variables several times (lead37).
     *
     * @param name a variable's, flag's or field's name, any characters
     * @return whether its value is secret
     */
    public static boolean looksSecret(String name) {
        String upper = asciiUpperCase(withoutFinalLineBreak(name));
        for (String word : WORDS) {
            if (upper.contains(word)) {
                return true;
            }
        }
        int from = 0;
        for (int i = 0; i <= upper.length(); i++) {
            if (i == upper.length() || upper.charAt(i) == '_') {
                if (i - from >= 2 && i - from <= 3 && WHOLE_WORDS.contains(upper.substring(from, i))) {
                    return true;
                }
                from = i + 1;
            }
        }
        return false;
    }

    /**
     * {@code name} without one line terminator at its end ({@code \n}, {@code \r\n}, {@code \r}, {@code \u0085},
     * {@code \u2028}, {@code \u2029}): where {@link Pattern}'s {@code $} also matches without
     * {@link Pattern#MULTILINE}. Such a name is no environment variable's, but a rules file can spell one.
     */
    private static String withoutFinalLineBreak(String name) {
        int end = name.length();
        if (end == 0) {
            return name;
        }
        char last = name.charAt(end - 1);
        if (last == '\n') {
            end -= end >= 2 && name.charAt(end - 2) == '\r' ? 2 : 1;
        } else if (last == '\r' || last == '\u0085' || last == '\u2028' || last == '\u2029') {
            end--;
        }
        return name.substring(0, end);
    }

    /**
     * {@code text} with {@code a}–{@code z} in upper case and every other character as it is, as
     * {@link Pattern#CASE_INSENSITIVE} without {@link Pattern#UNICODE_CASE} compares ({@code String.toUpperCase}
     * would also turn {@code ſ} into {@code S} and {@code ı} into {@code I}).
     */
    static String asciiUpperCase(String text) {
        char[] out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 'a' && c <= 'z') {
                if (out == null) {
                    out = text.toCharArray();
                }
                out[i] = (char) (c - ('a' - 'A'));
            }
        }
        return out == null ? text : new String(out);
    }

    /**
     * Whether the value of a variable so named is masked wherever it appears (the command, other variables, the job's
     * log), not only under its own name: it looks secret and does not end in an identifier word
     * ({@link #IDENTIFIER_WORDS}), unless it is a webhook's or a DSN's URL or a {@code SECRET_ID}.
     */
    public static boolean maskedEverywhere(String name) {
        if (!looksSecret(name)) {
            return false;
        }
        String last = name.substring(name.lastIndexOf('_') + 1).toUpperCase(java.util.Locale.ROOT);
        return !IDENTIFIER_WORDS.contains(last) || SECRET_ALL_THE_SAME.matcher(name).find();
    }

    /**
     * Whether {@code value} is a boolean word: {@code true}, {@code false}, {@code yes}, {@code no}, {@code on} or
     * {@code off}, ASCII letters in any case. Such a value is no secret, whatever its variable's name: it tells one
     * bit, the first a guess tries; so it is shown as {@code ***} under its name only, and never masked wherever else
     * it appears nor in the job's log (tryout39 F8), as Ansible never masks a {@code no_log} parameter's boolean
     * (its {@code _return_datastructure_name}). Until 2026-12-05 {@code AUTH_ENABLED: "true"} hid every {@code true}
     * of the job's log ({@code yes}, {@code no}, {@code on}, {@code off} were too short to be masked already).
     */
    public static boolean isBooleanWord(String value) {
        return switch (asciiUpperCase(value)) {
            case "TRUE", "FALSE", "YES", "NO", "ON", "OFF" -> true;
            default -> false;
        };
    }

    /**
     * The values of {@code env}'s variables masked wherever they appear ({@link #maskedEverywhere}), at least
     * {@value #SHORTEST_MASKED_VALUE} characters long and not a boolean word ({@link #isBooleanWord}).
     */
    public static Set<String> valuesIn(Map<String, String> env) {
        Set<String> out = new TreeSet<>();
        env.forEach((k, v) -> {
            if (v != null && v.length() >= SHORTEST_MASKED_VALUE && maskedEverywhere(k) && !isBooleanWord(v)) {
                out.add(v);
            }
        });
        return out;
    }
}
