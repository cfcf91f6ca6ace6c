package org.buildhook.runner.store;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The values of secret fields of a JSON (or Python dict) text: {@code "password": "…"}, {@code "token":"…"},
 * {@code 'api_key': '…'}, {@code "client_secret": 1234}, any spacing, double or single quotes, the value on the
 * same line as its key or on the next. A field is secret when the LAST word of its name is one
 * ({@code access_token}, {@code apiKey}, {@code X-Api-Key}, {@code db.password}), not when a word merely appears in
 * it: {@code "tokens": 812}, {@code "token_count"}, {@code "secretName"} (a Kubernetes secret's name),
 * {@code "passed": 10}, {@code "author"}, {@code "key"}, {@code "primary_key"} are shown as they are. Only a string or
 * a number is hidden; {@code true}, {@code false}, {@code null}, an object and an array are not values to hide.
 */
final class JsonSecrets {

    /**
     * A member's name as written, JSON's {@code \\uXXXX} escapes included: {@code "pass\\u0077ord"} is the name
     * {@code password} to a JSON reader, and was shown in clear (review36 F6). Judged once decoded ({@link #decoded}).
     */
    static final String NAME = "(?:[A-Za-z_]|\\\\u[0-9A-Fa-f]{4})(?:[A-Za-z0-9_.-]++|\\\\u[0-9A-Fa-f]{4})*+";
    private static final Pattern ESCAPE = Pattern.compile("\\\\u([0-9A-Fa-f]{4})");
    private static final Pattern FIELD = Pattern.compile(
            "([\"'])(" + NAME + ")\\1\\s*:\\s*(?:\"(?<s>(?:[^\"\\\\\\r\\n]++|\\\\.)++)\"|'(?<s2>[^'\\r\\n]+)'"
                    + "|(?<s3>-?[0-9][0-9.]*)(?![0-9A-Za-z]))");
    private static final Set<String> SECRET_WORDS = Set.of("password", "passwd", "passphrase", "pass", "pwd",
            "secret", "token", "cookie", "credential", "credentials", "creds", "authorization", "auth", "bearer", "dsn",
            "apikey", "pat");
    private static final Set<String> KEY_KINDS = Set.of("api", "access", "secret", "private", "signing", "client",
            "master", "encryption", "auth", "license", "subscription");
    private static final Pattern WORD_BREAK = Pattern.compile("[_.-]+|(?<=[a-z0-9])(?=[A-Z])");

    private JsonSecrets() {
    }

    /**
     * {@code text} with the value of each secret field replaced by {@code ***}, except one starting with {@code $}
     * (shell code, a placeholder) or partly hidden already ({@code "Authorization": "Bearer ***"}).
     */
    static String mask(String text) {
        if (text.indexOf(':') < 0 || text.indexOf('"') < 0 && text.indexOf('\'') < 0) {
            return text;
        }
        Matcher m = FIELD.matcher(text);
        StringBuilder b = new StringBuilder();
        int last = 0;
        while (m.find()) {
            if (!isSecretName(decoded(m.group(2)))) {
                continue;
            }
            for (String group : new String[] {"s", "s2", "s3"}) {
                int start = m.start(group);
                // A value partly hidden already keeps what is shown of it ("Bearer ***").
                if (start >= 0 && !m.group(group).contains(Redaction.MASK) && !text.startsWith("$", start)) {
                    b.append(text, last, start).append(Redaction.MASK);
                    last = m.end(group);
                }
            }
        }
        return last == 0 ? text : b.append(text, last, text.length()).toString();
    }

    /** The first secret field's name in {@code text}, for a warning, or {@code null}. */
    static String firstSecretField(String text) {
        Matcher m = FIELD.matcher(text);
        while (m.find()) {
            String value = m.group("s") != null ? m.group("s") : m.group("s2") != null ? m.group("s2") : m.group("s3");
            if (isSecretName(decoded(m.group(2))) && !value.startsWith("$") && !value.startsWith(Redaction.MASK)) {
                return decoded(m.group(2));
            }
        }
        return null;
    }

    /**
     * Whether a header's name ({@code NAME: value}, as {@code curl -H} takes it) is secret: by its LAST word, as a
     * JSON field's ({@link #isSecretName}), and also {@code key} after any word ({@code X-Upload-Key}), since a
     * header so named carries a key. Not a name that merely contains such a word ({@code keycloak},
     * {@code monkey-service}, {@code Passed}, {@code tokens}, {@code keyboard}: header36), nor {@code key} alone.
     */
    static boolean isSecretHeaderName(String name) {
        if (isSecretName(name)) {
            return true;
        }
        String[] words = WORD_BREAK.split(name);
        return words.length > 1 && words[words.length - 1].equalsIgnoreCase("key");
    }

    /** A member's name with its {@code \\uXXXX} escapes decoded, as a JSON reader (the program given it) reads it. */
    static String decoded(String name) {
        return name.indexOf('\\') < 0 ? name
                : ESCAPE.matcher(name).replaceAll(m -> Matcher.quoteReplacement(
                        String.valueOf((char) Integer.parseInt(m.group(1), 16))));
    }

    static boolean isSecretName(String name) {
        String[] words = WORD_BREAK.split(name);
        if (words.length == 0) {
            return false;
        }
        String last = words[words.length - 1].toLowerCase(Locale.ROOT);
        if (SECRET_WORDS.contains(last)) {
            return true;
        }
        return last.equals("key") && words.length > 1
                && KEY_KINDS.contains(words[words.length - 2].toLowerCase(Locale.ROOT));
    }
}
