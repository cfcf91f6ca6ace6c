package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop that does not drain first (the web application undeployed, as Tomcat does when the WAR is
 * removed) says at once what it waits for, as the standalone server's graceful stop does, and only once.
 */
class StopLineTest {

    @TempDir
    Path dir;

    @Test
    void anUndeploySaysHowLongRunningJobsMayTakeBeforeItWaitsForThem() throws Exception {
        Path config = TestConfig.write(dir, "runner: {shutdown-grace: 12s}", TestConfig.LOCAL_SERVER);
        ApplicationLog log = ApplicationLog.ofAStartAndStop(config);

        List<String> lines = log.lines();
        assertThat(lines.stream().filter(l -> l.startsWith("stopping:"))).singleElement().asString()
                .contains("running jobs get up to 12s (runner.shutdown-grace)");
        assertThat(lines.indexOf(lines.stream().filter(l -> l.startsWith("stopping:")).findFirst().orElseThrow()))
                .isLessThan(lines.indexOf("buildhook stopped"));
    }
}
