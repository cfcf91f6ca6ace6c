package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout38 F6: a name that looks secret only because a secret word is part of a longer word ({@code BYPASS_CACHE},
 * {@code AUTHOR}) is told apart from one that a word of its own, or a word ending in a secret word, makes secret
 * ({@code DB_PASS}, {@code MYPASSWORD}). Both still look secret: which names do is unchanged.
 */
class SecretNameWordsTest {

    @ParameterizedTest
    @CsvSource({"BYPASS_CACHE, PASS, BYPASS", "AUTHOR, AUTH, AUTHOR", "PASSENGER_ENV, PASS, PASSENGER",
        "TOKENIZER_MODEL, TOKEN, TOKENIZER", "KEYBOARD_LAYOUT, KEY, KEYBOARD", "MONKEY_PATCH, KEY, MONKEY",
        "COMPASS_HEADING, PASS, COMPASS", "MAX_TOKENS, TOKEN, TOKENS", "OAUTH_SCOPE, AUTH, OAUTH",
        "OAUTH2_SCOPE, AUTH, OAUTH", "DBPASS, PASS, DBPASS", "gitAuthor, AUTH, Author",
        "COOKIECUTTER_TEMPLATE, COOKIE, COOKIECUTTER", "TURKEY_PRIVATEER, KEY, TURKEY", "PaSs, PASS, PaSs"})
    void aNameSecretOnlyByAWordInsideALongerWordIsTold(String name, String secret, String word) {
        assertThat(SecretNames.looksSecret(name)).as("it still looks secret").isTrue();
        assertThat(SecretNameWords.partWord(name)).contains(new SecretNameWords.PartWord(secret, word));
    }

    @ParameterizedTest
    @ValueSource(strings = {"DB_PASSWORD", "API_TOKEN", "GITHUB_TOKEN", "MYPASSWORD", "SSH_KEY", "AUTH_HEADER",
        "APIKEY", "GITHUBTOKEN", "SSHKEY", "PRIVATEKEY", "ACCESSKEY", "PASSKEY", "CLIENT_SECRET", "CLIENTSECRET", "DB_PASS",
        "DB_PASSWD", "GPG_PASSPHRASE", "NPM_AUTH", "BASIC_AUTH", "AUTHORIZATION_HEADER", "SLACK_WEBHOOK_URL",
        "SENTRY_DSN", "GOOGLE_APPLICATION_CREDENTIALS", "AWSCREDENTIALS", "SIGN_KEY_ID", "apiKey", "githubToken",
        "DB_PWD", "GITHUB_PAT", "S3KEY", "OAUTH2_TOKEN", "SIGNING_KEYS", "AUTHOR_TOKEN", "BYPASS_PASSWORD", "DEPLOY_KEYS",
        "X-Api-Key", "db.password", "PATH", "TARGET", "BUILD_ARCH", ""})
    void aNameAWordOfWhichIsSecretOrThatIsNotSecretAtAllIsNotTold(String name) {
        assertThat(SecretNameWords.partWord(name)).isEmpty();
    }

    @Test
    void wordsAreSplitAtEveryCharacterThatIsNoLetterAndAtALowerToUpperChange() {
        assertThat(SecretNameWords.words("OAUTH2_client.secretName-x")).containsExactly("OAUTH", "client", "secret",
                "Name", "x");
        assertThat(SecretNameWords.words("APIKey")).containsExactly("APIKey");
        assertThat(SecretNameWords.words("__")).isEmpty();
    }
}
