package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The one line that says how a job ended ({@link FinalOutcomeLog#ended}): how long its last attempt ran, truly. */
class FinalOutcomeLogTest {

    @TempDir
    Path dir;

    /**
     * review44 R4: a job whose last attempt was recorded as not started (refused at a start made with its read, on
     * PostgreSQL) says so; before, the line said "how long the last attempt ran is unknown (its end was not recorded)",
     * though its end was recorded. An attempt whose node stopped before its end was recorded still says that.
     */
    @Test
    void anAttemptRecordedAsNotStartedIsSaidNotToHaveStartedAndAnUnrecordedEndStaysUnknown() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(FinalOutcomeLog.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try (Store store = Store.open(TestStores.sqlite(dir))) {
            String id = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"),
                    Map.of(), 0, Duration.ZERO, 0))).jobIds().get(0);
            Job job = store.job(id).orElseThrow().job();
            Instant now = Instant.parse("2026-12-06T03:00:00Z");
            FinalOutcomeLog.ended(job, JobEvents.Ending.FAILED, 1, new JobOutcome(JobOutcome.Result.FAILED_TO_START,
                    null, null, now, "not run: its stored values are refused", null, false));
            FinalOutcomeLog.ended(job, JobEvents.Ending.FAILED, 1, new JobOutcome(JobOutcome.Result.FAILED, null,
                    now, null, "its node was gone", null, false));
        } finally {
            logger.detachAppender(log);
        }
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).satisfiesExactly(
                refused -> assertThat(refused).endsWith("not run: its stored values are refused; its last attempt did"
                        + " not start").doesNotContain("not recorded"),
                gone -> assertThat(gone).endsWith("its node was gone; how long the last attempt ran is unknown (its"
                        + " end was not recorded)"));
    }
}
