package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.servlet.RefusedBuildsForTests;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;

/**
 * tryout25 F10: a clipped trigger name kept its cell about 500 px wide, so the deliveries table scrolled
 * sideways and its Jobs column was out of sight for every row at 1280 px; a job's page did not wrap a long
 * value, so its Plan and Environment ran off to the right. In a real headless Chromium, with a 300-character
 * trigger name and a 5,000-character {@code web_url}: from 360 to 2560 px (1201, 1300 and 1440 among them) every
 * cell of the delivery's row is inside the window and the page does not scroll sideways (nor does the list inside
 * its box); the job's page neither (jobpage29: at 360 px too, its Attempts one block per attempt below 901 px).
 * No cell's content overflows its box, on the list or the job's page (page29: an ellipsis cut the status
 * RUNNING_WITH_FAILURES, the longest JobServ sends, between 1201 and about 1440 px). A long project and run name
 * too: the worst case of a row. page30: the Rules table (a 100-character rule name) neither scrolls sideways in its box
 * nor has a cell outside the window, one block per rule below 901 px, and at 600 px and below the job's Plan shows each
 * value below its name, at least 3/4 of the Plan wide (at 360 px its values had a few characters a line). Leaves
 * screenshots in
 * {@code target/}: {@code long-values-1280.png}, {@code long-values-800.png}, {@code long-values-job-1280.png},
 * {@code long-values-job-800.png}, {@code long-values-job-attempts-360.png}, {@code long-values-rules-360.png},
 * {@code long-values-job-plan-360.png} …. Skipped without Chromium, except on CI ({@code CI=true}), where that fails.
 */
class LongPayloadValuesBrowserTest extends AdminServerInChromium {

    private static final String TRIGGER = "nightly-" + "x".repeat(292);
    /** A rule's name as long as one can be (100 characters): the Rules table's worst case (page30). */
    private static final String RULE = "archive-" + "a".repeat(92);
    private static final String WEB_URL = "https://ci.example.com/builds/67/" + "w".repeat(5000 - 33);
    /** Each run's {@code log_url}: 1,500 characters, more than a list carries of a value (Html.TITLE_WIDTH). */
    private static final String LOG_URL = "https://ci.example.com/builds/67/runs/" + "l".repeat(1500 - 38);

    @Test
    void everyColumnOfTheListAndTheJobsPageIsWholeInAWindowOf360To2560Pixels() throws Exception {
        assertThat(WEB_URL).hasSize(5000);
        server = AdminServer.startWithEndpoint(dir, "jobserv-staging");
        server.replaceRules("rules:\n  - name: " + RULE + "\n    when:\n      runs: {match: each}\n"
                + "    run:\n      command: [/bin/sh, -c, 'exit 0', archive, '${run.name}', '${build.web_url}',"
                + " '${build.trigger}']\n");
        server.app().rules().checkNow();
        ObjectNode body = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        body.put("trigger_name", TRIGGER);
        body.put("web_url", WEB_URL);
        // And a long project (from the build's URL) and run name: the worst case of a row.
        body.put("url", "https://api.foundries.io/projects/andy-corp/" + "p".repeat(200) + "/builds/67/");
        ((ObjectNode) body.path("runs").path(0)).put("name", "build-" + "r".repeat(120));
        String delivery = server.deliverBody(body.toString().getBytes(StandardCharsets.UTF_8));
        // review26 R4: an ordinary endpoint name and status, which were clipped at about 10ch at every width.
        ObjectNode ordinary = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        ordinary.put("status", "RUNNING_WITH_FAILURES");
        ordinary.put("build_id", 68);
        String staging = server.deliverBody("jobserv-staging", ordinary.toString().getBytes(StandardCharsets.UTF_8));
        String job = await().atMost(Duration.ofMinutes(1)).until(() -> {
            JsonNode jobs = server.getJson("deliveries/" + delivery).path("jobs");
            return jobs.size() == 4 && jobs.findValuesAsText("state").stream().allMatch("SUCCEEDED"::equals)
                    ? jobs.path(0).path("id").asText() : null;
        }, id -> id != null);
        browser = Chromium.start(profile);
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);

        // 1201 px: the narrowest window where the list is a table (below, one block per delivery); page29: 360 to
        // 2560 px, and 1201 to 1440 px, where an ellipsis cut RUNNING_WITH_FAILURES.
        for (int width : List.of(2560, 1920, 1440, 1300, 1280, 1201, 1200, 901, 900, 800, 360)) {
            browser.manage().window().setSize(new Dimension(width, 900));
            browser.get(server.uri().toString());
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.cssSelector(
                    "tr.delivery[data-id='" + delivery + "'] li.job-line")).isDisplayed());
            Chromium.screenshot(browser, "long-values-" + width + ".png");
            Map<String, Object> list = layout("tr.delivery[data-id='" + delivery + "'] > td");
            assertThat(list).as("the list at %d px", width).containsEntry("outside", List.of())
                    .containsEntry("pageScrollsSideways", false).containsEntry("cells", 9L);
            assertThat(layout("tr.delivery[data-id='" + staging + "'] > td")).as("the ordinary row at %d px", width)
                    .containsEntry("outside", List.of()).containsEntry("pageScrollsSideways", false);
            // review26 R4, page29: no cell, nor anything in one, is cut (an ellipsis, or text running under the
            // next cell): every value is whole or wrapped, the longest real status and the worst case's values too.
            assertThat(browser.executeScript("""
                    var cut = [];
                    document.querySelectorAll('#deliveries td, #deliveries td *').forEach(function (e) {
                      if (getComputedStyle(e).display !== 'inline' && e.scrollWidth > e.clientWidth) {
                        cut.push((e.className || e.tagName) + ' ' + e.textContent.substring(0, 24) + ' '
                            + e.scrollWidth + '>' + e.clientWidth);
                      }
                    });
                    return cut;
                    """)).as("the cells whose content overflows its box at %d px", width).asList().isEmpty();
            assertThat(browser.findElement(By.cssSelector("tr.delivery[data-id='" + staging + "'] td.status")).getText())
                    .as("at %d px", width).endsWith("RUNNING_WITH_FAILURES");
            assertThat(browser.executeScript("var box = document.getElementById('live-deliveries');"
                    + " return box.scrollWidth <= box.clientWidth;")).as("the list's box at %d px scrolls sideways", width)
                    .isEqualTo(true);
            // page30: at 360 px the Rules table (five columns, two charts) scrolled sideways in its box. Below 901 px
            // one block per rule, its values labelled; every cell in the window, nothing in it cut.
            assertThat(layout("#rule-health td")).as("the Rules at %d px", width).containsEntry("outside", List.of())
                    .containsEntry("cells", 5L);
            assertThat(browser.executeScript("var box = document.getElementById('rule-health').parentElement;"
                    + " return box.scrollWidth <= box.clientWidth;")).as("the Rules' box at %d px scrolls sideways", width)
                    .isEqualTo(true);
            assertThat(overflowing("#rule-health td, #rule-health td *")).as("the Rules' cells whose content"
                    + " overflows its box at %d px", width).isEmpty();
            browser.executeScript("document.getElementById('rule-health').scrollIntoView()");
            Chromium.screenshot(browser, "long-values-rules-" + width + ".png");
            browser.get(server.uri() + "?job=" + job);
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.id("plan"))
                    .getText().contains(TRIGGER));
            Chromium.screenshot(browser, "long-values-job-" + width + ".png");
            Map<String, Object> page = layout("#plan td, #plan th, #job-state td, #job-state th, #attempts td, pre.env,"
                    + " pre.log");
            assertThat(page).as("the job's page at %d px", width).containsEntry("outside", List.of())
                    .containsEntry("pageScrollsSideways", false);
            // jobpage29: at 360 px the Attempts table (seven columns) was 711 px wide in a 345 px window. Below 901 px
            // one block per attempt, its values labelled; nothing in it cut, and every value there.
            assertThat(browser.executeScript("""
                    var cut = [];
                    document.querySelectorAll('#attempts, #attempts td, #attempts td *, #plan td, #plan td *,'
                        + ' #job-state td, #job-state td *').forEach(function (e) {
                      if (getComputedStyle(e).display !== 'inline' && e.scrollWidth > e.clientWidth) {
                        cut.push((e.className || e.tagName) + ' ' + e.textContent.substring(0, 24) + ' '
                            + e.scrollWidth + '>' + e.clientWidth);
                      }
                    });
                    return cut;
                    """)).as("the job's page's parts whose content overflows its box at %d px", width).asList().isEmpty();
            // page30: at 360 px the Plan's names took 11em of a 300 px page, its values (a 5,000-character address,
            // the command) wrapped in what was left, a few characters a line. In a narrow window each value is below
            // its name, as wide as the Plan.
            if (width <= 600) {
                assertThat(browser.executeScript("""
                        var plan = document.getElementById('plan').getBoundingClientRect().width, narrow = [];
                        document.querySelectorAll('#plan td, #job-state td').forEach(function (td) {
                          var w = td.getBoundingClientRect().width;
                          if (w < 0.75 * plan) {
                            narrow.push(td.textContent.substring(0, 20) + ' ' + Math.round(w) + ' of ' + Math.round(plan));
                          }
                        });
                        return narrow;
                        """)).as("the Plan's values narrower than 3/4 of it at %d px", width).asList().isEmpty();
                browser.executeScript("document.getElementById('plan').scrollIntoView()");
                Chromium.screenshot(browser, "long-values-job-plan-" + width + ".png");
            }
            String attempt = browser.findElement(By.cssSelector("#attempts tbody tr")).getText();
            assertThat(attempt).as("the attempt at %d px", width).startsWith("1").contains("SUCCEEDED", "UTC",
                    "exited with 0");
            // Without the table's head, each value says what it is (as the list's blocks do: "build 67").
            assertThat(browser.executeScript("return Array.prototype.map.call(document.querySelectorAll("
                    + "'#attempts tbody tr:first-child td'), function (td) {"
                    + " return getComputedStyle(td, '::before').content; });")).as("the labels at %d px", width)
                    .isEqualTo(width > 900 ? List.of("none", "none", "none", "none", "none", "none", "none")
                            : List.of("\"attempt \"", "none", "\"exit code \"", "\"started \"", "\"ended \"",
                                    "\"node \"", "none"));
            assertThat(browser.findElement(By.cssSelector("#attempts thead")).isDisplayed()).as("at %d px", width)
                    .isEqualTo(width > 900);
            browser.executeScript("document.getElementById('attempts').scrollIntoView()");
            Chromium.screenshot(browser, "long-values-job-attempts-" + width + ".png");
            browser.executeScript("document.querySelector('pre.env').scrollIntoView()");
            Chromium.screenshot(browser, "long-values-job-env-" + width + ".png");
        }
    }

    /**
     * tryout30 F3: at 360 px the banner of a refused rules file showed its mistakes in a box of its own 12em high,
     * scrolling (the first mistake and half the second, each line a long path), the Shared resources table had its
     * Waiting column past the right edge, and the builds to re-send were a seven-column table scrolling in its box.
     * From 360 to 1920 px: nothing of the page's top (tiles, banners, Rules, Shared resources, Nodes) is outside the
     * window or scrolls sideways in a box; at 900 px and below every mistake is readable without scrolling inside the
     * banner, and each resource and each build to re-send is one block whose values say what they are. Leaves
     * {@code narrow-top-360.png}, {@code narrow-resources-360.png} … in {@code target/}.
     */
    @Test
    void theRefusedRulesBannerTheSharedResourcesAndTheBuildsToResendAreWholeFrom360To1920Pixels() throws Exception {
        server = AdminServer.start(dir);
        Files.writeString(dir.resolve("hold.sh"), "while [ ! -f '" + dir + "/go' ]; do [ -d '" + dir + "' ] || exit 1;"
                + " sleep 0.1; done\n");
        String rules = "resources:\n  imx8mm-evk-lab-boards: 1\n  power-switch: 1\nrules:\n"
                + "  - name: flash-and-test-on-a-lab-board\n    when: {status: PASSED}\n    run:\n      command: [/bin/sh,"
                + " '" + dir.resolve("hold.sh") + "']\n      resources: {imx8mm-evk-lab-boards: 1}\n";
        server.replaceRules(rules);
        server.app().rules().checkNow();
        server.deliver("build-67-passed.json");
        await().atMost(Duration.ofMinutes(1)).until(() -> server.getJson("jobs?state=RUNNING").path("items").size() == 1);
        for (int build = 68; build <= 70; build++) {
            server.deliverBody(AdminServer.fixture("build-67-passed.json").replaceFirst("\"build_id\": \\d+",
                    "\"build_id\": " + build).getBytes(StandardCharsets.UTF_8));
        }
        await().atMost(Duration.ofMinutes(1)).until(() -> server.getJson("jobs?state=WAITING").path("items").size() == 3);
        // Twelve mistakes (more than the 12em the box showed at any width), each a line beginning with the file's (long) path.
        StringBuilder broken = new StringBuilder(rules);
        for (int i = 1; i <= 12; i++) {
            broken.append("  - name: broken-").append(i).append("\n    colour").append(i)
                    .append(": red\n    run: {command: [/bin/true]}\n");
        }
        server.replaceRules(broken.toString());
        server.app().rules().checkNow();
        assertThat(server.app().rules().lastError()).isPresent();
        List<String> mistakes = server.app().rules().lastError().orElseThrow().problems().stream()
                .map(Object::toString).toList();
        assertThat(mistakes).hasSizeGreaterThanOrEqualTo(12);
        for (int build = 1311; build <= 1313; build++) {
            RefusedBuildsForTests.refuse(server.app(), "jobserv-" + "staging-".repeat(3) + build, build,
                    "andy-corp/" + "p".repeat(60), "RUNNING_WITH_FAILURES", "nightly-" + "t".repeat(80));
        }
        browser = Chromium.start(profile);
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);

        for (int width : List.of(1920, 1280, 901, 900, 600, 360)) {
            browser.manage().window().setSize(new Dimension(width, 900));
            browser.get(server.uri().toString());
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(
                    By.cssSelector("#resources li.waiter")).isDisplayed() && browser.findElement(By.id("rules-banner"))
                    .isDisplayed() && browser.findElement(By.id("refused-builds-list")).isDisplayed());
            Chromium.screenshot(browser, "narrow-top-" + width + ".png");
            Map<String, Object> top = layout("#live-top .tile, #live-top .banner, #live-top td, #live-top li,"
                    + " #live-top pre, #live-top h2");
            assertThat(top).as("the page's top at %d px", width).containsEntry("outside", List.of())
                    .containsEntry("pageScrollsSideways", false);
            assertThat(overflowing("#live-top, #live-top *")).as("what scrolls sideways or is cut in the page's top"
                    + " at %d px", width).isEmpty();
            WebElement banner = browser.findElement(By.id("rules-banner"));
            assertThat(banner.getText()).as("at %d px", width).contains(mistakes);
            if (width <= 900) {
                assertThat(browser.executeScript("var p = document.querySelector('#rules-banner pre');"
                        + " return p.scrollHeight - p.clientHeight;")).as("the mistakes hidden below the banner's box"
                        + " at %d px (its height in px)", width).isEqualTo(0L);
                // One block per resource: each value says what it is (Waiting's heading was past the right edge).
                assertThat(labels("#resources tr.resource:first-child td")).as("the resource's labels at %d px",
                        width).containsExactly("none", "\"in use \"", "\"held by \"", "\"waiting \"");
                assertThat(labels("#refused-builds-list tbody tr:first-child td")).as("a build to re-send's labels at"
                        + " %d px", width).containsExactly("\"endpoint \"", "\"build \"", "\"project \"",
                        "\"status \"", "\"trigger \"", "\"last refused \"", "\"503s \"");
                assertThat(browser.findElement(By.cssSelector("#resources thead")).isDisplayed()).isFalse();
                assertThat(browser.findElement(By.cssSelector("#refused-builds-list thead")).isDisplayed()).isFalse();
            }
            browser.executeScript("document.getElementById('rules-banner').scrollIntoView()");
            Chromium.screenshot(browser, "narrow-rules-banner-" + width + ".png");
            browser.executeScript("document.getElementById('resources').scrollIntoView()");
            Chromium.screenshot(browser, "narrow-resources-" + width + ".png");
            browser.executeScript("document.getElementById('refused-builds-list').scrollIntoView()");
            Chromium.screenshot(browser, "narrow-refused-builds-" + width + ".png");
        }
        Files.writeString(dir.resolve("go"), "");
    }

    /**
     * log23 (left open): the list linked a payload URL whole, so a long {@code log_url} weighed on every
     * live update once per job. A URL longer than a list carries of a value links to the job's page, which
     * links it whole; the 5,000-character {@code web_url}, over the former limit of 2048, is linked there too.
     */
    @Test
    void aLongUrlIsLinkedFromTheListThroughTheJobsPageWhereItIsLinkedWhole() throws Exception {
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: archive\n    when:\n      runs: {match: each}\n"
                + "    run:\n      command: [/bin/sh, -c, 'exit 0']\n");
        server.app().rules().checkNow();
        ObjectNode body = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        body.put("web_url", WEB_URL);
        body.path("runs").forEach(run -> ((ObjectNode) run).put("log_url", LOG_URL));
        String delivery = server.deliverBody(body.toString().getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofMinutes(1)).until(() -> server.getJson("deliveries/" + delivery).path("jobs")
                .findValuesAsText("state"), states -> states.size() == 4);
        String cookie = server.signIn();

        for (String list : new String[] {"", "?part=live"}) {
            String html = server.page(list, cookie).body();
            assertThat(html).as(list).doesNotContain(LOG_URL.substring(0, 1000)).doesNotContain(WEB_URL.substring(0, 1000))
                    .contains("title=\"its address is 1500 characters long: the job&#39;s page links it\">run log")
                    .contains("title=\"its address is 5000 characters long: the job&#39;s page links it\">67</a>");
        }
        browser = Chromium.start(profile);
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
        By row = By.cssSelector("tr.delivery[data-id='" + delivery + "']");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(row)
                .findElements(By.cssSelector("a.log")).size() == 4);
        WebElement runLog = browser.findElement(row).findElement(By.cssSelector("a.log"));
        String job = runLog.getAttribute("href").replaceFirst(".*\\?job=", "");
        assertThat(browser.findElement(row).findElement(By.cssSelector("a.build")).getAttribute("href"))
                .endsWith("?job=" + job);

        runLog.click();

        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.getCurrentUrl()
                .endsWith("?job=" + job) && browser.findElement(By.id("plan")).isDisplayed());
        assertThat(browser.findElement(By.cssSelector("#plan a.log")).getAttribute("href")).isEqualTo(LOG_URL);
        assertThat(browser.findElement(By.cssSelector("#plan a.build")).getAttribute("href")).isEqualTo(WEB_URL);
    }

    /** What each element {@code selector} finds shows before its content ({@code ::before}): its label, or none. */
    @SuppressWarnings("unchecked")
    private List<String> labels(String selector) {
        return (List<String>) browser.executeScript("return Array.prototype.map.call(document.querySelectorAll("
                + "arguments[0]), function (e) { return getComputedStyle(e, '::before').content; });", selector);
    }

    /** The elements {@code selector} finds, not inline, whose content is wider than their box (text, width > box). */
    @SuppressWarnings("unchecked")
    private List<String> overflowing(String selector) {
        return (List<String>) browser.executeScript("""
                var cut = [];
                document.querySelectorAll(arguments[0]).forEach(function (e) {
                  if (getComputedStyle(e).display !== 'inline' && e.scrollWidth > e.clientWidth) {
                    cut.push((e.className || e.tagName) + ' ' + e.textContent.substring(0, 24) + ' '
                        + e.scrollWidth + '>' + e.clientWidth);
                  }
                });
                return cut;
                """, selector);
    }

    /**
     * Where the elements {@code selector} finds lie against the window: {@code outside}, the ones not wholly
     * inside it horizontally (their text's start and their left..right in px); {@code pageScrollsSideways},
     * whether the document is wider than the window; {@code cells}, how many were found.
     */
    @SuppressWarnings("unchecked")
    private Map<String, Object> layout(String selector) {
        return (Map<String, Object>) browser.executeScript("""
                var page = document.documentElement, outside = [], found = document.querySelectorAll(arguments[0]);
                found.forEach(function (e) {
                  var r = e.getBoundingClientRect();
                  if (r.left < 0 || r.right > page.clientWidth + 0.5) {
                    outside.push(e.textContent.substring(0, 20) + ' ' + Math.round(r.left) + '..' + Math.round(r.right)
                        + ' of ' + page.clientWidth);
                  }
                });
                return {outside: outside, cells: found.length, pageScrollsSideways: page.scrollWidth > page.clientWidth,
                    widths: page.scrollWidth + ' of ' + page.clientWidth};
                """, selector);
    }
}
