package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.distribution.reliability.TcpProxy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The status page of a standalone server on PostgreSQL while the database refuses connections (a
 * {@code TcpProxy} between them, cut, then listening again): the page, its live part and a job's page
 * answer {@code 503} saying that the store does not answer, what that means and where to look, not
 * the error page's "internal error" (tryout21 F7); and in a real Chromium the open page says so in
 * its header, the page answered during the outage says so, shows the builds refused meanwhile without a
 * reload, and shows the status by itself once the store answers again. Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI.
 */
class StatusPageWithStoreDownTest extends AbstractProxiedServeTest {

    private static final String TOKEN = "admin-token-for-the-outage-page-test-0123";
    /** A valid job id that no store has. */
    static final String SOME_JOB = "01M8V3MSMA24Z7KQKH5S67MEJB";

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private ChromeDriver browser;

    StatusPageWithStoreDownTest() {
        super("outage_page_");
    }

    @AfterEach
    void quitBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private URI serve() throws Exception {
        Path config = config(dir, pg.storeUrlGenerousLogins, TOKEN, "server: {host: 127.0.0.1, port: 0}");
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        return ServeProcesses.awaitUrl(server, dir.resolve("data"));
    }

    /**
     * Writes {@code dir/buildhook.yaml}: data in {@code dir/data}, the store at {@code storeUrl}, the
     * default endpoint with a secret of its own, the admin API with {@code token}, then {@code more} lines.
     */
    static Path config(Path dir, String storeUrl, String token, String... more) throws Exception {
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-the-outage-page-test\n");
        Files.writeString(dir.resolve("admin-token"), token + "\n");
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n", "data-dir: data",
                "store: {url: '" + storeUrl + "'}", "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "admin: {token: {file: admin-token}}", String.join("\n", more), ""));
    }

    private static HttpResponse<String> get(URI uri, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thePageItsLivePartAndAJobsPageSayTheStoreDoesNotAnswerAndTheyRecover() throws Exception {
        URI base = serve();
        outageAnswersSaySo(base, TOKEN, pg.proxy);
    }

    /**
     * With the server at {@code base} answering, cuts {@code proxy} (its store's way to PostgreSQL): the
     * page, a job's page and their live parts answer 503 saying the store does not answer, and the admin
     * API still its JSON; then opens {@code proxy} again: the page answers 200 again.
     */
    static void outageAnswersSaySo(URI base, String token, TcpProxy proxy) throws Exception {
        assertThat(get(base, token).statusCode()).isEqualTo(200);

        proxy.cut();

        for (URI page : new URI[] {base, base.resolve("?job=" + SOME_JOB)}) {
            HttpResponse<String> answer = get(page, token);
            assertThat(answer.statusCode()).as(page + ": " + answer.body()).isEqualTo(503);
            assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(t ->
                    assertThat(t).startsWith("text/html"));
            assertThat(answer.headers().firstValue("Retry-After")).isPresent();
            assertThat(answer.body()).contains("The store does not answer")
                    .contains("answered <code>503</code>").contains("JobServ sends it again after 1, 2 and 4 s, for about 7 s only")
                    .contains("no delivery is lost").contains("href=\"healthz\"").contains("the server log")
                    .contains("tries again every 4 seconds by itself").contains("data-reload-when-live")
                    .doesNotContain("internal error").doesNotContain("Exception").doesNotContain("\"error\"");
        }
        for (URI live : new URI[] {base.resolve("?part=live"), base.resolve("?job=" + SOME_JOB + "&part=live")}) {
            HttpResponse<String> answer = get(live, token);
            assertThat(answer.statusCode()).as(live + ": " + answer.body()).isEqualTo(503);
            // HTML (page29): why, for the header, and the outage page's part that changes while it is open.
            assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(t ->
                    assertThat(t).startsWith("text/html"));
            assertThat(answer.body()).contains("data-unavailable=\"the store does not answer (see /healthz and the"
                    + " server log)").contains("<div id=\"store-outage\" data-live>").contains("no delivery is lost")
                    .doesNotContain("internal error").doesNotContain("Exception");
        }
        // The admin API's answer is a contract: unchanged.
        HttpResponse<String> api = get(base.resolve("api/jobs"), token);
        assertThat(api.statusCode()).isEqualTo(503);
        assertThat(api.body()).contains("{\"error\":\"the store is unavailable; try again later\"}");
        // A change asked for may have been made before the store stopped answering: its 503 says to look first
        // (review47 F3), after the same words.
        HttpResponse<String> rerun = HTTP.send(HttpRequest.newBuilder(base.resolve("api/jobs/" + SOME_JOB + "/rerun"))
                .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(rerun.statusCode()).isEqualTo(503);
        assertThat(rerun.body()).contains("the store is unavailable; try again later; if the store stopped answering"
                + " mid-way, the change asked for may have been made all the same: look (GET the job or the delivery,"
                + " buildhook jobs) before asking again");

        proxy.open();

        await().atMost(Duration.ofMinutes(2)).until(() -> get(base, token).statusCode() == 200);
        assertThat(get(base.resolve("?part=live"), token).statusCode()).isEqualTo(200);
    }

    /**
     * cluster27 F3: the page of a cluster node cut from PostgreSQL said only that jobs start once the store answers,
     * not that the node killed its running job itself (self-fencing) and that the other nodes run it again: now it
     * names the job, when, and who runs it. A real serve (heartbeat 1 s × 10: it fences after 5 to 7.5 s) with a
     * running job; the wait is for the page to say so, bounded only by a hung test.
     */
    @Test
    void thePageOfAClusterNodeCutFromTheStoreNamesTheJobItKilledItselfAndWhoRunsIt() throws Exception {
        Path go = dir.resolve("go");
        Path hold = Files.writeString(dir.resolve("hold.sh"), "#!/bin/sh\nwhile [ ! -f " + go + " ]; do sleep 0.05;"
                + " done\n");
        hold.toFile().setExecutable(true);
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: hold\n    run: {command: [" + hold
                + "], stdin: off}\n");
        Path config = config(dir, pg.storeUrlGenerousLogins, TOKEN, "rules: rules.yaml",
                "runner: {heartbeat-interval: 1s, missed-heartbeats: 10}", "server: {host: 127.0.0.1, port: 0}");
        processes = new ServeProcesses(dir);
        URI base = ServeProcesses.awaitUrl(processes.serve(config, dir.resolve("serve.out")), dir.resolve("data"));
        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 4711)).as("sent").isZero();
        await().atMost(Duration.ofMinutes(2)).until(() -> get(base.resolve("api/jobs?state=RUNNING"), TOKEN).body()
                .contains("\"rule\":\"hold\""));
        String job = AdminServer.json(get(base.resolve("api/jobs?state=RUNNING"), TOKEN).body()).path("items").path(0)
                .path("id").asText();

        pg.proxy.cut();

        await().atMost(Duration.ofMinutes(3)).until(() -> get(base, TOKEN).body().contains("id=\"fenced-jobs\""));
        assertThat(get(base, TOKEN).body()).contains("The other nodes of the cluster that reach it run the queued jobs"
                + " meanwhile.").contains("<strong>This node killed the commands of 1 running job(s) itself</strong>")
                .contains("the dead-node limit (10s)").contains("Killed: <code>" + job + "</code> at <time");
        Files.createFile(go);
        pg.proxy.open();
        await().atMost(Duration.ofMinutes(2)).until(() -> get(base, TOKEN).statusCode() == 200);
    }

    /**
     * While PostgreSQL cannot be read at all the page said "The store does not answer" without the builds to re-send,
     * though the server holds them in memory and the API, the CLI and the gauge name them (outage26): the page of
     * the outage shows the panel, whose Dismiss button works there too.
     */
    @Test
    void thePageOfTheOutageShowsTheBuildsToReSendAndDismissesThem() throws Exception {
        Chromium.required();
        URI base = serve();
        pg.proxy.cut();
        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 1313)).as("refused").isNotZero();

        HttpResponse<String> page = get(base, TOKEN);
        assertThat(page.statusCode()).isEqualTo(503);
        assertThat(page.body()).contains("The store does not answer").contains("id=\"refused-builds\"")
                .contains("Builds to re-send: 1 build was answered 503").contains("<td class=\"num\">1313</td>")
                .contains("for about 7 s only").doesNotContain("no delivery is lost");

        browser = Chromium.start(dir.resolve("profile"));
        browser.get(base + "?token=" + TOKEN);
        await().atMost(Duration.ofMinutes(1)).until(() -> text("refused-builds") != null);
        assertThat(selected("h2")).isEqualTo("The store does not answer");
        assertThat(text("refused-builds")).contains("1313");
        clickDismiss();
        await().atMost(Duration.ofMinutes(1)).until(() -> text("refused-builds") == null);
        assertThat(selected("h2")).isEqualTo("The store does not answer");
        assertThat(get(base.resolve("api/refused-builds"), TOKEN).body()).contains("\"items\":[]");
    }

    /**
     * page29: a build refused while the outage's page was open appeared on it only after a reload (its live part was
     * plain text, which the script only showed in the header). In Chromium, the page opened during the outage, with
     * nothing refused yet, shows the panel Builds to re-send by itself once a build is refused, then a second one in
     * it, and loses it once dismissed, all without a reload (a mark set in the window stays), its header still
     * saying why it is not the status.
     */
    @Test
    void thePageOfTheOutageShowsABuildRefusedWhileItIsOpenWithoutAReload() throws Exception {
        Chromium.required();
        URI base = serve();
        pg.proxy.cut();
        browser = Chromium.start(dir.resolve("profile"));
        browser.get(base + "?token=" + TOKEN);
        await().atMost(Duration.ofMinutes(1)).until(() -> "The store does not answer".equals(selected("h2")));
        assertThat(text("refused-builds")).isNull();
        assertThat(selected("main")).contains("no delivery is lost");
        browser.executeScript("window.notReloaded = true;");

        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 1313)).as("refused").isNotZero();

        await().atMost(Duration.ofMinutes(1)).until(() -> refusedListed("1313"));
        assertThat(text("refused-builds")).contains("Builds to re-send: 1 build was");
        assertThat(selected("main")).contains("for about 7 s only").doesNotContain("no delivery is lost");
        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 1314)).as("refused").isNotZero();
        await().atMost(Duration.ofMinutes(1)).until(() -> String.valueOf(text("refused-builds"))
                .contains("Builds to re-send: 2 builds were"));
        assertThat(text("refused-builds")).contains("1313").contains("1314");
        Chromium.screenshot(browser, "status-page-store-down-refused-live.png");
        assertThat(text("live-status")).contains("not updating: the store does not answer (see /healthz and the server log)");

        clickDismiss();

        await().atMost(Duration.ofMinutes(1)).until(() -> text("refused-builds") == null);
        assertThat(text("result")).isEqualTo("Dismissed the list of 2 build(s) to re-send.");
        assertThat(selected("main")).contains("no delivery is lost");
        assertThat(browser.executeScript("return window.notReloaded === true;")).as("not reloaded").isEqualTo(true);
    }

    /**
     * tryout29 F3: a status page opened while the store answered, then the store cut: the build refused meanwhile
     * appeared in its Builds to re-send only once the store answered again, long after JobServ's retries (about
     * 7 s), and its header said JobServ "sends them again". In Chromium, without a reload (a mark set in the window
     * stays): the page shows the outage's part (its heading, the refused build, the words about JobServ's 7 s) at
     * its top once its live part answers 503, with its Dismiss button working there, the deliveries it showed kept
     * below; once the store answers again, that part goes and the page is the status, live again.
     */
    @Test
    void aPageOpenedBeforeTheOutageShowsTheBuildsRefusedDuringItAndIsTheStatusAgainAfter() throws Exception {
        Chromium.required();
        URI base = serve();
        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 1515)).as("stored").isZero();
        browser = Chromium.start(dir.resolve("profile"));
        browser.get(base + "?token=" + TOKEN);
        await().atMost(Duration.ofMinutes(1)).until(() -> text("summary") != null);
        assertThat(text("store-outage")).isNull();
        browser.executeScript("window.notReloaded = true;");

        pg.proxy.cut();
        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 1516)).as("refused").isNotZero();

        // Read in one script each: the outage's part is replaced at each poll while its reason's age changes.
        await().atMost(Duration.ofMinutes(2)).until(() -> refusedListed("1516"));
        assertThat(text("store-outage")).contains("The store does not answer").contains("Builds to re-send: 1 build was")
                .contains("for about 7 s only").doesNotContain("no delivery is lost");
        // Since when the page last had the status (tryout41 F9), and the server's own words why.
        assertThat(text("live-status")).matches("(?s)not updating since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC: the"
                + " store does not answer \\(see /healthz and the server log\\).*").contains("for about 7 s only")
                .doesNotContain("sends them again");
        assertThat(text("summary")).as("the page's status, kept").isNotBlank();
        Chromium.screenshot(browser, "status-page-opened-before-the-outage.png");

        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 1517)).as("refused").isNotZero();
        await().atMost(Duration.ofMinutes(1)).until(() -> String.valueOf(text("refused-builds"))
                .contains("Builds to re-send: 2 builds were"));
        clickDismiss();
        await().atMost(Duration.ofMinutes(1)).until(() -> text("refused-builds") == null);
        assertThat(text("store-outage")).contains("no delivery is lost");
        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 1518)).as("refused").isNotZero();
        await().atMost(Duration.ofMinutes(1)).until(() -> refusedListed("1518"));

        pg.proxy.open();

        await().atMost(Duration.ofMinutes(2)).until(() -> text("store-outage") == null);
        await().atMost(Duration.ofMinutes(1)).until(() -> String.valueOf(text("live-status")).startsWith("live"));
        // Still to re-send, now in the status's own panel: the outage's part is gone, not its news.
        assertThat(refusedListed("1518")).as("1518 in the status's panel").isTrue();
        assertThat(browser.findElements(By.xpath("//h2[.='The store does not answer']"))).isEmpty();
        assertThat(browser.executeScript("return window.notReloaded === true;")).as("not reloaded").isEqualTo(true);
    }

    /**
     * page30: a finished job's page did not ask for anything (nothing on it can change but by an operator's hand), so
     * a store outage showed on it only after a reload, while an ordinary page and a running job's page showed it at
     * their next live update. In Chromium, without a reload (a mark set in the window stays): the page of a job that
     * succeeded says it is final, shows the outage (its header and the outage's part at the top, its Plan and log
     * kept) within its slower poll (10 s) once the store is cut, and is final again once the store answers.
     */
    @Test
    void aFinishedJobsPageShowsTheOutageWithoutAReloadAndRecovers() throws Exception {
        Chromium.required();
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: done\n    run: {command: [/bin/echo, done-"
                + "output], stdin: off}\n");
        Path config = config(dir, pg.storeUrlGenerousLogins, TOKEN, "rules: rules.yaml",
                "server: {host: 127.0.0.1, port: 0}");
        processes = new ServeProcesses(dir);
        URI base = ServeProcesses.awaitUrl(processes.serve(config, dir.resolve("serve.out")), dir.resolve("data"));
        assertThat(RefusedBuildsAfterOutageTest.send(dir, base, 1616)).as("stored").isZero();
        await().atMost(Duration.ofMinutes(2)).until(() -> get(base.resolve("api/jobs?state=SUCCEEDED"), TOKEN).body()
                .contains("\"rule\":\"done\""));
        String job = AdminServer.json(get(base.resolve("api/jobs?state=SUCCEEDED"), TOKEN).body()).path("items")
                .path(0).path("id").asText();
        browser = Chromium.start(dir.resolve("profile"));
        browser.get(base + "?token=" + TOKEN);
        browser.get(base + "?job=" + job);
        await().atMost(Duration.ofMinutes(1)).until(() -> String.valueOf(text("log-1")).contains("done-output"));
        browser.executeScript("window.notReloaded = true;");

        pg.proxy.cut();

        await().atMost(Duration.ofMinutes(1)).until(() -> String.valueOf(text("live-status"))
                .matches("(?s)not updating since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC: the store does not"
                        + " answer \\(see /healthz and the server log\\).*"));
        await().atMost(Duration.ofMinutes(1)).until(() -> String.valueOf(text("store-outage"))
                .contains("The store does not answer"));
        assertThat(text("plan")).as("the job's Plan, kept").contains("done-output");
        assertThat(text("log-1")).as("its log, kept").contains("done-output");
        Chromium.screenshot(browser, "job-page-finished-store-down.png");

        pg.proxy.open();

        await().atMost(Duration.ofMinutes(2)).until(() -> text("store-outage") == null);
        assertThat(text("live-status")).startsWith("final \u00b7 checked");
        assertThat(text("log-1")).contains("done-output");
        assertThat(text("job-state")).contains("SUCCEEDED");
        assertThat(browser.executeScript("return window.notReloaded === true;")).as("not reloaded").isEqualTo(true);
    }

    /** The visible text of the element {@code id} of the open page, or null without one; read in one script. */
    private String text(String id) {
        return (String) browser.executeScript("var e = document.getElementById(arguments[0]);"
                + " return e ? e.innerText : null;", id);
    }

    /**
     * The visible text of the first element {@code selector} selects on the open page, or null without one; read in
     * one script, as {@link #text}: the live update replaces the outage's part at each poll, and an element found
     * in one call could be gone by the next (a StaleElementReferenceException in ci-al).
     */
    private String selected(String selector) {
        return (String) browser.executeScript("var e = document.querySelector(arguments[0]);"
                + " return e ? e.innerText : null;", selector);
    }

    /** Clicks Dismiss in Builds to re-send, again if the live update replaced the button between its find and click. */
    private void clickDismiss() {
        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> {
            browser.findElement(By.cssSelector("#refused-builds button.dismiss")).click();
            return true;
        });
    }

    /** Whether the open page's Builds to re-send has a cell reading {@code build}; read in one script. */
    private boolean refusedListed(String build) {
        return Boolean.TRUE.equals(browser.executeScript("var b = arguments[0]; return Array.prototype.some.call("
                + "document.querySelectorAll('#refused-builds td'), function (td) { return td.textContent.trim() === b;"
                + " });", build));
    }

    /**
     * In Chromium: the open page's header says why it stopped updating; the page loaded during the outage
     * says the store does not answer; once it answers, that page shows the status by itself (its script
     * loads it when a poll succeeds), without a reload by the reader.
     */
    @Test
    void inABrowserTheOpenPageSaysWhyAndThePageOfTheOutageRecoversByItself() throws Exception {
        Chromium.required();
        URI base = serve();
        browser = Chromium.start(dir.resolve("profile"));
        browser.get(base + "?token=" + TOKEN);
        await().atMost(Duration.ofMinutes(1)).until(() -> !browser.findElements(By.id("summary")).isEmpty());

        pg.proxy.cut();

        await().atMost(Duration.ofMinutes(2)).until(() -> String.valueOf(text("live-status"))
                .matches("(?s)not updating since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC: the store does not"
                        + " answer \\(see /healthz and the server log\\).*"));
        browser.navigate().refresh();
        assertThat(selected("h2")).isEqualTo("The store does not answer");
        assertThat(selected("main")).contains("no delivery is lost").doesNotContain("internal error");
        Chromium.screenshot(browser, "status-page-store-down.png");

        pg.proxy.open();

        await().atMost(Duration.ofMinutes(2)).until(() -> text("summary") != null);
        assertThat(text("live-status")).doesNotContain("store");
    }
}
