package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PostgresSupersedeTurnTest extends AbstractSupersedeTurnTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    /**
     * review35 F3: a reload removed the rule's limit and the stored jobs still have theirs (applyLimits has not run):
     * a newer build's job, planned without a limit, takes no turn of the rule's line (Supersede.takeTurns), so its
     * supersede of the older queued job must not wake the line either (it woke the next job outside the turn, taking
     * queue rows in an order the turn rules out). The line is left to applyLimits, which takes the turn.
     */
    @Test
    void aDeliveryThatTookNoTurnDoesNotWakeTheLineItSupersedesAJobOf() throws Exception {
        String older = accept("w", 1, null, 1);
        String next = accept("g", 1, null, 1);
        Instant later = Instant.now().plus(Duration.ofHours(1));
        due(older, Instant.now());
        due(next, later); // put back for its next try, its slot refused

        accept("w", 2, null, 0); // planned after the reload that removed the limit

        assertThat(store.job(older).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
        assertThat(dueOf(next)).isAfter(later.minus(Duration.ofSeconds(1)));
    }
}
