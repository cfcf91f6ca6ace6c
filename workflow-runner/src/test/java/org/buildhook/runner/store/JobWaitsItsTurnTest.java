package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * queue49 (tryout49 F5): only a job that waits its turn is shown with its place in the queue; the waits its message
 * already names (a retry's backoff, a concurrency slot, shared resources, an older build's job) keep their words.
 */
class JobWaitsItsTurnTest {

    @Test
    void onlyAQueuedJobWhoseMessageNamesNoOtherWaitWaitsItsTurn() {
        assertThat(job(JobState.QUEUED, null).waitsItsTurn()).isTrue();
        assertThat(job(JobState.QUEUED, "stopped by the shutdown of node-1; run again").waitsItsTurn()).isTrue();
        assertThat(job(JobState.QUEUED, "waiting for a concurrency slot of its rule (1 at once; its older jobs first)")
                .waitsItsTurn()).isFalse();
        assertThat(job(JobState.QUEUED, "exited with 3; " + Job.retryWait(1, 2, 2, Instant.parse(
                "2026-12-02T10:14:19Z"), Duration.ofMinutes(5))).waitsItsTurn()).isFalse();
        assertThat(job(JobState.QUEUED, "waiting for the older build's job it superseded (01J…) to stop")
                .waitsItsTurn()).isFalse();
        assertThat(job(JobState.RUNNING, null).waitsItsTurn()).isFalse();
        assertThat(job(JobState.AWAITING_APPROVAL, null).waitsItsTurn()).isFalse();
    }

    @Test
    void theShownMessageHasThePlaceAfterWhatTheLastAttemptCameTo() {
        QueuePosition place = new QueuePosition(412, 12, 3);
        assertThat(place.text()).isEqualTo("queued: 412 jobs due before it; 12 running on 3 nodes");
        assertThat(QueuePosition.text(0, 0, 0)).isEqualTo("queued: next in line; 0 running");
        assertThat(job(JobState.QUEUED, null).withQueuePosition(place).message()).isEqualTo(place.text());
        assertThat(job(JobState.QUEUED, "stopped by the shutdown of node-1; run again").withQueuePosition(place)
                .message()).isEqualTo("stopped by the shutdown of node-1; run again; " + place.text());
        Job job = job(JobState.QUEUED, null);
        assertThat(job.withQueuePosition(null)).isSameAs(job);
    }

    private static Job job(JobState state, String message) {
        return new Job("01J", "01D", "flood", null, List.of("/bin/true"), Map.of(), null, false, null, 0,
                Duration.ZERO, 0, null, state, 0, null, Instant.EPOCH, null, null, null, null, message, false, null);
    }
}
