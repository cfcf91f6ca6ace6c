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
}
