package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;

/**
 * The change of a limit or a capacity caught midway (review57b F2, F3): another session holds one job's row, as a
 * transaction of that job's own node does while it records something, so the change waits there and the interleaving
 * of a take with it is exact.
 */
class PostgresLimitChangeWhileRunningTest extends AbstractLimitChangeWhileRunningTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    /**
     * The change gives the jobs the limit newest first: the newer job had it while the one running without a slot was
     * given its slot only after the last job's update, and the newer job's take in between found the one slot free and
     * started it beside the running one (review57b F2: "take=TAKEN", then two slots for a limit of 1).
     */
    @Test
    void aNewerJobDoesNotStartBesideTheRunningOneWhileTheNewLimitIsBeingGiven() throws Exception {
        ExecutionLedger ledger = store.ledger();
        String running = job("widened", 5700, 0);
        String newer = job("widened", 5701, 0);
        picked(running, "node-a");
        assertThat(ledger.startAttempt(running, "node-a")).isEqualTo(1);

        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection other = store.dataSource().getConnection()) {
            other.setAutoCommit(false);
            lockRow(other, running);
            int pid = PgSessions.pid(other);
            Future<Integer> reload = pool.submit(() -> ledger.applyLimits(Map.of("widened", 1)));
            await().atMost(Duration.ofSeconds(30)).until(() -> store.job(newer).orElseThrow().job().concurrency() == 1
                    && !PgSessions.blockedBy(config.url(), pid).isEmpty());

            picked(newer, "node-b");
            ExecutionLedger.Take take = ledger.tryAcquireSlot("widened", 1, newer, "node-b", -1);
            other.commit();
            assertThat(reload.get(30, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(take).as("the running job holds the slot from the moment the limit is in force; slots: %s",
                    slots("widened")).isEqualTo(ExecutionLedger.Take.NOT_FREE);
            assertThat(slots("widened")).containsExactly("0:" + running + "@node-a");
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The same loop, a job older than the one it stopped at: still stored without a limit, it was read so and started
     * at its read beside the newer job holding the new limit's one slot.
     */
    @Test
    void anOlderJobNotGivenTheNewLimitYetDoesNotStartBesideANewerOne() throws Exception {
        ExecutionLedger ledger = store.ledger();
        String oldest = job("widened", 5740, 0);
        String middle = job("widened", 5741, 0);
        String newest = job("widened", 5742, 0);

        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection other = store.dataSource().getConnection()) {
            other.setAutoCommit(false);
            lockRow(other, middle);
            int pid = PgSessions.pid(other);
            Future<Integer> reload = pool.submit(() -> ledger.applyLimits(Map.of("widened", 1)));
            await().atMost(Duration.ofSeconds(30)).until(() -> !PgSessions.blockedBy(config.url(), pid).isEmpty());
            assertThat(store.job(newest).orElseThrow().job().concurrency()).isEqualTo(1);

            picked(newest, "node-b");
            assertThat(ledger.tryAcquireSlot("widened", 1, newest, "node-b", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
            assertThat(ledger.startAttempt(newest, "node-b")).isEqualTo(1);
            picked(oldest, "node-a");
            ExecutionLedger.JobToRun read = ledger.jobToStart(oldest, "node-a", version(oldest)).orElseThrow();
            assertThat(read.started()).as("the oldest job, not given the limit yet, started at its read").isZero();
            assertThat(read.job().concurrency()).isEqualTo(1);
            assertThat(ledger.tryAcquireSlot("widened", 1, oldest, "node-a", -1)).isEqualTo(ExecutionLedger.Take.NOT_FREE);
            other.commit();
            assertThat(reload.get(30, TimeUnit.SECONDS)).isEqualTo(3);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A capacity lowered (two boards to one) while a job holds one: the change gave the jobs the new capacity one by
     * one, outside the resource's lock, and a job whose row still said two took the second board beside the first
     * (review57b F3: "take=TAKEN, units={board=[2]}"). Now the change holds the resource's lock for all of them: the take
     * waits for it, then finds the new capacity.
     */
    @Test
    void aJobNotYetGivenALoweredCapacityTakesNoUnitBesideTheOneInUse() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            PlannedJob sharing = Plans.job("sharing", List.of("/bin/true")).withWorkflow(new JobWorkflow(null, null,
                    false, null, Map.of("board", 1), Map.of("board", 2), null, null, 0));
            ids.add(store.accept(Plans.delivery("{\"build_id\": " + (5720 + i) + "}"), List.of(sharing)).jobIds()
                    .get(0));
        }
        String holder = ids.get(0);
        String locked = ids.get(1);
        String later = ids.get(2);
        picked(holder, "node-a");
        assertThat(store.resources().acquire(store.job(holder).orElseThrow().job(), "node-a", -1).take())
                .isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(holder, "node-a")).isEqualTo(1);

        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Connection other = store.dataSource().getConnection()) {
            other.setAutoCommit(false);
            lockRow(other, locked);
            int pid = PgSessions.pid(other);
            Future<List<ResourceLedger.CapacityChange>> reload = pool.submit(
                    () -> store.resources().applyCapacities(Map.of("board", 1)));
            await().atMost(Duration.ofSeconds(30)).until(() -> !PgSessions.blockedBy(config.url(), pid).isEmpty());

            picked(later, "node-b");
            org.buildhook.runner.store.Job read = store.job(later).orElseThrow().job();
            Future<ResourceLedger.Acquired> take = pool.submit(() -> store.resources().acquire(read, "node-b", -1));
            // Taken at once while the change waits (before), or waiting for the resource's lock the change holds.
            await().atMost(Duration.ofSeconds(30)).until(() -> take.isDone() || waitingForAResourceLock());
            other.commit();
            assertThat(reload.get(30, TimeUnit.SECONDS)).extracting(ResourceLedger.CapacityChange::jobs)
                    .containsExactly(3);
            assertThat(take.get(30, TimeUnit.SECONDS).take()).as("the board in use by the first job, the capacity"
                    + " now 1: in use %s", store.resources().unitsInUse()).isEqualTo(ExecutionLedger.Take.NOT_FREE);
        } finally {
            pool.shutdownNow();
        }
    }

    private boolean waitingForAResourceLock() throws Exception {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE ?")) {
            p.setString(1, "%FROM resource_locks%FOR UPDATE%");
            try (java.sql.ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1) > 0;
            }
        }
    }

    private static void lockRow(Connection c, String jobId) throws Exception {
        try (PreparedStatement p = c.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
            p.setString(1, jobId);
            p.executeQuery().close();
        }
    }
}
