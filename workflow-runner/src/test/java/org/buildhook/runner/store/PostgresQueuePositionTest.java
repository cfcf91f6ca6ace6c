package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresQueuePositionTest extends AbstractQueuePositionTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
