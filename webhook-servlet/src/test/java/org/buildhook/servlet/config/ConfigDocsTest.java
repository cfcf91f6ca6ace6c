package org.buildhook.servlet.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Keeps the README's reference true: every documented key is read, every key read is documented. */
class ConfigDocsTest {

    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\|");

    @Test
    void theReferenceTableListsExactlyTheKeysTheLoaderAccepts() throws IOException {
        List<String> documented = Files.readAllLines(ConfigLoaderTest.DOCS.resolve("readme-config.md")).stream()
                .map(ROW::matcher)
                .filter(Matcher::find)
                .map(m -> m.group(1))
                .toList();

        assertThat(documented).doesNotHaveDuplicates();
        assertThat(documented).containsExactlyInAnyOrderElementsOf(ConfigKeys.all());
    }
}
