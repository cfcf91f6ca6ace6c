package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What an attempt's log masks, from its request ({@link JobRequest#maskedIn}). */
class JobRequestTest {

    private static final Map<String, String> ENV = Map.of("DB_PASSWORD", "s3cr3t-Pa55word", "PLAIN", "plain-value",
            "SIGN_KEY_ID", "main-key-id");

    @Test
    void aRequestsSecretsAreFurtherValuesBesidesThoseOfItsSecretNamedVariables() {
        JobRequest request = new JobRequest("job", 1, List.of("/bin/true"), ENV, null, null, Duration.ofMinutes(1),
                Set.of("bearer-value-7"));

        assertThat(request.secretsCoverEnv()).isFalse();
        assertThat(request.maskedIn(Set.of("inherited-token-1")))
                .containsExactlyInAnyOrder("s3cr3t-Pa55word", "bearer-value-7", "inherited-token-1");
    }

    /** The engine's requests: Redaction.hiddenIn worked the variables' values out on the same start (perf38). */
    @Test
    void secretsThatCoverTheVariablesAreTakenAsTheyAreWithoutJudgingTheNamesAgain() {
        JobRequest request = new JobRequest("job", 1, List.of("/bin/true"), ENV, null, null, Duration.ofMinutes(1),
                Set.of("s3cr3t-Pa55word", "bearer-value-7"), true);

        assertThat(request.maskedIn(Set.of("inherited-token-1")))
                .containsExactlyInAnyOrder("s3cr3t-Pa55word", "bearer-value-7", "inherited-token-1");
        assertThat(new JobRequest("job", 1, List.of("/bin/true"), ENV, null, null, Duration.ofMinutes(1), Set.of(), true)
                .maskedIn(Set.of())).as("nothing to mask: the log is written directly").isEmpty();
    }
}
