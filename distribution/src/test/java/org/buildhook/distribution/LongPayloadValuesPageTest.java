package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build with a 65,000-character run name and trigger (accepted: the parser's limit is 65,536) filled the
 * status page's delivery list for ~30,000 pixels and made each open page's live update 241 KB (tryout24 F3).
 * The list clips payload values (title: their first 1000 characters); the job's page shows them whole. Over
 * real HTTP, the answer's size and markup.
 */
class LongPayloadValuesPageTest {

    private static final String RUN = "構".repeat(65_000);
    private static final String TRIGGER = "t".repeat(65_000);

    @TempDir
    Path dir;

    private AdminServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theDeliveryListAndItsLiveUpdateClipLongPayloadValuesAndTheJobPageShowsThemWhole() throws Exception {
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: per-run\n    when:\n      runs: {match: each}\n"
                + "    run:\n      command: [/bin/sh, -c, 'exit 0']\n");
        server.app().rules().checkNow();
        ObjectNode body = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        ((ObjectNode) body.path("runs").path(0)).put("name", RUN);
        body.put("trigger_name", TRIGGER);
        String delivery = server.deliverBody(body.toString().getBytes(StandardCharsets.UTF_8));
        AtomicReference<String> longRunJob = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            for (JsonNode j : server.getJson("deliveries/" + delivery).path("jobs")) {
                if (j.path("runName").asText().equals(RUN) || server.getJson("jobs/" + j.path("id").asText())
                        .path("job").path("runName").asText().equals(RUN)) {
                    longRunJob.set(j.path("id").asText());
                }
            }
            return longRunJob.get() != null;
        });
        String cookie = server.signIn();

        for (String list : new String[] {"", "?part=live"}) {
            String page = server.page(list, cookie).body();
            // Before: both values whole in the row (about 260,000 characters); now 59 characters and "…" each,
            // with at most 1000 of each in a title.
            assertThat(page.length()).as("length of %s", list).isLessThan(RUN.length());
            assertThat(page).as(list).doesNotContain("構".repeat(1000)).doesNotContain("t".repeat(1000))
                    .contains("<span class=\"run\" title=\"run: " + "構".repeat(999) + "…\">" + "構".repeat(59) + "…</span>")
                    // The store keeps the first 400 characters of a trigger name: all of them in the title.
                    .containsPattern("<td class=\"trigger\"><span class=\"clipped\" title=\"t{60,999}…?\">t{59}…</span></td>");
        }
        // The whole value where one job is looked at: its page (and the admin API, unchanged).
        String jobPage = server.page("?job=" + longRunJob.get(), cookie).body();
        assertThat(jobPage).contains("<span class=\"run\">" + RUN + "</span>").containsPattern("<td>t{60,}</td>");
        assertThat(server.getJson("jobs/" + longRunJob.get()).path("job").path("runName").asText()).isEqualTo(RUN);
    }
}
