package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * mask36 L4: a secret-looking name that ends in an identifier word names or locates something, and its value, often a
 * common word, was masked wherever it appeared: {@code SIGN_KEY_ID: main} hid every {@code main} of the log. Such a
 * value is masked under its own name only; a real secret's value everywhere, as before. And (lead37) which names look
 * secret, decided without the pattern.
 */
class SecretNamesTest {

    @Test
    void aNameEndingInAnIdentifierWordIsNotMaskedEverywhereButARealSecretAWebhookAndASecretIdAre() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SIGN_KEY_ID", "main");
        env.put("SSH_KEY_NAME", "deploy-key");
        env.put("DB_PASSWORD_FILE", "/run/secrets/db");
        env.put("TOKEN_URL", "https://auth.example.com/token");
        env.put("AUTH_USER", "deploy");
        env.put("DB_PASSWORD", "pw-1234");
        env.put("API_KEY", "k-5678");
        env.put("SLACK_WEBHOOK_URL", "https://hooks.example.com/T/B/x");
        env.put("VAULT_SECRET_ID", "s-9012");
        env.put("SENTRY_DSN_URL", "https://4f1e2d3c@o1.ingest.example.io/7");
        env.put("TARGET", "staging");

        assertThat(SecretNames.valuesIn(env)).containsExactlyInAnyOrder("pw-1234", "k-5678",
                "https://hooks.example.com/T/B/x", "s-9012", "https://4f1e2d3c@o1.ingest.example.io/7");
        assertThat(SecretNames.looksSecret("SIGN_KEY_ID")).as("still shown as *** under its own name").isTrue();
        assertThat(SecretNames.maskedEverywhere("SIGN_KEY_ID")).isFalse();
        assertThat(SecretNames.maskedEverywhere("DB_PASSWORD")).isTrue();
    }

    /**
     * tryout39 F8: {@code AUTH_ENABLED: "true"} hid every {@code true} of the job's log. A boolean word is masked under
     * its own name only; a number (a PIN is a secret), a setting's word and a word that merely begins as one, still
     * everywhere.
     */
    @Test
    void aBooleanWordIsNotMaskedEverywhereWhateverItsCaseButANumberAndOtherWordsAre() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("AUTH_ENABLED", "true");
        env.put("COOKIE_SECURE", "FALSE");
        env.put("NPM_AUTH", "False");
        env.put("SIGN_KEY_PIN", "12345");
        env.put("WEBHOOK_FORMAT", "json");
        env.put("DB_PASSWORD", "truefalse");
        env.put("API_TOKEN", "true ");

        assertThat(SecretNames.valuesIn(env)).containsExactlyInAnyOrder("12345", "json", "truefalse", "true ");
        assertThat(SecretNames.looksSecret("AUTH_ENABLED")).as("still shown as *** under its own name").isTrue();
        for (String word : new String[] {"true", "FALSE", "Yes", "no", "ON", "off"}) {
            assertThat(SecretNames.isBooleanWord(word)).as(word).isTrue();
        }
        for (String word : new String[] {"1", "0", "truee", "enabled", "y", "", "tru\u0435"}) {
            assertThat(SecretNames.isBooleanWord(word)).as(word).isFalse();
        }
    }


    @ParameterizedTest
    @ValueSource(strings = {"API_TOKEN", "db_password", "DB_PW", "GITHUB_PAT", "pwd", "X-Api-Key", "NPM_AUTH",
        "FOUNDRIES_BEARER", "SENTRY_DSN", "SLACK_WEBHOOK", "PW_", "_pat", "client_secret", "Cookie"})
    void secretNames(String name) {
        assertThat(SecretNames.looksSecret(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"PATH", "TARGET", "BUILDHOOK_BUILD_ID", "PATCH_LEVEL", "PWDX", "SPW", "", "_", "DB__P_W",
        "pa\u017Fs", "\u0131", "\u212AEY"})
    void namesThatAreNot(String name) {
        assertThat(SecretNames.looksSecret(name)).isFalse();
    }

    /**
     * looksSecret is the pattern's rule without the pattern (lead37): on names made of the pattern's words, their
     * pieces, separators, other cases and characters that upper-case to ASCII letters outside ASCII (long s, dotless
     * i, the Kelvin sign), both say the same. Seeded: a failure is reproduced by the same seed.
     */
    @Test
    void looksSecretSaysWhatThePatternFinds() {
        String[] pieces = {"SECRET", "TOKEN", "PASS", "KEY", "CREDENTIAL", "CREDS", "AUTH", "BEARER", "COOKIE",
            "PRIVATE", "DSN", "WEBHOOK", "PWD", "PW", "PAT", "pat", "Pw", "pwd", "TOK", "EN", "PA", "SS", "K", "EY",
            "_", "__", "-", ".", "A", "x", "1", "H", "PATH", "\u017F", "\u0131", "\u212A", "\u00DF", "s", "e",
            "\n", "\r", "\r\n", "\u2028", "\u0085"};
        Random random = new Random(37);
        int secret = 0;
        for (int n = 0; n < 200_000; n++) {
            StringBuilder name = new StringBuilder();
            for (int k = random.nextInt(6); k >= 0; k--) {
                name.append(pieces[random.nextInt(pieces.length)]);
            }
            String s = name.toString();
            boolean expected = SecretNames.PATTERN.matcher(s).find();
            assertThat(SecretNames.looksSecret(s)).as("%s", s).isEqualTo(expected);
            secret += expected ? 1 : 0;
        }
        assertThat(secret).as("names of both kinds were tried").isBetween(10_000, 190_000);
    }
}
