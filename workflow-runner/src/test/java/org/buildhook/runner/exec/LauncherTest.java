package org.buildhook.runner.exec;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A real launcher with the default test configuration, made before and closed after each test. */
abstract class LauncherTest {

    @TempDir
    Path dir;
    Fixtures fixtures;
    CommonsExecLauncher launcher;

    @BeforeEach
    void startLauncher() {
        fixtures = new Fixtures(dir);
        launcher = fixtures.launcher(fixtures.config());
    }

    @AfterEach
    void closeLauncher() {
        launcher.close();
        fixtures.close();
    }

    JobOutcome run(JobRequest request) throws Exception {
        return launcher.start(request).outcome().get(60, TimeUnit.SECONDS);
    }
}
