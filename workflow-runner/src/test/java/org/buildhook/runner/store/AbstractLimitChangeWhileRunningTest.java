package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review57b F2: a limit set on a rule that had none (a reload, or a node's start, adding {@code concurrency: 1}) while
 * jobs of the rule run or wait without one. The rules promise that no job starts until fewer than the new limit run:
 * whatever the change of the jobs' rows has reached ({@link ExecutionLedger#changeLimits} gives them the limit one by
 * one), or left when it failed midway, and for a job planned under the new rules before it ran. The take
 * ({@link ExecutionLedger#tryAcquireSlot}) counts the jobs of the rule running without a slot, and a job stored
 * without a limit is read with the one its rule has in force ({@link ExecutionLedger#jobToRun}).
 */
abstract class AbstractLimitChangeWhileRunningTest {

    @TempDir
    Path dir;
    StoreConfig config;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        config = config(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        store = Store.open(config);
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    /**
     * A job planned under the new rules ({@code concurrency: 1}) is stored while a job of the rule started under no
     * limit runs, before the change gave that one its slot (the reload puts the new rules in force before its listeners
     * change the jobs; or that change failed, which the application only WARNs): its take counted the slots only, none
     * held, and it started beside the running one.
     */
    @Test
    void aJobPlannedUnderANewLimitDoesNotStartBesideOneRunningWithoutASlot() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        String running = job("added", 5710, 0);
        picked(running, "node-a");
        assertThat(ledger.startAttempt(running, "node-a")).isEqualTo(1);
        String newer = job("added", 5711, 1);

        picked(newer, "node-b");
        assertThat(ledger.tryAcquireSlot("added", 1, newer, "node-b", -1))
                .as("the job running without a slot counts against the limit in force; slots: %s", slots("added"))
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);

        Instant now = Instant.now();
        ledger.finishAttempt(running, 1, new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, now, now, "SUCCEEDED", null,
                false), JobState.SUCCEEDED, -1, null);
        assertThat(ledger.tryAcquireSlot("added", 1, newer, "node-b", -1)).as("once it ended")
                .isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * The other half of that state: a job of the rule stored without a limit, not given the new one yet (the change has
     * not reached it, or failed before it), picked while a job holding the new limit's one slot runs. Read as stored,
     * it started without asking for a slot, beside that one.
     */
    @Test
    void aJobStoredWithoutALimitTakesASlotOnceItsRuleHasOne() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        String older = job("added", 5720, 0);
        String newer = job("added", 5721, 1);
        picked(newer, "node-b");
        assertThat(ledger.tryAcquireSlot("added", 1, newer, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(ledger.startAttempt(newer, "node-b")).isEqualTo(1);

        picked(older, "node-a");
        ExecutionLedger.JobToRun read = ledger.jobToStart(older, "node-a", version(older)).orElseThrow();
        assertThat(read.started()).as("not started at its read").isZero();
        assertThat(read.job().concurrency()).as("read with the limit its rule has in force").isEqualTo(1);
        assertThat(read.bodyRead()).as("it may wait for its slot").isFalse();
        assertThat(ledger.tryAcquireSlot("added", read.job().concurrency(), older, "node-a", -1))
                .as("the newer job holds the one slot").isEqualTo(ExecutionLedger.Take.NOT_FREE);
        assertThat(store.job(older).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
    }

    /**
     * review58 F2: two jobs of the rule ran without a limit on a node that died (a rolling change: node-a still had the
     * rules without {@code concurrency}, node-b those with it), and node-b stored a newer job with the limit. While
     * the dead node's picks stand their commands may run, and they count. Put back in the queue by the dead-node look,
     * still marked running until their next attempt starts (which comes after its slot), they counted each other, and
     * the newer job counted both: every take was refused, for good, until a start or reload rewrote their rows.
     */
    @Test
    void twoJobsRevivedFromADeadNodeWithoutASlotDoNotHoldTheirRuleBack() throws SQLException {
        ExecutionLedger ledger = store.ledger();
        String first = job("rolled", 5750, 0);
        String second = job("rolled", 5751, 0);
        picked(first, "node-a");
        assertThat(ledger.startAttempt(first, "node-a")).isEqualTo(1);
        picked(second, "node-a");
        assertThat(ledger.startAttempt(second, "node-a")).isEqualTo(1);
        String newer = job("rolled", 5752, 1);
        picked(newer, "node-b");
        assertThat(ledger.tryAcquireSlot("rolled", 1, newer, "node-b", -1))
                .as("node-a's picks still stand: its commands may run").isEqualTo(ExecutionLedger.Take.NOT_FREE);

        // node-a is found dead: both executions go back in the queue, as db-scheduler's dead-execution look puts them.
        putBackAsRevived(first);
        putBackAsRevived(second);
        picked(first, "node-b");
        ExecutionLedger.JobToRun read = ledger.jobToStart(first, "node-b", version(first)).orElseThrow();
        assertThat(read.job().concurrency()).as("read with the limit in force").isEqualTo(1);
        ExecutionLedger.Take takeFirst = ledger.tryAcquireSlot("rolled", 1, first, "node-b", -1);
        picked(second, "node-b");
        ExecutionLedger.Take takeSecond = ledger.tryAcquireSlot("rolled", 1, second, "node-b", -1);
        ExecutionLedger.Take takeNewer = ledger.tryAcquireSlot("rolled", 1, newer, "node-b", -1);
        assertThat(List.of(takeFirst, takeSecond, takeNewer))
                .as("the first revived job picked takes the one slot, the others wait for it; slots: %s",
                        slots("rolled"))
                .containsExactly(ExecutionLedger.Take.TAKEN, ExecutionLedger.Take.NOT_FREE,
                        ExecutionLedger.Take.NOT_FREE);
        assertThat(slots("rolled")).containsExactly("0:" + first + "@node-b");
    }

    /** A rule without a limit: its jobs are read without one and (PostgreSQL) start at their read, as before. */
    @Test
    void aJobOfARuleWithoutALimitIsReadWithoutOne() throws SQLException {
        String job = job("free", 5730, 0);
        // A re-run keeps its plan, and a job of another rule with a limit changes nothing.
        job("other", 5731, 1);
        picked(job, "node-a");
        ExecutionLedger.JobToRun read = store.ledger().jobToStart(job, "node-a", version(job)).orElseThrow();
        assertThat(read.job().concurrency()).isZero();
        assertThat(read.bodyRead()).isTrue();
        assertThat(read.started()).isEqualTo(store.dialect() == Dialect.POSTGRESQL ? 1 : 0);
    }

    String job(String rule, int build, int limit) {
        return store.accept(Plans.delivery("{\"build_id\": " + build + "}"), List.of(Plans.job(rule,
                List.of("/bin/true"), Map.of(), 0, Duration.ofMillis(100), limit))).jobIds().get(0);
    }

    void picked(String jobId, String node) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = ?, last_heartbeat = ? WHERE task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, node);
            JobQueue.customization(store.dialect()).setInstant(p, 3, Instant.now());
            p.setString(4, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    /** Puts the job's execution back in the queue, unpicked, as db-scheduler's reschedule of a dead node's does. */
    void putBackAsRevived(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = NULL, last_heartbeat = NULL, version = version + 1"
                        + " WHERE task_instance = ?")) {
            p.setBoolean(1, false);
            p.setString(2, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    long version(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT version FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getLong(1);
            }
        }
    }

    List<String> slots(String rule) throws SQLException {
        List<String> slots = new ArrayList<>();
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT slot, job_id, node FROM rule_slots WHERE rule_name = ? ORDER BY slot")) {
            p.setString(1, rule);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    slots.add(rs.getInt(1) + ":" + rs.getString(2) + "@" + rs.getString(3));
                }
            }
        }
        return slots;
    }
}
