package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyMap;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;

import java.nio.file.Path;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

class SqliteStoreOutageTest extends AbstractStoreOutageTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    /**
     * record53 B, on SQLite: the start of a job's attempt went through and its answer was lost (injected: SQLite has no
     * connection to cut; PostgreSQL's real cut is PostgresStartAnswerLostTest's), and the job was cancelled meanwhile
     * (its execution picked: only flagged). Its attempt, never launched, is ended by the cancel, not left RUNNING under
     * a job that says it was "cancelled while attempt 1 ran", and the command never runs.
     */
    @Test
    void aCancelAskedWhileTheAnswerToTheStartWasLostEndsItsAttemptNeverLaunched() throws Exception {
        Path runs = dir.resolve("runs");
        String jobId = acceptCountingJob(runs);
        doAnswer(start -> {
            start.callRealMethod();
            assertThat(store.cancel(jobId)).as("flagged").isTrue();
            throw outage(); // its answer lost
        }).doCallRealMethod().when(ledger).startAttempt(anyString(), anyString(), anyLong(),
                any(ExecutionLedger.InARow.class), anyMap());
        engine.start();

        JobDetail done = awaitFinal(jobId);

        assertThat(runs).as("no command launched").doesNotExist();
        assertThat(done.job().state()).isEqualTo(JobState.CANCELLED);
        assertThat(done.job().message()).isEqualTo("cancelled before it ran");
        assertThat(done.attempts()).extracting(JobAttempt::outcome, JobAttempt::message)
                .containsExactly(tuple(AttemptOutcome.CANCELLED, "not launched: its cancel (or a newer build's"
                        + " supersede) was asked while the answer to its start was lost"));
    }
}
