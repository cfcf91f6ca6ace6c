package org.buildhook.runner.engine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;

/** kill -9 of the only node, then a new node on the same SQLite file. */
class SqliteWorkflowCrashTest extends AbstractWorkflowCrashTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    @Override
    boolean cluster() {
        return false;
    }

    // No other node runs beside it on SQLite, so no self-fencing to keep away from: a short limit.
    @Override
    List<String> heartbeat() {
        return List.of("heartbeat=500", "missed=10");
    }

    @org.junit.jupiter.api.Test
    void aJobCutShortByItsKilledNodeKeepsItsPlaceForItsUnitsOnTheRestartedNode() throws Exception {
        aJobCutShortByItsNodesDeathKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits();
    }

    @org.junit.jupiter.api.Test
    void aJobCutShortByItsKilledNodeKeepsItsPlaceInItsRulesConcurrencyLineOnTheRestartedNode() throws Exception {
        aJobCutShortByItsNodesDeathKeepsItsPlaceInItsRulesConcurrencyLine();
    }

    @Override
    Duration deadNodeLimit() {
        return Duration.ofSeconds(5);
    }
}
