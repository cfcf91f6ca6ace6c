package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.AttemptMarker;
import org.buildhook.runner.exec.JobEnvironment;
import org.junit.jupiter.api.Test;

/** Keeps the operator's rules reference (docs/rules.md) true to the code. */
class RulesDocumentationTest {

    private static String doc() throws IOException {
        String page = "\n" + Files.readString(TestEvents.fixtures().getParent().resolve("docs").resolve("rules.md"));
        assertThat(page).as("docs/rules.md, the rules reference").startsWith("\n# Rules reference\n");
        return page;
    }

    @Test
    void documentsEveryKeyInATableRow() throws IOException {
        String doc = doc();
        Stream.of(RulesReader.TOP_KEYS, RulesReader.RULE_KEYS, WhenReader.KEYS, WhenReader.RUNS_KEYS, ActionReader.KEYS,
                        WorkflowReader.SUPERSEDE_KEYS, WorkflowReader.APPROVAL_KEYS)
                .flatMap(Set::stream)
                .forEach(key -> assertThat(doc).as("key %s", key).contains("| `" + key + "` |"));
    }

    @Test
    void documentsTheDefaultsTheCodeApplies() throws IOException {
        String doc = doc();
        assertThat(doc).contains("| `timeout` | `" + Durations.format(Action.DEFAULT_TIMEOUT) + "` |");
        assertThat(doc).contains("| `retries` | `" + Action.DEFAULT_RETRIES + "` |");
        assertThat(doc).contains("| `backoff` | `" + Durations.format(Action.DEFAULT_BACKOFF) + "` |");
        assertThat(doc).contains("| `stdin` | `" + (Action.DEFAULT_STDIN ? "on" : "off") + "` |");
        assertThat(Action.DEFAULT_CONCURRENCY).isZero();
        assertThat(doc).contains("| `concurrency` | no limit |");
        assertThat(doc).contains("| `expires` | `" + Durations.format(WorkflowReader.DEFAULT_APPROVAL_EXPIRY) + "` |");
        // What the runner does without a rule's workdir, and that the reader refuses a relative one.
        assertThat(doc).contains("| `workdir` | `runner.workdir` (default: `<data-dir>/work`) | absolute path");
        String running = Files.readString(TestEvents.fixtures().getParent().resolve("docs").resolve("running-jobs.md"));
        assertThat(running).doesNotContain("the directory the server\nwas started in unless")
                .doesNotContain("a relative `workdir` is taken").contains("whose default is\n`<data-dir>/work`");
    }

    @Test
    void documentsEveryPlaceholderAndVariable() throws IOException {
        String doc = doc();
        for (Placeholder p : Placeholder.values()) {
            assertThat(doc).contains("| `${" + p.placeholderName() + "}` |").contains("`" + p.variable() + "`");
        }
        assertThat(doc).contains(Placeholder.ENDPOINT_VARIABLE, Placeholder.RULE_VARIABLE, Placeholder.PAYLOAD_VARIABLE);
    }

    /**
     * The variables buildhook puts in a job's environment are the ones rules.md's "Environment of a job" names, no
     * more, no fewer (tryout31 F3: {@code BUILDHOOK_ATTEMPT}, a job's only way to learn its own id, and the
     * follow-ups' {@code BUILDHOOK_JOB_*} were missing there). Taken from a real plan: a follow-up of a
     * {@code match: each} rule, which has every placeholder's variable, plus the two the launch adds (the payload
     * file and the attempt's marker).
     */
    @Test
    void theEnvironmentOfAJobListsEveryVariableBuildhookSetsAndNoOther() throws IOException {
        RuleSet rules = TestRules.parse("rules:\n  - name: deploy\n    when: {runs: {match: each}}\n"
                + "    run: {command: [/opt/deploy.sh]}\n    on-failure: {command: [/opt/page.sh]}\n");
        PlannedJob deploy = rules.match("default", TestEvents.seed()).get(0);
        PlannedJob followUp = FollowUps.plan(deploy.workflow().followUps(), "default", TestEvents.seed(),
                deploy.runName(), new FollowUpParent("01JOB", "deploy", "FAILED", 1, 1, "/var/log/x.log"))
                .orElseThrow();
        Set<String> set = new TreeSet<>(followUp.env().keySet());
        set.addAll(deploy.env().keySet());
        set.add(Placeholder.PAYLOAD_VARIABLE);
        set.add(AttemptMarker.VARIABLE);
        set.add(AttemptMarker.STORE_VARIABLE);
        set.add(AttemptMarker.SERVER_VARIABLE);
        // The units of shared resources an attempt holds: one variable per resource, named after it (units32).
        set.add(ResourceVariable.PREFIX);
        assertThat(set).allMatch(name -> name.startsWith(Placeholder.RESERVED_PREFIX)).hasSizeGreaterThan(20);

        String doc = doc();
        int start = doc.indexOf("\n## Environment of a job\n");
        assertThat(start).as("rules.md's section Environment of a job").isPositive();
        String section = doc.substring(start, doc.indexOf("\n## ", start + 1));
        Set<String> documented = new TreeSet<>();
        Matcher named = Pattern.compile("`(BUILDHOOK_[A-Z_]+)").matcher(section);
        while (named.find()) {
            documented.add(named.group(1));
        }
        assertThat(documented).as("the variables rules.md's Environment of a job names").isEqualTo(set);
        assertThat(section).as("what BUILDHOOK_ATTEMPT holds, said as the job's own id")
                .contains("`" + AttemptMarker.VARIABLE + "=<job id>/<attempt>`").contains("the job's own id");

        String running = Files.readString(TestEvents.fixtures().getParent().resolve("docs").resolve("running-jobs.md"));
        int env = running.indexOf("\n## Environment\n");
        assertThat(env).as("running-jobs.md's section Environment").isPositive();
        String environment = running.substring(env, running.indexOf("\n## ", env + 1));
        assertThat(environment).contains("`" + AttemptMarker.VARIABLE + "=<job id>/<attempt>`", "the job's own id");
        // And what every job inherits of the server's environment, on both pages.
        for (String inherited : JobEnvironment.ALLOWED) {
            assertThat(section).as("rules.md names inherited %s", inherited).contains("`" + inherited + "`");
            assertThat(environment).as("running-jobs.md names inherited %s", inherited).contains("`" + inherited + "`");
        }
        assertThat(JobEnvironment.isAllowed("LC_TIME")).isTrue();
        assertThat(section).contains("`LC_*`");
        assertThat(environment).contains("every `LC_*`");
    }

    @Test
    void everyRulesExampleInTheDocumentationLoads() throws IOException {
        Matcher block = Pattern.compile("```yaml\n(rules:.*?)```", Pattern.DOTALL).matcher(doc());
        List<String> examples = new ArrayList<>();
        while (block.find()) {
            examples.add(block.group(1));
        }

        assertThat(examples).hasSizeGreaterThanOrEqualTo(2);
        for (String example : examples) {
            assertThat(TestRules.LOADER.parse(Path.of("docs/rules.md"), example).size()).isPositive();
        }
    }
}
