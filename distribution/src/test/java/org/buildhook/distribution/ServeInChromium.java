package org.buildhook.distribution;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * A status-page test with a real {@code buildhook serve} process ({@link ServeProcesses}) and a real headless Chromium:
 * the test's folder, the quick rule's server, and the end of both after each test.
 */
abstract class ServeInChromium {

    @TempDir
    Path dir;
    ServeProcesses processes;
    ChromeDriver browser;

    @AfterEach
    void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (processes != null) {
            processes.close();
        }
    }

    /** Starts {@code serve} in {@link #dir} with one rule, {@code quick} ({@code /bin/true}), its output in {@code out}. */
    Process serveQuickRule(Path out) throws Exception {
        Path config = ServeProcesses.followConfig(dir, "rules:\n  - name: quick\n    run: {command: [/bin/true]}\n", "");
        processes = new ServeProcesses(dir);
        return processes.serve(config, out);
    }
}
