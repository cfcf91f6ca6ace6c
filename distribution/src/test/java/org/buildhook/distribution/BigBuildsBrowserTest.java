package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * page26 (M): with 50 deliveries of 100 jobs each, every live update (every 4 s) swapped the whole list of
 * 5,000 job lines, which blocked a real Chromium's page for 1.3-3.3 s each time. In a real headless Chromium:
 * the list has at most 10 job lines per delivery; a poll whose answer says the same keeps every row's node
 * (nothing is swapped, so nothing is laid out again); when one job changes, only its delivery's row is
 * swapped. Structure only, no time bound; the longest task seen is printed for the findings. Skipped without
 * Chromium, except on CI ({@code CI=true}), where that fails.
 */
class BigBuildsBrowserTest extends AdminServerInChromium {

    @Test
    void aLiveUpdateSwapsOnlyTheRowsThatChangedAndKeepsTheOthersNodes() throws Exception {
        server = AdminServer.start(dir);
        List<String> deliveries = BigBuilds.store(server.app().store(), dir.resolve("data"), 50, 100);
        browser = Chromium.start(profile);
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() ->
                browser.findElements(By.cssSelector("tr.delivery")).size() == 50);
        assertThat(browser.findElements(By.cssSelector("li.job-line"))).hasSize(500);
        browser.executeScript("window.longTasks = [];"
                + "new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) {"
                + " window.longTasks.push(Math.round(e.duration)); }); }).observe({entryTypes: ['longtask']});"
                + "document.querySelectorAll('tr.delivery').forEach(function (r) { r.kept = true; });");

        twoPolls();
        assertThat(browser.executeScript("return Array.prototype.filter.call(document.querySelectorAll("
                + "'tr.delivery'), function (r) { return !r.kept; }).length")).as("rows swapped by polls that said"
                + " the same").isEqualTo(0L);

        // One job changes: its delivery's row is swapped, and only that one.
        String changed = deliveries.get(deliveries.size() - 1);
        String job = server.getJson("deliveries/" + changed).path("jobs").path(0).path("id").asText();
        assertThat(server.post("jobs/" + job + "/reject").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> browser.findElement(By.cssSelector(
                "tr.delivery[data-id='" + changed + "']")).getText().contains("REJECTED"));
        assertThat(browser.executeScript("return Array.prototype.filter.call(document.querySelectorAll("
                + "'tr.delivery'), function (r) { return !r.kept; }).map(function (r) {"
                + " return r.getAttribute('data-id'); })")).isEqualTo(List.of(changed));
        System.out.println("big builds browser: long tasks (ms) while polling " + browser.executeScript(
                "return window.longTasks"));
    }

    /** Waits for two answers of the live part: the header says the time of each. */
    private void twoPolls() {
        for (int i = 0; i < 2; i++) {
            String before = browser.findElement(By.id("live-status")).getText();
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                String now = browser.findElement(By.id("live-status")).getText();
                return now.contains("updated") && !now.equals(before);
            });
        }
    }
}
