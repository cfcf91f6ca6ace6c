package org.buildhook.distribution;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.util.List;
import org.buildhook.servlet.BuildhookApplication;
import org.slf4j.LoggerFactory;

/**
 * What {@link BuildhookApplication} logs while this is open (Logback's {@link ListAppender}); safe to
 * read while the server still logs.
 */
final class ApplicationLog implements AutoCloseable {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger logger;

    ApplicationLog() {
        this(BuildhookApplication.class.getName());
    }

    /** What the logger named {@code loggerName} logs while this is open. */
    ApplicationLog(String loggerName) {
        logger = (Logger) LoggerFactory.getLogger(loggerName);
        appender.start();
        logger.addAppender(appender);
    }

    /** What a standalone server with {@code config} logs from its start to its stop. */
    static ApplicationLog ofAStartAndStop(Path config) throws Exception {
        try (ApplicationLog log = new ApplicationLog();
                BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
            return log;
        }
    }

    /** Every line so far, formatted, in order. */
    List<String> lines() {
        synchronized (appender) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** The WARN lines so far, formatted, in order. */
    List<String> warnings() {
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getLevel() == Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
    }
}
