package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * mask36 L4: a secret-looking name that ends in an identifier word names or locates something, and its value, often a
 * common word, was masked wherever it appeared: {@code SIGN_KEY_ID: main} hid every {@code main} of the log. Such a
 * value is masked under its own name only; a real secret's value everywhere, as before.
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
        env.put("TARGET", "staging");

        assertThat(SecretNames.valuesIn(env)).containsExactlyInAnyOrder("pw-1234", "k-5678",
                "https://hooks.example.com/T/B/x", "s-9012");
        assertThat(SecretNames.looksSecret("SIGN_KEY_ID")).as("still shown as *** under its own name").isTrue();
        assertThat(SecretNames.maskedEverywhere("SIGN_KEY_ID")).isFalse();
        assertThat(SecretNames.maskedEverywhere("DB_PASSWORD")).isTrue();
    }
}
