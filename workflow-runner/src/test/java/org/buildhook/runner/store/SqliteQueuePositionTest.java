package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteQueuePositionTest extends AbstractQueuePositionTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
