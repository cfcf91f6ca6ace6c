package org.buildhook.runner.exec;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which names look secret ({@link SecretNames#looksSecret}) only because a secret word is part of a longer word
 * (tryout38 F6): {@code BYPASS_CACHE} ({@code PASS} in {@code BYPASS}), {@code AUTHOR}, {@code PASSENGER_ENV},
 * {@code TOKENIZER_MODEL}, {@code KEYBOARD_LAYOUT}, {@code MAX_TOKENS}. Such a name is still secret (which names are
 * secret is a contract with the operators' rules files), but deprecated: {@code check}, {@code test}, a start and a
 * reload warn of it, and a later version judges a name by its whole words, as this class does.
 *
 * <p>A name's words are split at every character other than an ASCII letter ({@code _}, {@code -}, {@code .}, a digit)
 * and at a lower-to-upper case change, as a header's name is (header36). A name is secret by its words when one word
 * <ul>
 * <li>is a secret word ({@link #WORDS}): {@code DB_PASS}, {@code SSH_KEY}, {@code AUTH_HEADER}, {@code apiKey};</li>
 * <li>ends in {@code PASSWORD}, {@code PASSWD}, {@code PASSPHRASE}, {@code SECRET}, {@code TOKEN}, {@code APIKEY} or
 * {@code WEBHOOK} ({@code MYPASSWORD}, {@code GITHUBTOKEN}, {@code CLIENTSECRET}): Spring Boot's {@code Sanitizer}
 * takes a key that ends with {@code password}, {@code secret} or {@code token}; not any word ending in {@code KEY}
 * ({@code MONKEY}, {@code TURKEY}, {@code WHISKEY}), which Spring Boot's {@code key} would take too;</li>
 * <li>ends in {@code KEY} or {@code KEYS} after a kind of key ({@link #KEY_KINDS}: {@code SSHKEY}, {@code PRIVATEKEY},
 * {@code ACCESSKEY}, {@code PASSKEY}), as a JSON field's {@code key} after such a word is;</li>
 * <li>or holds {@code CREDENTIAL} anywhere, as Spring Boot's {@code .*credentials.*}.</li>
 * </ul>
 * {@code PASS} and {@code AUTH} count only as a word of their own, as Ansible's {@code no_log} heuristic takes
 * {@code pass} (its {@code PASSWORD_MATCH}): not {@code BYPASS}, {@code COMPASS}, {@code PASSENGER}, {@code AUTHOR},
 * {@code OAUTH}; and {@code TOKENS} is a count ({@code MAX_TOKENS: 4096}), as a header's {@code tokens: 812} is.
 */
public final class SecretNameWords {

    /**
     * A name that looks secret only by a secret word inside a longer word.
     *
     * @param secretWord the secret word, in upper case ({@code PASS})
     * @param word       the longer word as the name writes it ({@code BYPASS})
     */
    public record PartWord(String secretWord, String word) {

        /** Why {@code name} looks secret, for a warning: {@code 'BYPASS_CACHE' looks secret only because …}. */
        public String why(String name) {
            return "'" + name + "' looks secret only because '" + secretWord + "' is part of the word '" + word + "'";
        }

        /** What to do, and that it is deprecated, for a warning (the same words wherever the name is written). */
        public String whatToDo() {
            return "If it holds no secret, rename it to a name without '" + secretWord + "' in it to have its value"
                    + " shown; if it does, write that word as a word of its own (DB_PASS, API_KEY, GITHUB_TOKEN …) to"
                    + " keep it masked. A secret word found only inside a longer word is deprecated since 2026-12-05:"
                    + " a later version judges a name by its whole words, and this one would no longer be secret"
                    + " (docs/rules.md, Secrets)";
        }
    }

    /** Words that make a name secret when one of its words is one of them. */
    static final Set<String> WORDS = Set.of("PASS", "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "PWD", "PW",
            "PAT", "SECRET", "SECRETS", "TOKEN", "KEY", "KEYS", "APIKEY", "CREDS", "AUTH", "AUTHORIZATION", "BEARER",
            "COOKIE", "COOKIES", "PRIVATE", "DSN", "WEBHOOK", "WEBHOOKS");
    /** Endings that make a word secret however it begins ({@code MYPASSWORD}, {@code GITHUBTOKEN}). */
    private static final String[] ENDINGS = {"PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "SECRET", "SECRETS",
        "TOKEN", "APIKEY", "APIKEYS", "WEBHOOK", "WEBHOOKS"};
    /** The kinds of key a word ending in {@code KEY} names when it begins with one ({@code SSHKEY}). */
    static final Set<String> KEY_KINDS = Set.of("API", "ACCESS", "SECRET", "PRIVATE", "PRIV", "SIGNING", "SIGN",
            "CLIENT", "MASTER", "ENCRYPTION", "AUTH", "LICENSE", "SUBSCRIPTION", "SSH", "GPG", "DEPLOY", "PASS");

    private SecretNameWords() {
    }

    /**
     * The secret word and the longer word it is part of, when {@code name} looks secret only so; empty when it does
     * not look secret, or when one of its words makes it secret.
     */
    public static Optional<PartWord> partWord(String name) {
        if (!SecretNames.looksSecret(name)) {
            return Optional.empty();
        }
        List<String> words = words(name);
        for (String word : words) {
            if (isSecretWord(SecretNames.asciiUpperCase(word))) {
                return Optional.empty();
            }
        }
        for (String word : words) {
            String upper = SecretNames.asciiUpperCase(word);
            for (String secret : SecretNames.WORDS) {
                if (upper.contains(secret)) {
                    return Optional.of(new PartWord(secret, word));
                }
            }
        }
        // A secret word across a case change ("PaSs"): named in the run of letters that holds it.
        String upper = SecretNames.asciiUpperCase(name);
        for (String secret : SecretNames.WORDS) {
            int at = upper.indexOf(secret);
            if (at >= 0) {
                int from = at;
                int to = at + secret.length();
                while (from > 0 && isLetter(name.charAt(from - 1))) {
                    from--;
                }
                while (to < name.length() && isLetter(name.charAt(to))) {
                    to++;
                }
                return Optional.of(new PartWord(secret, name.substring(from, to)));
            }
        }
        return Optional.empty(); // secret by PWD, PW or PAT, whole words between '_'
    }

    /** Whether one word, in upper case, makes a name secret (the rules above). */
    public static boolean isSecretWord(String word) {
        if (WORDS.contains(word) || word.contains("CREDENTIAL")) {
            return true;
        }
        for (String ending : ENDINGS) {
            if (word.endsWith(ending)) {
                return true;
            }
        }
        String kind = word.endsWith("KEY") ? word.substring(0, word.length() - 3)
                : word.endsWith("KEYS") ? word.substring(0, word.length() - 4) : null;
        return kind != null && KEY_KINDS.contains(kind);
    }

    /**
     * {@code name}'s words as written, split at each character that is no ASCII letter and at a lower-to-upper change:
     * {@code AUTH0_DOMAIN} is {@code AUTH}, {@code DOMAIN}; {@code apiKey} is {@code api}, {@code Key}.
     */
    public static List<String> words(String name) {
        List<String> out = new ArrayList<>();
        int from = -1;
        for (int i = 0; i <= name.length(); i++) {
            char c = i < name.length() ? name.charAt(i) : '_';
            boolean letter = isLetter(c);
            boolean caseChange = letter && from >= 0 && c >= 'A' && c <= 'Z' && name.charAt(i - 1) >= 'a'
                    && name.charAt(i - 1) <= 'z';
            if (from >= 0 && (!letter || caseChange)) {
                out.add(name.substring(from, i));
                from = -1;
            }
            if (letter && from < 0) {
                from = i;
            }
        }
        return out;
    }

    private static boolean isLetter(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z';
    }
}
