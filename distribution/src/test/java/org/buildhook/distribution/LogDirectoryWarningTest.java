package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.buildhook.servlet.BuildhookApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A {@code runner.log-dir} that cannot be created does not stop the start (jobs still run) but is said
 * at start, not first seen as "log incomplete" on every job with all their output lost.
 */
class LogDirectoryWarningTest {

    @TempDir
    Path dir;

    @Test
    void aLogDirectoryThatCannotBeCreatedIsSaidAtStart() throws Exception {
        Files.writeString(dir.resolve("not-a-folder"), "a file\n");
        Path logs = dir.resolve("not-a-folder/logs");
        Path config = TestConfig.write(dir, "runner: {log-dir: not-a-folder/logs}", TestConfig.LOCAL_SERVER);
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

        List<String> warnings = log.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(warnings).anySatisfy(w -> assertThat(w).startsWith("runner.log-dir " + logs + " cannot be created")
                .contains("their output is lost"));
    }

    @Test
    void aLogDirectoryThatCanBeMadeIsMadeAtStartWithoutAWord() throws Exception {
        Path config = TestConfig.write(dir, "runner: {log-dir: job-logs}", TestConfig.LOCAL_SERVER);
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

        assertThat(dir.resolve("job-logs")).isDirectory();
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).noneMatch(m -> m.contains("runner.log-dir"));
    }
}
