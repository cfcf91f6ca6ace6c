package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout38 F6: an env name that looks secret only because a secret word is part of a longer word ({@code BYPASS_CACHE})
 * is warned of in the server's log, once per name while it runs: at the start however many rules write it, and at a
 * reload only for a name the reload adds. A real application started on SQLite, its rules file rewritten.
 */
class PartWordSecretNameLogTest {

    private static final String RULES = "rules:\n"
            + "  - name: a\n    run: {command: [/bin/true], env: {BYPASS_CACHE: \"true\"}}\n"
            + "  - name: b\n    run: {command: [/bin/true], env: {BYPASS_CACHE: \"false\", DB_PASSWORD: pw-1234}}\n";

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture log = new LogCapture(BuildhookApplication.class);

    @Test
    void theStartSaysEachNameOnceAndAReloadOnlyTheNameItAdds() throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), RULES);
        Path file = TestApplication.configuration(dir, null, "watchdog: off");
        try (BuildhookApplication app = TestApplication.start(file)) {
            assertThat(log.warnings("looks secret only because")).singleElement().asString()
                    .startsWith(dir.resolve("rules.yaml") + ":3:39: 'BYPASS_CACHE' looks secret only because 'PASS' is part of the word"
                            + " 'BYPASS': its value, 4 characters, is shown as *** ")
                    .contains("deprecated since 2026-12-05");

            TestApplication.rewriteRules(dir, RULES + "  - name: c\n    run: {command: [/bin/true],"
                    + " env: {BYPASS_CACHE: \"1\", AUTHOR: jane}}\n");

            await().atMost(Duration.ofMinutes(2)).until(() -> !log.warnings("'AUTHOR' looks secret only").isEmpty());
            assertThat(log.warnings("'AUTHOR' looks secret only")).singleElement().asString()
                    .startsWith(dir.resolve("rules.yaml") + ":7:58: 'AUTHOR' looks secret only because 'AUTH' is part of the word"
                            + " 'AUTHOR': its value, 4 characters,");
            // Logged in file order, BYPASS_CACHE's place first: had the reload said it again, it would be here now.
            assertThat(log.warnings("'BYPASS_CACHE' looks secret only")).as("said at the start only").hasSize(1);
            assertThat(log.warnings("DB_PASSWORD")).as("a real secret's name").isEmpty();
            assertThat(String.join("\n", log.messages())).as("never the value").doesNotContain("jane");
        }
    }
}
