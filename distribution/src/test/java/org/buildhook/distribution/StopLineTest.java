package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.util.List;
import org.buildhook.servlet.BuildhookApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

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
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
                BuildhookApplication.class);
        logger.addAppender(log);
        try (BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
        } finally {
            logger.detachAppender(log);
        }

        List<String> lines = log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines.stream().filter(l -> l.startsWith("stopping:"))).singleElement().asString()
                .contains("running jobs get up to 12s (runner.shutdown-grace)");
        assertThat(lines.indexOf(lines.stream().filter(l -> l.startsWith("stopping:")).findFirst().orElseThrow()))
                .isLessThan(lines.indexOf("buildhook stopped"));
    }
}
