package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review38 F3: a rule's turn ({@link SlotLine#inTurn}) is an advisory lock whose key is a 32-bit hash of the schema and
 * the rule's name, and a transaction that takes several turns took them in name order. Two names whose keys are the
 * same (X and Z, X &lt; Y &lt; Z by name) made {X, Y} lock X's key then Y's and {Y, Z} Y's then X's: PostgreSQL ended
 * one of the two with SQLSTATE 40P01. Such names are found by asking the server's {@code hashtext} for many names in
 * this test's schema; the two transactions are the wakes of two renamed rules' lines (rule a renamed from X and Y,
 * rule b from Y and Z), standing for any two that take several turns (slot takes and give-backs of linked names,
 * deliveries of several rules with supersede keys, a dead node's release).
 */
class PostgresSlotTurnsKeyOrderTest {

    /** SlotLine's advisory lock class of rules' slots ("bhrs"). */
    private static final int SLOTS_LOCK_CLASS = 0x62687273;

    @TempDir
    Path dir;
    Store store;

    @BeforeEach
    void open() {
        store = Store.open(TestStores.postgres(dir));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void twoTransactionsTakingTurnsOfNamesWhoseKeysAreTheSameDoNotDeadlock() throws Exception {
        List<String> same = namesWithTheSameKey();
        String x = same.get(0);
        String z = same.get(1);
        String y = x + "-y";
        assertThat(x.compareTo(y)).isNegative();
        assertThat(y.compareTo(z)).isNegative();
        long keyX = key(x);
        long keyY = key(y);
        assertThat(keyY).as("Y's key is its own").isNotEqualTo(keyX);
        store.ledger().renames(RuleRenames.of(Map.of("a", List.of(x, y), "b", List.of(y, z)),
                Map.of("a", "name: a", "b", "name: b")));
        String jobA = job("a", 1);
        String jobB = job("b", 2);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (Connection held = store.dataSource().getConnection()) {
            held.setAutoCommit(false);
            try (PreparedStatement p = held.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(current_schema()"
                    + " || '/' || ?))")) {
                p.setInt(1, SLOTS_LOCK_CLASS);
                p.setString(2, x); // Z's key too
                p.executeQuery().close();
            }
            // a's wake takes X's turn (and Y's); by name order it waits for X's key with nothing held.
            Future<?> first = threads.submit(() -> store.ledger().wakeRenamedLines(jobA, "a", null));
            await().atMost(Duration.ofSeconds(90)).until(() -> first.isDone() || waiting(held, keyX, keyY) == 1);
            // b's wake takes Y's turn and Z's: by name order it held Y's key and waited for Z's, X's, which a's wake
            // gets first once it is free, and then waits for Y's.
            Future<?> second = threads.submit(() -> store.ledger().wakeRenamedLines(jobB, "b", null));
            await().atMost(Duration.ofSeconds(90)).until(() -> first.isDone() || second.isDone()
                    || waiting(held, keyX, keyY) == 2);
            held.commit();

            List<String> failures = new ArrayList<>();
            for (Future<?> wake : List.of(first, second)) {
                try {
                    wake.get(90, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add(String.valueOf(e.getCause()));
                }
            }
            assertThat(failures).as("neither transaction ended by PostgreSQL (40P01)").isEmpty();
        } finally {
            threads.shutdownNow();
        }
    }

    /** Two rule names whose turns' keys are the same in this test's schema, in name order. */
    private List<String> namesWithTheSameKey() throws SQLException {
        // 400,000 names: about 18 pairs of 32-bit hashes are expected to be the same.
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT MIN(n), MAX(n) FROM (SELECT 'rule-' || i AS n, hashtext(current_schema() || '/rule-' || i) AS h"
                        + " FROM generate_series(1, 400000) AS i) t GROUP BY h HAVING COUNT(*) = 2 LIMIT 1");
                ResultSet rs = p.executeQuery()) {
            assertThat(rs.next()).as("two names with the same key among 400,000").isTrue();
            List<String> names = new ArrayList<>(List.of(rs.getString(1), rs.getString(2)));
            names.sort(null);
            assertThat(key(names.get(0))).isEqualTo(key(names.get(1)));
            return names;
        }
    }

    private long key(String rule) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT hashtext(current_schema() || '/' || ?)::bigint & 4294967295")) {
            p.setString(1, rule);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** How many transactions wait for one of the two keys of rules' turns. */
    private static int waiting(Connection c, long key1, long key2) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'"
                + " AND NOT granted AND classid::bigint = ? AND objsubid = 2 AND objid::bigint IN (?, ?)")) {
            p.setLong(1, SLOTS_LOCK_CLASS);
            p.setLong(2, key1);
            p.setLong(3, key2);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private String job(String rule, long build) {
        return store.accept(Plans.delivery("{\"build_id\": " + build + ", \"rule\": \"" + rule + "\"}"),
                List.of(Plans.job(rule, List.of("/bin/true"), Map.of(), 0, Duration.ZERO, 1))).jobIds().get(0);
    }
}
