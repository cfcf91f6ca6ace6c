package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A secret-named variable whose value is too short to be masked by value (fewer than 4 characters) is warned about
 * at its line and column (mask36): the job's log, and the command where the value appears, show it as it is.
 */
class ShortSecretWarningTest {

    private static List<String> warnings(RuleSet set) {
        return set.writingWarnings().stream().map(Problem::toString).toList();
    }

    @Test
    void warnsAboutASecretValueTooShortToMaskAndNotAboutLongerOnesPlaceholdersOrOtherNames() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/opt/deploy.sh]
                      env: {DB_PASSWORD: "pw", API_TOKEN: "long-enough", SIGN_KEY: "${build.id}", RETRIES: "3",
                            EMPTY_SECRET: "", SIGN_KEY_ID: "7"}
                """);

        assertThat(set.size()).as("a warning, not a mistake: the file loads").isEqualTo(1);
        assertThat(warnings(set)).containsExactly("rules.yaml:5:26: the value of 'DB_PASSWORD' looks secret (by its"
                + " name) but has fewer than 4 characters: buildhook shows it as *** under its name only, and does not"
                + " mask it where it appears elsewhere (the command, other variables) nor in the job's log; use a"
                + " longer secret, or a name that does not look secret if it is none");
    }
}
