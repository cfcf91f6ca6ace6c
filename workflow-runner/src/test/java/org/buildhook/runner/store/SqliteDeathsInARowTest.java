package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteDeathsInARowTest extends AbstractDeathsInARowTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
