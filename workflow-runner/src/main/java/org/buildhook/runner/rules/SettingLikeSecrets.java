package org.buildhook.runner.rules;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.buildhook.runner.exec.SecretNameWords;
import org.buildhook.runner.exec.SecretNames;

/**
 * An {@code env} variable secret by a whole word of its name ({@code AUTH}, {@code KEY}, {@code TOKEN},
 * {@code COOKIE}, {@code WEBHOOK} …) that seems to hold a setting, not a secret (tryout39 F8): {@code AUTH_ENABLED:
 * "true"}, {@code WEBHOOK_FORMAT: json}, {@code KEY_ALGORITHM: RS256}, {@code COOKIE_SECURE: "1"}, {@code AUTH0_DOMAIN:
 * example.eu.auth0.com}. Its value is masked in every line of the job's log, so every {@code json} the job prints is
 * {@code ***}, and nothing said so. Which names are secret is unchanged (a contract with the rules files); the
 * warning says what the value gets (never the value) and what to do. A value seems a setting when
 * <ul>
 * <li>the name's last word is a setting's ({@link #SETTING_WORDS}): Spring Boot's {@code Sanitizer} judges a key by
 * its ending ({@code password}, {@code secret}, {@code key}, {@code token}), so it shows {@code auth.enabled},
 * {@code jwt.key-algorithm}, {@code server.servlet.session.cookie.secure} and {@code auth0.domain};</li>
 * <li>or the value is a boolean word ({@link SecretNames#isBooleanWord}; no longer masked in the log since
 * 2026-12-05, as Ansible never masks a {@code no_log} boolean);</li>
 * <li>or it is a number of at most {@value #LONGEST_SETTING_NUMBER} digits (a port, a count, a timeout), which
 * stays masked: a PIN is a secret of that shape, and Ansible masks a {@code no_log} number too.</li>
 * </ul>
 * A name secret only by a word inside a longer word ({@code BYPASS_CACHE}) has its own warning
 * ({@link SecretNameWords}); a name whose value is not masked wherever it appears ({@code KEY_TYPE},
 * {@code TOKEN_URL}: {@link SecretNames#maskedEverywhere}) is not warned of. A name in {@code runner.inherit-env} is
 * judged by its name only ({@link #inherited}).
 */
public final class SettingLikeSecrets {

    /**
     * The last words of a name that name a setting. Not {@code PORT}, {@code TYPE}, {@code VERSION}, {@code REGION}:
     * such a name's value is not masked wherever it appears already ({@link SecretNames#maskedEverywhere}).
     */
    static final Set<String> SETTING_WORDS = Set.of("ENABLED", "ENABLE", "DISABLED", "DISABLE", "MODE", "FORMAT",
            "ALGORITHM", "ALGORITHMS", "ALG", "ALGO", "DOMAIN", "LEVEL", "TIMEOUT", "TTL", "EXPIRY", "LIFETIME",
            "LENGTH", "SIZE", "BITS", "SCOPE", "SCOPES", "SECURE", "HTTPONLY", "SAMESITE", "METHOD", "PROVIDER",
            "STRATEGY", "ENCODING", "INTERVAL", "RETRIES", "ISSUER", "AUDIENCE", "REALM");
    /** The most digits of a value taken for a setting's number. */
    static final int LONGEST_SETTING_NUMBER = 5;

    private SettingLikeSecrets() {
    }

    /**
     * The warning for variable {@code name} with value {@code text} as written, when it seems to hold a setting: one
     * line, naming the variable and never its value; empty when it does not.
     */
    static Optional<String> warning(String name, String text) {
        if (!judged(name)) {
            return Optional.empty();
        }
        boolean placeholders = text.contains("${");
        String why;
        if (settingWord(name).isPresent()) {
            why = "its name ends in '" + settingWord(name).get() + "'";
        } else if (placeholders) {
            return Optional.empty();
        } else if (SecretNames.isBooleanWord(text)) {
            why = "its value is a boolean word";
        } else if (!text.isEmpty() && text.length() <= LONGEST_SETTING_NUMBER && text.chars().allMatch(
                c -> c >= '0' && c <= '9')) {
            why = "its value is a number of " + text.length() + " digit" + (text.length() == 1 ? "" : "s");
        } else {
            return Optional.empty();
        }
        String effect;
        if (placeholders) {
            effect = "its value, filled in when a job starts, is replaced by *** in every line of the job's log when it"
                    + " has " + SecretNames.SHORTEST_MASKED_VALUE + " characters or more (and wherever else it appears:"
                    + " the command, the other variables), so each place the job prints it is hidden";
        } else if (SecretNames.valuesIn(Map.of(name, text)).isEmpty()) {
            effect = "its value is shown as *** under its name only (test, job show, the API, the status page), not"
                    + " where else it appears nor in the job's log" + (SecretNames.isBooleanWord(text)
                    ? " (a boolean is no secret: since 2026-12-05 a true or false is no longer masked there)"
                    : " (it has fewer than " + SecretNames.SHORTEST_MASKED_VALUE + " characters)");
        } else {
            effect = "its value is replaced by *** in every line of the job's log (and wherever else it appears: the"
                    + " command, the other variables), so each place the job prints it is hidden";
        }
        return Optional.of(looksSecret(name) + " but seems to hold a setting, as " + why + ": " + effect + ". If it"
                + " holds no secret, rename the variable to a name that does not look secret to have its value shown;"
                + " if it is a secret, ignore this warning");
    }

    /**
     * The warning for a variable that jobs inherit of the server's environment, named in {@code runner.inherit-env},
     * when its name ends in a setting's word ({@link #SETTING_WORDS}: {@code AUTH_ENABLED}, {@code KEY_ALGORITHM}):
     * its value is masked in every line of a job's log, as a rule's variable's is (names40). Judged by the name only,
     * unlike a rules file's variable: the value, a variable of the server's (or of {@code check}'s) environment, may
     * be a secret that buildhook never shows, and this warning is logged; a boolean or a short value is not masked
     * anyway, which the warning says.
     *
     * @param name a variable's name as {@code runner.inherit-env} lists it
     * @return one line naming the variable (never its value), or empty when the name is not so
     */
    public static Optional<String> inherited(String name) {
        if (!judged(name) || settingWord(name).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(looksSecret(name) + " but seems to hold a setting, as its name ends in '"
                + settingWord(name).get() + "': jobs inherit it, and when its value has "
                + SecretNames.SHORTEST_MASKED_VALUE + " characters or more and is no true or false it is replaced by"
                + " *** wherever a job's log prints it (masked before the file is written), so each place a job prints"
                + " it is hidden. If it holds no secret, give it to jobs under a name that does not look secret (set"
                + " that one in buildhook's environment and list it here) to have its value shown; if it is a secret,"
                + " ignore this warning");
    }

    /** Whether {@code name} is one to judge: masked wherever its value appears, and secret by a whole word. */
    private static boolean judged(String name) {
        return SecretNames.maskedEverywhere(name) && SecretNameWords.partWord(name).isEmpty();
    }

    /** The name's last word, as written, when it is a setting's ({@link #SETTING_WORDS}). */
    private static Optional<String> settingWord(String name) {
        List<String> words = SecretNameWords.words(name);
        String last = words.isEmpty() ? "" : words.get(words.size() - 1);
        return SETTING_WORDS.contains(asciiUpper(last)) ? Optional.of(last) : Optional.empty();
    }

    /** {@code "'AUTH_ENABLED' looks secret (by the word 'AUTH')"}: the name and the word that makes it secret. */
    private static String looksSecret(String name) {
        String word = secretWord(SecretNameWords.words(name));
        return "'" + name + "' looks secret" + (word == null ? "" : " (by the word '" + word + "')");
    }

    /** The first of {@code words} that makes a name secret ({@link SecretNameWords}), as written; null when none. */
    private static String secretWord(List<String> words) {
        for (String word : words) {
            if (SecretNameWords.isSecretWord(asciiUpper(word))) {
                return word;
            }
        }
        return null;
    }

    private static String asciiUpper(String word) {
        return word.toUpperCase(java.util.Locale.ROOT);
    }
}
