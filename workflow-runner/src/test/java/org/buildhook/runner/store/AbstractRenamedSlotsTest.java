package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * renames37: a renamed rule ({@code deploy-v2}, {@code renamed-from: deploy}, {@code concurrency: 1}) and its old
 * name share one slot. Review36 F4: each name's take counted the other name's RUNNING jobs only, so a job of one name
 * that had taken its slot but not yet recorded its start was not seen by the other name's take, and both started. On
 * SQLite and PostgreSQL by the subclasses.
 */
abstract class AbstractRenamedSlotsTest {

    static final String RUN = "{\"command\":[\"/opt/deploy.sh\"],\"concurrency\":1}";

    @TempDir
    Path dir;
    Store store;
    ExecutionLedger ledger;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir));
        ledger = store.ledger();
        ledger.renames(RuleRenames.of(Map.of("deploy-v2", List.of("deploy")),
                Map.of("deploy-v2", "{\"name\":\"deploy-v2\",\"run\":" + RUN + "}")));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    /** A job of {@code rule} (concurrency 1) of {@code build}. */
    String job(String rule, long build) {
        PlannedJob job = new PlannedJob(rule, "{\"name\":\"" + rule + "\",\"run\":" + RUN + "}",
                List.of("/opt/deploy.sh"), Map.of(), null, true, Duration.ofSeconds(30), 1, Duration.ofMillis(100), 1,
                null);
        return store.accept(Plans.delivery("{\"build_id\": " + build + ", \"rule\": \"" + rule + "\"}"), List.of(job))
                .jobIds().get(0);
    }

    /** A job of {@code rule} (concurrency 1) of {@code build} under supersede key {@code key}, running: cancel. */
    String superseding(String rule, long build, String key) {
        PlannedJob job = new PlannedJob(rule, "{\"name\":\"" + rule + "\",\"run\":" + RUN + "}",
                List.of("/opt/deploy.sh"), Map.of(), null, true, Duration.ofSeconds(30), 1, Duration.ofMillis(100), 1,
                null).withWorkflow(new org.buildhook.runner.JobWorkflow(build, key, true, null, Map.of(), Map.of(), null,
                        null, 0));
        return store.accept(Plans.delivery("{\"build_id\": " + build + ", \"rule\": \"" + rule + "\", \"key\": \""
                + key + "\"}"), List.of(job)).jobIds().get(0);
    }

    /** Marks the job's execution picked by {@code node}, as a node's poll does before the slot take. */
    void picked(String jobId, String node) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = ? WHERE task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, node);
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /** Puts the job's execution back in the queue for {@code in} from now, as a try that found no slot does. */
    void dueIn(String jobId, Duration in) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET execution_time = ?, picked = ?, picked_by = NULL WHERE task_instance = ?")) {
            JobQueue.customization(store.dialect()).setInstant(p, 1, Instant.now().plus(in));
            p.setBoolean(2, false);
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    Instant dueOf(String jobId) throws SQLException {
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
    void theOldNamesJobThatTookItsSlotButHasNotStartedHoldsTheRenamedRulesSlot() throws SQLException {
        String old = job("deploy", 1);
        picked(old, "node-b");
        assertThat(ledger.tryAcquireSlot("deploy", 1, old, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        // No start record yet: its node is between the take and startAttempt.
        String renamed = job("deploy-v2", 2);
        picked(renamed, "node-a");

        assertThat(ledger.tryAcquireSlot("deploy-v2", 1, renamed, "node-a", -1))
                .as("the old name's job holds the one slot from its take on").isEqualTo(ExecutionLedger.Take.NOT_FREE);

        ledger.releaseSlot(old, "deploy", "node-b");
        assertThat(ledger.tryAcquireSlot("deploy-v2", 1, renamed, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    @Test
    void theRenamedRulesJobThatTookItsSlotButHasNotStartedHoldsTheOldNamesRetryBack() throws SQLException {
        String retry = job("deploy", 3);
        String renamed = job("deploy-v2", 4);
        picked(renamed, "node-a");
        assertThat(ledger.tryAcquireSlot("deploy-v2", 1, renamed, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        picked(retry, "node-b");

        assertThat(ledger.tryAcquireSlot("deploy", 1, retry, "node-b", -1))
                .as("the renamed rule's job holds the one slot from its take on").isEqualTo(ExecutionLedger.Take.NOT_FREE);
    }

    @Test
    void aSlotOfTheOldNameWhoseExecutionIsGoneHoldsNothing() throws SQLException {
        String old = job("deploy", 5);
        picked(old, "node-b");
        assertThat(ledger.tryAcquireSlot("deploy", 1, old, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        dueIn(old, Duration.ofHours(1)); // put back in the queue, not running: its slot is left behind
        String renamed = job("deploy-v2", 6);
        picked(renamed, "node-a");

        assertThat(ledger.tryAcquireSlot("deploy-v2", 1, renamed, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * renames37 (wake36's note): the end of the renamed rule's job woke only its own rule's line; the old name's retry,
     * refused the slot that job held and put back for runner.slot-retry, waited for that try. The end (and a slot given
     * back without an end) now wakes the lines of the names its renamed-from writes.
     */
    @Test
    void theEndOfTheRenamedRulesJobWakesTheOldNamesRetryWaitingForTheSlot() throws SQLException {
        String renamed = job("deploy-v2", 10);
        picked(renamed, "node-a");
        assertThat(ledger.tryAcquireSlot("deploy-v2", 1, renamed, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        int attempt = ledger.startAttempt(renamed, "node-a");
        String retry = job("deploy", 9);
        picked(retry, "node-b");
        assertThat(ledger.tryAcquireSlot("deploy", 1, retry, "node-b", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        Instant later = Instant.now().plus(Duration.ofHours(1));
        dueIn(retry, Duration.ofHours(1)); // put back for its next try

        Instant now = Instant.now();
        ledger.finishAttempt(renamed, attempt, new org.buildhook.runner.exec.JobOutcome(
                org.buildhook.runner.exec.JobOutcome.Result.SUCCEEDED, 0, now, now, "SUCCEEDED", null, false),
                JobState.SUCCEEDED, -1, "deploy-v2");
        ledger.wakeRenamedLines(renamed, "deploy-v2", store.job(renamed).orElseThrow().job().ruleSnapshot());

        assertThat(dueOf(retry)).as("woken by the end").isBefore(later.minus(Duration.ofMinutes(30)));
    }

    @Test
    void aSlotTheRenamedRulesJobGivesBackWakesTheOldNamesRetryWaitingForIt() throws SQLException {
        String renamed = job("deploy-v2", 12);
        picked(renamed, "node-a");
        assertThat(ledger.tryAcquireSlot("deploy-v2", 1, renamed, "node-a", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        String retry = job("deploy", 11);
        picked(retry, "node-b");
        assertThat(ledger.tryAcquireSlot("deploy", 1, retry, "node-b", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        Instant later = Instant.now().plus(Duration.ofHours(1));
        dueIn(retry, Duration.ofHours(1));

        ledger.releaseSlot(renamed, "deploy-v2", "node-a"); // e.g. refused its shared units

        assertThat(dueOf(retry)).as("woken by the slot given back").isBefore(later.minus(Duration.ofMinutes(30)));
    }

    /**
     * renames37: supersede with running: cancel on the renamed rule ignored the old name's jobs: a newer build of
     * deploy-v2 left the old name's running job of an older build to run on (and its own job then waited for it only by
     * the concurrency). It now asks it to stop as it does its own, and waits for it to end before it starts.
     */
    @Test
    void aNewerBuildOfTheRenamedRuleCancelsTheOldNamesRunningJobOfItsKey() throws SQLException {
        String old = superseding("deploy", 20, "andy-corp/lmp");
        picked(old, "node-b");
        assertThat(ledger.tryAcquireSlot("deploy", 1, old, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        int attempt = ledger.startAttempt(old, "node-b");
        String other = superseding("deploy", 19, "andy-corp/other"); // another key: left alone

        String newer = superseding("deploy-v2", 21, "andy-corp/lmp");

        Job stopped = store.job(old).orElseThrow().job();
        assertThat(stopped.cancelRequested()).as("asked to stop").isTrue();
        assertThat(stopped.supersededBy()).isEqualTo(newer);
        assertThat(store.job(other).orElseThrow().job().cancelRequested()).isFalse();
        picked(newer, "node-a");
        assertThat(ledger.putBackWhileSupersededRuns(newer, "deploy-v2", "andy-corp/lmp", -1, null))
                .as("the newer build's job waits for it to end").isEqualTo(ExecutionLedger.Take.NOT_FREE);

        Instant now = Instant.now();
        ledger.finishAttempt(old, attempt, new org.buildhook.runner.exec.JobOutcome(
                org.buildhook.runner.exec.JobOutcome.Result.CANCELLED, null, now, now, "cancelled", null, false),
                JobState.CANCELLED, -1, "deploy");
        assertThat(store.job(old).orElseThrow().job().state()).isEqualTo(JobState.SUPERSEDED);
        assertThat(ledger.putBackWhileSupersededRuns(newer, "deploy-v2", "andy-corp/lmp", -1, null))
                .isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    @Test
    void aNewerBuildOfTheRenamedRuleSupersedesTheOldNamesQueuedRetryOfAnOlderBuild() throws SQLException {
        String retry = superseding("deploy", 22, "andy-corp/lmp");
        String newer = superseding("deploy-v2", 23, "andy-corp/lmp");

        Job superseded = store.job(retry).orElseThrow().job();
        assertThat(superseded.state()).isEqualTo(JobState.SUPERSEDED);
        assertThat(superseded.supersededBy()).isEqualTo(newer);
        assertThat(store.job(newer).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
    }
}
