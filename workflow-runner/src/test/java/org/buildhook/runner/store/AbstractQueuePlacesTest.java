package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * upgrade32 (tryout32 F2): {@link QueuePlaces} gives back its place to a job whose due time only an older build's
 * cut can have moved, once, and leaves alone the jobs whose later due time may be right (a slot wait of a rule with
 * {@code concurrency}, a retry's backoff after a failed attempt). The rows are written as a build before 2026-12-02
 * left them: the attempt {@code INTERRUPTED} by its node's stop, the execution due at the moment of the cut. On
 * SQLite and PostgreSQL by the subclasses; the engine's side, with real nodes, is in {@code AbstractCrashTest}.
 */
abstract class AbstractQueuePlacesTest {

    @TempDir
    Path dir;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private int builds;

    private String job(int concurrency) {
        String body = Plans.fixture().replace("\"build_id\": 67", "\"build_id\": " + (67 + builds++));
        return store.accept(Plans.delivery(body), List.of(Plans.job("deploy", List.of("/bin/true"), java.util.Map.of(),
                0, Duration.ofSeconds(1), concurrency))).jobIds().get(0);
    }

    /** Attempts as an older build recorded them (outcomes in order), then its stop's put-back: due at {@code cut}. */
    private void cutByAnOlderBuild(String jobId, Instant cut, String... outcomes) throws Exception {
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(true);
            for (int i = 0; i < outcomes.length; i++) {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO job_attempts (job_id, attempt, outcome,"
                        + " started_at, ended_at, node, message) VALUES (?, ?, ?, ?, ?, 'old', ?)")) {
                    p.setString(1, jobId);
                    p.setInt(2, i + 1);
                    p.setString(3, outcomes[i]);
                    p.setLong(4, cut.toEpochMilli() - 2000);
                    p.setLong(5, cut.toEpochMilli() - 1);
                    p.setString(6, outcomes[i].equals("INTERRUPTED") ? "stopped by the shutdown of old; run again"
                            : "exited with 3");
                    p.executeUpdate();
                }
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET attempts = ? WHERE id = ?")) {
                p.setInt(1, outcomes.length);
                p.setString(2, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET execution_time = ?,"
                    + " version = version + 1 WHERE task_instance = ?")) {
                JobQueue.customization(store.dialect()).setInstant(p, 1, cut);
                p.setString(2, jobId);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
        }
    }

    private Instant due(String jobId) throws Exception {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return JobQueue.customization(store.dialect()).getInstant(rs, "execution_time");
            }
        }
    }

    @Test
    void aJobOnlyACutCanHaveMovedIsDueWhenItWasStoredAgainOnce() throws Exception {
        String cut = job(0);
        Instant stored = store.job(cut).orElseThrow().job().createdAt();
        Instant atTheCut = Instant.now().plusSeconds(60);
        cutByAnOlderBuild(cut, atTheCut, "INTERRUPTED", "INTERRUPTED");

        assertThat(store.queuePlaces().restore()).containsExactly(cut);
        assertThat(due(cut).toEpochMilli()).isEqualTo(stored.toEpochMilli());
        assertThat(store.queuePlaces().restore()).as("once").isEmpty();
    }

    /**
     * relia33 (upgrade32's left item): a job of a rule with an approval was queued by its approval, due at that
     * moment, which its 'approve' audit entry keeps: given that place back (not its creation's, before its approval).
     * Before, every job of a rule with an approval was left where the older build's cut put it.
     */
    @Test
    void anApprovedJobOnlyACutCanHaveMovedIsDueWhenItWasApprovedAgain() throws Exception {
        String body = Plans.fixture().replace("\"build_id\": 67", "\"build_id\": " + (67 + builds++));
        String approved = store.accept(Plans.delivery(body), List.of(Plans.job("deploy", List.of("/bin/true"))
                .withWorkflow(new org.buildhook.runner.JobWorkflow(null, null, false, Duration.ofHours(1),
                        java.util.Map.of(), java.util.Map.of(), null, null, 0)))).jobIds().get(0);
        assertThat(store.approve(approved, "alice")).isTrue();
        String unknown = store.accept(Plans.delivery(Plans.fixture().replace("\"build_id\": 67", "\"build_id\": "
                + (67 + builds++))), List.of(Plans.job("deploy", List.of("/bin/true")).withWorkflow(
                        new org.buildhook.runner.JobWorkflow(null, null, false, Duration.ofHours(1), java.util.Map.of(),
                                java.util.Map.of(), null, null, 0)))).jobIds().get(0);
        assertThat(store.approve(unknown, "bob")).isTrue();
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "DELETE FROM admin_actions WHERE job_id = ?")) {
            c.setAutoCommit(true);
            p.setString(1, unknown);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        Instant dueAtApproval = due(approved);
        assertThat(dueAtApproval.toEpochMilli()).isGreaterThanOrEqualTo(
                store.job(approved).orElseThrow().job().createdAt().toEpochMilli());
        cutByAnOlderBuild(approved, Instant.now().plusSeconds(60), "INTERRUPTED");
        Instant atTheCut = Instant.now().plusSeconds(60);
        cutByAnOlderBuild(unknown, atTheCut, "INTERRUPTED");

        assertThat(store.queuePlaces().restore()).as("not the one whose approval is not in the audit trail")
                .containsExactly(approved);
        assertThat(due(unknown).toEpochMilli()).isEqualTo(atTheCut.toEpochMilli());
        assertThat(due(approved).toEpochMilli()).isEqualTo(dueAtApproval.toEpochMilli());
        assertThat(store.queuePlaces().restore()).as("once").isEmpty();
    }

    @Test
    void aJobWhoseLaterDueTimeMayBeRightIsLeftAlone() throws Exception {
        Instant atTheCut = Instant.now().plusSeconds(60);
        String limited = job(1); // a slot wait puts it back for runner.slot-retry, which its rows do not keep
        cutByAnOlderBuild(limited, atTheCut, "INTERRUPTED");
        String retried = job(0); // its retry was due after a backoff from the failed attempt's end
        cutByAnOlderBuild(retried, atTheCut, "FAILED", "INTERRUPTED");
        String fresh = job(0); // never cut: due when stored

        assertThat(store.queuePlaces().restore()).isEmpty();
        assertThat(due(limited).toEpochMilli()).isEqualTo(atTheCut.toEpochMilli());
        assertThat(due(retried).toEpochMilli()).isEqualTo(atTheCut.toEpochMilli());
        assertThat(due(fresh).toEpochMilli()).isEqualTo(store.job(fresh).orElseThrow().job().createdAt().toEpochMilli());
    }
}
