package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;

/**
 * narrow30 (left): the refused-rules banner listed every mistake but did not count them, so at 360 px, where the
 * list runs below the window, an operator could not tell how far it goes. In a real headless Chromium, a rules file
 * with three mistakes (counted by the loader, not by the message's lines) and one with a single mistake: the banner's heading says "3 mistakes in rules.yaml" / "1 mistake in rules.yaml",
 * above the fold at 360 px. Skipped without Chromium, except on CI ({@code CI=true}), where that fails.
 */
class RefusedRulesBannerBrowserTest extends AdminServerInChromium {

    @Test
    void theRefusedRulesBannerSaysHowManyMistakesTheFileHasAboveTheFoldAt360Pixels() throws Exception {
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: a\n    colour: red\n    run: {command: [/bin/true]}\n"
                + "  - name: b\n    when: {status: PASSD}\n    run: {command: [/bin/true]}\n"
                + "  - name: c\n    run: {command: [/bin/echo, '${build.idd}']}\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().lastError().orElseThrow().problems()).hasSize(3);
        browser = Chromium.start(profile);
        browser.manage().window().setSize(new Dimension(360, 800));
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);

        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> browser.findElement(By.id("rules-banner")).isDisplayed());
        String heading = browser.findElement(By.cssSelector("#rules-banner strong")).getText();
        assertThat(heading).isEqualTo("The rules file on disk was refused: 3 mistakes in rules.yaml.");
        Object bottom = browser.executeScript("return document.querySelector('#rules-banner strong')"
                + ".getBoundingClientRect().bottom <= window.innerHeight;");
        assertThat(bottom).as("the count is in sight without scrolling at 360 px").isEqualTo(true);
        Chromium.screenshot(browser, "rules-banner-count-360.png");

        server.replaceRules("rules:\n  - name: a\n    colour: red\n    run: {command: [/bin/true]}\n");
        server.app().rules().checkNow();
        browser.get(server.uri().toString());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(
                By.cssSelector("#rules-banner strong")).getText().equals(
                "The rules file on disk was refused: 1 mistake in rules.yaml."));
    }
}
