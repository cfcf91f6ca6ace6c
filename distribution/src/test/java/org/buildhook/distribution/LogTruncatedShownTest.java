package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * A job whose output passed {@code runner.log-max-bytes} says so beside its attempt, not only inside its log
 * file: {@code logTruncated} and {@code logDroppedBytes} in the admin API, {@code job show} and the job's page
 * (tryout24 F2; running-jobs.md "Log files" promised it). Real commands over a 4 KiB cap, on SQLite and on
 * PostgreSQL (the latter needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI where it fails).
 */
class LogTruncatedShownTest {

    private static final Pattern MARKER = Pattern.compile("\\[buildhook\\] log truncated: (\\d+) bytes dropped here");

    @TempDir
    Path dir;

    private AdminServer server;
    private TestSchema pg;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aTruncatedLogIsSaidOnTheAttemptInTheApiJobShowAndTheJobPage(String storeKind) throws Exception {
        String store = "";
        if (storeKind.equals("postgresql")) {
            pg = TestSchema.create("logcut_");
            store = "\nstore:\n  url: '" + pg.storeUrl + "'";
        }
        server = AdminServer.withRunner(dir, "  log-max-bytes: 4KiB" + store);
        // 48,000 bytes of output over a 4 KiB cap, and a job well under it.
        server.replaceRules("rules:\n"
                + "  - name: flood\n    run:\n      command: [/bin/sh, -c, \"seq -f 'line %06g' 1 4000\"]\n"
                + "  - name: quiet\n    run:\n      command: [/bin/sh, -c, 'echo quiet']\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactlyInAnyOrder("flood", "quiet");
        String delivery = server.deliver("build-67-passed.json");
        Map<String, String> jobs = new HashMap<>();
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            JsonNode list = server.getJson("deliveries/" + delivery).path("jobs");
            jobs.clear();
            list.forEach(j -> jobs.put(j.path("rule").asText(), j.path("state").asText() + " " + j.path("id").asText()));
            return jobs.size() == 2 && jobs.values().stream().noneMatch(s -> s.matches("(QUEUED|RUNNING|WAITING\\w*) .*"));
        });
        assertThat(jobs.values()).as(jobs.toString()).allMatch(s -> s.startsWith("SUCCEEDED "));
        String flood = jobs.get("flood").substring("SUCCEEDED ".length());
        String quiet = jobs.get("quiet").substring("SUCCEEDED ".length());

        // What the log file itself says was dropped.
        String log = server.get("jobs/" + flood + "/log?attempt=1").body();
        Matcher m = MARKER.matcher(log);
        assertThat(m.find()).as(log).isTrue();
        long dropped = Long.parseLong(m.group(1));
        assertThat(dropped).isGreaterThan(40_000);

        JsonNode cut = server.getJson("jobs/" + flood).path("attempts").path(0);
        assertThat(cut.path("logTruncated").isBoolean() && cut.path("logTruncated").asBoolean()).as(cut.toString()).isTrue();
        assertThat(cut.path("logDroppedBytes").asLong()).as(cut.toString()).isEqualTo(dropped);
        JsonNode whole = server.getJson("jobs/" + quiet).path("attempts").path(0);
        assertThat(whole.path("logTruncated").isBoolean() && !whole.path("logTruncated").asBoolean())
                .as(whole.toString()).isTrue();
        assertThat(whole.path("logDroppedBytes").isNull()).as(whole.toString()).isTrue();

        assertThat(jobShow(flood)).contains("#1 SUCCEEDED exit 0").contains("(log truncated: " + dropped
                + " bytes dropped, runner.log-max-bytes)");
        assertThat(jobShow(quiet)).contains("#1 SUCCEEDED exit 0").doesNotContain("log truncated");

        String cookie = server.signIn();
        assertThat(server.page("?job=" + flood, cookie).body()).contains("<small class=\"log-truncated\">log truncated: "
                + dropped + " bytes dropped (runner.log-max-bytes): <a href=\"#log-1\">its tail</a>, <a href=\"api/jobs/"
                + flood + "/log?attempt=1\">the kept log</a></small>");
        assertThat(server.page("?job=" + quiet, cookie).body()).doesNotContain("log truncated");
    }

    private String jobShow(String jobId) {
        StringWriter out = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        int exit = cl.execute("job", "show", jobId, "--url", server.uri().toString(), "--token-file",
                dir.resolve("admin-token").toString());
        assertThat(exit).as(out.toString()).isZero();
        return out.toString();
    }
}
