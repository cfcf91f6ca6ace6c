package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The cells of {@code buildhook jobs} that say more than the API's field as it came. */
class JobsCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * final18 F9: a job whose first attempt its node could not start (an unwritable payloads folder)
     * showed ATTEMPTS 2 once it succeeded, read as a retry used.
     */
    @Test
    void attemptsSaysHowManyWereCutShortAndSoUsedNoRetry() throws Exception {
        assertThat(JobsCommand.attempts(JSON.readTree("{\"attempts\": 2, \"interruptedAttempts\": 1}")))
                .isEqualTo("2 (1 interrupted)");
        assertThat(JobsCommand.attempts(JSON.readTree("{\"attempts\": 3, \"interruptedAttempts\": 0}"))).isEqualTo("3");
        assertThat(JobsCommand.attempts(JSON.readTree("{\"attempts\": 1}"))).as("an older server").isEqualTo("1");
    }

    /**
     * tryout49 F5: a job that waits only its turn showed {@code -}; it shows its place in the queue as the server
     * worked it out (the API's {@code queuePosition}), after what its last attempt came to. A job without one (an
     * older server, or one whose message names its wait) shows its message as it came.
     */
    @Test
    void aWaitingJobShowsItsPlaceInTheQueue() throws Exception {
        String place = "{\"dueBefore\": 412, \"running\": 12, \"runningNodes\": 3, \"text\": \"queued: 412 jobs due"
                + " before it; 12 running on 3 nodes\"}";
        assertThat(JobsCommand.message(JSON.readTree("{\"state\": \"QUEUED\", \"message\": null, \"queuePosition\": "
                + place + "}"))).isEqualTo("queued: 412 jobs due before it; 12 running on 3 nodes");
        assertThat(JobsCommand.message(JSON.readTree("{\"state\": \"QUEUED\", \"message\": \"stopped by the shutdown"
                + " of node-1; run again\", \"queuePosition\": " + place + "}")))
                .isEqualTo("stopped by the shutdown of node-1; run again; queued: 412 jobs due before it; 12 running on 3"
                        + " nodes");
        assertThat(JobsCommand.message(JSON.readTree("{\"state\": \"QUEUED\", \"message\": \"waiting for a concurrency"
                + " slot\", \"queuePosition\": null}"))).isEqualTo("waiting for a concurrency slot");
        // None: the table's '-' (tryout50 F2: job show printed the word null).
        assertThat(JobsCommand.message(JSON.readTree("{\"state\": \"RUNNING\", \"message\": null}"))).isNull();
        assertThat(JobsCommand.message(JSON.readTree("{\"state\": \"RUNNING\"}"))).as("an older server").isNull();
    }
}
