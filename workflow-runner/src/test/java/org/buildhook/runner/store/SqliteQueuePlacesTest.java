package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteQueuePlacesTest extends AbstractQueuePlacesTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
