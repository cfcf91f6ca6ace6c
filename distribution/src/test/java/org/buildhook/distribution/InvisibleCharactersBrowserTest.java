package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * escape29: HTML-escaped, a payload value's or a job's output's bidirectional control (RLO U+202E) still reordered
 * what the status page showed, and a zero-width character (U+200B, U+FEFF) still hid: {@code dev} RLO {@code ved}
 * read as {@code devdev}. In a real headless Chromium, the list, the job's page (its plan, environment and log)
 * show them as the command line does, {@code \}{@code u202e}, and the page's text and tooltips hold none of them.
 * Leaves {@code target/invisible-characters-job.png}. Skipped without Chromium, except on CI ({@code CI=true}),
 * where that fails.
 */
class InvisibleCharactersBrowserTest extends AdminServerInChromium {

    /** Any invisible character (LogSafe.isInvisible) in a JavaScript regular expression. */
    private static final String INVISIBLE = "/[\\p{Cf}\\u2028\\u2029]/u";

    @Test
    void theListAndTheJobsPageShowBidirectionalAndZeroWidthCharactersAsEscapes() throws Exception {
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: hidden\n    run:\n      command: [/usr/bin/printf,"
                + " 'out: run\\342\\200\\256tset\\342\\200\\254 zero\\342\\200\\213width bom\\357\\273\\277\\n%s\\n',"
                + " '${build.trigger}']\n      env: {TRIGGER: '${build.trigger}'}\n      payload-values: as-sent\n");
        server.app().rules().checkNow();
        ObjectNode body = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        body.put("trigger_name", "dev\u202eved\u200b");
        // An address with one: linked as the browser would send it (percent-encoded), not as it is shown.
        body.put("web_url", "https://ci.example.com/builds/\u202e67");
        String delivery = server.deliverBody(body.toString().getBytes(StandardCharsets.UTF_8));
        String job = jobSucceededInTheBrowser(delivery);

        By row = By.cssSelector("tr.delivery[data-id='" + delivery + "']");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(row)
                .getText().contains("dev\\u202eved\\u200b"));
        assertThat(browser.findElement(row).findElement(By.cssSelector("td.trigger .clipped")).getAttribute("title"))
                .isEqualTo("dev\\u202eved\\u200b");
        assertShowsNoInvisibleCharacter();

        browser.get(server.uri() + "?job=" + job);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.cssSelector(
                "pre.log")).getText().contains("out: run\\u202etset\\u202c zero\\u200bwidth bom\\ufeff\n"
                        + "dev\\u202eved\\u200b"));
        assertThat(browser.findElement(By.id("plan")).getText()).contains("dev\\u202eved\\u200b");
        assertThat(browser.findElement(By.cssSelector("#plan a.build")).getAttribute("href"))
                .isEqualTo("https://ci.example.com/builds/%E2%80%AE67");
        assertThat(browser.findElement(By.cssSelector("pre.env")).getAttribute("textContent")).contains("TRIGGER=dev\\u202eved\\u200b");
        Chromium.screenshot(browser, "invisible-characters-job.png");
        assertShowsNoInvisibleCharacter();
    }

    /**
     * jobpage29: a control character (a raw ESC, C1 U+009B or U+0085, a lone carriage return) in a job's log or a
     * payload value showed as nothing on the page, HTML-escaped only ({@code ESC[31mred} read {@code [31mred}),
     * while {@code buildhook logs} and {@code job show} show {@code \x1b[31mred}. The page shows them the same way,
     * by the same rule as the invisible characters: the log keeps its lines (newlines, tabs), every other control
     * character is {@code \xNN}, in the list, its tooltip, the job's plan, environment and log.
     */
    @Test
    void theListAndTheJobsPageShowControlCharactersAsEscapes() throws Exception {
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: coloured\n    run:\n      command: [/usr/bin/printf,"
                + " 'out: \\033[31mred\\033[0m\\tcsi \\302\\233 50%%\\r100%%\\n%s\\n',"
                + " '${build.trigger}']\n      env: {TRIGGER: '${build.trigger}', TWO: \"a\\nB=1\"}\n"
                + "      payload-values: as-sent\n");
        server.app().rules().checkNow();
        ObjectNode body = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        body.put("trigger_name", "dev\u001b[2Jx\u0085y");
        String delivery = server.deliverBody(body.toString().getBytes(StandardCharsets.UTF_8));
        String job = jobSucceededInTheBrowser(delivery);

        By row = By.cssSelector("tr.delivery[data-id='" + delivery + "']");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(row).isDisplayed());
        assertThat(browser.findElement(row).findElement(By.cssSelector("td.trigger")).getText())
                .endsWith("dev\\x1b[2Jx\\x85y");
        assertThat(browser.findElement(row).findElement(By.cssSelector("td.trigger .clipped")).getAttribute("title"))
                .isEqualTo("dev\\x1b[2Jx\\x85y");
        assertShowsNoControlCharacter();

        browser.get(server.uri() + "?job=" + job);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.id("plan"))
                .isDisplayed());
        assertThat(browser.findElement(By.cssSelector("pre.log")).getAttribute("textContent"))
                .contains("out: \\x1b[31mred\\x1b[0m\tcsi \\x9b 50%\\x0d100%\ndev\\x1b[2Jx\\x85y\n");
        assertThat(browser.findElement(By.id("plan")).getText()).contains("dev\\x1b[2Jx\\x85y");
        assertThat(browser.findElement(By.cssSelector("pre.env")).getAttribute("textContent"))
                .contains("TRIGGER=dev\\x1b[2Jx\\x85y\n")
                // A value's newline does not start a line that reads as another variable: as job show shows it.
                .contains("TWO=a\\x0aB=1\n").doesNotContain("\nB=1");
        Chromium.screenshot(browser, "control-characters-job.png");
        assertShowsNoControlCharacter();
    }

    /**
     * page30: a newline in a value the page shows on one line (a trigger name: in the list, its tooltip, the job's
     * Plan and command) showed as a space, so two lines read as one ({@code dev} and {@code line2} as {@code dev
     * line2}), while {@code buildhook jobs} and {@code job show} show {@code dev\x0aline2}. The page shows it so too,
     * and a tab as {@code \x09}, by the terminal's one-line rule; the job's log keeps its lines and tabs.
     */
    @Test
    void aNewlineInAValueShownOnOneLineIsAnEscapeWhileTheLogKeepsItsLines() throws Exception {
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: lines\n    run:\n      command: [/usr/bin/printf, 'out: %s\\n',"
                + " '${build.trigger}']\n      env: {TRIGGER: '${build.trigger}'}\n      payload-values: as-sent\n");
        server.app().rules().checkNow();
        ObjectNode body = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        body.put("trigger_name", "dev\nline2\tend");
        String delivery = server.deliverBody(body.toString().getBytes(StandardCharsets.UTF_8));
        String job = jobSucceededInTheBrowser(delivery);
        String shown = "dev\\x0aline2\\x09end";

        By row = By.cssSelector("tr.delivery[data-id='" + delivery + "']");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(row).isDisplayed());
        assertThat(browser.findElement(row).findElement(By.cssSelector("td.trigger")).getAttribute("textContent"))
                .endsWith(shown);
        assertThat(browser.findElement(row).findElement(By.cssSelector("td.trigger .clipped")).getAttribute("title"))
                .isEqualTo(shown);

        browser.get(server.uri() + "?job=" + job);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.id("plan"))
                .isDisplayed());
        String plan = browser.findElement(By.id("plan")).getAttribute("textContent");
        assertThat(plan).contains("Trigger" + shown).contains("/usr/bin/printf out: %s\\n " + shown)
                .doesNotContain("dev\n").doesNotContain("dev ");
        assertThat(browser.findElement(By.cssSelector("pre.env")).getAttribute("textContent"))
                .contains("TRIGGER=" + shown + "\n");
        assertThat(browser.findElement(By.cssSelector("pre.log")).getAttribute("textContent"))
                .contains("out: dev\nline2\tend\n");
        Chromium.screenshot(browser, "newline-in-a-value-job.png");
    }

    /** The id of {@code delivery}'s one job, once it succeeded; then the browser, signed in, shows the list. */
    /**
     * tryout29 F4: a value holding the text of an escape (the six characters backslash-u-2-0-2-e) looked the same as
     * one holding U+202E itself. It shows with its backslash doubled, in the list, its tooltip, the Plan and the
     * Environment, as in buildhook's tables and log lines; the real U+202E beside it as one escape.
     */
    @Test
    void aValueHoldingTheTextOfAnEscapeShowsItsBackslashDoubledNotAsTheCharacter() throws Exception {
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: texts\n    run:\n      command: [/bin/true, '${build.trigger}']\n"
                + "      env: {TRIGGER: '${build.trigger}'}\n      payload-values: as-sent\n");
        server.app().rules().checkNow();
        ObjectNode body = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        body.put("trigger_name", "dev\\u202eved-\u202ereal");
        String delivery = server.deliverBody(body.toString().getBytes(StandardCharsets.UTF_8));
        String job = jobSucceededInTheBrowser(delivery);
        String shown = "dev\\\\u202eved-\\u202ereal";

        By row = By.cssSelector("tr.delivery[data-id='" + delivery + "']");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(row)
                .getText().contains(shown));
        assertThat(browser.findElement(row).findElement(By.cssSelector("td.trigger .clipped")).getAttribute("title"))
                .isEqualTo(shown);
        browser.get(server.uri() + "?job=" + job);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.id("plan"))
                .getText().contains(shown));
        assertThat(browser.findElement(By.cssSelector("pre.env")).getAttribute("textContent"))
                .contains("TRIGGER=" + shown);
        assertShowsNoInvisibleCharacter();
    }

    private String jobSucceededInTheBrowser(String delivery) throws Exception {
        String job = await().atMost(Duration.ofMinutes(1)).until(() -> {
            JsonNode jobs = server.getJson("deliveries/" + delivery).path("jobs");
            return jobs.size() == 1 && jobs.path(0).path("state").asText().equals("SUCCEEDED")
                    ? jobs.path(0).path("id").asText() : null;
        }, id -> id != null);
        browser = Chromium.start(profile);
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
        return job;
    }

    /** Neither the page's text nor an attribute of any of its elements holds a control character but a newline or tab. */
    private void assertShowsNoControlCharacter() {
        assertShowsNone("/[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]/", "textContent");
    }

    /** Neither the page's text nor an attribute (a tooltip) of any of its elements holds an invisible character. */
    private void assertShowsNoInvisibleCharacter() {
        assertShowsNone(INVISIBLE, "innerText");
    }

    /** Neither the body's {@code text} ({@code innerText}, {@code textContent}) nor any attribute matches {@code regex}. */
    private void assertShowsNone(String regex, String text) {
        assertThat(browser.executeScript("var found = [], re = " + regex + ";"
                + " if (re.test(document.body." + text + ")) { found.push('text'); }"
                + " document.querySelectorAll('*').forEach(function (e) { Array.prototype.forEach.call(e.attributes,"
                + " function (a) { if (re.test(a.value)) { found.push(e.tagName + '@' + a.name); } }); });"
                + " return found;")).asList().isEmpty();
    }
}
