package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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
