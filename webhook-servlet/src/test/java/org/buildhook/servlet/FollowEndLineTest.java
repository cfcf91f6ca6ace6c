package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.Test;

/**
 * The end line the server writes at a follow's end ({@link JobLogSender#endLine}) is the line {@code buildhook logs -f}
 * prints and reads back ({@link FollowEndLine}): one definition for both modules (follow40).
 */
class FollowEndLineTest {

    private static final String ID = "01JD8Q4B2C7N1E5V9W0X3Y6Z8K";

    @Test
    void theServersEndLineOfEveryFinalStateReadsBackAsItsJobAndState() {
        List<String> messages = List.of("", "exited with 0", "exited with 3 (after 2 retries): see (log)",
                "cancelled by token@10.0.0.7: no: (really)", "line one\nline two \u202e", "[buildhook] job X FAILED: (");
        for (JobState state : JobState.values()) {
            if (!state.isFinal()) {
                continue;
            }
            for (String message : messages) {
                String line = JobLogSender.endLine(ID, detail(state, message, 3, 1));
                assertThat(line).as(state + " " + message).doesNotContain("\n");
                assertThat(FollowEndLine.read(line)).as(line).contains(new FollowEndLine.Ended(ID, state.name()));
            }
        }
    }

    @Test
    void theServersEndLineIsTheOneTheCommandPrints() {
        assertThat(JobLogSender.endLine(ID, detail(JobState.SUCCEEDED, "exited with 0", 1, 0)))
                .isEqualTo("[buildhook] job " + ID + " SUCCEEDED: exited with 0 (1 attempt(s))")
                .isEqualTo(FollowEndLine.of(ID, "SUCCEEDED", "exited with 0", 1, 0));
        assertThat(JobLogSender.endLine(ID, detail(JobState.FAILED, "exited with 3", 3, 1)))
                .isEqualTo("[buildhook] job " + ID + " FAILED: exited with 3 (3 attempt(s), 1 interrupted)");
        assertThat(JobLogSender.endLine(ID, detail(JobState.CANCELLED, null, 0, 0)))
                .isEqualTo("[buildhook] job " + ID + " CANCELLED (0 attempt(s))");
    }

    @Test
    void aLineCutAfterItsStateStillReads() {
        String line = FollowEndLine.of(ID, "TIMED_OUT", "x".repeat(500), 1, 0);
        assertThat(FollowEndLine.read(line.substring(0, 200))).contains(new FollowEndLine.Ended(ID, "TIMED_OUT"));
        assertThat(FollowEndLine.read("[buildhook] job " + ID + " is QUEUED")).isEmpty();
        assertThat(FollowEndLine.read("[buildhook] attempt 1 of job " + ID + " ended")).isEmpty();
    }

    @Test
    void theAttemptsEndLineSaysTheWaitOnceAndIsNotTheJobsEnd() {
        String line = FollowEndLine.attemptEnded(ID, 1, "FAILED", "exited with 3", "QUEUED",
                "exited with 3; waiting for retry 1 of 1 (attempt 2)", null);
        assertThat(line).isEqualTo("[buildhook] attempt 1 of job " + ID + " ended FAILED (exited with 3); the job is"
                + " QUEUED (waiting for retry 1 of 1 (attempt 2)): the log of its next attempt follows once it runs");
        assertThat(FollowEndLine.readsAsAttemptEnded(line, ID, 1)).isTrue();
        assertThat(FollowEndLine.readsAsAttemptEnded(line, ID, 2)).isFalse();
        assertThat(FollowEndLine.read(line)).isEmpty();
        assertThat(FollowEndLine.attemptEnded(ID, 2, "INTERRUPTED", "line\nnext", "RUNNING", null, 3))
                .isEqualTo("[buildhook] attempt 2 of job " + ID + " ended INTERRUPTED (line\\x0anext); the job is RUNNING:"
                        + " the log of attempt 3 follows");
    }

    /** A job in {@code state} with {@code attempts} attempts, the last {@code interrupted} of them INTERRUPTED. */
    private static JobDetail detail(JobState state, String message, int attempts, int interrupted) {
        Instant at = Instant.parse("2026-12-05T07:00:00Z");
        Job job = new Job(ID, "d1", "deploy", "{}", List.of("/bin/true"), Map.of(), Path.of("/tmp"), false,
                Duration.ofMinutes(10), 2, Duration.ofSeconds(10), 0, null, state, attempts, null, at, at, at, "n1",
                null, message, false, null);
        List<JobAttempt> list = new ArrayList<>();
        for (int i = 1; i <= attempts; i++) {
            list.add(new JobAttempt(ID, i, i > attempts - interrupted ? AttemptOutcome.INTERRUPTED
                    : AttemptOutcome.FAILED, 1, at, at, "n1", null, "", Map.of()));
        }
        return new JobDetail(job, list);
    }
}
