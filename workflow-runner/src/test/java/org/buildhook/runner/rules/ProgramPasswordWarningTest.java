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

    private static final String WARNING = ": this argument looks like it holds a secret (a password on a"
            + " command line (curl -u user:password, sshpass -p, mysql -p…)): every user of this machine can read a"
            + " command's arguments (ps, /proc) while it runs";

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
        List<String> warnings = warnings(set);
        for (String at : List.of("4:60", "6:33", "8:48", "8:70", "10:30", "10:102")) {
            assertThat(warnings).as("a warning at %s", at).anyMatch(w -> w.startsWith("rules.yaml:" + at + WARNING));
        }
        assertThat(warnings).hasSize(6);
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
