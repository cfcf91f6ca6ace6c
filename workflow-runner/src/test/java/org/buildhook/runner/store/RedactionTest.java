package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
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

    /**
     * tryout33 F7: secrets under names outside the old list, and credentials in a command, were shown in clear.
     * Such names are masked now, a secret-named value is hidden wherever it appears, and a credential's shape is
     * hidden whatever its name; an ordinary name or value (PATH, a commit id) is not.
     */
    @Test
    void hidesSecretsUnderNamesThatWereNotMaskedAndCredentialsByTheirShapeWhateverTheirName() {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("DB_PWD", "hunter2");
        env.put("GITHUB_PAT", "ghp_abcdef123456");
        env.put("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX");
        env.put("SENTRY_DSN", "https://k3y@o1.ingest.sentry.io/1");
        env.put("DB_PW", "pw-value");
        env.put("FOUNDRIES_BEARER", "tok-BEARER-eeee5555");
        env.put("NOTIFY", "https://hooks.slack.com/services/T111/B111/YYYYsecretYYYY");
        env.put("REPO", "https://deploy:s3cr3tpw@git.example.com/app.git");
        env.put("GH", "ghp_zyxwvu987654");
        env.put("UPLOAD", "https://s3.example.com/b/o?X-Amz-Signature=abc123def&x=1");
        env.put("CONNECT", "postgres://app@db/app?sslmode=require&password=pgpass1");
        env.put("PATH", "/usr/bin:/bin");
        env.put("PYTHONPATH", "/opt/lib");
        env.put("COMMIT", "9f2c1e4b7a0d3f5e6c8b9a1d2e3f4a5b6c7d8e9f");
        env.put("WEB_URL", "https://ci.example.com/projects/lmp/builds/67/");

        Map<String, String> shown = Redaction.redact(env);

        assertThat(shown).containsEntry("DB_PWD", "***").containsEntry("GITHUB_PAT", "***")
                .containsEntry("SLACK_WEBHOOK_URL", "***").containsEntry("SENTRY_DSN", "***").containsEntry("DB_PW", "***")
                .containsEntry("FOUNDRIES_BEARER", "***")
                .containsEntry("NOTIFY", "https://hooks.slack.com/services/***")
                .containsEntry("REPO", "https://deploy:***@git.example.com/app.git")
                .containsEntry("GH", "ghp_***")
                .containsEntry("UPLOAD", "https://s3.example.com/b/o?X-Amz-Signature=***&x=1")
                .containsEntry("CONNECT", "postgres://app@db/app?sslmode=require&password=***")
                .containsEntry("PATH", "/usr/bin:/bin").containsEntry("PYTHONPATH", "/opt/lib")
                .containsEntry("COMMIT", env.get("COMMIT")).containsEntry("WEB_URL", env.get("WEB_URL"));
        assertThat(shown.values().toString()).doesNotContain("hunter2", "abcdef123456", "XXXXsecretXXXX",
                "YYYYsecretYYYY", "s3cr3tpw", "zyxwvu987654", "abc123def", "pgpass1", "k3y@", "eeee5555");
    }

    @Test
    void hidesCredentialsInACommandsArgumentsAndTheSecretValuesOfItsEnvironmentWhereverTheyAppear() {
        List<String> argv = List.of("/usr/bin/curl", "-s", "-H", "Authorization: Bearer sk-live-abc123",
                "--password", "hunter3", "--db-password=pw4", "https://u:p4ss@example.com/x?access_token=tok5",
                "Basic dXNlcjpwYXNz", "--data", "pwd=hunter2", "hunter2-suffix", "/opt/deploy.sh", "--user", "alice",
                "${HOME}", "Authorization: Bearer $API_TOKEN");
        // tryout34 F3: a header NAME: value whose NAME looks secret, as NAME=value is; ordinary headers and
        // host:port stay visible, and so does shell code
        List<String> headers = List.of("X-Api-Key: tok-XAPI-ffff6666", "OSF-TOKEN: tok-OSF-pppp9090",
                "x-auth-token:tok-nospace-7777", "Cookie: theme=dark; session=s3ss10n-8888",
                "X-Foundries-Bearer: Token tok-two-words-9999",
                "curl -sf -H 'OSF-TOKEN: tok-sh-aaaa1111' https://api.foundries.io/x\nX-Api-Key: tok-line-bbbb2222\nok",
                "Content-Type: application/json", "https://api.foundries.io:443/projects", "git@keyserver:repo.git",
                "X-Api-Key: $API_KEY", "OSF-TOKEN: ${build.id}", "curl https://x/y -H X-Api-Key:tok-late-cccc3333");

        List<String> shown = Redaction.redactArgv(argv, Map.of("DB_PWD", "hunter2", "TARGET", "staging"));
        List<String> shownHeaders = Redaction.redactArgv(headers, Map.of());

        assertThat(shown).containsExactly("/usr/bin/curl", "-s", "-H", "Authorization: Bearer ***",
                "--password", "***", "--db-password=***", "https://u:***@example.com/x?access_token=***",
                "Basic ***", "--data", "pwd=***", "***-suffix", "/opt/deploy.sh", "--user", "alice",
                "${HOME}", "Authorization: Bearer $API_TOKEN");
        assertThat(shownHeaders).containsExactly("X-Api-Key: ***", "OSF-TOKEN: ***", "x-auth-token:***", "Cookie: ***",
                "X-Foundries-Bearer: ***",
                "curl -sf -H 'OSF-TOKEN: ***' https://api.foundries.io/x\nX-Api-Key: ***\nok",
                "Content-Type: application/json", "https://api.foundries.io:443/projects", "git@keyserver:repo.git",
                "X-Api-Key: $API_KEY", "OSF-TOKEN: ${build.id}", "curl https://x/y -H X-Api-Key:***");
        assertThat(Redaction.redactArgv(List.of("/bin/echo", "staging"), Map.of("TARGET", "staging")))
                .containsExactly("/bin/echo", "staging");
    }

    @Test
    void hidesASecretNamedHeaderGivenAsAnOptionsValueAsWgetAndCurlTakeIt() {
        // review35: wget takes a header as --header=NAME: value and curl as -HNAME: value; the header's value was
        // shown in clear there (the header was looked for only at a text's start or after a space, quote or bracket)
        List<String> argv = List.of("/usr/bin/wget", "--header=X-Api-Key: tok-wget-dddd4444",
                "--header=OSF-TOKEN: tok-wget-eeee5555", "--header=Cookie: session=s3ss-wget-ffff",
                "--header=Content-Type: application/json", "/usr/bin/curl", "-HX-Api-Key: tok-curl-gggg7777",
                "--header=X-Api-Key: $API_KEY", "--url=https://api.foundries.io:443/x");

        assertThat(Redaction.redactArgv(argv, Map.of())).containsExactly("/usr/bin/wget", "--header=X-Api-Key: ***",
                "--header=OSF-TOKEN: ***", "--header=Cookie: ***", "--header=Content-Type: application/json",
                "/usr/bin/curl", "-HX-Api-Key: ***", "--header=X-Api-Key: $API_KEY",
                "--url=https://api.foundries.io:443/x");
        assertThat(Redaction.credentialIn("--header=X-Api-Key: tok-wget-dddd4444"))
                .contains("a secret-named header (X-Api-Key: …)");
        assertThat(Redaction.credentialIn("-HOSF-TOKEN: tok-curl-hhhh8888"))
                .contains("a secret-named header (OSF-TOKEN: …)");
        assertThat(Redaction.credentialIn("--header=Content-Type: application/json")).isEmpty();
    }

    @Test
    void hidesTheValueOfASecretNamedMemberOfAJsonBodyInACommand() {
        // review35: curl -d '{"password": "…"}' showed the value in clear (neither NAME=value nor a header)
        List<String> argv = List.of("/usr/bin/curl", "-d", "{\"user\": \"deploy\", \"password\": \"hunter-json-1\"}",
                "--data", "{\"api_token\":\"tok-json-2222\",\"X-Api-Key\" : \"tok-json-\\\"3333\"}",
                "{\"token\": \"$API_TOKEN\", \"name\": \"staging\", \"auth\": \"\"}");

        assertThat(Redaction.redactArgv(argv, Map.of())).containsExactly("/usr/bin/curl", "-d",
                "{\"user\": \"deploy\", \"password\": \"***\"}", "--data",
                "{\"api_token\":\"***\",\"X-Api-Key\" : \"***\"}",
                "{\"token\": \"$API_TOKEN\", \"name\": \"staging\", \"auth\": \"\"}");
        assertThat(Redaction.credentialIn("{\"password\": \"hunter-json-1\"}"))
                .contains("a secret-named JSON member (\"password\": …)");
        assertThat(Redaction.credentialIn("{\"token\": \"$API_TOKEN\", \"name\": \"staging\"}")).isEmpty();
    }

    @Test
    void theRuleSnapshotHidesCredentialsInCommandsAndTheEnvironmentsSecretValuesWhereverTheyAppear() {
        String snapshot = "{\"run\":{\"command\":[\"/usr/bin/curl\",\"-H\",\"Authorization: Bearer sk-live-abc123\","
                + "\"--token\",\"tok-value-6\",\"pw=${build.id}-hunter2\",\"OSF-TOKEN: tok-OSF-pppp9090\"],"
                + "\"env\":{\"DB_PWD\":\"hunter2\",\"FOUNDRIES_BEARER\":\"tok-BEARER-eeee5555\"}},"
                + "\"on-failure\":{\"command\":[\"/bin/page\",\"https://hooks.slack.com/services/T/B/Zsecret\"]}}";

        String shown = Redaction.redactSnapshot(snapshot);

        assertThat(shown).doesNotContain("sk-live-abc123", "tok-value-6", "hunter2", "Zsecret", "pppp9090", "eeee5555")
                .contains("\"Authorization: Bearer ***\"", "\"--token\",\"***\"", "\"DB_PWD\":\"***\"",
                        "\"OSF-TOKEN: ***\"", "\"FOUNDRIES_BEARER\":\"***\"",
                        "hooks.slack.com/services/***");
    }

    @Test
    void saysWhatCredentialATextLooksLikeForAWarningAndNothingForOrdinaryText() {
        assertThat(Redaction.credentialIn("Authorization: Bearer sk-live-abc123")).contains("an Authorization header");
        assertThat(Redaction.credentialIn("https://hooks.slack.com/services/T/B/X")).isPresent();
        assertThat(Redaction.credentialIn("ghp_abcdef123456")).isPresent();
        assertThat(Redaction.credentialIn("https://u:pw@example.com")).contains("a password in a URL");
        assertThat(Redaction.credentialIn("--api-token=abc")).isPresent();
        assertThat(Redaction.credentialIn("Authorization: Bearer $API_TOKEN")).isEmpty();
        assertThat(Redaction.credentialIn("TOKEN=${build.id}")).isEmpty();
        assertThat(Redaction.credentialIn("X-Api-Key: tok-XAPI-ffff6666")).contains("a secret-named header (X-Api-Key: …)");
        assertThat(Redaction.credentialIn("OSF-TOKEN: tok-OSF-pppp9090")).contains("a secret-named header (OSF-TOKEN: …)");
        assertThat(Redaction.credentialIn("X-Api-Key: $API_KEY")).isEmpty();
        assertThat(Redaction.credentialIn("OSF-TOKEN: ${build.id}")).isEmpty();
        for (String ordinary : List.of("${build.id}", "/opt/deploy.sh", "--verbose", "task-1234567890abcdefghijkl",
                "https://ci.example.com/builds/67", "9f2c1e4b7a0d3f5e6c8b9a1d2e3f4a5b6c7d8e9f", "KEY_ID",
                "Content-Type: application/json", "https://api.foundries.io:443/x", "git@keyserver:repo.git")) {
            assertThat(Redaction.credentialIn(ordinary)).as(ordinary).isEmpty();
        }
        assertThat(Redaction.isSecretFlag("--password")).isTrue();
        assertThat(Redaction.isSecretFlag("--api-key")).isTrue();
        assertThat(Redaction.isSecretFlag("--token-file")).isFalse();
    }
    /**
     * secret34's open item 1: a user:password or password a program takes after its own flag, without a URL or a
     * NAME= around it, was shown in clear in a command's arguments, in shell code and in variables.
     */
    @Test
    void hidesThePasswordAfterCurlsUserFlagSshpassMysqlAndDockerLoginAsArgumentsAndInShellCode() {
        assertThat(Redaction.redactArgv(List.of("curl", "-sf", "-u", "deploy:s3cr3t", "https://x.example.com"), Map.of()))
                .containsExactly("curl", "-sf", "-u", "deploy:***", "https://x.example.com");
        assertThat(Redaction.redactArgv(List.of("/usr/bin/curl", "--user", "deploy:s3cr3t", "-fsSLu", "me@x.org:pw2",
                "--user=a:b3", "-ub:c4", "--proxy-user", "p:q5"), Map.of()))
                .containsExactly("/usr/bin/curl", "--user", "deploy:***", "-fsSLu", "me@x.org:***", "--user=a:***",
                        "-ub:***", "--proxy-user", "p:***");
        assertThat(Redaction.redactArgv(List.of("sudo", "sshpass", "-p", "s3cr3t", "ssh", "-p", "2222", "host"), Map.of()))
                .containsExactly("sudo", "sshpass", "-p", "***", "ssh", "-p", "2222", "host");
        assertThat(Redaction.redactArgv(List.of("mysql", "-h", "db", "-P", "3306", "-uroot", "-pS3cr3t", "app"), Map.of()))
                .containsExactly("mysql", "-h", "db", "-P", "3306", "-uroot", "-p***", "app");
        assertThat(Redaction.redactArgv(List.of("docker", "login", "-u", "bot", "-p", "s3cr3t", "reg.example.com"),
                Map.of())).containsExactly("docker", "login", "-u", "bot", "-p", "***", "reg.example.com");
        assertThat(Redaction.redactArgv(List.of("tool", "--basic-auth=user:pass1", "--basic-auth", "user:pass2"), Map.of()))
                .containsExactly("tool", "--basic-auth=***", "--basic-auth", "***");
        assertThat(Redaction.redactText("set -e; curl -sfu deploy:s3cr3t https://x/ | tee out; sshpass -p 'pw1' ssh h;"
                + " mysqldump -uroot -pS3cr3t app > a.sql; docker login -u bot --password s3c4 reg", List.of()))
                .isEqualTo("set -e; curl -sfu deploy:*** https://x/ | tee out; sshpass -p '***' ssh h;"
                        + " mysqldump -uroot -p*** app > a.sql; docker login -u bot --password *** reg");
    }

    /** What secret34's item 1 must leave alone: a:b that is not after such a program's own flag. */
    @Test
    void leavesTimesHostsPortsImageTagsIpv6UserGroupsAndShellVariablesAfterTheseFlagsAlone() {
        List<String> argv = List.of("docker", "run", "-u", "1000:1000", "-p", "8080:80", "registry:5000/app:1.2",
                "sh", "-c", "echo 12:30:45 [::1]:8080 fe80::1 db:5432; ssh -p 2222 h; sort -u a:b; mysql -P 3306 -p");
        assertThat(Redaction.redactArgv(argv, Map.of())).isEqualTo(argv);
        List<String> variables = List.of("curl", "-u", "$DEPLOY_USER:$DEPLOY_PASSWORD", "-u", "${user}:${pass}",
                "https://host:8443/x");
        assertThat(Redaction.redactArgv(variables, Map.of())).isEqualTo(variables);
        String shell = "curl -u \"$U:$P\" https://h:8443/; curl -u deploy: https://h/; sshpass -e ssh -p 22 h;"
                + " mysql -p -h db; echo 'login at 12:30:45'";
        assertThat(Redaction.redactText(shell, List.of())).isEqualTo(shell);
        assertThat(Redaction.credentialIn(shell)).isEmpty();
        assertThat(Redaction.passwordArgument(variables, 2)).isEmpty();
        assertThat(Redaction.passwordArgument(List.of("curl", "-u", "deploy:s3cr3t"), 2)).isPresent();
        assertThat(Redaction.credentialIn("curl -u deploy:s3cr3t https://x/")).isPresent();
    }

    /** secret34's open item 2: a secret field of a JSON or Python dict text, any spacing or quoting. */
    @Test
    void hidesTheValuesOfSecretFieldsOfJsonWhateverTheSpacingAndQuoting() {
        String json = "{\"password\": \"s3cr3t\", \"token\":\"t0k\\\"en\", \"api_key\" : \"k3y\", \"secret\": 123456,"
                + " \"authorization\": \"Bearer abc.def\", \"clientSecret\":\n  \"cs1\", 'db.password': 'pw',"
                + " \"X-Api-Key\": \"xk\", \"access_token\": \"at\", \"user\": \"deploy\", \"token\": null,"
                + " \"password\": \"\", \"auth\": \"$AUTH\"}";

        assertThat(Redaction.redactText(json, List.of())).isEqualTo(
                "{\"password\": \"***\", \"token\":\"***\", \"api_key\" : \"***\", \"secret\": ***,"
                        + " \"authorization\": \"Bearer ***\", \"clientSecret\":\n  \"***\", 'db.password': '***',"
                        + " \"X-Api-Key\": \"***\", \"access_token\": \"***\", \"user\": \"deploy\", \"token\": null,"
                        + " \"password\": \"\", \"auth\": \"$AUTH\"}");
        assertThat(Redaction.credentialIn("-d {\"password\": \"s3cr3t\"}")).contains("a secret-named JSON member (\"password\": …)");
        assertThat(Redaction.redactArgv(List.of("curl", "-d", "{\"token\":\"abc\"}"), Map.of()))
                .containsExactly("curl", "-d", "{\"token\":\"***\"}");
    }

    /**
     * What secret34's item 2 must leave alone: a number or single-quoted value under a name that only contains a
     * secret-looking word (a double-quoted one is masked under any secret-looking name since review35), and YAML,
     * times, image tags and addresses that are not secret.
     */
    @Test
    void leavesJsonFieldsWhoseNameOnlyContainsASecretLookingWordAndYamlThatIsNotSecret() {
        String json = "{\"tokens\": 812, \"token_count\": 5, 'secretName': 'db-creds', \"passed\": 10,"
                + " 'author': 'Andy', \"primary_key\": 7, 'keyboard': 'us', \"secret\": true, \"token\": null,"
                + " \"time\": \"12:30:45\", \"image\": \"app:1.2\", \"host\": \"[fe80::1]:8080\"}";
        assertThat(Redaction.redactText(json, List.of())).isEqualTo(json);
        assertThat(Redaction.credentialIn(json)).isEmpty();
        String yaml = "image: registry:5000/app:1.2\nstarted: 12:30:45\nhost: db:5432\nlisten: [::1]:8080";
        assertThat(Redaction.redactText(yaml, List.of())).isEqualTo(yaml);
    }

    /**
     * mask36: what buildhook hides of a job in what it shows is what its log masks, as the job gets the values: a
     * secret-named value, the secret part of a credential-shaped argument or value, the argument after a secret flag;
     * nothing of an argument or value it shows whole.
     */
    @Test
    void theValuesHiddenInAJobAreTheSecretPartsAsTheJobGetsThem() {
        List<String> argv = List.of("/usr/bin/curl", "-H", "Authorization: Bearer b34rer-tok", "-u", "deploy:s3cr3t",
                "--password", "flag-pass", "https://user:urlpa55@host/x", "--data", "{\"api_key\": \"k-e-y\"}",
                "plain", "${build.id}");
        Map<String, String> env = Map.of("DB_PASSWORD", "db-pa55word", "DEPLOY_URL", "https://a:envpa55@h/",
                "TARGET", "staging", "SHORT_TOKEN", "abc");

        assertThat(Redaction.hiddenIn(argv, env)).containsExactlyInAnyOrder("b34rer-tok", "s3cr3t", "flag-pass",
                "urlpa55", "k-e-y", "db-pa55word", "envpa55");
        assertThat(Redaction.hiddenIn(List.of("/bin/true", "staging"), Map.of("TARGET", "staging"))).isEmpty();
    }

    @Test
    void aTextThatCannotBeLinedUpWithItsMaskedFormGivesNoPartItCannotPlace() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        Redaction.hiddenParts("a=x1 b=y2", "a=*** b=***", out);
        assertThat(out).containsExactlyInAnyOrder("x1", "y2");
        out.clear();
        Redaction.hiddenParts("literal *** here", "literal *** here", out);
        Redaction.hiddenParts("zz", "q=***", out);
        assertThat(out).isEmpty();
    }

    /**
     * review36: curl's own flag for a bearer token, --oauth2-bearer TOKEN, and a login command's password glued to its
     * flag, docker login -pPASSWORD (pflag takes it), were shown in clear, and check did not warn of them.
     */
    @Test
    void hidesCurlsOauth2BearerTokenAndALoginPasswordGluedToItsFlag() {
        assertThat(Redaction.redactArgv(List.of("curl", "--oauth2-bearer", "eyJhbGciOi.payload.sig", "https://x"),
                Map.of())).containsExactly("curl", "--oauth2-bearer", "***", "https://x");
        assertThat(Redaction.isSecretFlag("--oauth2-bearer")).isTrue();
        assertThat(Redaction.redactArgv(List.of("docker", "login", "-u", "bot", "-pS3cr3tPw", "reg.example.com"),
                Map.of())).containsExactly("docker", "login", "-u", "bot", "-p***", "reg.example.com");
        assertThat(Redaction.passwordArgument(List.of("podman", "login", "-pS3cr3tPw", "reg"), 2)).isPresent();
        assertThat(Redaction.redactText("set -e; docker login -u bot -pS3cr3tPw reg.example.com && make push",
                List.of())).isEqualTo("set -e; docker login -u bot -p*** reg.example.com && make push");
        assertThat(Redaction.redactArgv(List.of("docker", "login", "--password-stdin", "-u", "bot", "reg"), Map.of()))
                .as("no password on the line").containsExactly("docker", "login", "--password-stdin", "-u", "bot", "reg");
        assertThat(Redaction.redactArgv(List.of("docker", "run", "-p8080:80", "nginx"), Map.of()))
                .as("not a login").containsExactly("docker", "run", "-p8080:80", "nginx");
    }

    /**
     * header36 (review36 F5): a header's name was taken for secret when it merely contained KEY, PASS, TOKEN …, and
     * its value ran to the end of the line: an image tag, a test summary and the rest of a shell script were shown
     * as ***. A name is secret by its last word now, and in shell code a value ends where its command does.
     */
    @Test
    void aHeaderIsSecretByItsNamesLastWordAndInShellCodeItsValueEndsWithItsCommand() {
        List<String> argv = List.of("docker", "run", "keycloak:21.0.1", "start-dev", "--image=monkey-service:1.4.2",
                "printf", "Passed: 10\nFailed: 0\n", "passed:3", "tokens: 812", "keyboard:us", "key: rotated");
        assertThat(Redaction.redactArgv(argv, Map.of())).isEqualTo(argv);
        List<String> script = List.of("/bin/sh", "-c", "docker pull keycloak:21.0.1 && ./deploy.sh --env prod --version 21");
        assertThat(Redaction.redactArgv(script, Map.of())).isEqualTo(script);
        for (String ordinary : List.of("keycloak:21.0.1", "--image=monkey-service:1.4.2", "Passed: 10", "key: rotated")) {
            assertThat(Redaction.credentialIn(ordinary)).as(ordinary).isEmpty();
        }

        List<String> secret = List.of("X-Api-Key: k-1111", "OSF-TOKEN: t-2222", "Private-Token: t-3333",
                "X-Auth-Token: t-4444", "Cookie: a=1; session=s-5555", "X-Upload-Key: k-6666", "api_key: k-7777",
                "DB_PASSWORD: p-8888", "apiKey:k-9999");
        assertThat(Redaction.redactArgv(secret, Map.of())).containsExactly("X-Api-Key: ***", "OSF-TOKEN: ***",
                "Private-Token: ***", "X-Auth-Token: ***", "Cookie: ***", "X-Upload-Key: ***", "api_key: ***",
                "DB_PASSWORD: ***", "apiKey:***");
        assertThat(Redaction.credentialIn("X-Upload-Key: k-6666")).contains("a secret-named header (X-Upload-Key: …)");

        List<String> shell = List.of("/usr/bin/env", "bash", "-euc",
                "curl -H X-Api-Key:k-aaaa https://x/a && ./deploy.sh --env prod; curl -HOSF-TOKEN:t-bbbb x | tee log"
                        + " || echo X-Auth-Token: t-cccc; make\ncurl -H 'Cookie: a=1; s=s-dddd' y && echo done");
        assertThat(Redaction.redactArgv(shell, Map.of())).containsExactly("/usr/bin/env", "bash", "-euc",
                "curl -H X-Api-Key:*** && ./deploy.sh --env prod; curl -HOSF-TOKEN:*** | tee log"
                        + " || echo X-Auth-Token: ***; make\ncurl -H 'Cookie: ***' y && echo done");
        assertThat(Redaction.hiddenIn(shell, Map.of())).containsExactlyInAnyOrder("k-aaaa https://x/a", "t-bbbb x",
                "t-cccc", "a=1; s=s-dddd");
        String snapshot = "{\"run\":{\"command\":[\"/bin/sh\",\"-c\",\"curl -H X-Api-Key:k-eeee && ./deploy.sh prod\"]}}";
        assertThat(Redaction.redactSnapshot(snapshot))
                .isEqualTo("{\"run\":{\"command\":[\"/bin/sh\",\"-c\",\"curl -H X-Api-Key:*** && ./deploy.sh prod\"]}}");
    }

    /**
     * review36 F6's rest (mask37): passwords these programs take after their own flags, or by position, were shown in
     * clear, not masked in the job's log (which masks what the display hides) and not warned about by check. One table
     * of programs, flags and where the secret sits in the value (CommandCredentials.PROGRAMS).
     */
    @Test
    void hidesThePasswordsOfAzLftpSmbclientHtpasswdCurlWithAnEmptyUserAndAnEscapedJsonName() {
        List<String> argv = List.of("az", "login", "-u", "x", "-p", "az-pa55", "&&", "az", "acr", "login", "-u", "bot",
                "-paz-glued", "--password", "az-long", "&&", "oc", "login", "-u", "dev", "-p", "oc-pa55");
        // az acr login and oc login too: a login command's -p, whatever the program
        assertThat(Redaction.redactArgv(argv, Map.of())).containsExactly("az", "login", "-u", "x", "-p", "***", "&&",
                "az", "acr", "login", "-u", "bot", "-p***", "--password", "***", "&&", "oc", "login", "-u", "dev", "-p",
                "***");
        assertThat(Redaction.redactArgv(List.of("az", "vm", "open-port", "-p", "8080"), Map.of()))
                .as("not a login").containsExactly("az", "vm", "open-port", "-p", "8080");
        assertThat(Redaction.redactArgv(List.of("/usr/bin/curl", "-u", ":curl-pa55", "--user=:curl-eq", "https://x"),
                Map.of())).containsExactly("/usr/bin/curl", "-u", ":***", "--user=:***", "https://x");
        assertThat(Redaction.redactArgv(List.of("lftp", "-u", "deploy,lftp-pa55", "-udeploy,lftp-glued", "sftp://h",
                "-u", "deploy"), Map.of()))
                .containsExactly("lftp", "-u", "deploy,***", "-udeploy,***", "sftp://h", "-u", "deploy");
        assertThat(Redaction.redactArgv(List.of("smbclient", "//srv/share", "-U", "deploy%smb-pa55",
                "--user=DOM\\deploy%smb-eq", "-U", "guest"), Map.of()))
                .containsExactly("smbclient", "//srv/share", "-U", "deploy%***", "--user=DOM\\deploy%***", "-U", "guest");
        assertThat(Redaction.redactArgv(List.of("htpasswd", "-b", "/etc/h", "deploy", "ht-pa55"), Map.of()))
                .containsExactly("htpasswd", "-b", "/etc/h", "deploy", "***");
        assertThat(Redaction.redactArgv(List.of("sudo", "htpasswd", "-c", "-B", "-C", "10", "-b", "/etc/h", "u", "ht-2"),
                Map.of())).containsExactly("sudo", "htpasswd", "-c", "-B", "-C", "10", "-b", "/etc/h", "u", "***");
        assertThat(Redaction.redactArgv(List.of("htpasswd", "-nb", "deploy", "ht-nb"), Map.of()))
                .containsExactly("htpasswd", "-nb", "deploy", "***");
        assertThat(Redaction.redactArgv(List.of("htpasswd", "-bn", "deploy", "ht-bn"), Map.of()))
                .containsExactly("htpasswd", "-bn", "deploy", "***");
        for (List<String> prompted : List.of(List.of("htpasswd", "-c", "/etc/h", "deploy"),
                List.of("htpasswd", "-n", "deploy"), List.of("curl", "-u", ":", "--negotiate", "https://x"))) {
            assertThat(Redaction.redactArgv(prompted, Map.of())).as("no password on the line").isEqualTo(prompted);
        }

        String shell = "az login -u x -p az-pa55 && oc login -u d -p oc-pa55 && lftp -u u,lftp-pa55 h;"
                + " smbclient //s/x -U u%smb-pa55 -c ls;"
                + " htpasswd -nb u ht-nb > f; htpasswd -cb f u ht-cb; htpasswd -b -C 12 f u ht-c12;"
                + " curl -u :curl-pa55 https://x/";
        assertThat(Redaction.redactArgv(List.of("/bin/sh", "-c", shell), Map.of()).get(2)).isEqualTo(
                "az login -u x -p *** && oc login -u d -p *** && lftp -u u,*** h;"
                        + " smbclient //s/x -U u%*** -c ls;"
                        + " htpasswd -nb u *** > f; htpasswd -cb f u ***; htpasswd -b -C 12 f u ***;"
                        + " curl -u :*** https://x/");
        String left = "htpasswd -c f u; htpasswd -n u; lftp -u u h; smbclient -U guest //s/x; az vm list -p 1";
        assertThat(Redaction.redactText(left, List.of())).isEqualTo(left);

        String json = "{\"pass\\u0077ord\": \"json-pa55\", \"\\u0074oken\": \"json-tok\", \"n\\u0061me\": \"x\"}";
        assertThat(Redaction.redactText(json, List.of()))
                .isEqualTo("{\"pass\\u0077ord\": \"***\", \"\\u0074oken\": \"***\", \"n\\u0061me\": \"x\"}");

        // check warns of each (ActionReader asks passwordArgument and credentialIn), and the log masks each.
        assertThat(Redaction.passwordArgument(List.of("az", "login", "-u", "x", "-p", "az-pa55"), 5)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("htpasswd", "-nb", "u", "ht-nb"), 3)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("lftp", "-u", "u,lftp-pa55"), 2)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("smbclient", "-U", "u%smb-pa55"), 2)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("curl", "-u", ":curl-pa55"), 2)).isPresent();
        assertThat(Redaction.credentialIn(shell)).isPresent();
        assertThat(Redaction.credentialIn("-d " + json)).contains("a secret-named JSON member (\"password\": …)");
        assertThat(Redaction.hiddenIn(List.of("/bin/sh", "-c", shell, json), Map.of())).containsExactlyInAnyOrder(
                "az-pa55", "oc-pa55", "lftp-pa55", "smb-pa55", "ht-nb", "ht-cb", "ht-c12", "curl-pa55", "json-pa55",
                "json-tok");
    }

    /**
     * mask36 L4: SIGN_KEY_ID: main hid every main of the command (and of the log). A name ending in an identifier word
     * is shown as *** under its own name only; a credential-shaped part of its value is still hidden (and masked).
     */
    @Test
    void aSecretLookingNameEndingInAnIdentifierWordIsHiddenUnderItsNameOnly() {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("SIGN_KEY_ID", "main");
        env.put("AUTH_URL", "https://deploy:url-pa55@auth.example.com/");
        env.put("DEPLOY_TOKEN", "tok-1234");
        List<String> argv = List.of("git", "push", "origin", "main", "tok-1234");

        assertThat(Redaction.redactArgv(argv, env)).containsExactly("git", "push", "origin", "main", "***");
        assertThat(Redaction.redact(env)).containsEntry("SIGN_KEY_ID", "***").containsEntry("AUTH_URL", "***")
                .containsEntry("DEPLOY_TOKEN", "***");
        assertThat(Redaction.hiddenIn(argv, env)).containsExactlyInAnyOrder("tok-1234", "url-pa55");
    }

    /**
     * mask38 (mask37's not-covered list, tryout36 F5b): these programs' own password flags, and long flags whose last
     * word is pass, were shown in clear by test, job show, the API and the status page (the rules in force and a job's
     * rule snapshot too), so not masked in the job's log nor warned about by check.
     */
    @Test
    void hidesThePasswordsOfRedisCliLdapZipKeytoolOpensslMosquittoAndLongPassFlags() {
        assertThat(Redaction.redactArgv(List.of("redis-cli", "-h", "cache", "-a", "redis-pa55", "--no-auth-warning",
                "PING"), Map.of())).containsExactly("redis-cli", "-h", "cache", "-a", "***", "--no-auth-warning", "PING");
        assertThat(Redaction.redactArgv(List.of("ldapsearch", "-x", "-D", "cn=admin,dc=x", "-w", "ldap-pa55", "-b",
                "dc=x"), Map.of())).containsExactly("ldapsearch", "-x", "-D", "cn=admin,dc=x", "-w", "***", "-b", "dc=x");
        assertThat(Redaction.redactArgv(List.of("ldapadd", "-xw", "ldap-grp", "-wldap-glued", "-f", "x.ldif"), Map.of()))
                .containsExactly("ldapadd", "-xw", "***", "-w***", "-f", "x.ldif");
        assertThat(Redaction.redactArgv(List.of("/usr/bin/ldappasswd", "-x", "-w", "bind-pa55", "-a", "old-pa55", "-s",
                "new-pa55", "uid=u"), Map.of()))
                .containsExactly("/usr/bin/ldappasswd", "-x", "-w", "***", "-a", "***", "-s", "***", "uid=u");
        assertThat(Redaction.redactArgv(List.of("zip", "-r", "-P", "zip-pa55", "o.zip", "d", "&&", "zip", "-qrP",
                "zip-grp", "o.zip", "d", "&&", "unzip", "-Punzip-glued", "o.zip"), Map.of())).containsExactly("zip", "-r",
                "-P", "***", "o.zip", "d", "&&", "zip", "-qrP", "***", "o.zip", "d", "&&", "unzip", "-P***", "o.zip");
        assertThat(Redaction.redactArgv(List.of("keytool", "-importkeystore", "-srcstorepass", "src-pa55",
                "-deststorepass", "dest-pa55", "-srckeypass", "sk-pa55", "-destkeypass", "dk-pa55", "-storepass",
                "ks-pa55", "-keypass", "kp-pa55", "-new", "new-pa55"), Map.of())).containsExactly("keytool",
                "-importkeystore", "-srcstorepass", "***", "-deststorepass", "***", "-srckeypass", "***",
                "-destkeypass", "***", "-storepass", "***", "-keypass", "***", "-new", "***");
        assertThat(Redaction.redactArgv(List.of("jarsigner", "-storepass", "js-pa55", "app.jar", "release"), Map.of()))
                .containsExactly("jarsigner", "-storepass", "***", "app.jar", "release");
        assertThat(Redaction.redactArgv(List.of("openssl", "pkcs12", "-export", "-passin", "pass:in-pa55", "-passout",
                "pass:out-pa55", "-password=pass:eq-pa55", "&&", "openssl", "enc", "-pass", "pass:enc-pa55", "-k",
                "k-pa55"), Map.of())).containsExactly("openssl", "pkcs12", "-export", "-passin", "pass:***", "-passout",
                "pass:***", "-password=pass:***", "&&", "openssl", "enc", "-pass", "pass:***", "-k", "***");
        assertThat(Redaction.redactArgv(List.of("mosquitto_pub", "-u", "dev", "-P", "mq-pa55", "-t", "t", "&&",
                "mosquitto_sub", "--pw", "mq-long"), Map.of()))
                .containsExactly("mosquitto_pub", "-u", "dev", "-P", "***", "-t", "t", "&&", "mosquitto_sub", "--pw", "***");
        assertThat(Redaction.redactArgv(List.of("deploy", "--db-pass", "db-pa55", "--pass", "p-pa55", "--smtp_pass",
                "s-pa55", "--pass=eq-pa55", "--db-password", "dbw-pa55"), Map.of())).containsExactly("deploy",
                "--db-pass", "***", "--pass", "***", "--smtp_pass", "***", "--pass=***", "--db-password", "***");
        assertThat(Redaction.redactArgv(List.of("htpasswd", "-bC", "10", "/etc/h", "u", "ht-bc"), Map.of()))
                .containsExactly("htpasswd", "-bC", "10", "/etc/h", "u", "***");

        String shell = "redis-cli -h c -a redis-sh PING && redis-cli --pass rp-sh PING; ldapsearch -x -D cn=a -w ldap-sh"
                + " -b dc=x; ldapwhoami -xwldap-grp; ldappasswd -x -w bind-sh -a old-sh -s new-sh u; zip -qrP zip-sh o.zip"
                + " d; unzip -Punzip-sh o.zip; keytool -list -storepass ks-sh -keystore k; jarsigner -keypass kp-sh a.jar"
                + " k; openssl pkcs12 -passin pass:in-sh -passout 'pass:out-sh' -in c > p.pem; openssl enc -k k-sh -in f;"
                + " mosquitto_pub -P mq-sh -t t; htpasswd -bC 12 f u ht-sh";
        assertThat(Redaction.redactArgv(List.of("/bin/sh", "-c", shell), Map.of()).get(2)).isEqualTo(
                "redis-cli -h c -a *** PING && redis-cli --pass *** PING; ldapsearch -x -D cn=a -w ***"
                        + " -b dc=x; ldapwhoami -xw***; ldappasswd -x -w *** -a *** -s *** u; zip -qrP *** o.zip"
                        + " d; unzip -P*** o.zip; keytool -list -storepass *** -keystore k; jarsigner -keypass *** a.jar"
                        + " k; openssl pkcs12 -passin pass:*** -passout 'pass:***' -in c > p.pem; openssl enc -k *** -in f;"
                        + " mosquitto_pub -P *** -t t; htpasswd -bC 12 f u ***");
        assertThat(Redaction.hiddenIn(List.of("/bin/sh", "-c", shell), Map.of())).containsExactlyInAnyOrder("redis-sh",
                "rp-sh", "ldap-sh", "ldap-grp", "bind-sh", "old-sh", "new-sh", "zip-sh", "unzip-sh", "ks-sh", "kp-sh",
                "in-sh", "out-sh", "k-sh", "mq-sh", "ht-sh");

        // check warns of each (ActionReader asks passwordArgument, credentialIn and isSecretFlag).
        assertThat(Redaction.passwordArgument(List.of("redis-cli", "-a", "redis-pa55"), 2)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("ldapsearch", "-w", "ldap-pa55"), 2)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("zip", "-P", "zip-pa55"), 2)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("keytool", "-storepass", "ks-pa55"), 2)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("openssl", "enc", "-k", "k-pa55"), 3)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("openssl", "rsa", "-passin", "pass:in-pa55"), 3)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("mosquitto_pub", "-P", "mq-pa55"), 2)).isPresent();
        assertThat(Redaction.isSecretFlag("--db-pass")).isTrue();
        for (String line : List.of("redis-cli -a redis-sh PING", "ldapsearch -x -w ldap-sh", "zip -P zip-sh o.zip d",
                "keytool -list -storepass ks-sh", "openssl enc -k k-sh", "mosquitto_sub -P mq-sh -t t")) {
            assertThat(Redaction.credentialIn(line)).as(line).isPresent();
        }

        String snapshot = "{\"run\":{\"command\":[\"redis-cli\",\"-a\",\"redis-snap\",\"PING\"]},"
                + "\"on-failure\":{\"command\":[\"curl\",\"-u\",\"deploy:curl-snap\",\"https://x\"]}}";
        assertThat(Redaction.redactSnapshot(snapshot)).isEqualTo("{\"run\":{\"command\":[\"redis-cli\",\"-a\","
                + "\"***\",\"PING\"]},\"on-failure\":{\"command\":[\"curl\",\"-u\",\"deploy:***\",\"https://x\"]}}");
    }

    /** What mask38's rows and the long-flag rule must leave alone: no password there, or only where it is named. */
    @Test
    void leavesPromptsPasswordSourcesFilesAndFlagsThatOnlyEndInPassAlone() {
        List<List<String>> left = List.of(
                List.of("redis-cli", "--askpass", "-h", "cache", "PING"),
                List.of("redis-cli", "-abc", "PING"),
                List.of("ldapsearch", "-x", "-W", "-y", "/etc/ldap.secret", "-b", "dc=x"),
                List.of("zip", "-r", "-e", "o.zip", "d"),
                List.of("keytool", "-list", "-storepass:env", "KS_PASS", "-keypass:file", "/run/kp", "-keystore", "k"),
                List.of("openssl", "rsa", "-passin", "env:KEY_PASS", "-passout", "file:/run/p", "-in", "k.pem"),
                List.of("openssl", "enc", "-kfile", "/run/k", "-pass", "stdin", "-in", "f"),
                List.of("tool", "--bypass", "cache-dir", "--passive", "ftp.example.com", "--compass", "north",
                        "--pass-through", "value"),
                List.of("psql", "--no-password", "mydb"),
                List.of("ansible-playbook", "--ask-vault-password", "site.yml", "--ask-become-pass", "-i", "hosts"),
                List.of("smbclient", "--no-pass", "//srv/share"),
                List.of("htpasswd", "-bC", "10", "/etc/h", "u"),
                List.of("redis-cli", "-a", "$REDIS_PASSWORD", "PING"));
        for (List<String> argv : left) {
            assertThat(Redaction.redactArgv(argv, Map.of())).as("%s", argv).isEqualTo(argv);
        }
        String shell = "redis-cli --askpass PING; ldapsearch -x -W -y /etc/s -b dc=x; zip -r o.zip d; unzip -l o.zip;"
                + " keytool -list -storepass:env KS -keystore k; openssl rsa -passin env:KP -in k.pem; openssl enc -kfile"
                + " /run/k -in f; htpasswd -b -C 10 f u; htpasswd -b f u; echo later; htpasswd -nb u > f; gzip -k x.zip;"
                + " redis-cli -a \"$REDIS_PASSWORD\" PING; python3 zip.py -P 8080";
        assertThat(Redaction.redactText(shell, List.of())).isEqualTo(shell);
        assertThat(Redaction.credentialIn(shell)).isEmpty();
        assertThat(Redaction.isSecretFlag("--bypass")).isFalse();
        assertThat(Redaction.isSecretFlag("--no-password")).isFalse();
        assertThat(Redaction.isSecretFlag("--ask-pass")).isFalse();
    }

    /**
     * review39 F5: a boolean flag whose last word is {@code pass} hid the long flag after it, which then, as a hidden
     * value, was masked in every line of the job's log. A long flag after a secret flag is not its value; a value
     * beginning with one {@code -} still is (getopt takes it so), and the rules' snapshot and the log follow the same.
     */
    @Test
    void aLongFlagAfterAFlagEndingInPassIsNotItsValue() {
        List<String> argv = List.of("HandBrakeCLI", "--two-pass", "--turbo", "-i", "in.mkv", "--multi-pass",
                "--verbose");
        assertThat(Redaction.redactArgv(argv, Map.of())).isEqualTo(argv);
        assertThat(Redaction.hiddenIn(argv, Map.of())).isEmpty();
        assertThat(Redaction.redactArgv(List.of("deploy", "--db-pass", "-Xy7pa55", "--password", "--", "--token",
                "t0ken-abcd"), Map.of())).containsExactly("deploy", "--db-pass", "***", "--password", "***", "--token",
                "***");
        assertThat(Redaction.redactSnapshot("{\"run\":{\"command\":[\"HandBrakeCLI\",\"--two-pass\",\"--turbo\"]}}"))
                .isEqualTo("{\"run\":{\"command\":[\"HandBrakeCLI\",\"--two-pass\",\"--turbo\"]}}");
    }

    /**
     * review40 F4: since review39 F5 any argument beginning with {@code --} after a secret flag was taken for a flag:
     * a generated password that begins so was shown in test, job show, the API and the status page, and printed in
     * clear in the job's log. Only a flag's usual name is a flag there.
     */
    @Test
    void aPasswordBeginningWithTwoDashesAfterASecretFlagIsHidden() {
        List<String> argv = List.of("notify.sh", "--password", "--Xk9pQ2vL", "--token", "--7f$kQ", "--two-pass",
                "--output=out.mkv");
        assertThat(Redaction.redactArgv(argv, Map.of())).containsExactly("notify.sh", "--password", "***", "--token",
                "***", "--two-pass", "--output=out.mkv");
        assertThat(Redaction.hiddenIn(argv, Map.of())).containsExactlyInAnyOrder("--Xk9pQ2vL", "--7f$kQ");
        assertThat(Redaction.isLongFlag("--turbo")).isTrue();
        assertThat(Redaction.isLongFlag("--dry_run")).isTrue();
        assertThat(Redaction.isLongFlag("--")).isFalse();
        assertThat(Redaction.isLongFlag("--Xk9pQ2vL")).isFalse();
    }

    /**
     * mask38: in shell code, the value after a secret flag (--db-pass PASSWORD, --password PASSWORD) was shown in clear
     * and printed in clear to the job's log; only --db-pass=PASSWORD was hidden there.
     */
    @Test
    void hidesTheValueAfterASecretFlagInShellCode() {
        String shell = "deploy --db-pass db-sh --pass p-sh && tool --password pw-sh -v; curl --oauth2-bearer tok-sh x;"
                + " mysql --password -h db; psql --no-password mydb; ansible-playbook --ask-vault-pass site.yml;"
                + " tool --token \"$API_TOKEN\" --password-stdin --token-file /run/t --bypass cache --API-KEY 'k-sh'";
        assertThat(Redaction.redactArgv(List.of("/bin/sh", "-c", shell), Map.of()).get(2)).isEqualTo(
                "deploy --db-pass *** --pass *** && tool --password *** -v; curl --oauth2-bearer *** x;"
                        + " mysql --password -h db; psql --no-password mydb; ansible-playbook --ask-vault-pass site.yml;"
                        + " tool --token \"$API_TOKEN\" --password-stdin --token-file /run/t --bypass cache --API-KEY '***'");
        assertThat(Redaction.hiddenIn(List.of("/bin/sh", "-c", shell), Map.of()))
                .containsExactlyInAnyOrder("db-sh", "p-sh", "pw-sh", "tok-sh", "k-sh");
    }

    /**
     * mask39 (mask38's list): sqlcmd's -P, 7z's -pPASSWORD, openssl's -K KEY, -hmac KEY and -macopt key:/hexkey:, and
     * an LDAP password glued inside a group as its own argument (-xwPASSWORD) were shown in clear by test, job show,
     * the API and the status page, so not masked in the job's log, and not warned about by check.
     */
    @Test
    void hidesThePasswordsOfSqlcmd7zOpensslKeysAndAnLdapPasswordGluedInAGroup() {
        assertThat(Redaction.redactArgv(List.of("sqlcmd", "-S", "db", "-U", "sa", "-P", "sql-pa55", "-Q", "select 1",
                "&&", "/opt/mssql-tools18/bin/sqlcmd", "-Psql-glued", "-p"), Map.of())).containsExactly("sqlcmd", "-S",
                "db", "-U", "sa", "-P", "***", "-Q", "select 1", "&&", "/opt/mssql-tools18/bin/sqlcmd", "-P***", "-p");
        assertThat(Redaction.redactArgv(List.of("7z", "a", "-p7z-pa55", "-mhe=on", "out.7z", "d", "&&", "7za", "x",
                "-p7za-pa55", "out.7z"), Map.of())).containsExactly("7z", "a", "-p***", "-mhe=on", "out.7z", "d", "&&",
                "7za", "x", "-p***", "out.7z");
        assertThat(Redaction.redactArgv(List.of("openssl", "enc", "-aes-256-cbc", "-K", "00112233aabbccdd", "-iv",
                "0102", "-in", "f", "&&", "openssl", "dgst", "-sha256", "-hmac", "hmac-key-39", "f", "&&", "openssl",
                "dgst", "-mac", "HMAC", "-macopt", "key:mac-key-39", "-macopt", "digest:sha256", "f", "&&", "openssl",
                "mac", "-macopt", "hexkey:0a0b0c0d", "-macopt=key:eq-key-39", "HMAC", "&&", "openssl", "kdf", "-kdfopt",
                "pass:kdf-pa55", "-kdfopt", "salt:NaCl", "SCRYPT"), Map.of())).containsExactly("openssl", "enc",
                "-aes-256-cbc", "-K", "***", "-iv", "0102", "-in", "f", "&&", "openssl", "dgst", "-sha256", "-hmac", "***",
                "f", "&&", "openssl", "dgst", "-mac", "HMAC", "-macopt", "key:***", "-macopt", "digest:sha256", "f", "&&",
                "openssl", "mac", "-macopt", "hexkey:***", "-macopt=key:***", "HMAC", "&&", "openssl", "kdf", "-kdfopt",
                "pass:***", "-kdfopt", "salt:NaCl", "SCRYPT");
        assertThat(Redaction.redactArgv(List.of("ldapsearch", "-xwldap-grp39", "-b", "dc=x", "&&", "ldappasswd",
                "-xZsnew-grp39", "uid=u"), Map.of())).containsExactly("ldapsearch", "-xw***", "-b", "dc=x", "&&",
                "ldappasswd", "-xZs***", "uid=u");

        String shell = "sqlcmd -S db -U sa -P sql-sh -Q 'select 1'; sqlcmd -Psql-sh2 -p; 7z a -p7z-sh out.7z d;"
                + " openssl enc -aes-256-cbc -K 0011aabb-sh -iv 01; openssl dgst -hmac hmac-sh f; openssl dgst -mac HMAC"
                + " -macopt key:mac-sh -macopt digest:sha256 f; openssl mac -macopt hexkey:0a0b-sh HMAC;"
                + " ldapsearch -xwldap-sh -b dc=x";
        assertThat(Redaction.redactArgv(List.of("/bin/sh", "-c", shell), Map.of()).get(2)).isEqualTo(
                "sqlcmd -S db -U sa -P *** -Q 'select 1'; sqlcmd -P*** -p; 7z a -p*** out.7z d;"
                        + " openssl enc -aes-256-cbc -K *** -iv 01; openssl dgst -hmac *** f; openssl dgst -mac HMAC"
                        + " -macopt key:*** -macopt digest:sha256 f; openssl mac -macopt hexkey:*** HMAC;"
                        + " ldapsearch -xw*** -b dc=x");
        assertThat(Redaction.hiddenIn(List.of("/bin/sh", "-c", shell), Map.of())).containsExactlyInAnyOrder("sql-sh",
                "sql-sh2", "7z-sh", "0011aabb-sh", "hmac-sh", "mac-sh", "0a0b-sh", "ldap-sh");

        // check warns of each (ActionReader asks passwordArgument of an argument, credentialIn of shell code).
        assertThat(Redaction.passwordArgument(List.of("sqlcmd", "-P", "sql-pa55"), 2)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("7z", "a", "-p7z-pa55"), 2)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("openssl", "enc", "-K", "0011"), 3)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("openssl", "dgst", "-hmac", "hmac-key-39"), 3)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("openssl", "dgst", "-macopt", "hexkey:0a0b"), 3)).isPresent();
        assertThat(Redaction.passwordArgument(List.of("ldapsearch", "-xwldap-grp39"), 1)).isPresent();
        for (String line : List.of("sqlcmd -U sa -P sql-sh", "7z a -p7z-sh o.7z d", "openssl enc -K 0011aabb",
                "openssl dgst -hmac hmac-sh f", "openssl dgst -macopt key:mac-sh f", "ldapsearch -xwldap-sh")) {
            assertThat(Redaction.credentialIn(line)).as(line).isPresent();
        }
    }

    /** What mask39's rows must leave alone: flags that ask, say nothing secret, or only look alike. */
    @Test
    void leavesSqlcmdsStatistics7zsPromptOpensslsOtherParametersAndAnLdapBaseAlone() {
        List<List<String>> left = List.of(
                List.of("sqlcmd", "-S", "db", "-p", "1", "-Q", "q"),
                List.of("7z", "a", "-p", "out.7z", "d"),
                List.of("openssl", "enc", "-aes-256-cbc", "-iv", "0102", "-kfile", "/run/k", "-S", "0a0b"),
                List.of("openssl", "dgst", "-mac", "HMAC", "-macopt", "digest:sha256", "f"),
                List.of("openssl", "pkeyutl", "-pkeyopt", "rsa_padding_mode:pss", "-in", "f"),
                List.of("openssl", "dgst", "-macopt", "key:$MAC_KEY", "f"),
                // -b takes a value (the search base, here "w"): the filter after it is no password (mask38's L note).
                List.of("ldapsearch", "-x", "-bw", "(uid=u)"),
                List.of("ldapsearch", "-x", "-W", "-b", "dc=x"));
        for (List<String> argv : left) {
            assertThat(Redaction.redactArgv(argv, Map.of())).as("%s", argv).isEqualTo(argv);
        }
        String shell = "sqlcmd -S db -p 1 -Q q; 7z a -p out.7z d; openssl dgst -mac HMAC -macopt digest:sha256 f;"
                + " openssl pkeyutl -pkeyopt rsa_padding_mode:pss -in f; openssl dgst -hmac \"$MAC_KEY\" f; gzip x.7z";
        assertThat(Redaction.redactText(shell, List.of())).isEqualTo(shell);
        assertThat(Redaction.credentialIn(shell)).isEmpty();
    }

    /**
     * review40 F1: patterns that looped over a group ({@code (?:[^"\\]|\\.)*}, a JSON member's name, htpasswd's
     * options, sshpass's {@code -v}, a flag's words) cost Java's matcher a stack frame per character or per item, and a
     * few thousand ended in a StackOverflowError on a thread of the usual stack size: a job whose command held a JSON
     * body of 4 KiB never started, and every list that showed it failed. Each is hidden as before, on such a thread.
     */
    @Test
    void longTextsAreRedactedOnAThreadOfTheUsualStackSize() throws Exception {
        String x = "x".repeat(50_000);
        String escapes = "\\n".repeat(25_000);
        String options = " -B".repeat(20_000);
        java.util.concurrent.FutureTask<List<String>> task = new java.util.concurrent.FutureTask<>(() -> List.of(
                Redaction.redactText("{\"text\": \"" + x + "\", \"password\": \"" + escapes + "\"}", List.of()),
                Redaction.redactText("{\"" + x + "\": 1, \"api_token\": \"t0k3n\"}", List.of()),
                Redaction.redactText("{'password': '" + x + "'}", List.of()),
                Redaction.redactArgv(List.of("sh", "-c", "htpasswd" + options + " -b /etc/h u ht-pa55"), Map.of()).get(2),
                Redaction.redactArgv(List.of("sh", "-c", "sshpass" + " -v".repeat(20_000) + " -p pw-1 ssh h"), Map.of())
                        .get(2),
                Redaction.redactArgv(List.of("sh", "-c", "deploy --" + "a-".repeat(20_000) + "pass pw-2"), Map.of())
                        .get(2)));
        Thread thread = new Thread(null, task, "usual-stack", 0);
        thread.start();

        List<String> shown = task.get();
        assertThat(shown.get(0)).isEqualTo("{\"text\": \"" + x + "\", \"password\": \"***\"}");
        assertThat(shown.get(1)).isEqualTo("{\"" + x + "\": 1, \"api_token\": \"***\"}");
        assertThat(shown.get(2)).isEqualTo("{'password': '***'}");
        assertThat(shown.get(3)).isEqualTo("htpasswd" + options + " -b /etc/h u ***");
        assertThat(shown.get(4)).endsWith(" -v -p *** ssh h");
        assertThat(shown.get(5)).endsWith("-a-pass ***");
    }
}
