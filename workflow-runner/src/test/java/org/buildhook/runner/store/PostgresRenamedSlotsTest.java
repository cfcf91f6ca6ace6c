package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.Test;

class PostgresRenamedSlotsTest extends AbstractRenamedSlotsTest {

    /** SlotLine's advisory lock class of rules' slots ("bhrs"). */
    private static final int SLOTS_LOCK_CLASS = 0x62687273;

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    /**
     * renames37 (review36 F4): the old name's take and the renamed rule's take each took only their own name's turn,
     * so nothing serialised them and each could count the other's slots before the other's commit. The old name's
     * take now takes the turn of the rule that took its name over too (and that rule's take the old name's): with
     * deploy-v2's turn held by another transaction, the old name's take waits for it.
     */
    @Test
    void anOldNamesSlotTakeWaitsForTheTurnOfTheRuleThatTookItsNameOver() throws Exception {
        String retry = job("deploy", 7);
        picked(retry, "node-b");
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try (Connection held = store.dataSource().getConnection()) {
            held.setAutoCommit(false);
            try (PreparedStatement p = held.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(current_schema()"
                    + " || '/' || ?))")) {
                p.setInt(1, SLOTS_LOCK_CLASS);
                p.setString(2, "deploy-v2");
                p.executeQuery().close();
            }
            Future<ExecutionLedger.Take> take = thread.submit(() -> ledger.tryAcquireSlot("deploy", 1, retry, "node-b",
                    -1));

            await().atMost(Duration.ofSeconds(90)).until(() -> take.isDone() || waitsForTurn(held, "deploy-v2"));
            assertThat(take.isDone()).as("the old name's take waits for deploy-v2's turn").isFalse();
            held.commit();
            assertThat(take.get(90, TimeUnit.SECONDS)).isEqualTo(ExecutionLedger.Take.TAKEN);
        } finally {
            thread.shutdownNow();
        }
    }

    /**
     * review38 (renames37's lock order): a slot take locks the turns of a rule and of the rules it shares slots with by
     * a rename (sorted by name), a give-back and a renamed rule's wake lock several lines too, and a supersede of the
     * renamed rule locks the old name's line and rows with its own. Run at the same time, many times over: takes of
     * both names (each counting the other's slots), their ends and the wakes after them, slots given back without an
     * end, cancels of jobs that never got a slot, and a newer build of either name superseding the key's older jobs
     * (running: cancel) whose jobs run too. PostgreSQL would end one of two transactions that wait for each other with
     * SQLSTATE 40P01: none may fail, and the one slot the two names share is never held twice (by the takes' answers,
     * and by the store: never two jobs of the names RUNNING in one snapshot).
     */
    @Test
    void takesWakesAndSupersedesOfARenamedRuleAndItsOldNameNeitherDeadlockNorRunTwoAtOnce() throws Exception {
        int workers = 4;
        int rounds = 25;
        AtomicLong builds = new AtomicLong(1000);
        AtomicInteger holders = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger taken = new AtomicInteger();
        AtomicInteger runningTwice = new AtomicInteger();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean over = new AtomicBoolean();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(workers + 2);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int w = 0; w < workers; w++) {
                String rule = w % 2 == 0 ? "deploy" : "deploy-v2";
                String node = "node-" + w;
                int seed = w;
                done.add(threads.submit(() -> {
                    go.await();
                    for (int round = 0; round < rounds; round++) {
                        try {
                            String id = job(rule, builds.incrementAndGet());
                            // Each third round's end is a slot given back without an attempt (refused units).
                            runOnce(rule, id, node, false, (round + seed) % 3 == 0, holders, overlaps, taken);
                        } catch (RuntimeException | SQLException e) {
                            failures.add(e);
                        }
                    }
                    return null;
                }));
            }
            done.add(threads.submit(() -> {
                go.await();
                for (int round = 0; round < rounds; round++) {
                    try {
                        // A newer build of each name in turn: the old name's supersedes its own name's older jobs, the
                        // renamed rule's those of both names; each then runs as any job (and may be superseded itself).
                        String rule = round % 2 == 0 ? "deploy" : "deploy-v2";
                        String id = superseding(rule, builds.incrementAndGet(), "andy-corp/lmp");
                        if (!pickedIfQueued(id, "node-s")) {
                            continue;
                        }
                        if (rule.equals("deploy-v2") && ledger.putBackWhileSupersededRuns(id, rule, "andy-corp/lmp", -1,
                                null) != ExecutionLedger.Take.TAKEN) {
                            ledger.markCancelled(id, "an older build still runs");
                            continue;
                        }
                        runPicked(rule, id, "node-s", true, false, holders, overlaps, taken);
                    } catch (RuntimeException | SQLException e) {
                        failures.add(e);
                    }
                }
                return null;
            }));
            Future<?> watch = threads.submit(() -> {
                go.await();
                try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                        "SELECT COUNT(*) FROM jobs WHERE state = 'RUNNING' AND rule_name IN ('deploy', 'deploy-v2')")) {
                    while (!over.get()) {
                        try (ResultSet rs = p.executeQuery()) {
                            rs.next();
                            if (rs.getInt(1) > 1) {
                                runningTwice.incrementAndGet();
                            }
                        }
                    }
                }
                return null;
            });
            go.countDown();
            for (Future<?> f : done) {
                f.get(10, TimeUnit.MINUTES);
            }
            over.set(true);
            watch.get(2, TimeUnit.MINUTES);
        } finally {
            over.set(true);
            threads.shutdownNow();
            threads.awaitTermination(1, TimeUnit.MINUTES);
        }

        assertThat(failures.stream().filter(e -> "40P01".equals(sqlState(e))).map(PostgresRenamedSlotsTest::describe))
                .as("deadlocks").isEmpty();
        assertThat(failures.stream().map(PostgresRenamedSlotsTest::describe)).as("failures").isEmpty();
        assertThat(overlaps.get()).as("takes answered TAKEN while the other name's job held the slot").isZero();
        assertThat(runningTwice.get()).as("snapshots with two jobs of the names RUNNING").isZero();
        assertThat(taken.get()).as("slots taken").isPositive();
    }

    /**
     * One job's way through the slot, as a node goes: picked (unless superseded meanwhile), its take tried until taken
     * (or given up: cancelled), then started and ended (and the renamed lines woken), or its slot given back.
     */
    private void runOnce(String rule, String id, String node, boolean keyed, boolean giveBack, AtomicInteger holders,
            AtomicInteger overlaps, AtomicInteger taken) throws SQLException {
        if (pickedIfQueued(id, node)) {
            runPicked(rule, id, node, keyed, giveBack, holders, overlaps, taken);
        }
    }

    /** As {@link #runOnce}, for a job already picked by {@code node}. */
    private void runPicked(String rule, String id, String node, boolean keyed, boolean giveBack,
            AtomicInteger holders, AtomicInteger overlaps, AtomicInteger taken) throws SQLException {
        ExecutionLedger.Take take = ExecutionLedger.Take.NOT_FREE;
        for (int tries = 0; tries < 30 && take != ExecutionLedger.Take.TAKEN; tries++) {
            take = ledger.tryAcquireSlot(rule, 1, id, node, -1);
        }
        if (take != ExecutionLedger.Take.TAKEN) {
            ledger.markCancelled(id, "no slot after 30 tries");
            return;
        }
        taken.incrementAndGet();
        if (holders.incrementAndGet() > 1) {
            overlaps.incrementAndGet();
        }
        // Let go before anything that may free the slot: only a hold the store surely still has is counted. A start
        // frees nothing, unless the job was superseded meanwhile (only a job with a key can be).
        if (giveBack || keyed) {
            holders.decrementAndGet();
        }
        if (giveBack) {
            ledger.releaseSlot(id, rule, node);
            ledger.markCancelled(id, "refused its units");
            return;
        }
        int attempt = ledger.startAttempt(id, node);
        if (!keyed) {
            holders.decrementAndGet();
        }
        if (attempt <= 0) {
            ledger.releaseSlot(id, rule, node);
            return;
        }
        Instant now = Instant.now();
        ledger.finishAttempt(id, attempt, new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, now, now, "SUCCEEDED", null,
                false), JobState.SUCCEEDED, -1, rule);
        ledger.wakeRenamedLines(id, rule, store.job(id).orElseThrow().job().ruleSnapshot());
    }

    /** Marks the job's execution picked by {@code node}; false when it has none any more (superseded meanwhile). */
    private boolean pickedIfQueued(String jobId, String node) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = ? WHERE task_instance = ? AND picked = ?")) {
            p.setBoolean(1, true);
            p.setString(2, node);
            p.setString(3, jobId);
            p.setBoolean(4, false);
            return p.executeUpdate() == 1;
        }
    }

    private static String sqlState(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                return sql.getSQLState();
            }
        }
        return null;
    }

    private static String describe(Throwable e) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            out.append(out.length() == 0 ? "" : " <- ").append(t);
        }
        return out.toString();
    }

    /** Whether some session waits for the turn of {@code rule} in this store's schema (read on {@code c}). */
    private static boolean waitsForTurn(Connection c, String rule) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'"
                + " AND NOT granted AND classid::bigint = ? AND objid::bigint = (hashtext(current_schema() || '/' || ?)"
                + "::bigint & 4294967295)")) {
            p.setLong(1, SLOTS_LOCK_CLASS);
            p.setString(2, rule);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1) > 0;
            }
        }
    }
}
