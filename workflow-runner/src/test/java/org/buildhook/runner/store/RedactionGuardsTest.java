package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Redaction tries each credential shape, the header pattern and the passwords on a command line only on a text that
 * holds what the pattern cannot match without (lead37, perf38). These check, on many seeded texts made of the
 * shapes' pieces, that the check never skips a text its pattern matches: were it to, a credential would be shown in
 * clear.
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

    /**
     * Pieces of command lines with passwords ({@link CommandCredentials#TEXT}): programs, their flags, values, and
     * near misses of the program words.
     */
    private static final String[] PROGRAM_PIECES = {"curl", "CURL", "Curl", "sshpass", "mysql", "mysqldump",
        "mariadb", "mariadb-dump", "MySQL", "login", "Login", "docker", "podman", "az", "acr", "registry", "oc", "lftp",
        "smbclient", "rpcclient", "smbget", "htpasswd", "htpasswd -nb", " ", " ", " ", "\t", "\n", "-u", "-U", "-p",
        "-fsSLu", "--user", "--user=", "--proxy-user", "--password", "--password=", "-b", "-C 10", "-v", "=", ":", ",",
        "%", "deploy", "pw", "s3cret", "'", "\"", "$", "${PW}", "|", ";", "&", "-", "_", "/usr/bin/", "x", "1",
        "https://host/", "sshpas", "mysq", "logi", "smb", "curl -u deploy:", "curl -fsSLu :", "sshpass -p ",
        "sshpass -v -p", "mysql -p", "mariadb-dump db -p", "docker login -p ", "az acr login --password=",
        "oc login -u u -p", "lftp -u deploy,", "smbclient -U dom%", "rpcclient --user=a%", "htpasswd -b f u ",
        "htpasswd -nb u ", "htpasswd -C 10 -b f u ", "redis-cli -a ", "redis", "ldapsearch -xw ", "ldp", "ldappasswd -s ",
        "unzip -P ", "zi", "keytool -storepass ", "jarsigner -keypass ", "openssl enc -k ", "openssl -passin pass:",
        "openss", "mosquitto_pub -P ", "mosquito", "REDIS-CLI", "Zip", "sqlcmd -P ", "sqlcm", "7z a -p", "7za", "7",
        "openssl dgst -hmac ", "openssl mac -macopt hexkey:", "-K ", "SQLCMD"};

    @Test
    void thePasswordsOnACommandLineAreLookedForInEveryTextThatHoldsOne() {
        Random random = new Random(40);
        // The guard's words as the regular expression it replaced (perf38): the same texts pass.
        Pattern anyProgram = Pattern.compile("curl|sshpass|mysql|mariadb|login|lftp|smb|rpcclient|htpasswd"
                + "|redis-cli|ldap|zip|keytool|jarsigner|openssl|mosquitto|sqlcmd|7z");
        int matched = 0;
        int skipped = 0;
        for (int n = 0; n < 100_000; n++) {
            String text = programText(random);
            boolean guard = CommandCredentials.mayHoldProgram(text);
            assertThat(guard).as("%s", text).isEqualTo(anyProgram.matcher(text).find());
            skipped += guard ? 0 : 1;
            for (Pattern command : CommandCredentials.TEXT) {
                if (command.matcher(text).find()) {
                    matched++;
                    assertThat(guard).as("%s in %s", command, text).isTrue();
                }
            }
        }
        assertThat(matched).as("texts with passwords on a command line were tried").isGreaterThan(2_000);
        assertThat(skipped).as("texts without a program were tried").isGreaterThan(2_000);
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
        "\"", "$", "***", "\n", "x", ".", "sqlcmd", "7z", "7za", "-K ", "-hmac ", "-macopt ", "key:", "hexkey:",
        "-xwpw"};

    /** mask38: each program's pattern is tried only on a text where mayHoldProgram finds a program word (perf38). */
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
                    assertThat(CommandCredentials.mayHoldProgram(text)).as("%s in %s", command, text).isTrue();
                }
            }
        }
        assertThat(matched).as("texts with a command's password were tried").isGreaterThan(1_000);
    }

    private static String programText(Random random) {
        StringBuilder b = new StringBuilder();
        for (int k = random.nextInt(12); k >= 0; k--) {
            b.append(PROGRAM_PIECES[random.nextInt(PROGRAM_PIECES.length)]);
        }
        return b.toString();
    }

    private static String text(Random random) {
        StringBuilder b = new StringBuilder();
        for (int k = random.nextInt(8); k >= 0; k--) {
            b.append(PIECES[random.nextInt(PIECES.length)]);
        }
        return b.toString();
    }
}
