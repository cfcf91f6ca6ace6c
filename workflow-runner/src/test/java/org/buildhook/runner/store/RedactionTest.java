package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactionTest {

    @Test
    void hidesTheValuesOfPassphrasesShortPasswordsAndAuthVariablesAsWellAsTokensAndKeys() {
        Map<String, String> env = Map.of("GPG_PASSPHRASE", "sign-it", "DB_PASS", "hunter2", "NPM_AUTH", "npm-auth",
                "SESSION_COOKIE", "c00kie", "SSH_PRIVATE", "-----BEGIN", "API_TOKEN", "t0ken", "DB_PASSWORD", "pw",
                "TARGET", "staging", "BUILD_ID", "67");

        Map<String, String> shown = Redaction.redact(env);

        assertThat(shown).containsEntry("GPG_PASSPHRASE", "***").containsEntry("DB_PASS", "***")
                .containsEntry("NPM_AUTH", "***").containsEntry("SESSION_COOKIE", "***")
                .containsEntry("SSH_PRIVATE", "***").containsEntry("API_TOKEN", "***")
                .containsEntry("DB_PASSWORD", "***").containsEntry("TARGET", "staging").containsEntry("BUILD_ID", "67");
        assertThat(Redaction.redactSnapshot("{\"run\":{\"env\":{\"GPG_PASSPHRASE\":\"sign-it\",\"TARGET\":\"x\"}}}"))
                .isEqualTo("{\"run\":{\"env\":{\"GPG_PASSPHRASE\":\"***\",\"TARGET\":\"x\"}}}");
    }
}
