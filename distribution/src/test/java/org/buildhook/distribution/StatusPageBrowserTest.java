package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The status page in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}): sign in with the token, see a delivery, open its job's log, re-run
 * it. Skipped without {@code /usr/bin/chromium}, except on CI ({@code CI=true}), where that fails.
 * Leaves screenshots in {@code target/status-page.png} and {@code target/status-page-job.png}.
 */
@ExtendWith(AdminServerExtension.class)
class StatusPageBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    Path profile;
    ChromeDriver browser;

    @BeforeEach
    void needsChromium() {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if ("true".equals(System.getenv("CI"))) {
            assertThat(present).as("CI=true needs " + CHROMIUM + " and " + CHROMEDRIVER
                    + " (apt-get install chromium chromium-driver; .ci/run does)").isTrue();
        }
        Assumptions.assumeTrue(present, "no " + CHROMIUM + " / " + CHROMEDRIVER + ": browser test skipped");
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
    }

    private ChromeDriver startBrowser() {
        // Both paths explicit, so Selenium Manager never looks for (or downloads) a driver or browser.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1400,1000", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private void screenshot(String name) throws Exception {
        Path target = Files.createDirectories(Path.of("target"));
        Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), target.resolve(name),
                StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void signsInShowsADeliveryOpensItsJobLogAndReRunsIt(AdminServer server) throws Exception {
        String deliveryId = server.deliver("build-67-passed.json");
        String jobId = server.awaitJob(deliveryId, "SUCCEEDED").path("id").asText();
        server.deliver("build-68-failed.json");
        browser = startBrowser();

        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);

        assertThat(browser.getCurrentUrl()).isEqualTo(server.uri().toString());
        WebElement row = browser.findElement(By.cssSelector("tr.delivery[data-id='" + deliveryId + "']"));
        assertThat(row.getText()).contains("andy-corp/lmp").contains("containers-devel").contains("67")
                .contains("ACCEPTED").contains("SUCCEEDED");
        assertThat(browser.findElement(By.id("rules")).getText()).contains("echo").contains("wait");
        screenshot("status-page.png");

        row.findElement(By.cssSelector("a.job")).click();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.cssSelector("pre.log")).getText().contains("line two 67"));
        assertThat(browser.getCurrentUrl()).endsWith("?job=" + jobId);
        assertThat(browser.findElement(By.id("attempts")).getText()).contains("SUCCEEDED");
        screenshot("status-page-job.png");

        browser.findElement(By.xpath("//button[text()='Re-run']")).click();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.id("result")).getText().contains("202"));

        browser.get(server.uri().toString());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            browser.navigate().refresh();
            List<WebElement> jobs = browser.findElement(By.cssSelector("tr.delivery[data-id='" + deliveryId
                    + "']")).findElements(By.cssSelector("ul.jobs li"));
            return jobs.size() == 2 && jobs.stream().allMatch(j -> j.getText().contains("SUCCEEDED"));
        });
        assertThat(server.getJson("jobs?delivery=" + deliveryId).path("items").findValuesAsText("rerunOf"))
                .contains(jobId);
        screenshot("status-page.png");
    }
}
