package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresNodeRulesTest extends AbstractNodeRulesTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
