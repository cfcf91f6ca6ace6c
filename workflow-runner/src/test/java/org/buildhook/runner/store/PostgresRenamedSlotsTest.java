package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
