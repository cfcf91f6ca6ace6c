package org.buildhook.distribution;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * A status-page test with a real standalone server ({@link AdminServer}) and a real headless Chromium: the folders,
 * the check that Chromium is there (skipped without it, except on CI, where that fails: {@link Chromium#required()}),
 * and the end of both after each test. The test starts them ({@code server = AdminServer.start(dir)},
 * {@code browser = Chromium.start(profile)}).
 */
abstract class AdminServerInChromium {

    @TempDir
    Path dir;
    @TempDir
    Path profile;

    AdminServer server;
    ChromeDriver browser;

    @BeforeEach
    void needsChromium() {
        Chromium.required();
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
    }
}
