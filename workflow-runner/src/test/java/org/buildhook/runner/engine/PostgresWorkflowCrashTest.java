package org.buildhook.runner.engine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;

/** kill -9 of one of two nodes on PostgreSQL; the live one takes its jobs over. */
class PostgresWorkflowCrashTest extends AbstractWorkflowCrashTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @Override
    boolean cluster() {
        return true;
    }

    // EngineNode's cluster defaults (see there why not less on a loaded 2-core machine).
    @Override
    List<String> heartbeat() {
        return List.of("heartbeat=1000", "missed=20");
    }

    @org.junit.jupiter.api.Test
    void aJobCutShortByAKilledNodeKeepsItsPlaceForItsUnitsOnTheNodeBesideIt() throws Exception {
        aJobCutShortByItsNodesDeathKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits();
    }

    @org.junit.jupiter.api.Test
    void aJobRevivedFromAPausedNodeKeepsItsPlaceForItsUnitsOnTheNodeBesideIt() throws Exception {
        aJobRevivedFromAStalledNodeKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits();
    }

    @org.junit.jupiter.api.Test
    void aJobRevivedFromAPausedNodeKeepsItsPlaceInItsRulesConcurrencyLineOnTheNodeBesideIt() throws Exception {
        aJobRevivedFromAStalledNodeKeepsItsPlaceInItsRulesConcurrencyLine();
    }

    @Override
    Duration deadNodeLimit() {
        return Duration.ofSeconds(20);
    }
}
