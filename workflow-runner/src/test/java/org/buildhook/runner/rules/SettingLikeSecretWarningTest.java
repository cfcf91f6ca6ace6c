package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * tryout39 F8: an env name secret by a whole word ({@code AUTH}, {@code KEY}, {@code WEBHOOK}, {@code COOKIE}) whose
 * value is a setting ({@code KEY_ALGORITHM: RS256}, {@code WEBHOOK_FORMAT: json}) had that value replaced by
 * {@code ***} in every line of the job's log, and nothing said so. The file warns at the name's line and column,
 * saying what its value gets (never the value) and what to do; a secret's name and value are not warned of.
 */
class SettingLikeSecretWarningTest {

    private static final String TO_DO = ". If it holds no secret, rename the variable to a name that does not look"
            + " secret to have its value shown; if it is a secret, ignore this warning";
    private static final String MASKED = ": its value is replaced by *** in every line of the job's log (and wherever"
            + " else it appears: the command, the other variables), so each place the job prints it is hidden"
            + TO_DO;

    private static List<String> warnings(RuleSet set) {
        return set.writingWarnings().stream().map(Problem::toString).toList();
    }

    @Test
    void warnsAtEachSecretNameWhoseValueSeemsASettingAndNotAtASecret() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: settings
                    run:
                      command: [/bin/sh, -c, 'echo deploying']
                      env:
                        WEBHOOK_FORMAT: json
                        KEY_ALGORITHM: RS256
                        AUTH0_DOMAIN: example.eu.auth0.com
                        AUTH_ENABLED: "true"
                        NPM_AUTH: "False"
                        COOKIE_SECURE: "1"
                        API_TOKEN_CACHE: "12345"
                        TOKEN_TIMEOUT: "${build.id}"
                        DB_PASSWORD: s3cret-pa55
                        SIGN_KEY: "123456"
                        API_TOKEN: "${build.trigger}"
                        KEY_TYPE: rsa
                        DB_PASS: "pw"
                """);

        assertThat(set.size()).as("warnings, not mistakes: the file loads").isEqualTo(1);
        assertThat(warnings(set)).containsExactly(
                "rules.yaml:6:9: 'WEBHOOK_FORMAT' looks secret (by the word 'WEBHOOK') but seems to hold a setting, as"
                        + " its name ends in 'FORMAT'" + MASKED,
                "rules.yaml:7:9: 'KEY_ALGORITHM' looks secret (by the word 'KEY') but seems to hold a setting, as its"
                        + " name ends in 'ALGORITHM'" + MASKED,
                "rules.yaml:8:9: 'AUTH0_DOMAIN' looks secret (by the word 'AUTH') but seems to hold a setting, as its"
                        + " name ends in 'DOMAIN'" + MASKED,
                "rules.yaml:9:9: 'AUTH_ENABLED' looks secret (by the word 'AUTH') but seems to hold a setting, as its"
                        + " name ends in 'ENABLED': its value is shown as *** under its name only (test, job show, the"
                        + " API, the status page), not where else it appears nor in the job's log (a boolean is no"
                        + " secret: since 2026-12-05 a true or false is no longer masked there)" + TO_DO,
                "rules.yaml:10:9: 'NPM_AUTH' looks secret (by the word 'AUTH') but seems to hold a setting, as its"
                        + " value is a boolean word: its value is shown as *** under its name only (test, job show,"
                        + " the API, the status page), not where else it appears nor in the job's log (a boolean is no"
                        + " secret: since 2026-12-05 a true or false is no longer masked there)" + TO_DO,
                // Too short to be masked by value: this warning instead of the short secret's, which it covers.
                "rules.yaml:11:9: 'COOKIE_SECURE' looks secret (by the word 'COOKIE') but seems to hold a setting, as"
                        + " its name ends in 'SECURE': its value is shown as *** under its name only (test, job show,"
                        + " the API, the status page), not where else it appears nor in the job's log (it has fewer"
                        + " than 4 characters)" + TO_DO,
                "rules.yaml:12:9: 'API_TOKEN_CACHE' looks secret (by the word 'TOKEN') but seems to hold a setting, as"
                        + " its value is a number of 5 digits" + MASKED,
                "rules.yaml:13:9: 'TOKEN_TIMEOUT' looks secret (by the word 'TOKEN') but seems to hold a setting, as"
                        + " its name ends in 'TIMEOUT': its value, filled in when a job starts, is replaced by *** in"
                        + " every line of the job's log when it has 4 characters or more (and wherever else it"
                        + " appears: the command, the other variables), so each place the job prints it is hidden"
                        + TO_DO,
                // A real secret's name with a value too short to mask: the short secret's warning, as before.
                "rules.yaml:18:18: the value of 'DB_PASS' looks secret (by its name) but has fewer than 4 characters:"
                        + " buildhook shows it as *** under its name only, and does not mask it where it appears"
                        + " elsewhere (the command, other variables) nor in the job's log; use a longer secret, or a"
                        + " name that does not look secret if it is none");
        assertThat(String.join("\n", warnings(set))).as("never a value").doesNotContain("json").doesNotContain(
                "RS256").doesNotContain("example.eu").doesNotContain("False").doesNotContain("12345");
    }

    /** docs/rules.md's way to give a program its setting under a secret name: no warning. */
    @Test
    void theSettingGivenUnderTheProgramsNameInShellCodeIsNotWarnedOf() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: oidc
                    run:
                      command: [/bin/sh, -c, 'AUTH0_DOMAIN="$OIDC_DOMAIN" exec /opt/deploy.sh']
                      env: {OIDC_DOMAIN: example.eu.auth0.com}
                """);

        assertThat(set.size()).isEqualTo(1);
        assertThat(warnings(set)).isEmpty();
    }

    @Test
    void aNameSecretOnlyByAWordInsideALongerWordHasItsOwnWarningOnly() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: part-word
                    run: {command: [/bin/true], env: {BYPASS_CACHE: "true", AUTHOR_MODE: strict}}
                """);

        assertThat(warnings(set)).hasSize(2).allSatisfy(w -> assertThat(w).contains("looks secret only because")
                .doesNotContain("seems to hold a setting"));
    }
}
