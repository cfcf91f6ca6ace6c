package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteRefusedJobStoreTest extends AbstractRefusedJobStoreTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
