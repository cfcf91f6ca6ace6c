package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresRefusedJobStoreTest extends AbstractRefusedJobStoreTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
