package org.buildhook.servlet.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.buildhook.servlet.Docs;
import org.junit.jupiter.api.Test;

/** Keeps the configuration reference (docs/configuration.md) and the example file true to what the loader reads. */
class ConfigDocsTest {

    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\|");

    @Test
    void theReferenceTableListsExactlyTheKeysTheLoaderAccepts() throws IOException {
        List<String> documented = Docs.section("configuration.md", "# Configuration reference").lines()
                .map(ROW::matcher)
                .filter(Matcher::find)
                .map(m -> m.group(1))
                .toList();

        assertThat(documented).doesNotHaveDuplicates();
        assertThat(documented).containsExactlyInAnyOrderElementsOf(ConfigKeys.all());
    }

    private static final Pattern RANGE = Pattern.compile("Range `([^`]+)` to `([^`]+)`\\.");

    @Test
    void everyNumberDurationAndSizeKeyDocumentsTheRangeTheReaderAccepts() throws IOException {
        Map<String, String> rows = new java.util.LinkedHashMap<>();
        Docs.section("configuration.md", "# Configuration reference").lines().forEach(line -> {
            Matcher key = ROW.matcher(line);
            if (key.find()) {
                rows.put(key.group(1), line);
            }
        });
        for (Map.Entry<String, String> row : rows.entrySet()) {
            Matcher range = RANGE.matcher(row.getValue());
            Ranges.Range accepted = Ranges.ALL.get(row.getKey());
            if (accepted == null) {
                assertThat(range.find()).as(row.getKey() + " has no range in the reader but one in the docs").isFalse();
                continue;
            }
            assertThat(range.find()).as(row.getKey() + " documents its range as Range `min` to `max`.").isTrue();
            assertThat(accepted.value(range.group(1))).as(row.getKey() + " minimum").isEqualTo(accepted.minValue());
            assertThat(accepted.value(range.group(2))).as(row.getKey() + " maximum").isEqualTo(accepted.maxValue());
        }
        assertThat(rows.keySet()).containsAll(Ranges.ALL.keySet());
    }

    @Test
    void theExampleFileShowsEveryKey() throws IOException {
        JsonNode example = new ObjectMapper(new YAMLFactory())
                .readTree(ConfigLoaderTest.DOCS.resolve("buildhook.example.yaml").toFile());
        Set<String> written = new TreeSet<>();
        flatten(example, "", written);
        // Each secret is shown in one of its three forms, not all of them.
        Set<String> expected = ConfigKeys.all().stream()
                .filter(k -> !k.matches(".*\\.(file|env|value)$"))
                .collect(Collectors.toCollection(TreeSet::new));

        assertThat(ConfigKeys.all()).containsAll(written);
        assertThat(written).containsAll(expected);
    }

    private static void flatten(JsonNode node, String path, Set<String> out) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String key = path.equals("endpoints") ? "<name>" : field.getKey();
                String child = path.isEmpty() ? key : path + "." + key;
                out.add(child);
                flatten(field.getValue(), child, out);
            }
        } else if (node.isArray() && node.size() > 0 && node.get(0).isObject()) {
            node.forEach(item -> flatten(item, path + "[]", out));
        }
    }
}
