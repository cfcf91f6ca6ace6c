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
        return spelledOut(at, name, "");
    }

    /** The warning at {@code at}, naming the rule's further places ({@code ", and so does …"}) after the name. */
    private static String spelledOut(String at, String name, String more) {
        return "rules.yaml:" + at + ": this argument spells out the value of '" + name + "', a secret by its name"
                + more + ":"
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
                spelledOut("4:36", "DEPLOY_TOKEN", ", and so does the argument at 4:66 of this rule"),
                spelledOut("7:30", "LONG_KEY"));
    }

    /**
     * tryout41 F6: a number or word under a name secret-looking but ending in a setting's word got "spells out the value
     * of 'MAX_KEY_SIZE', a secret" with a curl Bearer example, next to the warning that it seems to hold a setting.
     * Only the second is said (it names the command among the places the value is masked); a secret beside it still
     * gets its own.
     */
    @Test
    void aVariableThatSeemsToHoldASettingIsNotSaidSpelledOut() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: settings
                    run:
                      command: [/usr/bin/keygen, "4096", "3600", RS256, s3cr3t-v4lue]
                      env: {MAX_KEY_SIZE: "4096", TOKEN_TTL: "3600", KEY_ALGORITHM: RS256, API_TOKEN: s3cr3t-v4lue}
                """);

        assertThat(warnings(set)).filteredOn(w -> w.contains("spells out")).containsExactly(
                spelledOut("4:57", "API_TOKEN"));
        assertThat(warnings(set)).filteredOn(w -> w.contains("seems to hold a setting")).hasSize(3)
                .allSatisfy(w -> assertThat(w).contains("the command"));
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

    /**
     * names40: a rule with the value in five arguments got five long warnings, one per argument. It is said once per
     * rule and secret name, at the first place (its file:line:column), naming every other place of the rule, in
     * file order, also in a follow-up; another name, and the same name in another rule, keep their own warning.
     */
    @Test
    void isSaidOncePerRuleAndSecretNameAtItsFirstPlaceNamingEveryOther() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/opt/push.sh, abcd1234, --token=abcd1234, x-abcd1234, "abcd1234", efgh5678,
                                abcd1234]
                      env: {DEPLOY_TOKEN: abcd1234, API_KEY: efgh5678}
                    on-failure:
                      command: [/opt/page.sh, abcd1234]
                      env: {DEPLOY_TOKEN: abcd1234}
                  - name: s
                    run:
                      command: [/opt/push.sh, abcd1234, abcd1234]
                      env: {DEPLOY_TOKEN: abcd1234}
                """);

        assertThat(warnings(set)).containsExactly(
                spelledOut("4:31", "DEPLOY_TOKEN", ", and so do the arguments at 4:41, 4:59, 4:71, 5:17, 8:31 of"
                        + " this rule"),
                spelledOut("4:83", "API_KEY"),
                spelledOut("12:31", "DEPLOY_TOKEN", ", and so does the argument at 12:41 of this rule"));
    }
}
