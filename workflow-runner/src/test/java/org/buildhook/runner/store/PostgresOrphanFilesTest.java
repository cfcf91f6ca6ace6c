package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresOrphanFilesTest extends AbstractOrphanFilesTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
