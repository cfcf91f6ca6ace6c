package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresQueuePlacesTest extends AbstractQueuePlacesTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
