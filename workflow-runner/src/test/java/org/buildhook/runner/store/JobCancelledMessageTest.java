package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What a job cancelled in the queue says of itself ({@link Job#cancelledBeforeItsNextAttempt}). */
class JobCancelledMessageTest {

    private static final String WAIT = Job.retryWait(1, 2, 2, Instant.parse("2026-12-02T10:14:19Z"),
            Duration.ofMinutes(5));

    @Test
    void aJobWithoutAttemptWasCancelledBeforeItRan() {
        assertThat(Job.cancelledBeforeItsNextAttempt(0, null)).isEqualTo("cancelled before it ran");
    }

    @Test
    void aJobInItsRetrysBackoffSaysWhichRetryAndWhatItsAttemptCameTo() {
        assertThat(Job.cancelledBeforeItsNextAttempt(1, "exited with 3; " + WAIT))
                .isEqualTo("cancelled while waiting for retry 1 of 2; attempt 1 exited with 3");
        assertThat(Job.cancelledBeforeItsNextAttempt(1, "timed out after 10m; process tree terminated; " + WAIT))
                .isEqualTo("cancelled while waiting for retry 1 of 2; attempt 1 timed out after 10m; process tree"
                        + " terminated");
    }

    @Test
    void aJobQueuedAgainAfterAStopSaysWhichAttemptItWasCancelledBefore() {
        assertThat(Job.cancelledBeforeItsNextAttempt(2, "stopped by the shutdown of node-1; run again"))
                .isEqualTo("cancelled before attempt 3 ran; attempt 2: stopped by the shutdown of node-1; run again");
        assertThat(Job.cancelledBeforeItsNextAttempt(1, null)).isEqualTo("cancelled before attempt 2 ran");
    }
}
