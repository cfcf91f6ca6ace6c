package org.buildhook.runner.engine;

import java.nio.file.Path;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;

class PostgresStoredRuleRefusedTest extends AbstractStoredRuleRefusedTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
