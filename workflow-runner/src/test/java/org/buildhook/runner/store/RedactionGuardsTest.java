package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Redaction tries each credential shape, and the header pattern, only on a text that holds what the pattern cannot
 * match without (lead37). These check, on many seeded texts made of the shapes' pieces, that the check never skips a
 * text its pattern matches: were it to, a credential would be shown in clear.
 */
class RedactionGuardsTest {

    private static final String[] PIECES = {"https://", "http://", "user", ":", "@", "pass", "word", "/", " ", "-H",
        "-H ", "X-Api-Key", "Key", "key", "Api", "-", "_", ".", "=", "\"", "'", "Bearer ", "basic ", "BASIC\t",
        "Authorization:", "authorization: ", "Proxy-", "ghp_", "github_pat_", "glpat-", "xoxb-", "sk-", "sk_live_",
        "npm_", "AKIA", "ABCDEFGHIJKLMNOP", "0123456789abcdefghijklmnopqrstuvwxyz", "abcd1234", "hooks.slack.com/",
        "services/", "discord.com/api/webhooks/", ".webhook.office.com/webhookb2/", "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----", "PRIVATE KEY-----", "\n", "OSF-TOKEN", "token", "Cookie", "cookie:", "1", "x",
        "(", "[", "{", ",", ";", "\u017F", "\u212A", "$", "${", "}", "TOKEN", "secret", "Passed", "keycloak"};

    @Test
    void aShapeIsTriedOnEveryTextItMatches() {
        Random random = new Random(37);
        int matched = 0;
        for (int n = 0; n < 100_000; n++) {
            String text = text(random);
            String lower = text.toLowerCase(Locale.ROOT);
            for (Redaction.Shape shape : Redaction.SHAPES) {
                if (shape.pattern().matcher(text).find()) {
                    matched++;
                    assertThat(shape.mayMatch(lower)).as("%s in %s", shape.what(), text).isTrue();
                }
            }
        }
        assertThat(matched).as("texts with shapes were tried").isGreaterThan(5_000);
    }

    @Test
    void theHeaderPatternIsTriedOnEveryTextWithASecretHeader() {
        Random random = new Random(38);
        int secret = 0;
        for (int n = 0; n < 100_000; n++) {
            String text = text(random);
            Matcher m = Redaction.HEADER.matcher(text);
            for (int at = 0; at <= text.length() && m.find(at); at = m.start() + 1) {
                if (JsonSecrets.isSecretHeaderName(m.group(1))) {
                    secret++;
                    assertThat(Redaction.mayHoldSecretHeader(text)).as("%s", text).isTrue();
                    break;
                }
            }
        }
        assertThat(secret).as("texts with secret headers were tried").isGreaterThan(2_000);
    }

    @Test
    void aUrlABuildNumberAndAPathAreNotTriedAsHeaders() {
        assertThat(Redaction.mayHoldSecretHeader("https://api.foundries.io/projects/lmp/lmp/builds/68/")).isFalse();
        assertThat(Redaction.mayHoldSecretHeader("keycloak:21.0.1")).isFalse();
        assertThat(Redaction.mayHoldSecretHeader("-HX-Api-Key:k")).isTrue();
        assertThat(Redaction.mayHoldSecretHeader("-Hpassword: x")).isTrue();
    }

    private static final String[] COMMAND_PIECES = {"curl", "sshpass", "mysql", "mariadb-dump", "docker", "az acr",
        " login", "lftp", "smbclient", "rpcclient", "htpasswd", "redis-cli", "ldapsearch", "ldappasswd", "zip", "unzip",
        "keytool", "jarsigner", "openssl", "mosquitto_pub", "/usr/bin/", " ", " ", " ", "-a ", "-u ", "-U ", "-p", "-w",
        "-xw", "-P", "-k ", "-s ", "-storepass ", "-srckeypass ", "-new ", "-passin ", "-pass=", "pass:", "--pass ",
        "--pw ", "--user=", "deploy", ":", ",", "%", "pw", "-b ", "-nb ", "-C 10 ", "f ", "u ", ";", "&&", "|", "'",
        "\"", "$", "***", "\n", "x", "."};

    /** mask38: each program's pattern is tried only on a text where ANY_PROGRAM finds a program word. */
    @Test
    void aCommandsPasswordPatternIsTriedOnEveryTextItMatches() {
        Random random = new Random(39);
        int matched = 0;
        for (int n = 0; n < 100_000; n++) {
            // Half of them begin with a program, so that many texts match; the rest may hold one anywhere, or none.
            StringBuilder b = new StringBuilder(n % 2 == 0 ? COMMAND_PIECES[random.nextInt(20)] + " " : "");
            for (int k = random.nextInt(10); k >= 0; k--) {
                b.append(COMMAND_PIECES[random.nextInt(COMMAND_PIECES.length)]);
            }
            String text = b.toString();
            for (Pattern command : CommandCredentials.TEXT) {
                if (command.matcher(text).find()) {
                    matched++;
                    assertThat(CommandCredentials.ANY_PROGRAM.matcher(text).find()).as("%s in %s", command, text)
                            .isTrue();
                }
            }
        }
        assertThat(matched).as("texts with a command's password were tried").isGreaterThan(1_000);
    }

    private static String text(Random random) {
        StringBuilder b = new StringBuilder();
        for (int k = random.nextInt(8); k >= 0; k--) {
            b.append(PIECES[random.nextInt(PIECES.length)]);
        }
        return b.toString();
    }
}
