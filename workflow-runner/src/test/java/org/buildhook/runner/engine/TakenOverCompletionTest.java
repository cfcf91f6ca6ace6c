package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.github.kagkarlsson.scheduler.exceptions.ExecutionException;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * cluster27 F13: completing an execution another node took over meanwhile fails in db-scheduler with "Indicates a
 * bug."; the node says what happened in its own words, without the library's.
 */
class TakenOverCompletionTest {

    @Test
    void anExecutionTakenOverMeanwhileIsSaidSoWithoutTheLibrarysBug() {
        Logger logger = (Logger) LoggerFactory.getLogger(JobTask.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        Execution execution = new Execution(Instant.parse("2026-12-02T23:07:14Z"), new TaskInstance<>("buildhook-job",
                "J1"));
        try {
            JobTask.tolerant("J1", (complete, operations) -> {
                throw new ExecutionException("Expected one execution to be updated, but updated 0. Indicates a bug.",
                        execution);
            }).complete(null, null);
        } finally {
            logger.detachAppender(log);
        }

        assertThat(log.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.INFO);
            assertThat(e.getFormattedMessage()).isEqualTo("job J1: its execution was taken over by another node"
                    + " meanwhile (its row in the queue had changed: another node put it back in the queue or ran it);"
                    + " that node goes on with it");
        });
    }
}
