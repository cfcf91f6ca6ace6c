package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout50 F3's kind: the warning of a replay whose jobs a newer build supersedes quotes the supersede key, which the
 * server escaped ({@code LogSafe.quoted}) and then escaped again with the whole text, so a key holding U+202E showed
 * its escape's backslash doubled, in the API's preview and in {@code buildhook replay}. A real server, real
 * deliveries, the real CLI.
 */
class SupersededReplayEscapesTest {

    @TempDir
    Path dir;

    @Test
    void theSupersedeKeyOfAReplaysWarningShowsItsEscapeOnce() throws Exception {
        try (AdminServer server = AdminServer.withRules(dir, "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
                + "    supersede: {key: '${build.trigger}'}\n    run:\n      command: [/bin/true]\n      timeout: 30s\n")) {
            AdminCli cli = new AdminCli(server);
            // The trigger as JSON writes U+202E.
            String body = AdminServer.fixture("build-67-passed.json").replace("\"containers-devel\"",
                    "\"lmp\\u202eved\"");
            String oldDelivery = server.deliverBody(body.getBytes(StandardCharsets.UTF_8));
            server.awaitJob(oldDelivery, "SUCCEEDED");
            String newer = body.replace("\"build_id\": 67", "\"build_id\": 69").replace("/builds/67/", "/builds/69/");
            server.awaitJob(server.deliverBody(newer.getBytes(StandardCharsets.UTF_8)), "SUCCEEDED");

            String warning = server.getJson("deliveries/" + oldDelivery + "/replay-warnings").path("warnings").path(0)
                    .asText();
            assertThat(warning).contains(" the newest of the supersede key \"lmp\\u202eved\" of rule 'deploy'");
            assertThat(cli.run("replay", oldDelivery)).as(cli.err()).isZero();
            assertThat(cli.err()).contains("supersede key \"lmp\\u202eved\" of rule 'deploy'")
                    .doesNotContain("\u202e").doesNotContain("\\\\u202e");
        }
    }
}
