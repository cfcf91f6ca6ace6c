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

    /**
     * tryout51 F2: a job awaiting an approval past its expiry, not yet marked EXPIRED by a node (every node was down at
     * the expiry, or none has looked since), said "expires … unless approved or rejected" though approve and reject
     * are refused then; now it says it expired. One not yet due keeps the words.
     */
    @Test
    void anApprovalPastItsExpiryNotYetMarkedSaysItExpired() throws Exception {
        String past = java.time.Instant.now().minusSeconds(10).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                .toString();
        String later = java.time.Instant.now().plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                .toString();
        assertThat(JobsCommand.message(JSON.readTree("{\"state\": \"AWAITING_APPROVAL\", \"expiresAt\": \"" + past
                + "\"}"))).isEqualTo("expired " + past + "; approve and reject are refused, a node marks it EXPIRED when"
                        + " it next looks");
        assertThat(JobsCommand.message(JSON.readTree("{\"state\": \"AWAITING_APPROVAL\", \"expiresAt\": \"" + later
                + "\"}"))).isEqualTo("expires " + later + " unless approved or rejected");
    }
}
