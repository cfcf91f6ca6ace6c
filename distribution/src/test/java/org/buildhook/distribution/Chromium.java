package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium ({@code chromium}) through its {@code chromedriver}, for the status
 * page's browser tests. Missing, a test is skipped, except on CI ({@code CI=true}), where it fails.
 */
final class Chromium {

    static final Path BROWSER = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    private Chromium() {
    }

    /** Skips the calling test without Chromium; fails it on CI. */
    static void required() {
        boolean present = Files.isExecutable(BROWSER) && Files.isExecutable(DRIVER);
        if ("true".equals(System.getenv("CI"))) {
            assertThat(present).as("CI=true needs " + BROWSER + " and " + DRIVER
                    + " (apt-get install chromium chromium-driver; .ci/run does)").isTrue();
        }
        Assumptions.assumeTrue(present, "no " + BROWSER + " / " + DRIVER + ": browser test skipped");
    }

    /** A new headless browser, 1400 × 1000, with its profile in {@code profile}. */
    static ChromeDriver start(Path profile) {
        // Both paths explicit, so Selenium Manager never looks for (or downloads) a driver or browser.
        System.setProperty("webdriver.chrome.driver", DRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BROWSER.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1400,1000", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(DRIVER.toString())).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    /** Saves what the browser shows as {@code target/<name>}. */
    static void screenshot(ChromeDriver browser, String name) throws IOException {
        Path target = Files.createDirectories(Path.of("target"));
        Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), target.resolve(name),
                StandardCopyOption.REPLACE_EXISTING);
    }
}
