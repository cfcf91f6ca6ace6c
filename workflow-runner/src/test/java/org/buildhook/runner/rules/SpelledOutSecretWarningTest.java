package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An argument of {@code command} that spells out the value of a secret-named variable of the same action is warned
 * about at its line and column, with the variable to use instead (tryout36 F5): buildhook masks it in what it shows,
 * but {@code ps} shows it to every user of the machine while the job runs.
 */
class SpelledOutSecretWarningTest {

    private static List<String> warnings(RuleSet set) {
        return set.writingWarnings().stream().map(Problem::toString).toList();
    }

    private static String spelledOut(String at, String name) {
        return "rules.yaml:" + at + ": this argument spells out the value of '" + name + "', a secret by its name:"
                + " buildhook shows it as *** (test, job show, the API, the status page, the job's log), but every user"
                + " of this machine can read a command's arguments (ps, /proc) while it runs; pass it through the"
                + " variable instead: in shell code write \"$" + name + "\" where the value is ([/bin/sh, -c, 'curl -H"
                + " \"Authorization: Bearer $" + name + "\" …']), or have the program read " + name
                + " from its environment";
    }

    @Test
    void warnsAtAnArgumentThatSpellsOutASecretVariablesValueWithTheVariableToUse() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/usr/bin/curl, -H, "X-Deploy: abcd1234", --data, abcd1234, "${build.id}", main]
                      env: {DEPLOY_TOKEN: abcd1234, BRANCH: main, API_TOKEN: "${build.id}"}
                    on-failure:
                      command: [/bin/sh, -c, "curl -H 'Authorization: Bearer abcd1234-longer' https://x/"]
                      env: {SHORT_KEY: abcd1234, LONG_KEY: abcd1234-longer}
                """);

        assertThat(set.size()).as("a warning, not a mistake: the file loads").isEqualTo(1);
        assertThat(warnings(set)).containsExactly(
                spelledOut("4:36", "DEPLOY_TOKEN"),
                spelledOut("4:66", "DEPLOY_TOKEN"),
                spelledOut("7:30", "LONG_KEY"));
    }

    @Test
    void aCommandWithoutTheValueOrAVariableMadeOfPlaceholdersOrTooShortGetsNoSuchWarning() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/bin/sh, -c, 'curl -H "Authorization: Bearer $DEPLOY_TOKEN" https://x/', "${build.id}"]
                      env: {DEPLOY_TOKEN: abcd1234, API_TOKEN: "${build.id}", PLAIN: "https://x/"}
                """);

        assertThat(warnings(set)).isEmpty();
    }
}
