package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteDeliveriesOfABuildTest extends AbstractDeliveriesOfABuildTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
