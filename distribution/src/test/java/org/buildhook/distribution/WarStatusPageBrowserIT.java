package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The status page of the built WAR deployed in Jetty 12 (ee10) under {@code /buildhook}, in a real
 * headless Chromium: a delivery sent by JobServ's sender (another process) after the page is open
 * appears on it without a reload. Leaves {@code target/war-status-page-live.png}.
 */
class WarStatusPageBrowserIT {

    private static final String TOKEN = "war-status-page-admin-token-0123456789";
    private static final String SECRET = "UseSomethingGoodHere"; // signatures.tsv's secret for the fixtures

    @TempDir
    Path dir;
    @TempDir
    Path profile;
    private WarInJetty jetty;
    private ChromeDriver browser;

    @BeforeEach
    void needsChromium() {
        Chromium.required();
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (jetty != null) {
            jetty.close();
        }
    }

    @Test
    void aDeliveryPostedAfterThePageIsOpenAppearsWithoutAReload() throws Exception {
        Files.writeString(dir.resolve("secret"), SECRET + "\n");
        Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: noop\n    run:\n      command: [/bin/true]\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints:",
                "  default:",
                "    secrets:",
                "      - file: secret",
                "admin:",
                "  token: {file: admin-token}",
                ""));
        String base = deploy(config);
        browser = Chromium.start(profile);

        browser.get(base + "?token=" + TOKEN);
        assertThat(browser.getCurrentUrl()).isEqualTo(base);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.id("live-status")).isDisplayed());
        assertThat(browser.findElements(By.cssSelector("tr.delivery"))).isEmpty();
        browser.executeScript("window.noReload = 'still the same page';");

        String delivery = send(base + "webhook", Path.of(System.getProperty("buildhook.fixtures"))
                .resolve("build-68-failed.json"));
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> !browser.findElements(
                By.cssSelector("tr.delivery[data-id='" + delivery + "']")).isEmpty());

        assertThat(browser.findElement(By.cssSelector("tr.delivery[data-id='" + delivery + "']")).getText())
                .contains("andy-corp/lmp").contains("68");
        assertThat(browser.executeScript("return window.noReload")).isEqualTo("still the same page");
        assertThat(browser.getCurrentUrl()).isEqualTo(base);
        Chromium.screenshot(browser, "war-status-page-live.png");
    }

    /** The built WAR in Jetty at /buildhook; its base URL. */
    private String deploy(Path config) throws Exception {
        jetty = new WarInJetty(dir, config);
        return jetty.base;
    }

    /** Sends one fixture with jobserv-send (another process); the delivery id of its 202. */
    private static String send(String url, Path fixture) throws Exception {
        Path sender = Path.of(System.getProperty("buildhook.tools")).resolve("jobserv-send");
        Process process = new ProcessBuilder("python3", sender.toString(), url, fixture.toString(), SECRET,
                "--no-retry").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(output).isZero();
        assertThat(output).startsWith("HTTP 202 ");
        return new ObjectMapper().readTree(output.lines().findFirst().orElseThrow().substring("HTTP 202 ".length()))
                .path("delivery").asText();
    }
}
