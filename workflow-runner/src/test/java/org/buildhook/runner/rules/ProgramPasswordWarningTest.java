package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * check warns, at its line and column, of a password given on a command line after the flags of mask38's list of
 * programs left out (mask39): sqlcmd {@code -P}, 7z {@code -pPASSWORD}, openssl's {@code -K}, {@code -hmac} and
 * {@code -macopt key:}, an LDAP password glued inside a group ({@code -xwPASSWORD}); as an argument and in shell code.
 * buildhook hides each in what it shows and masks it in the job's log, but {@code ps} shows it while the job runs.
 */
class ProgramPasswordWarningTest {

    private static final String WARNING = ": this argument looks like it holds a secret (";
    private static final String PS = ": every user of this machine can read a command's arguments (ps, /proc) while it"
            + " runs";

    private static List<String> warnings(RuleSet set) {
        return set.writingWarnings().stream().map(Problem::toString).toList();
    }

    @Test
    void warnsOfThePasswordsOfSqlcmd7zOpensslKeysAndAnLdapPasswordGluedInAGroup() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/opt/mssql-tools18/bin/sqlcmd, -S, db, -P, sql-pa55, -Q, "select 1"]
                    on-success:
                      command: [/usr/bin/7z, a, -p7z-pa55, out.7z, d]
                    on-failure:
                      command: [/usr/bin/openssl, dgst, -hmac, hmac-key-39, -macopt, "hexkey:0a0b0c0d", f]
                    on-cancel:
                      command: [/bin/sh, -c, "sqlcmd -P sql-sh; ldapsearch -xwldap-sh -b dc=x", /usr/bin/ldapsearch, -xwldap-grp39]
                """);

        assertThat(set.size()).as("warnings, not mistakes: the file loads").isEqualTo(1);
        // tryout39 F4: each names its program (it said "curl -u user:password, sshpass -p, mysql -p…" whatever the
        // program), and openssl's two passwords of one rule are one warning.
        assertThat(warnings(set)).satisfiesExactly(
                w -> assertThat(w).startsWith("rules.yaml:4:60" + WARNING + "a password on the command line of sqlcmd)"
                        + PS),
                w -> assertThat(w).startsWith("rules.yaml:6:33" + WARNING + "a password on the command line of 7z)"
                        + PS),
                w -> assertThat(w).startsWith("rules.yaml:8:48" + WARNING + "a password on the command line of openssl),"
                        + " and so does the argument at 8:70 of this rule" + PS),
                w -> assertThat(w).startsWith("rules.yaml:10:30" + WARNING + "passwords on the command lines of sqlcmd"
                        + " and ldapsearch)" + PS),
                w -> assertThat(w).startsWith("rules.yaml:10:102" + WARNING + "a password on the command line of"
                        + " ldapsearch)" + PS));
    }

    /**
     * tryout39 F4: the same warning for each argument of a rule holding the same program's password said the same
     * long text again; once per rule now, at the first place, naming the others, and again in the next rule. A login
     * command is named with its login.
     */
    @Test
    void warnsOncePerRuleOfTheSameProgramsPasswordsNamingTheOtherPlacesAndNamesALoginCommand() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: a
                    run:
                      command: [/usr/bin/redis-cli, -a, redis-pa55-1, PING]
                    on-failure:
                      command: [/bin/sh, -c, "redis-cli -a redis-sh-22 FLUSHALL", redis-cli, -a, redis-pa55-2]
                  - name: b
                    run:
                      command: [redis-cli, -a, redis-pa55-3, PING]
                    on-success:
                      command: [/bin/sh, -c, "az acr login -n reg -u me -p acr-pa55-4", docker, login, -p, dk-pa55-5]
                """);

        assertThat(warnings(set)).satisfiesExactly(
                w -> assertThat(w).startsWith("rules.yaml:4:41" + WARNING + "a password on the command line of"
                        + " redis-cli), and so do the arguments at 6:30, 6:82 of this rule" + PS),
                w -> assertThat(w).startsWith("rules.yaml:9:32" + WARNING + "a password on the command line of"
                        + " redis-cli)" + PS),
                w -> assertThat(w).startsWith("rules.yaml:11:30" + WARNING + "a password on the command line of"
                        + " az acr login)" + PS),
                w -> assertThat(w).startsWith("rules.yaml:11:92" + WARNING + "a password on the command line of"
                        + " docker login)" + PS));
        assertThat(String.join("\n", warnings(set))).as("never a password").doesNotContain("pa55");
    }

    @Test
    void noWarningForSqlcmdsStatistics7zsPromptOpensslsOtherParametersOrALdapBase() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/bin/sh, -c, "sqlcmd -S db -p 1; 7z a -p out.7z d; openssl dgst -macopt digest:sha256 f", x]
                    on-success:
                      command: [/usr/bin/ldapsearch, -x, -bw, "(uid=u)", -macopt, "hexkey:0a0b"]
                """);

        assertThat(warnings(set)).isEmpty();
    }

    /** review39 F5: a long flag after a boolean flag ending in {@code pass} is not its value, nor a secret to warn of. */
    @Test
    void noWarningForALongFlagAfterABooleanFlagEndingInPass() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: r
                    run:
                      command: [/usr/bin/HandBrakeCLI, --two-pass, --turbo, -i, in.mkv]
                    on-success:
                      command: [/opt/bin/deploy, --db-pass, DbPass1234]
                """);

        assertThat(warnings(set)).singleElement().asString().contains("the value of '--db-pass'");
    }
}
