package org.buildhook.servlet;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * What the loggers of some classes log during each test, from any thread: a test's {@code @RegisterExtension final
 * LogCapture log = new LogCapture(BuildhookApplication.class)} listens from before its {@code @BeforeEach} methods to
 * after its {@code @AfterEach} methods.
 */
final class LogCapture implements BeforeEachCallback, AfterEachCallback {

    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            events.add(event);
        }
    };
    private final List<Logger> loggers;

    /** Listens to the loggers named after {@code sources}. */
    LogCapture(Class<?>... sources) {
        loggers = Arrays.stream(sources).map(s -> (Logger) LoggerFactory.getLogger(s)).toList();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        appender.start();
        loggers.forEach(l -> l.addAppender(appender));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        loggers.forEach(l -> l.detachAppender(appender));
    }

    /** What was logged so far, as it goes on (a live view). */
    List<ILoggingEvent> events() {
        return events;
    }

    /** Forgets what was logged so far. */
    void clear() {
        events.clear();
    }

    /** The messages logged so far, formatted. */
    List<String> messages() {
        return events.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** The {@code WARN} messages logged so far that contain {@code containing}. */
    List<String> warnings(String containing) {
        return events.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.contains(containing)).toList();
    }
}
