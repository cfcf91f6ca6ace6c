package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RuleFileErrorsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            rules-unknown-key.yaml                  | rules-unknown-key.yaml:4:7: unknown key 'comand' in run (did you mean 'command'?)
            rules-bad-duration.yaml                 | rules-bad-duration.yaml:5:16: bad duration '10 minutes': write a number and a unit (ms, s, m, h, d), for example 30s, 10m or 1h30m in 'timeout'
            rules-bad-regex.yaml                    | rules-bad-regex.yaml:4:16: bad regular expression /andy-(corp/: Unclosed group near index 10 in 'project'
            rules-bad-glob.yaml                     | rules-bad-glob.yaml:5:15: bad glob 'build-[arm': '[' at position 7 is never closed with ']' (write \\[ for a literal bracket) in 'name'
            rules-unknown-placeholder.yaml          | rules-unknown-placeholder.yaml:4:33: unknown placeholder '${build.idd}' (did you mean 'build.id'?); known: ${build.id}, ${build.status}, ${build.project}, ${build.factory}, ${build.trigger}, ${build.url}, ${build.web_url}, ${build.name}, ${run.name}, ${run.status}, ${run.host_tag}, ${run.url}, ${run.log_url}, ${job.id}, ${job.rule}, ${job.outcome}, ${job.exit_code}, ${job.attempts}, ${job.log_path}, ${job.url}
            rules-run-placeholder-without-each.yaml | rules-run-placeholder-without-each.yaml:6:34: placeholder '${run.name}' needs a run: use it only in rules with runs: {match: each}
            rules-empty-command.yaml                | rules-empty-command.yaml:4:16: 'command' is empty: name the program to run
            rules-string-command.yaml               | rules-string-command.yaml:4:16: 'command' must be a list, one element per argument (no shell splits it), for example [/opt/deploy.sh, "${build.id}"]; got a string ('/opt/deploy.sh --all')
            rules-duplicate-name.yaml               | rules-duplicate-name.yaml:5:11: duplicate rule name 'deploy' (first used on line 2)
            rules-wrong-type.yaml                   | rules-wrong-type.yaml:5:16: 'retries' must be a whole number, got a string ('two')
            rules-bad-match.yaml                    | rules-bad-match.yaml:4:21: bad match 'every': write any, all or each
            rules-unknown-status.yaml               | rules-unknown-status.yaml:4:24: unknown status 'FIALED' (did you mean 'FAILED'?); known: QUEUED, UPLOADING, RUNNING, PASSED, FAILED, RUNNING_WITH_FAILURES, PROMOTED, CANCELLING, SKIPPED
            rules-relative-workdir.yaml             | rules-relative-workdir.yaml:5:16: 'workdir' must be an absolute path, got 'scripts/deploy'
            rules-placeholder-in-program.yaml       | rules-placeholder-in-program.yaml:4:17: the program ('command' first element) may not contain placeholders
            rules-missing-run.yaml                  | rules-missing-run.yaml:2:5: rule 'deploy' has no 'run' (write run: {command: [/path/to/program, …]})
            rules-duration-too-long.yaml            | rules-duration-too-long.yaml:5:16: 'timeout' must be at most 3650d (ten years), got 200000d
            rules-unquoted-glob-alias.yaml          | rules-unquoted-glob-alias.yaml:4:16: '*-devel' is a YAML alias (a reference to an '&-devel' anchor), which buildhook does not support; a value that starts with '*', such as a glob, must be quoted: "*-devel"
            """)
    void reportsEachMistakeWithItsFileLineAndColumn(String file, String expected) {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.load(file));

        assertThat(e).as("loading %s", file).isNotNull();
        assertThat(e.getMessage()).isEqualTo(expected);
        assertThat(e.problems()).hasSize(1);
    }

    @Test
    void reportsAYamlSyntaxErrorWithItsLocation() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.load("rules-syntax-error.yaml"));

        assertThat(e.problems()).hasSize(1);
        Problem problem = e.problems().get(0);
        assertThat(problem.file()).isEqualTo("rules-syntax-error.yaml");
        assertThat(problem.toString()).isEqualTo("rules-syntax-error.yaml:5:7: YAML syntax error: expected ',' or ']',"
                + " but got <scalar> (while parsing a flow sequence that starts at line 4, column 16); check that every"
                + " '[' and '{' is closed and that list items are separated by ','");
    }

    /**
     * tryout33 F8: a quote left unclosed on line 3 was reported at line 6, where the next quote closed it, with
     * advice about brackets. The problem points at the quote that opened, and never quotes the value.
     */
    @Test
    void pointsAtTheQuoteLeftUnclosedNotAtWhereTheParserNoticedIt() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse(String.join("\n",
                "rules:",
                "  - name: deploy",
                "    run:",
                "      env: {API_TOKEN: \"tok-secret-7f3a9c, TARGET: staging}",
                "      command: [/bin/true]",
                "  - name: smoke",
                "    run: {command: [/bin/echo, \"5\", \"0\"]}",
                "")));

        assertThat(e.problems()).hasSize(1);
        assertThat(e.getMessage()).startsWith("rules.yaml:4:24: YAML syntax error: the quoted value that opens here"
                + " with \" runs on to the \" at line 7, column 32: a closing \" is likely missing on line 4 (the parser noticed"
                + " it only at line 7, column 33: expected ',' or '}', but got <scalar>)").doesNotContain("7f3a9c");
    }

    /**
     * tryout47b F10: a placeholder unquoted in a [ ] or { } list, the likeliest first mistake, was answered "check that
     * every '[' and '{' is closed and that list items are separated by ','" of brackets that were closed. It is said
     * at the placeholder's '$', with what to write.
     */
    @ParameterizedTest
    @ValueSource(strings = {"      command: [/opt/deploy.sh, ${build.id}]", "      env: {ID: ${build.id}}"})
    void aPlaceholderUnquotedInAFlowListIsToldToBeQuoted(String line) {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse(String.join("\n",
                "rules:", "  - name: deploy", "    run:", line, "")));

        assertThat(e.problems()).hasSize(1);
        assertThat(e.getMessage()).startsWith("rules.yaml:4:" + (line.indexOf('$') + 1) + ": a placeholder in a [ ] or"
                + " { } list must be quoted: write \"${build.id}\" (unquoted, YAML reads its '{' as the start of a"
                + " mapping; the parser said: ").doesNotContain("check that every");
    }

    /** The same in block style, and with a single quote (tryout33 F8, buildhook.yaml's {@code - value: "…}). */
    @Test
    void pointsAtASingleQuoteLeftUnclosedInABlockMapping() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse(String.join("\n",
                "rules:",
                "  - name: deploy",
                "    run:",
                "      command: [/bin/true]",
                "      env:",
                "        TOKEN: 'tok-secret-7f3a9c",
                "        TARGET: staging",
                "  - name: smoke",
                "    run: {command: ['/bin/true']}",
                "")));

        assertThat(e.problems()).hasSize(1);
        assertThat(e.getMessage()).startsWith("rules.yaml:6:16: YAML syntax error: the quoted value that opens here"
                + " with ' runs on to the ' at line 9, column 21: a closing").contains("a closing ' is likely missing on line 6")
                .doesNotContain("7f3a9c");
    }

    @Test
    void saysToCheckTheIndentationWhenALineIsIndentedWrongly() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse(String.join("\n",
                "rules:",
                "  - name: deploy",
                "    run:",
                "      command: [/bin/true]",
                "     timeout: 5m",
                "")));

        assertThat(e.getMessage()).startsWith("rules.yaml:5:6: YAML syntax error:")
                .contains("check the indentation of this line and the one before: keys of one mapping start in the"
                        + " same column");
    }

    @Test
    void saysTabsAreNotIndentation() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse(
                "rules:\n  - name: deploy\n    run:\n\tcommand: [/bin/true]\n"));

        assertThat(e.getMessage()).contains("YAML syntax error").contains("indent with spaces only");
    }

    @Test
    void reportsEveryReservedOrBadEnvironmentName() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.load("rules-reserved-env.yaml"));

        assertThat(e.getMessage()).isEqualTo(String.join("\n",
                "rules-reserved-env.yaml:6:9: environment variable 'BUILDHOOK_STATUS' is reserved: buildhook sets the BUILDHOOK_* variables itself",
                "rules-reserved-env.yaml:7:9: bad environment variable name '2BAD': use letters, digits and '_', not starting with a digit"));
    }

    /**
     * Past a few hundred years a duration no longer fits the store's milliseconds or the runner's
     * nanoseconds: such a rule used to load, then answer every delivery it fired 500, or start its
     * jobs' attempts for ever. Every duration of a rule and of its follow-ups is bounded, and says so.
     */
    @Test
    void refusesEveryDurationLongerThanTenYearsWhereverItIsWritten() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.load("rules-durations-too-long.yaml"));

        assertThat(e).isNotNull();
        assertThat(e.getMessage().lines()).containsExactly(
                "rules-durations-too-long.yaml:3:25: 'expires' must be at most 3650d (ten years), got 9999999999999d",
                "rules-durations-too-long.yaml:6:16: 'backoff' must be at most 3650d (ten years), got 3651d",
                "rules-durations-too-long.yaml:9:16: 'timeout' must be at most 3650d (ten years), got 3650d1ms");
    }

    @Test
    void reportsAllThreeMistakesOfOneFileAtOnceInFileOrder() {
        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.load("rules-three-mistakes.yaml"));

        assertThat(e.problems()).extracting(Problem::line).containsExactly(4, 7, 10);
        assertThat(e.getMessage().lines()).containsExactly(
                "rules-three-mistakes.yaml:4:7: unknown key 'projcet' in when (did you mean 'project'?)",
                "rules-three-mistakes.yaml:7:16: bad duration '5 min': write a number and a unit (ms, s, m, h, d), for example 30s, 10m or 1h30m in 'timeout'",
                "rules-three-mistakes.yaml:10:34: unknown placeholder '${build.stauts}' (did you mean 'build.status'?); known: "
                        + "${build.id}, ${build.status}, ${build.project}, ${build.factory}, ${build.trigger}, ${build.url}, "
                        + "${build.web_url}, ${build.name}, ${run.name}, ${run.status}, ${run.host_tag}, ${run.url}, ${run.log_url}, "
                        + "${job.id}, ${job.rule}, ${job.outcome}, ${job.exit_code}, ${job.attempts}, ${job.log_path}, ${job.url}");
    }

    @Test
    void acceptsAnEmptyListAsZeroRules() {
        assertThat(TestRules.load("rules-no-rules.yaml").size()).isZero();
    }

    @Test
    void refusesAnEmptyFileWhichIsMoreLikelyHalfWrittenThanMeant() {
        assertThatThrownBy(() -> TestRules.load("rules-empty.yaml")).isInstanceOf(RuleException.class)
                .hasMessage("rules-empty.yaml:1:1: the rules file is empty (still being written?);"
                        + " to run nothing on purpose, write 'rules: []'");
    }

    @Test
    void namesAFileThatCannotBeReadInWordsNotAJavaExceptionName() {
        Path missing = Path.of("target", "no-such-rules.yaml");
        Path folder = Path.of("target");

        assertThatThrownBy(() -> TestRules.LOADER.load(missing))
                .isInstanceOf(UnreadableRulesException.class)
                .hasMessage(missing + ": cannot read the rules file: " + missing + " does not exist")
                .hasMessageNotContaining("Exception");
        assertThatThrownBy(() -> TestRules.LOADER.load(folder))
                .isInstanceOf(UnreadableRulesException.class)
                .hasMessageContaining("cannot read the rules file").hasMessageNotContaining("Exception");
    }

    /**
     * review55b F5: {@code Files.readAllBytes} of {@code /dev/zero}, or of a file larger than the heap, ended in an
     * OutOfMemoryError and its stack trace; a file over {@link YamlTreeReader#MAX_FILE_BYTES} is refused by its size
     * (a sparse file: nothing of it is read), a device after that many bytes, each in words.
     */
    @Test
    void refusesARulesFileLargerThanItsLimitAndADeviceInWordsInsteadOfRunningOutOfMemory(@TempDir Path dir)
            throws IOException {
        Path huge = dir.resolve("rules.yaml");
        try (RandomAccessFile file = new RandomAccessFile(huge.toFile(), "rw")) {
            file.setLength(8L << 30);
        }

        assertThatThrownBy(() -> TestRules.LOADER.load(huge)).isInstanceOf(UnreadableRulesException.class)
                .hasMessage(huge + ": cannot read the rules file: " + huge + " is 8 GiB, over the limit of 16 MiB;"
                        + " check that this names the rules file: one is read whole, and 16 MiB holds tens of thousands"
                        + " of rules");
        assertThatThrownBy(() -> TestRules.LOADER.load(Path.of("/dev/zero"))).isInstanceOf(UnreadableRulesException.class)
                .hasMessageStartingWith("/dev/zero: cannot read the rules file: /dev/zero is not a regular file (a"
                        + " device, a pipe or a socket) and gave more than the limit of 16 MiB; check that this names");
    }

    /**
     * review55b F5: a document nested deeper than Jackson's limit was answered with Jackson's own words ("Document
     * nesting depth (1001) exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)")
     * and "check the indentation … of this line" without a line.
     */
    @Test
    void saysWhereADocumentNestedTooDeepGoesPastTheLimitInPlainWords() {
        String deep = "rules:\n  - name: a\n    run:\n      command: " + "[".repeat(2000) + "]".repeat(2000) + "\n";

        RuleException e = catchThrowableOfType(RuleException.class, () -> TestRules.parse(deep));

        assertThat(e.problems()).hasSize(1);
        // At the '[' that opens level 1001: four levels (the file, rules:, the rule, run:), then the 997th '['.
        assertThat(e.getMessage()).isEqualTo("rules.yaml:4:" + (16 + 996) + ": lists and mappings are nested more than"
                + " 1000 levels deep here, more than buildhook reads (its files need a few levels): check for a '[' or"
                + " '{' written by mistake, or a generator that went wrong");
    }

    @Test
    void reportsAWrongTopLevelShape() {
        assertThatThrownBy(() -> TestRules.parse("- name: x\n"))
                .hasMessage("rules.yaml:1:1: the rules file must be a mapping (key: value lines), got a list");
        assertThatThrownBy(() -> TestRules.parse("rule:\n  - name: x\n"))
                .hasMessage("rules.yaml:1:1: unknown key 'rule' in the rules file (did you mean 'rules'?)");
    }

    @Test
    void refusesALoneSurrogateWhereverItIsWrittenInsteadOfPassingAQuestionMarkOn() {
        // YAML's \\u escape gives a lone surrogate, which UTF-8 would turn into '?' in the store and
        // in the job's argv: refused where it is written, as an argument, a variable or a key.
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: a\n    run: {command: [/bin/echo, \"\\uD800x\"]}\n"))
                .hasMessageStartingWith("rules.yaml:3:32: this text holds a lone UTF-16 surrogate (\\uD800, character 1"
                        + " of the text)")
                .hasMessageContaining("write the character itself, or both halves of its pair");
        assertThatThrownBy(() -> TestRules.parse(
                "rules:\n  - name: a\n    run:\n      command: [/bin/true]\n      env: {GREETING: \"hi \\uDE00\"}\n"))
                .hasMessageStartingWith("rules.yaml:5:23: this text holds a lone UTF-16 surrogate (\\uDE00, character 4");
        assertThatThrownBy(() -> TestRules.parse(
                "rules:\n  - name: a\n    run:\n      command: [/bin/true]\n      env: {\"X\\uD800\": v}\n"))
                .hasMessageStartingWith("rules.yaml:5:13: this text holds a lone UTF-16 surrogate (\\uD800, character 2");
        // A whole pair is a character like any other.
        assertThat(TestRules.parse("rules:\n  - name: a\n    run: {command: [/bin/echo, \"\\uD83D\\uDE00\"]}\n"))
                .isNotNull();
    }

    @Test
    void reportsADuplicateKeyInOneMapping() {
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: a\n    name: b\n    run: {command: [/bin/true]}\n"))
                .hasMessage("rules.yaml:3:5: duplicate key 'name' (the first is on line 2)");
    }

    @Test
    void reportsASecondYamlDocument() {
        assertThatThrownBy(() -> TestRules.parse("rules: []\n---\nrules: []\n"))
                .hasMessage("rules.yaml:3:1: the rules file holds a second YAML document (after '---'):"
                        + " put every rule under the one 'rules:' list");
    }

    @Test
    void neverLetsAPathComeFromTheEvent() {
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: r\n    run: {command: [/bin/true], workdir: \"/srv/${build.project}\"}\n"))
                .hasMessage("rules.yaml:3:42: 'workdir' may not contain placeholders: a path never comes from the event");
    }

    @Test
    void checksTheRangesAndSpellingsOfNumbersAndSwitches() {
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: r\n    run: {command: [/bin/true], concurrency: -1, retries: 101, stdin: maybe, timeout: 0s}\n"))
                .hasMessage(String.join("\n",
                        "rules.yaml:3:46: 'concurrency' must be between 0 and 10000, got -1",
                        "rules.yaml:3:59: 'retries' must be between 0 and 100, got 101",
                        "rules.yaml:3:71: 'stdin' must be true or false (on/off), got a string ('maybe')",
                        "rules.yaml:3:87: 'timeout' must be longer than zero"));
        RuleSet rules = TestRules.parse("rules:\n  - name: r\n    run: {command: [/bin/true], stdin: no, backoff: 0s}\n");
        assertThat(rules.match("default", TestEvents.seed()).get(0).stdin()).isFalse();
    }

    @Test
    void concurrencyZeroMeansNoLimitAsDocumented() {
        RuleSet rules = TestRules.parse("rules:\n  - name: r\n    run: {command: [/bin/true], concurrency: 0}\n");

        assertThat(rules.match("default", TestEvents.seed()).get(0).concurrency()).isZero();
    }

    /** tryout38 F7: a key of the action written on the rule said only "unknown key 'concurrency' in rule". */
    @Test
    void saysAnActionsKeyWrittenOnTheRuleBelongsUnderRun() {
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: r\n    concurrency: 1\n    run: {command: [/bin/true]}\n"))
                .hasMessage("rules.yaml:3:5: unknown key 'concurrency' in rule: it belongs under 'run' (run: {command:"
                        + " […], concurrency: …})");
    }

    /**
     * tryout47b F11: the other direction had no hint: a rule's key under run, and a key of when.runs on when (how one
     * first writes "page when an aarch64 run fails"), or of when under runs, said only "unknown key".
     */
    @Test
    void saysARulesKeyUnderRunAndARunsKeyOnWhenBelongElsewhere() {
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: r\n    run:\n      command: [/bin/true]\n"
                + "      on-failure: {command: [/bin/true]}\n      approval: {expires: 1h}\n"))
                .hasMessageContaining("rules.yaml:5:7: unknown key 'on-failure' in run: 'on-failure' belongs to the"
                        + " rule, beside 'run' (as far indented as 'run', not under it: run: {command: […]}, then"
                        + " on-failure: … on the next line)")
                .hasMessageContaining("rules.yaml:6:7: unknown key 'approval' in run: 'approval' belongs to the rule,"
                        + " beside 'run'");
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: r\n    when: {trigger: containers-devel, host-tag:"
                + " aarch64, name: 'build-*'}\n    run: {command: [/bin/true]}\n"))
                .hasMessageContaining("rules.yaml:3:39: unknown key 'host-tag' in when: 'host-tag' is a key of 'runs'"
                        + " under 'when', which picks the build's runs (when: {runs: {host-tag: …}}, e.g. runs:"
                        + " {host-tag: aarch64, status: FAILED})")
                .hasMessageContaining("unknown key 'name' in when: 'name' is a key of 'runs' under 'when'");
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: r\n    when: {runs: {match: each, trigger: x}}\n"
                + "    run: {command: [/bin/true]}\n"))
                .hasMessage("rules.yaml:3:32: unknown key 'trigger' in runs: 'trigger' is a key of 'when', beside"
                        + " 'runs', not under it (when: {trigger: …, runs: {…}})");
    }

    @Test
    void suggestsTheKeyMeantForACommonMisspelling() {
        assertThatThrownBy(() -> TestRules.parse("rules:\n  - name: r\n    when: {runs: {host_tag: x}}\n    run: {command: [/bin/true]}\n"))
                .hasMessage("rules.yaml:3:19: unknown key 'host_tag' in runs (did you mean 'host-tag'?)");
    }

    @Test
    void aBrokenRunsMatcherIsReportedOnceWithoutFollowOnPlaceholderErrors() {
        assertThatThrownBy(() -> TestRules.parse(
                "rules:\n  - name: r\n    when: {runs: {match: every}}\n    run: {command: [/bin/echo, \"${run.name}\"]}\n"))
                .hasMessage("rules.yaml:3:26: bad match 'every': write any, all or each");
    }
}
