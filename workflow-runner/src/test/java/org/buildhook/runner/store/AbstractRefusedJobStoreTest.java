package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job planned refused (a payload value its rule writes into its command is refused, PayloadValues) is stored ended,
 * FAILED with its message and no attempt, beside the delivery's other jobs, which are queued as ever; its on-failure
 * is pending, and it supersedes nothing. On PostgreSQL the accept takes the transaction's path for it.
 */
abstract class AbstractRefusedJobStoreTest {

    @TempDir
    Path dir;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static PlannedJob refused(String rule, String followUps, String key) {
        PlannedJob plain = Plans.job(rule, List.of("/bin/rm", "-rf", "/srv/builds/${build.trigger}"));
        JobWorkflow workflow = new JobWorkflow(67L, key, false, null, Map.of(), Map.of(), followUps, null, 0);
        return new PlannedJob(rule, plain.ruleSnapshot(), plain.argv(), Map.of("BUILDHOOK_TRIGGER", "../victim"), null,
                true, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 0, null, workflow,
                "not started: rule '" + rule + "' writes ${build.trigger} into argument 2 of 'command', …");
    }

    @Test
    void aRefusedJobIsStoredFailedBesideTheDeliverysOtherJobsAndItsOnFailureIsPending() {
        AcceptResult accepted = store.accept(Plans.delivery(Plans.fixture()), List.of(
                refused("cleanup", "{\"on-failure\":{\"command\":[\"/bin/true\"]},\"depth\":1}", null),
                Plans.job("notify", List.of("/bin/true"))));

        Job refused = store.job(accepted.jobIds().get(0)).orElseThrow().job();
        Job other = store.job(accepted.jobIds().get(1)).orElseThrow().job();
        assertThat(refused.state()).isEqualTo(JobState.FAILED);
        assertThat(refused.message()).startsWith("not started: rule 'cleanup' writes ${build.trigger}");
        assertThat(refused.attempts()).isZero();
        assertThat(refused.endedAt()).isNotNull();
        assertThat(refused.argv()).containsExactly("/bin/rm", "-rf", "/srv/builds/${build.trigger}");
        assertThat(other.state()).isEqualTo(JobState.QUEUED);
        assertThat(store.followUps().pending(10)).containsExactly(refused.id());
    }

    @Test
    void aRefusedJobSupersedesNothing() {
        String older = store.accept(Plans.delivery(Plans.fixture().replace("\"build_id\": 67", "\"build_id\": 66")),
                List.of(Plans.job("deploy", List.of("/bin/true")).withWorkflow(new JobWorkflow(66L, "k", false, null,
                        Map.of(), Map.of(), null, null, 0)))).jobIds().get(0);

        store.accept(Plans.delivery(Plans.fixture()), List.of(refused("deploy", null, "k")));

        assertThat(store.job(older).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
    }
}
