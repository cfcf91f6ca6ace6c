package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;

/**
 * approve41: what an approval's warning says of a job whose rule in force plans something else now is compared by the
 * real values and shown as {@code job show} shows a job: no secret of either plan in either command, the environment
 * by names only.
 */
class StoredPlanChangeTest {

    private static Job stored(List<String> argv, Map<String, String> env, Path workdir) {
        return new Job("01JOB", "01DELIVERY", "deploy", "{}", argv, env, workdir, true, Duration.ofMinutes(1), 0,
                Duration.ofSeconds(1), 0, null, JobState.AWAITING_APPROVAL, 0, null, Instant.EPOCH, null, null, null,
                null, null, false, null);
    }

    private static PlannedJob now(List<String> argv, Map<String, String> env, Path workdir) {
        return new PlannedJob("deploy-v2", "{}", argv, env, workdir, true, Duration.ofMinutes(1), 0,
                Duration.ofSeconds(1), 0, null);
    }

    @Test
    void aSecretChangedAfterAFlagIsAChangeThoughBothCommandsShowItMasked() {
        StoredPlanChange change = StoredPlanChange.between(
                stored(List.of("/bin/deploy", "--token", "old-secret-1234"), Map.of(), null),
                now(List.of("/bin/deploy", "--token", "new-secret-5678"), Map.of(), null)).orElseThrow();

        assertThat(change.commandChanged()).isTrue();
        assertThat(change.storedCommand()).containsExactly("/bin/deploy", "--token", "***");
        assertThat(change.commandNow()).containsExactly("/bin/deploy", "--token", "***");
        assertThat(change.hiddenChanged()).as("tryout42 F12: where the commands differ unseen").containsExactly(2);
        assertThat(change.envDiffers()).isFalse();
        assertThat(change.workdirChanged()).isFalse();
    }

    @Test
    void aSecretOfTheStoredEnvironmentIsHiddenInTheCommandNowAndNoValueIsGiven() {
        StoredPlanChange change = StoredPlanChange.between(
                stored(List.of("/bin/deploy"), Map.of("API_TOKEN", "abcdefgh-1234", "STAGE", "a"), null),
                now(List.of("/bin/deploy", "abcdefgh-1234"), Map.of("STAGE", "b", "REGION", "eu"), Path.of("/srv")))
                .orElseThrow();

        assertThat(change.commandNow()).containsExactly("/bin/deploy", "***");
        assertThat(change.hiddenChanged()).as("shown apart: one more argument").isEmpty();
        assertThat(change.envChanged()).containsExactly("STAGE");
        assertThat(change.envAdded()).containsExactly("REGION");
        assertThat(change.envRemoved()).containsExactly("API_TOKEN");
        assertThat(change.workdirChanged()).isTrue();
        assertThat(change.storedWorkdir()).isNull();
        assertThat(change.workdirNow()).isEqualTo("/srv");
    }

    /**
     * A rename alone changes only {@code BUILDHOOK_RULE}, and another version of buildhook may set a {@code
     * BUILDHOOK_*} variable more: neither is a change of the rule.
     */
    @Test
    void theVariablesBuildhookSetsAreNoChangeOfTheRule() {
        assertThat(StoredPlanChange.between(
                stored(List.of("/bin/deploy"), Map.of("BUILDHOOK_RULE", "deploy", "STAGE", "a"), Path.of("/srv")),
                now(List.of("/bin/deploy"), Map.of("BUILDHOOK_RULE", "deploy-v2", "BUILDHOOK_NEW", "x", "STAGE", "a"),
                        Path.of("/srv")))).isEmpty();
    }
}
