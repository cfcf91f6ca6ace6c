package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * loose34 (review33's note): a newer build's delivery, or an approval, superseding a queued job of a rule with a
 * {@code concurrency} limit ended it without passing its turn on, as a cancel of it does (slots13): when that job
 * was the one a freed slot had just woken, the next job of the rule's line waited for its own next try
 * ({@code runner.slot-retry}) with the slot free. Here the woken job is due now and the next one an hour later (its
 * put-back for the slot's retry); the supersede makes the next one due at once. On SQLite and PostgreSQL by the
 * subclasses.
 */
abstract class AbstractSupersedeTurnTest {

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
        if (store != null) {
            store.close();
        }
    }

    private String accept(String key, long build, Duration approval) {
        return accept(key, build, approval, 1);
    }

    /** A job of rule deploy-turn of {@code build} under supersede key {@code key}, as stored with {@code concurrency}. */
    String accept(String key, long build, Duration approval, int concurrency) {
        PlannedJob job = Plans.job("deploy-turn", List.of("/bin/true"), Map.of(), 0, Duration.ofSeconds(1), concurrency)
                .withWorkflow(new JobWorkflow(build, key, false, approval, Map.of(), Map.of(), null, null, 0));
        return store.accept(Plans.delivery("{\"build_id\": " + build + ", \"key\": \"" + key + "\"}"), List.of(job))
                .jobIds().get(0);
    }

    void due(String jobId, Instant at) throws Exception {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET execution_time = ? WHERE task_instance = ? AND picked = ?")) {
            JobQueue.customization(store.dialect()).setInstant(p, 1, at);
            p.setString(2, jobId);
            p.setBoolean(3, false);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    Instant dueOf(String jobId) throws Exception {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (ResultSet r = p.executeQuery()) {
                assertThat(r.next()).isTrue();
                return JobQueue.customization(store.dialect()).getInstant(r, "execution_time");
            }
        }
    }

    @Test
    void aDeliverySupersedingTheJobAFreedSlotWokePassesItsTurnOn() throws Exception {
        String woken = accept("w", 1, null);
        String next = accept("g", 1, null);
        assertThat(woken).isLessThan(next);
        Instant later = Instant.now().plus(Duration.ofHours(1));
        due(woken, Instant.now()); // the freed slot's wake
        due(next, later);          // put back for its next try

        accept("w", 2, null);

        assertThat(store.job(woken).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
        assertThat(dueOf(next)).isBefore(later.minus(Duration.ofMinutes(30)));
    }

    @Test
    void anApprovalSupersedingTheJobAFreedSlotWokePassesItsTurnOn() throws Exception {
        String woken = accept("w", 1, Duration.ofHours(1));
        assertThat(store.approve(woken, "alice")).isTrue();
        String next = accept("g", 1, null);
        String newer = accept("w", 2, Duration.ofHours(1));
        assertThat(store.job(woken).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
        Instant later = Instant.now().plus(Duration.ofHours(1));
        due(woken, Instant.now());
        due(next, later);

        assertThat(store.approve(newer, "bob")).isTrue();

        assertThat(store.job(woken).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
        assertThat(dueOf(next)).isBefore(later.minus(Duration.ofMinutes(30)));
    }
}
