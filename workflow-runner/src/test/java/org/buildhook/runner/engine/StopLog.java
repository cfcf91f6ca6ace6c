package org.buildhook.runner.engine;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What every logger logs from its making until it is closed, with db-scheduler's at INFO: what its stop says it
 * waits for ("Letting running executions finish. Will wait up to 2x…") and whether it interrupts the jobs' threads.
 */
final class StopLog implements AutoCloseable {

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger scheduler = (Logger) LoggerFactory.getLogger("com.github.kagkarlsson.scheduler");
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Level was = scheduler.getLevel();

    StopLog() {
        log.start();
        root.addAppender(log);
        scheduler.setLevel(Level.INFO);
    }

    /** What was logged so far (also after {@link #close()}). */
    List<ILoggingEvent> events() {
        synchronized (log) {
            return List.copyOf(log.list);
        }
    }

    /** The messages logged so far, formatted. */
    List<String> said() {
        return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Override
    public void close() {
        root.detachAppender(log);
        scheduler.setLevel(was);
    }
}
