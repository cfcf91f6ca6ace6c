package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteNodeRulesTest extends AbstractNodeRulesTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
