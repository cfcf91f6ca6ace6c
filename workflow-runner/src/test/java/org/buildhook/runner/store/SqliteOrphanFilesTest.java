package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteOrphanFilesTest extends AbstractOrphanFilesTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
