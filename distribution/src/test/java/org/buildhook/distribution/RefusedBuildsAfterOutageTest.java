package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.distribution.AbstractProxiedServeTest.SqliteLockHeld;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * The builds a standalone server on SQLite answered 503 while another program held the database's write lock stay
 * visible after the lock is let go (tryout26 F4: once the store was back they were on no page, list or API answer,
 * and the banner had said "Nothing is lost"): {@code GET /api/refused-builds}, {@code buildhook refused-builds},
 * the gauge {@code buildhook_refused_builds} and the status page (over HTTP and in a real Chromium) name each one,
 * except the one sent again and accepted; a dismissal empties the list.
 */
class RefusedBuildsAfterOutageTest extends ServeInChromium {

    private static final ObjectMapper JSON = new ObjectMapper();

    private URI base;

    @Test
    void buildsRefusedDuringAnOutageAreListedAfterItUntilStoredOrDismissed() throws Exception {
        serve();
        assertThat(send(base, 1310)).as("accepted before the outage").isZero();

        try (SqliteLockHeld lock = lockTheStore()) {
            for (int build : new int[] {1313, 1314, 1316}) {
                assertThat(send(base, build)).as("build " + build + " refused").isNotZero();
            }
            assertThat(send(base, 1313)).as("1313 refused again (a retry)").isNotZero();
            assertThat(builds(refused(base))).as("listed during the outage").containsExactly(1313L, 1314L, 1316L);
            assertThat(get(base).body()).contains("id=\"refused-builds\"")
                    .contains("only: a build still refused after that is lost until it is sent again")
                    .doesNotContain("Nothing is lost");
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> get(base.resolve("healthz")).statusCode() == 200);
        // JobServ's retry (or the operator's re-send) of 1316 is stored: it leaves the list.
        await().atMost(Duration.ofMinutes(1)).until(() -> send(base, 1316) == 0);

        JsonNode after = refused(base);
        assertThat(builds(after)).as("still to re-send after the outage").containsExactly(1313L, 1314L);
        JsonNode first = after.path("items").path(0);
        assertThat(first.path("endpoint").asText()).isEqualTo("default");
        assertThat(first.path("project").asText()).isEqualTo("andy-corp/lmp");
        assertThat(first.path("status").asText()).isEqualTo("PASSED");
        assertThat(first.path("trigger").asText()).isEqualTo("containers-devel");
        assertThat(first.path("refusals").asInt()).isEqualTo(2);
        assertThat(first.path("firstRefusedAt").asText()).isNotEmpty();
        assertThat(after.path("dropped").asLong()).isZero();
        assertThat(get(base.resolve("metrics")).body()).contains("buildhook_refused_builds 2.0");

        String page = get(base).body();
        assertThat(page).doesNotContain("id=\"store-banner\"").contains("id=\"refused-builds\"")
                .contains("<td class=\"num\">1313</td>").contains("<td class=\"num\">1314</td>")
                .doesNotContain("<td class=\"num\">1316</td>");
        browser = Chromium.start(dir.resolve("profile"));
        browser.get(base + "?token=" + ServeProcesses.FOLLOW_TOKEN);
        await().atMost(Duration.ofMinutes(1)).until(() -> !browser.findElements(By.id("refused-builds")).isEmpty());
        String panel = browser.findElement(By.id("refused-builds")).getText();
        assertThat(panel).startsWith("Builds to re-send: 2 builds were answered 503")
                .contains("a restart of the server forgets it").contains("not stored, answering 503")
                .contains("1313").contains("1314").doesNotContain("1316");
        Chromium.screenshot(browser, "status-page-refused-builds.png");

        StringWriter listed = new StringWriter();
        assertThat(cli(listed, "refused-builds")).isZero();
        assertThat(listed.toString()).contains("1313").contains("1314").doesNotContain("1316");
        StringWriter dismissed = new StringWriter();
        assertThat(cli(dismissed, "refused-builds", "--dismiss")).isZero();
        assertThat(dismissed.toString()).contains("dismissed 2 build(s)");
        assertThat(builds(refused(base))).isEmpty();
        assertThat(get(base).body()).doesNotContain("id=\"refused-builds\"");
        await().atMost(Duration.ofMinutes(1)).until(() -> browser.findElements(By.id("refused-builds")).isEmpty());
    }

    /**
     * The panel had no dismiss button, though the API and the CLI dismiss (outage26): its button calls {@code DELETE
     * /api/refused-builds} with the admin cookie and the page's CSRF header, as Approve does; the same DELETE with the
     * cookie but without the header is refused and dismisses nothing.
     */
    @Test
    void theDismissButtonOfThePanelEmptiesTheListWithTheAdminCookieAndTheCsrfHeader() throws Exception {
        serve();
        try (SqliteLockHeld lock = lockTheStore()) {
            assertThat(send(base, 1313)).as("refused").isNotZero();
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> get(base.resolve("healthz")).statusCode() == 200);
        // The cookie a sign-in sets (a raw-token cookie of older builds would take the deprecated path).
        String setCookie = get(base.resolve("?token=" + ServeProcesses.FOLLOW_TOKEN)).headers().firstValue("Set-Cookie")
                .orElseThrow();
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        assertThat(cookie).startsWith("buildhook_admin=v1.");
        HttpResponse<String> forged = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                .newBuilder(base.resolve("api/refused-builds")).timeout(Duration.ofSeconds(120)).header("Cookie", cookie)
                .DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).as("a cookie without X-Buildhook-Request").isEqualTo(401);
        assertThat(builds(refused(base))).containsExactly(1313L);

        browser = Chromium.start(dir.resolve("profile"));
        browser.get(base + "?token=" + ServeProcesses.FOLLOW_TOKEN);
        await().atMost(Duration.ofMinutes(1)).until(() -> !browser.findElements(By.id("refused-builds")).isEmpty());
        browser.findElement(By.cssSelector("#refused-builds button.dismiss")).click();

        await().atMost(Duration.ofMinutes(1)).until(() -> browser.findElements(By.id("refused-builds")).isEmpty());
        assertThat(browser.findElement(By.id("result")).getText()).isEqualTo("Dismissed the list of 1 build(s) to re-send.");
        assertThat(builds(refused(base))).isEmpty();
        assertThat(Files.readString(dir.resolve("serve.out"))).contains("dismissed the list of 1 build(s) refused 503");
    }

    /** Starts {@code serve} of the quick rule on SQLite in {@link #dir} (Chromium required); sets {@link #base}. */
    private void serve() throws Exception {
        Chromium.required();
        Process server = serveQuickRule(dir.resolve("serve.out"));
        base = ServeProcesses.awaitUrl(server, dir.resolve("data"));
    }

    /** Another connection holding the SQLite store's write lock until closed: the server answers deliveries 503. */
    private SqliteLockHeld lockTheStore() throws Exception {
        SqliteLockHeld lock = new SqliteLockHeld("jdbc:sqlite:" + dir.resolve("data").resolve("buildhook.db").toAbsolutePath());
        lock.start();
        return lock;
    }

    private int send(URI base, int build) throws Exception {
        return send(dir, base, build);
    }

    /**
     * Sends the sample build with its number changed, once, to the server at {@code base} signed with the secret in
     * {@code dir/webhook-secret}; the exit code (0: a 2xx).
     */
    static int send(Path dir, URI base, int build) throws Exception {
        String sample = new String(SendCommand.class.getResourceAsStream("sample-build.json").readAllBytes(),
                StandardCharsets.UTF_8).replace("builds/67", "builds/" + build).replace("\"build_id\": 67",
                "\"build_id\": " + build);
        Path payload = Files.writeString(dir.resolve("build-" + build + ".json"), sample);
        picocli.CommandLine cl = BuildhookCommand.commandLine();
        StringWriter said = new StringWriter();
        cl.setOut(new PrintWriter(said, true));
        cl.setErr(new PrintWriter(said, true));
        return cl.execute("send", base.resolve("webhook").toString(), payload.toString(), "--secret-file",
                dir.resolve("webhook-secret").toString(), "--no-retry");
    }

    private int cli(StringWriter said, String... args) {
        picocli.CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(said, true));
        cl.setErr(new PrintWriter(said, true));
        List<String> all = new ArrayList<>(List.of(args));
        if (!args[0].equals("send")) {
            all.addAll(List.of("--url", base.toString(), "--token-file",
                    dir.resolve("admin-token").toString()));
        }
        return cl.execute(all.toArray(String[]::new));
    }

    private JsonNode refused(URI base) throws Exception {
        HttpResponse<String> answer = get(base.resolve("api/refused-builds"));
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    private static List<Long> builds(JsonNode answer) {
        List<Long> builds = new ArrayList<>();
        answer.path("items").forEach(i -> builds.add(i.path("build").asLong()));
        return builds;
    }

    private static HttpResponse<String> get(URI uri) throws Exception {
        return StatusPageWithSqliteLockedTest.get(uri);
    }
}
