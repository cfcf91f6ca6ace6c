package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.anyBoolean;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.StoreUnavailableException;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * review53 F2 (L): a job read with its cancel asked is marked cancelled before its start; the mark commits and its
 * answer is lost (one injected failure after the real call, as a connection cut after the commit). The wait tried it
 * again, which found the job ended: the job thread said "its cancel was asked, and it ended meanwhile" (its own mark had
 * ended it) and never told the end (buildhook_jobs_finished_total). Now the retry takes the end as its own, and tells
 * it.
 */
class MarkCancelledAnswerLostTest extends AbstractStoreOutageTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    @Test
    void aCancelMarkWhoseAnswerWasLostIsToldAsItsOwnEnd() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobTask.class)).addAppender(log);
        try {
            AtomicBoolean lost = new AtomicBoolean();
            doAnswer(inv -> {
                Object answer = inv.callRealMethod();
                if (lost.compareAndSet(false, true)) {
                    throw new StoreUnavailableException("answer lost (injected)",
                            new java.net.SocketTimeoutException("Read timed out (injected)"), true);
                }
                return answer;
            }).when(ledger).markCancelled(anyString(), anyString(), anyBoolean());
            List<JobEvents.Ending> ended = new CopyOnWriteArrayList<>();
            engine.stop(); // the unstarted one: one that tells the job's end instead
            engine = JobEngine.create(storeWithOutages, launcher, AbstractEngineTest.fast("node-a"),
                    Clock.systemUTC(), new JobEvents() {
                        @Override
                        public void attemptEnded(String ruleName, Ending ending, Duration duration) {
                        }

                        @Override
                        public void jobEnded(String ruleName, Ending ending) {
                            ended.add(ending);
                        }
                    });
            Path runs = dir.resolve("runs");
            String jobId = acceptCountingJob(runs);
            try (Connection c = store.schedulerDataSource().getConnection();
                    PreparedStatement p = c.prepareStatement("UPDATE jobs SET cancel_requested = 1 WHERE id = ?")) {
                p.setString(1, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            engine.start();

            await().atMost(Duration.ofSeconds(30)).until(() -> !ended.isEmpty());
            assertThat(lost).isTrue();
            assertThat(ended).as("its end told once, as a cancel").containsExactly(JobEvents.Ending.CANCELLED);
            assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.CANCELLED);
            assertThat(runs).doesNotExist();
            assertThat(said(log)).as("its own mark ended it: not 'ended meanwhile'")
                    .noneMatch(m -> m.contains("it ended meanwhile"));
        } finally {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobTask.class)).detachAppender(log);
        }
    }

    private static List<String> said(ListAppender<ILoggingEvent> log) {
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }
}
