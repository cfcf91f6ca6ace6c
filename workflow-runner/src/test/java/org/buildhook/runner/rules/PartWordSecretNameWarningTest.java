package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * tryout38 F6: an env name that looks secret only because a secret word is part of a longer word ({@code BYPASS_CACHE:
 * "true"}) had its value replaced by {@code ***} in every line of the job's log, and nothing said so. The file warns
 * at the name's line and column, saying what happens to its value (never the value), why, and what to do; a real
 * secret's name is not warned of.
 */
class PartWordSecretNameWarningTest {

    private static final String DEPRECATED = ". A secret word found only inside a longer word is deprecated since"
            + " 2026-12-05: a later version judges a name by its whole words, and this one would no longer be secret"
            + " (docs/rules.md, Secrets)";

    private static List<String> warnings(RuleSet set) {
        return set.writingWarnings().stream().map(Problem::toString).toList();
    }

    @Test
    void warnsAtEachNameSecretOnlyByAWordInsideALongerWordAndNotAtARealSecretsName() {
        RuleSet set = TestRules.parse("""
                rules:
                  - name: fp-names
                    run:
                      command: [/bin/sh, -c, 'echo deploying']
                      env:
                        AUTHOR: jane
                        PASSENGER_ENV: production
                        BYPASS_CACHE: "true"
                        KEYBOARD_LAYOUT: us
                        TOKENIZER_MODEL: "${build.trigger}"
                        AUTHOR_NAME: jane-doe
                        BUILD_ARCH: amd64
                        DB_PASSWORD: pw-1234
                        API_TOKEN: tok-5678
                        GITHUB_TOKEN: ghs-9012
                        MYPASSWORD: my-3456
                        SSH_KEY: key-7890
                        AUTH_HEADER: "Basic abcd"
                        APIKEY: k-2345
                        DB_PASS: "pw"
                """);

        assertThat(set.size()).as("warnings, not mistakes: the file loads").isEqualTo(1);
        assertThat(warnings(set)).containsExactly(
                "rules.yaml:6:9: 'AUTHOR' looks secret only because 'AUTH' is part of the word 'AUTHOR': its value, 4"
                        + " characters, is shown as *** in test, job show, the API and the status page, and replaced by"
                        + " *** wherever it appears elsewhere: the command, the other variables and every line of the"
                        + " job's log (masked before the file is written). If it holds no secret, rename it to a name"
                        + " without 'AUTH' in it to have its value shown; if it does, write that word as a word of its"
                        + " own (DB_PASS, API_KEY, GITHUB_TOKEN …) to keep it masked" + DEPRECATED,
                "rules.yaml:7:9: 'PASSENGER_ENV' looks secret only because 'PASS' is part of the word 'PASSENGER': its"
                        + " value, 10 characters, is shown as *** in test, job show, the API and the status page, and"
                        + " replaced by *** wherever it appears elsewhere: the command, the other variables and every"
                        + " line of the job's log (masked before the file is written). If it holds no secret, rename"
                        + " it to a name without 'PASS' in it to have its value shown; if it does, write that word as"
                        + " a word of its own (DB_PASS, API_KEY, GITHUB_TOKEN …) to keep it masked" + DEPRECATED,
                // A boolean word: no longer masked where else it appears nor in the log (tryout39 F8).
                "rules.yaml:8:9: 'BYPASS_CACHE' looks secret only because 'PASS' is part of the word 'BYPASS': its"
                        + " value, 4 characters, is shown as *** in test, job show, the API and the status page (under"
                        + " its name only). If it holds no secret, rename it to a name without 'PASS' in it to have its"
                        + " value shown; if it does, write that word as a word of its own (DB_PASS, API_KEY,"
                        + " GITHUB_TOKEN …) to keep it masked" + DEPRECATED,
                // Too short to be masked in the log: this warning instead of the short secret's, which it covers.
                "rules.yaml:9:9: 'KEYBOARD_LAYOUT' looks secret only because 'KEY' is part of the word 'KEYBOARD': its"
                        + " value, 2 characters, is shown as *** in test, job show, the API and the status page (under"
                        + " its name only). If it holds no secret, rename it to a name without 'KEY' in it to have its"
                        + " value shown; if it does, write that word as a word of its own (DB_PASS, API_KEY,"
                        + " GITHUB_TOKEN …) to keep it masked" + DEPRECATED,
                "rules.yaml:10:9: 'TOKENIZER_MODEL' looks secret only because 'TOKEN' is part of the word 'TOKENIZER':"
                        + " its value, filled in when a job starts, is shown as *** in test, job show, the API and the"
                        + " status page, and when it has 4 characters or more it is replaced by *** wherever it appears"
                        + " elsewhere: the command, the other variables and every line of the job's log. If it holds no"
                        + " secret, rename it to a name without 'TOKEN' in it to have its value shown; if it does,"
                        + " write that word as a word of its own (DB_PASS, API_KEY, GITHUB_TOKEN …) to keep it masked"
                        + DEPRECATED,
                // Ends in an identifier word: shown as *** under its name only, not masked in the log.
                "rules.yaml:11:9: 'AUTHOR_NAME' looks secret only because 'AUTH' is part of the word 'AUTHOR': its"
                        + " value, 8 characters, is shown as *** in test, job show, the API and the status page (under"
                        + " its name only). If it holds no secret, rename it to a name without 'AUTH' in it to have its"
                        + " value shown; if it does, write that word as a word of its own (DB_PASS, API_KEY,"
                        + " GITHUB_TOKEN …) to keep it masked" + DEPRECATED,
                // A real secret's name with a value too short to mask: the short secret's warning, as before.
                "rules.yaml:20:18: the value of 'DB_PASS' looks secret (by its name) but has fewer than 4 characters:"
                        + " buildhook shows it as *** under its name only, and does not mask it where it appears"
                        + " elsewhere (the command, other variables) nor in the job's log; use a longer secret, or a"
                        + " name that does not look secret if it is none");
        assertThat(String.join("\n", warnings(set))).as("never a value").doesNotContain("jane").doesNotContain(
                "production").doesNotContain("true").doesNotContain(": us").doesNotContain("amd64");
    }

    @Test
    void aServerLogsEachNameOnceWhileItRunsWhereverTheFileWritesIt() {
        String two = """
                rules:
                  - name: a
                    run: {command: [/bin/true], env: {BYPASS_CACHE: "true"}}
                  - name: b
                    run: {command: [/bin/true], env: {BYPASS_CACHE: "false", TARGET: x$build.id}}
                """;
        RuleSet set = TestRules.parse(two);
        assertThat(warnings(set)).as("check: each place").hasSize(3);
        Set<String> said = new HashSet<>();

        List<String> logged = set.writingWarningsToLog(said).stream().map(Problem::toString).toList();

        assertThat(logged).hasSize(2);
        assertThat(logged.get(0)).startsWith("rules.yaml:3:39: 'BYPASS_CACHE' looks secret only because");
        assertThat(logged.get(1)).as("other writing warnings: each, as before").startsWith("rules.yaml:5:")
                .contains("$build.id");
        assertThat(said).containsExactly("BYPASS_CACHE");
        RuleSet reloaded = TestRules.parse(two.replace("TARGET", "AUTHOR"));
        assertThat(reloaded.writingWarningsToLog(said).stream().map(Problem::toString).toList())
                .as("a reload: only the name it adds, and the others as before").hasSize(2)
                .anySatisfy(w -> assertThat(w).startsWith("rules.yaml:5:62: 'AUTHOR' looks secret only because"))
                .noneSatisfy(w -> assertThat(w).contains("'BYPASS_CACHE'"));
    }
}
